"""Issue 12, faults and resources: a full disk, an unwritable or /-ended output, a killed batch, dense descriptions.

Each test is what a user would notice: the exit status, one line on standard error, and nothing left behind beside the
output (no hidden `.partial` file, no staging reports directory).
"""

from __future__ import annotations

import csv
import errno
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskclass.cli.main import main as cli_main

ROOT = Path(__file__).resolve().parents[2]

# Runs `riskclass` with a file-size limit of LIMIT bytes and SIGXFSZ ignored, so that a write past it fails with EFBIG
# exactly as a write to a full disk fails with ENOSPC: a full disk without root, a loop device or a tmpfs.
LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from riskclass.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def _env() -> dict[str, str]:
    """These tests read the English messages (RISKCLASS_LANG; Chinese is the default: tests/test_lang_config.py)."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "RISKCLASS_LANG": "en"}


def _riskclass(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`riskclass ARGS` run in `cwd`, as a user would, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "riskclass", *args], cwd=cwd, capture_output=True, env=_env(), timeout=300
    )


def _run_limited(limit: int, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", LIMITED, str(limit), *args], cwd=cwd, capture_output=True, env=_env(), timeout=300
    )


def _write_input(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "description"])
        for i in range(rows):
            w.writerow([f"p{i}", f"用于简历筛选和人脸识别的招聘系统，第{i}号，自动打分并拒绝候选人。" * 3])
    return path


def _one_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8").strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0] and "internal error" not in lines[0]
    return lines[0]


# ---- 1. a full disk -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["out.csv", "out.jsonl"])
def test_full_disk_leaves_no_partial_file(tmp_path, output):
    _write_input(tmp_path / "in.csv", 600)
    r = _run_limited(50_000, "batch", "in.csv", "-o", output, "--rules-only", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "no space left on" in _one_line(r.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_full_disk_with_reports_leaves_no_staging_directory(tmp_path):
    _write_input(tmp_path / "in.csv", 600)
    r = _run_limited(
        50_000,
        "batch",
        "in.csv",
        "-o",
        "out.csv",
        "--rules-only",
        "--reports",
        "reports",
        "--report-format",
        "md",
        cwd=tmp_path,
    )
    assert r.returncode == 2, r.stderr
    assert "no space left on" in _one_line(r.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_disk_found_full_when_syncing_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    """Network and copy-on-write file systems report a full disk only when the data is synced (fsync)."""
    import riskclass.tables.files as files

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    _write_input(tmp_path / "in.csv", 5)
    monkeypatch.chdir(tmp_path)
    argv = ["batch", "in.csv", "-o", "out.csv", "--rules-only", "--reports", "reports", "--no-progress", "--lang", "en"]
    assert cli_main(argv) == 2
    assert "no space left on" in _one_line(capsys.readouterr().err.encode())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize(
    "args",
    [
        ("classify", "简历筛选系统，自动给候选人打分"),
        ("report", "简历筛选系统", "--rules-only"),
        ("batch", "IN", "-o", "-", "--rules-only"),
    ],
    ids=["classify", "report", "batch"],
)
def test_full_standard_output_is_one_line_exit_2(tmp_path, args):
    args = tuple(str(_write_input(tmp_path / "in.csv", 50)) if a == "IN" else a for a in args)
    with open("/dev/full", "wb") as full:
        r = subprocess.run(
            [sys.executable, "-m", "riskclass", *args], stdout=full, stderr=subprocess.PIPE, env=_env(), timeout=300
        )
    assert r.returncode == 2, r.stderr
    assert "no space left on" in _one_line(r.stderr)


# ---- 2. an output that cannot be written: refused before the work starts ------------------------------------------


class SpyEngine:
    """Counts the descriptions it is asked to assess: a refused output must cost no classification at all."""

    model = None
    rulebook = None

    def __init__(self) -> None:
        self.calls = 0

    def assess_many(self, descriptions: list[str]) -> list:
        from riskclass.engine.decide import Engine

        self.calls += len(descriptions)
        return Engine(model=None).assess_many(descriptions)


def _unwritable_directory(tmp_path: Path) -> Path:
    """A directory this process cannot create files in: mode 555, or /sys when running as root (sysfs refuses)."""
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0o555)
    try:
        probe = d / "probe"
        probe.touch()
    except OSError:
        return d
    probe.unlink()
    d.chmod(0o755)
    if os.path.isdir("/sys") and _cannot_create_in("/sys"):
        return Path("/sys")
    pytest.skip("no unwritable directory available to this user")


def _cannot_create_in(directory: str) -> bool:
    try:
        fd = os.open(os.path.join(directory, ".riskclass-test"), os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    except OSError:
        return True
    os.close(fd)
    os.unlink(os.path.join(directory, ".riskclass-test"))
    return False


@pytest.mark.parametrize("name", ["newdir/", "out.csv/"])
def test_output_ending_in_a_separator_is_refused_before_the_run(tmp_path, name):
    from riskclass.batch.run import BatchOptions, run_batch
    from riskclass.errors import InputError

    _write_input(tmp_path / "in.csv", 20)
    spy = SpyEngine()
    with pytest.raises(InputError, match="give a file name"):
        run_batch(BatchOptions(input=str(tmp_path / "in.csv"), output=f"{tmp_path}{os.sep}{name}"), engine=spy)
    assert spy.calls == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize("command", ["batch", "report"])
def test_output_ending_in_a_separator_exit_2_and_no_file(tmp_path, command):
    _write_input(tmp_path / "in.csv", 3)
    args = ["batch", "in.csv"] if command == "batch" else ["report", "简历筛选系统"]
    r = _riskclass(tmp_path, *args, "-o", "newdir/", "--rules-only")
    assert r.returncode == 2, r.stderr
    assert "newdir/" in _one_line(r.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_unwritable_output_directory_is_refused_before_the_run(tmp_path):
    from riskclass.batch.run import BatchOptions, run_batch
    from riskclass.errors import InputError

    locked = _unwritable_directory(tmp_path)
    _write_input(tmp_path / "in.csv", 20)
    spy = SpyEngine()
    with pytest.raises(InputError, match="cannot write"):
        run_batch(BatchOptions(input=str(tmp_path / "in.csv"), output=str(locked / "out.csv")), engine=spy)
    assert spy.calls == 0


def test_unwritable_output_directory_exit_2_one_line(tmp_path):
    locked = _unwritable_directory(tmp_path)
    _write_input(tmp_path / "in.csv", 3)
    r = _riskclass(tmp_path, "batch", "in.csv", "-o", str(locked / "out.csv"), "--rules-only")
    assert r.returncode == 2, r.stderr
    assert "cannot write" in _one_line(r.stderr)


# ---- 3. a killed batch takes its workers with it; --jobs is capped at the usable cores -----------------------------

# Starts `batch --jobs 2` from a thread other than the main one, as the terminal app does: there the kernel's
# parent-death signal cannot be used and the workers' own watch on their parent must end them.
FROM_A_THREAD = """
import sys, threading
from riskclass.batch.run import BatchOptions, run_batch
options = BatchOptions(input=sys.argv[1], output=sys.argv[2], jobs=2, rules_only=True, force=True)
t = threading.Thread(target=run_batch, args=(options,))
t.start()
t.join()
"""


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found |= {int(c) for c in f.read().split()}
    except OSError:
        pass
    return found


def _descendants(pid: int) -> set[int]:
    seen: set[int] = set()
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only not yet reaped
    except OSError:
        return False


def _wait_for(condition, seconds: float) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="finds the workers through /proc (Linux)")
@pytest.mark.parametrize("started_from", ["command", "thread"])
def test_sigkill_of_batch_jobs_2_leaves_no_worker_alive(tmp_path, started_from):
    import signal

    _write_input(tmp_path / "big.csv", 20_000)  # minutes of work: the workers are surely busy when it is killed
    if started_from == "command":
        cmd = ["-m", "riskclass", "batch", "big.csv", "-o", "out.csv", "--jobs", "2", "--rules-only", "--no-progress"]
    else:
        cmd = ["-c", FROM_A_THREAD, "big.csv", "out.csv"]
    batch = subprocess.Popen(
        [sys.executable, *cmd], cwd=tmp_path, env=_env(), start_new_session=True, stderr=subprocess.DEVNULL
    )
    workers: set[int] = set()
    try:
        # the workers are children of the batch process: from the command, one forked worker (the batch classifies
        # too); from a thread, two loky workers and joblib's resource tracker
        wanted = 1 if started_from == "command" else 2
        assert _wait_for(lambda: len(_descendants(batch.pid)) >= wanted, 120), "no workers started"
        workers = _descendants(batch.pid)
        os.kill(batch.pid, signal.SIGKILL)
        batch.wait(timeout=30)
        assert _wait_for(lambda: not any(_alive(w) for w in workers), 10), [w for w in workers if _alive(w)]
    finally:
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)
        if batch.poll() is None:
            os.killpg(batch.pid, signal.SIGKILL)
            batch.wait()


def test_jobs_above_the_usable_cores_is_capped_with_a_note(tmp_path):
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    _write_input(tmp_path / "in.csv", 30)
    jobs = cores + 1  # one more than allowed: enough to be capped, cheap if it were not
    r = _riskclass(tmp_path, "batch", "in.csv", "-o", "out.csv", "--jobs", str(jobs), "--rules-only")
    assert r.returncode == 0, r.stderr
    notes = [line for line in r.stderr.decode().splitlines() if "--jobs" in line]
    assert len(notes) == 1 and f"capped to {cores}" in notes[0]
    with (tmp_path / "out.csv").open(encoding="utf-8") as f:
        assert sum(1 for _ in csv.DictReader(f)) == 30


# ---- 4. evidence merging: a long description dense with trigger words -----------------------------------------------

# Trigger words of several criteria, repeated up to MAX_DESCRIPTION_CHARS-sized text: every one is evidence, and many
# nest (给谁放款 inside 决定给谁放款), which is what made merging them quadratic (issue 12).
DENSE_WORDS = [
    "简历筛选",
    "人脸识别",
    "决定给谁放款",
    "给谁放款",
    "信用评分",
    "自动驾驶",
    "医疗诊断",
    "招聘",
    "贷款审批",
]


def _reference_outermost(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """The definition, compared pair by pair: spans not nested inside another, sorted."""
    return sorted(s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans))


@settings(max_examples=300, deadline=None)
@given(st.sets(st.tuples(st.integers(0, 60), st.integers(0, 12)).map(lambda t: (t[0], t[0] + t[1])), max_size=40))
def test_outermost_spans_match_the_pairwise_definition(spans):
    from riskclass.engine.decide import _outermost

    assert _outermost(spans) == _reference_outermost(spans)


def test_a_90000_character_dense_description_gets_every_piece_of_evidence_once():
    from riskclass.engine.decide import Engine

    text = ""
    while len(text) < 90_000:
        text += "，".join(DENSE_WORDS) + "。"
    text = text[:90_000]
    a = Engine(model=None).assess(text)
    assert a.tier == "high"
    for hit in (*a.criteria, *a.red_flags, *a.possible):
        spans = [(e.start, e.end) for e in hit.evidence]
        assert spans == sorted(spans)
        assert all(b[1] > a_[1] for a_, b in itertools.pairwise(spans))  # sorted by start: none inside another
        assert all(text[e.start : e.end] == e.text for e in hit.evidence)
    loans = [e for h in a.criteria for e in h.evidence if "放款" in e.text]
    # 给谁放款 inside 决定给谁放款 is never shown on its own (the 给谁放款 of its own clause is)
    assert loans and not any(e.text == "给谁放款" and text[e.start - 2 : e.start] == "决定" for e in loans)
