"""Benchmark the product register on a generated inventory, beside `riskclass batch` on the same file.

usage: python benchmarks/bench_register.py [--rows 10000] [--edited 0.05] [--seed 0] [--keep DIR]

Generates ROWS distinct inventory rows (id, name, description, department, note: `bench_batch.generate`), then runs,
each as its own process timed by wall clock (start-up and model loading included):

1. `riskclass batch` on the file (the reference: the register assesses the same way);
2. `riskclass register import` into a new register;
3. the same import again (nothing changed: nothing to assess, no model loaded);
4. an import of the file with EDITED of the descriptions changed (only those are assessed);
5. `riskclass register rescore` (every product again), `list --json` and `export`.

Reports seconds, rows/s and the peak resident memory of each process, and the register's size on disk.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bench_batch():
    spec = importlib.util.spec_from_file_location("bench_batch", ROOT / "benchmarks" / "bench_batch.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def edit(source: Path, target: Path, share: float, seed: int) -> int:
    """A copy of the inventory with `share` of its descriptions changed (a sentence appended); returns how many."""
    rng = random.Random(seed)
    with source.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    changed = 0
    for row in rows[1:]:
        if rng.random() < share:
            row[2] += " 现已接入简历筛选，用于招聘初筛。"
            changed += 1
    with target.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return changed


def run(label: str, cmd: list[str], rows: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True)
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if r.returncode not in (0, 3):
        sys.exit(f"{label}: exit {r.returncode}: {r.stderr.decode(errors='replace')[-500:]}")
    memory = f"{peak / 1024:,.0f} MiB" if peak > before else "≤ previous peak"
    print(f"{label:<34} {seconds:7.1f} s  {rows / seconds:8,.0f} rows/s  peak RSS {memory}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--edited", type=float, default=0.05, help="share of descriptions changed for the re-import")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep the files (default: a temporary directory)")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="riskclass-bench-register-"))
    work.mkdir(parents=True, exist_ok=True)
    inventory, edited, register = work / "inventory.csv", work / "inventory-edited.csv", work / "register.sqlite3"
    for stale in work.glob("register.sqlite3*"):
        stale.unlink()
    _bench_batch().generate(inventory, args.rows, args.seed)
    n_edited = edit(inventory, edited, args.edited, args.seed)
    py = [sys.executable, "-m", "riskclass"]
    reg = ["--register", str(register), "--json"]
    print(f"{args.rows:,} products, {n_edited:,} descriptions edited for step 4; {work}")
    run("batch (reference)", [*py, "batch", str(inventory), "-o", str(work / "out.csv"), "--force"], args.rows)
    run("register import (new register)", [*py, "register", "import", str(inventory), *reg], args.rows)
    run("register import (unchanged)", [*py, "register", "import", str(inventory), *reg], args.rows)
    run(f"register import ({n_edited:,} edited)", [*py, "register", "import", str(edited), *reg], args.rows)
    run("register rescore", [*py, "register", "rescore", *reg], args.rows)
    run("register list --json", [*py, "register", "list", *reg], args.rows)
    run("register export", [*py, "register", "export", "-o", str(work / "export.csv"), "--force", *reg[:2]], args.rows)
    size = sum(p.stat().st_size for p in work.glob("register.sqlite3*"))
    print(f"register on disk: {size / 2**20:,.1f} MiB ({size / args.rows:,.0f} bytes a product)")


if __name__ == "__main__":
    main()
