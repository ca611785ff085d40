"""Time from `riskclass` (no arguments) to the TUI's first frame, and to the model being ready: median of cold runs.

Each run is a fresh process, as a user starts it. The app runs headless at 140×45 (the same compose, layout and render
work as in a terminal, without the terminal's own drawing time). "first paint" is Textual's Ready event, sent once the
first frame has been displayed; "model ready" is when the shipped model has loaded in its worker and the app switched
to it. Target (issue 5): first paint under one second on the 2-core development machine.

usage: python benchmarks/bench_tui_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
started = float(sys.argv[1])
from riskclass.tui.app import RiskclassApp
from riskclass.tui.messages import EngineReady

marks = {}

class Timed(RiskclassApp):
    def on_ready(self) -> None:
        marks.setdefault("first_paint", time.time() - started)

    def on_engine_ready(self, message: EngineReady) -> None:
        if message.state in ("model", "rules-final", "failed"):
            marks["model_ready"] = time.time() - started
            marks["state"] = message.state
            self.exit()

Timed().run(headless=True, size=(140, 45))
print(json.dumps(marks))
"""


def run_once() -> dict:
    started = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, repr(started)], check=True, capture_output=True, text=True, timeout=120
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    run_once()  # warm the OS file cache once, as a user's second start would find it
    runs = [run_once() for _ in range(args.runs)]
    print(f"{'':14} {'median s':>9} {'min s':>7} {'max s':>7}  ({args.runs} runs, engine: {runs[0].get('state')})")
    for key, name in (("first_paint", "first paint"), ("model_ready", "model ready")):
        times = [r[key] for r in runs if key in r]
        print(f"{name:14} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f}")


if __name__ == "__main__":
    main()
