"""Time from `riskclass` (no arguments) to the terminal app's first frame, and to the model being ready: median of runs.

Each run starts `riskclass --lang en` as a user does, the installed command with its command-line parsing included, in
a pseudo-terminal of 140×45, and reads what the app writes to that terminal: "first paint" is when the title of the
first frame has arrived, "model ready" when the header says the model is in use ("rules + model"). Nothing in the app
is patched or timed from inside: this is what a user's terminal receives. The app is then quit with Ctrl+Q.
Targets (issue 14): first paint under 0.3 s and the model ready under 1 s on the 2-core development machine.

usage: python benchmarks/bench_tui_startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

FIRST_FRAME = b"Chengdu AI risk tiers"  # the app's title, in the header of the first frame
MODEL_READY = b"rules + model"  # the header's engine label once the model is loaded
TIMEOUT = 30.0


def command() -> list[str]:
    """The installed `riskclass` command beside this interpreter, as a user runs it; `python -m riskclass` without."""
    script = Path(sys.executable).with_name("riskclass")
    return [str(script), "--lang", "en"] if script.exists() else [sys.executable, "-m", "riskclass", "--lang", "en"]


def run_once() -> dict[str, float]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 140, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="140", LINES="45")
    started = time.perf_counter()
    proc = subprocess.Popen(command(), stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = b""
    marks: dict[str, float] = {}
    try:
        while "model_ready" not in marks and time.perf_counter() - started < TIMEOUT:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            seen = seen[-4096:] + chunk
            now = time.perf_counter() - started
            if "first_paint" not in marks and FIRST_FRAME in seen:
                marks["first_paint"] = now
            if MODEL_READY in seen:
                marks["model_ready"] = now
        os.write(master, b"\x11")  # Ctrl+Q
        deadline = time.perf_counter() + 5
        while proc.poll() is None and time.perf_counter() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    run_once()  # warm the OS file cache once, as a user's second start would find it
    runs = [run_once() for _ in range(args.runs)]
    print(f"{'':14} {'median s':>9} {'min s':>7} {'max s':>7}  ({args.runs} runs of: {' '.join(command())})")
    for key, name in (("first_paint", "first paint"), ("model_ready", "model ready")):
        times = [r[key] for r in runs if key in r]
        if len(times) < len(runs):
            print(f"{name:14} not seen in {len(runs) - len(times)} of {len(runs)} runs")
        if times:
            print(f"{name:14} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f}")


if __name__ == "__main__":
    main()
