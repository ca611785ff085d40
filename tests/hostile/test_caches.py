"""Every cache riskclass keeps is checked before it is used: an empty, truncated or garbled cache file is rebuilt
without a word, and a cache directory that cannot be written (read-only, a regular file, a full disk) only costs
time. Each case runs the real command in a subprocess and compares its output with a run on a healthy cache."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

DESCRIPTION = "人脸识别门禁系统，在小区入口比对住户照片后开门"
ROWS = ["人脸识别门禁系统，在小区入口比对住户照片后开门", "为银行筛选贷款申请人的信用评分模型", "帮写周报的文字助手"]
SAME_WORD = ("人脸识别".encode(), "人脸识另".encode())  # a garbled word of the same length: the file still parses


def _run(
    command: str, cache: Path, tmp: Path, limit_bytes: int | None = None
) -> tuple[subprocess.CompletedProcess, bytes]:
    """`riskclass classify DESCRIPTION --json` or `riskclass batch` on ROWS with this cache; (process, output)."""
    env = {**os.environ, "NO_COLOR": "1", "RISKCLASS_CACHE_DIR": str(cache)}
    out = tmp / "out.csv"
    if command == "classify":
        args = ["classify", DESCRIPTION, "--json"]
    else:
        src = tmp / "in.csv"
        src.write_text("description\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
        out.unlink(missing_ok=True)
        args = ["batch", str(src), "-o", str(out), "--no-progress"]

    def limit() -> None:  # a full disk: any file grown past `limit_bytes` fails with EFBIG (Python ignores SIGXFSZ)
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, resource.RLIM_INFINITY))

    r = subprocess.run(
        [sys.executable, "-m", "riskclass", *args], capture_output=True, env=env, timeout=300, preexec_fn=limit
    )
    return r, (r.stdout if command == "classify" else (out.read_bytes() if out.exists() else b""))


@pytest.fixture(scope="module", params=["classify", "batch"])
def warm(request, tmp_path_factory) -> tuple[str, Path, bytes]:
    """A cache directory as `command` leaves it, and the output on that healthy cache."""
    command = request.param
    tmp = tmp_path_factory.mktemp(f"warm-{command}")
    cache = tmp / "cache"
    r, expected = _run(command, cache, tmp)
    assert r.returncode == 0, r.stderr
    again, output = _run(command, cache, tmp)  # warm now: the output on a cache that is read, not built
    assert again.returncode == 0 and output == expected
    return command, cache, expected


def _leftovers(cache: Path) -> list[str]:
    return [p.name for p in cache.iterdir() if p.name.endswith((".tmp", "-journal"))] if cache.is_dir() else []


def _check_answer(r: subprocess.CompletedProcess, output: bytes, expected: bytes) -> None:
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in r.stderr and b"internal error" not in r.stderr, r.stderr
    assert output == expected, "a damaged cache changed the answer"


def _garble(raw: bytes) -> bytes:
    assert SAME_WORD[0] in raw
    return raw.replace(*SAME_WORD)


DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda raw: b"",
    "truncated": lambda raw: raw[: len(raw) // 2],
    "garbled": _garble,
}
KINDS = {  # cache file kind → (glob, the command that reads it)
    "sqlite dictionary": ("jieba-dictionary-*.sqlite", "classify"),
    "marshalled dictionary": ("jieba-dictionary-*.marshal", "batch"),
    "rule-screen plan": ("rule-screen-*.marshal", "batch"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_damaged_cache_file_is_rebuilt_and_the_answer_does_not_change(warm, tmp_path, kind, damage):
    command, warm_cache, expected = warm
    pattern, reader = KINDS[kind]
    if command != reader:
        pytest.skip(f"{command} does not read the {kind}")
    if not list(warm_cache.glob(pattern)):  # the rulebook index and sorted dictionary in riskclass/data serve it
        pytest.skip(f"{command} caches no {kind}: it reads the one committed in the package")
    cache = tmp_path / "cache"
    shutil.copytree(warm_cache, cache)
    [path] = cache.glob(pattern)
    damaged = DAMAGES[damage](path.read_bytes())
    path.write_bytes(damaged)
    r, output = _run(command, cache, tmp_path)
    _check_answer(r, output, expected)
    if command == "classify":
        assert r.stderr.strip() == b"", "rebuilt silently"
    assert path.read_bytes() != damaged, "the damaged file was left in place"
    assert not _leftovers(cache)
    again, output = _run(command, cache, tmp_path)  # and the rebuilt file serves the next run
    _check_answer(again, output, expected)


def _read_only(tmp_path: Path) -> Path:
    """A cache directory nobody can write to, root included (chattr +i), or a skip where that cannot be made."""
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o555)
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", str(cache)], capture_output=True)
        if made.returncode != 0:
            pytest.skip("running as root and chattr +i is not available: a read-only directory cannot be made")
    return cache


def _writable_again(cache: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(cache)], capture_output=True)
    cache.chmod(0o755)


@pytest.mark.parametrize("fault", ["read-only", "regular file", "full"])
def test_a_cache_directory_that_cannot_be_written_only_costs_time(warm, tmp_path, fault):
    command, _, expected = warm
    limit = None
    if fault == "read-only":
        cache = _read_only(tmp_path)
    elif fault == "regular file":
        cache = tmp_path / "cache"
        cache.write_bytes(b"not a directory\n")
    else:
        cache = tmp_path / "cache"
        limit = 100 * 1024  # far below the smallest cache file (the rule-screen plan, ~600 KB); the output fits
    try:
        r, output = _run(command, cache, tmp_path, limit_bytes=limit)
        _check_answer(r, output, expected)
        assert not _leftovers(cache), "a half-written cache file was left behind"
        if fault == "regular file":
            assert cache.read_bytes() == b"not a directory\n"
    finally:
        if fault == "read-only":
            _writable_again(cache)


def test_a_jieba_cache_planted_in_the_shared_temporary_directory_changes_nothing(warm, tmp_path):
    """jieba keeps its own cache in the temporary directory every user of the machine can write; riskclass builds its
    dictionary without reading it, so a planted one (here: a dictionary that knows one word) changes no answer."""
    import marshal

    command, _, expected = warm
    planted = tmp_path / "tmp"
    planted.mkdir()
    (planted / "jieba.cache").write_bytes(marshal.dumps(({"人": 1}, 1)))
    os.environ["TMPDIR"], saved = str(planted), os.environ.get("TMPDIR")
    try:
        r, output = _run(command, tmp_path / "cold-cache", tmp_path)  # a cold cache: the dictionary is built now
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved
    assert r.returncode == 0, r.stderr
    assert output == expected
