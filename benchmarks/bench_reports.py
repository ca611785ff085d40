"""Benchmark reports: building and rendering one report, and `batch --reports` against a plain batch.

usage: python benchmarks/bench_reports.py [--rows 2000] [--format html]

1. Renders the report of one description per tier in each format, many times in-process, and prints the median
   milliseconds per report (the engine's assessment is made once and not counted).
2. Runs `riskclass batch` twice on the same generated inventory (rows drawn from the labelled corpus with an id
   column), as its own process each time: without and with `--reports DIR`, and prints rows/s for both, the report
   files written and their total size, and the peak memory of each run.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "training" / "data" / "corpus.csv"
CASES = {
    "high": "一款为银行筛选贷款申请人的评分模型，按户籍地域给申请人降分",
    "medium": "我们星河科技有限公司推出的“小智客服”系统，面向电商平台的消费者，基于大模型自动回答售后问题。",
    "low": "工厂产线上的零件表面缺陷检测，用深度学习识别划痕",
}


def render_times(repeat: int = 50) -> None:
    import riskclass.reports.report as reports
    from riskclass.engine.decide import Engine
    from riskclass.model.classifier import load_shipped_model

    engine = Engine(model=load_shipped_model())
    print(f"{'tier':<8}{'format':<8}{'ms/report':>10}{'bytes':>9}")
    for tier, text in CASES.items():
        a = engine.assess(text)
        for fmt in reports.FORMATS:
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                out = reports.render_report(reports.build_report(a, "zh"), fmt)
                times.append(time.perf_counter() - t)
            print(f"{tier:<8}{fmt:<8}{statistics.median(times) * 1000:>10.2f}{len(out.encode()):>9,}")


def inventory(path: Path, rows: int, seed: int) -> None:
    with CORPUS.open(encoding="utf-8", newline="") as fh:
        texts = [r["description"] for r in csv.DictReader(fh)]
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "description"])
        for i in range(rows):
            w.writerow([f"P-{i:06d}", rng.choice(texts)])


PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def run(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of one riskclass process (measured by its own parent, so runs do not mix)."""
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", PEAK, sys.executable, "-m", "riskclass", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - t, int(out.stdout.strip()) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--format", default="html", choices=["html", "md", "json"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    render_times()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        inventory(d / "in.csv", args.rows, args.seed)
        plain, plain_mib = run(["batch", str(d / "in.csv"), "-o", str(d / "plain.csv"), "--no-progress"])
        with_reports, rep_mib = run(
            [
                "batch",
                str(d / "in.csv"),
                "-o",
                str(d / "out.csv"),
                "--no-progress",
                "--reports",
                str(d / "reports"),
                "--report-format",
                args.format,
            ]
        )
        files = list((d / "reports").iterdir())
        size = sum(f.stat().st_size for f in files)
        print(f"\nbatch of {args.rows:,} rows (process wall time, model load included)")
        print(f"  plain            {args.rows / plain:8,.0f} rows/s   peak {plain_mib:6.0f} MiB")
        print(
            f"  --reports {args.format:<6} {args.rows / with_reports:8,.0f} rows/s   peak {rep_mib:6.0f} MiB   "
            f"{len(files):,} files, {size / 1e6:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
