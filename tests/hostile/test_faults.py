"""Issue 12, faults and resources: a full disk, an unwritable or /-ended output, a killed batch, dense descriptions.

Each test is what a user would notice: the exit status, one line on standard error, and nothing left behind beside the
output (no hidden `.partial` file, no staging reports directory).
"""

from __future__ import annotations

import csv
import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    return {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


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
    status = cli_main(["batch", "in.csv", "-o", "out.csv", "--rules-only", "--reports", "reports", "--no-progress"])
    assert status == 2
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
    r = subprocess.run(
        [sys.executable, "-m", "riskclass", *args, "-o", "newdir/", "--rules-only"],
        cwd=tmp_path,
        capture_output=True,
        env=_env(),
        timeout=300,
    )
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
    r = subprocess.run(
        [sys.executable, "-m", "riskclass", "batch", "in.csv", "-o", str(locked / "out.csv"), "--rules-only"],
        cwd=tmp_path,
        capture_output=True,
        env=_env(),
        timeout=300,
    )
    assert r.returncode == 2, r.stderr
    assert "cannot write" in _one_line(r.stderr)
