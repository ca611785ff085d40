"""Time `riskclass classify` as a whole process, as a user waits for it: median of several cold runs.

usage: python benchmarks/bench_classify.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = {
    "--help": ["--help"],
    "classify (rules only)": ["classify", "一款为银行筛选贷款申请人的评分模型", "--rules-only", "--color", "never"],
    "classify (default)": ["classify", "一款为银行筛选贷款申请人的评分模型", "--color", "never"],
    "classify --json": ["classify", "一款为银行筛选贷款申请人的评分模型", "--json"],
}


def time_once(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "riskclass", *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    time_once(["--help"])  # warm the OS file cache once, as a user's second command would find it
    print(f"{'command':28} {'median s':>9} {'min s':>7} {'max s':>7}  ({args.runs} runs each)")
    for name, argv in CASES.items():
        times = [time_once(argv) for _ in range(args.runs)]
        print(f"{name:28} {statistics.median(times):9.3f} {min(times):7.3f} {max(times):7.3f}")


if __name__ == "__main__":
    main()
