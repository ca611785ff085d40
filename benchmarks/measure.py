"""How the benchmarks measure a command: as its own process, whole-process wall time and the whole tree's peak memory.

`run` starts the command, samples the proportional set size (PSS: a page shared by several processes of the tree is
counted once across them) of it and every descendant every 0.1 s, and reports the wall time from start to exit (start-up
and loading included), the peak PSS of the tree, and the largest single process's peak RSS (`wait4`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time

SAMPLE_SECONDS = 0.1  # often enough to catch a short command's peak, rare enough not to load the machine


def tree_pss(pid: int) -> int:
    """Bytes of `pid` and all its descendants, from /proc: PSS where the kernel gives it, else RSS."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * page
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _pss(p, rss.get(p, 0))
        todo += children.get(p, [])
    return total


def _pss(pid: int, rss: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss


def run(cmd: list[str], env: dict[str, str] | None = None, cwd: str | None = None, ok=(0,)) -> dict:
    """Run `cmd`: wall seconds, stdout, stderr, largest single process (MiB) and peak tree PSS (MiB)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env, cwd=cwd)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_pss(proc.pid))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr}")
    return {
        "wall": wall,
        "stdout": stdout,
        "stderr": stderr,
        "max_process_mib": usage.ru_maxrss / 1024,  # Linux: KiB
        "tree_mib": peak[0] / 2**20,
    }


def compile_bytecode(root: str) -> None:
    """Compile riskclass's modules once, as `pip install` does: otherwise a checkout run under
    PYTHONDONTWRITEBYTECODE recompiles every module on every start and the figures measure the compiler."""
    import compileall

    compileall.compile_dir(os.path.join(root, "riskclass"), quiet=1)
