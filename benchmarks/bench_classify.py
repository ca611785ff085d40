"""Time `riskclass classify` as a whole process, as a user waits for it, against the plain pipeline in the same run.

usage: python benchmarks/bench_classify.py [--runs 7]

Each figure is the median of RUNS fresh processes (start-up, imports and loading included), with the whole process
tree's peak PSS. The plain pipeline (`plain_pipeline.py`: jieba.lcut → TfidfVectorizer → LogisticRegression, saved
with joblib, jieba's own cache warm) classifies the same description; for one description its vectorised and
row-by-row forms are the same call, so one plain figure serves both ratios. Runs alternate between the commands so
that a machine slowing down during the run weighs on all of them alike.

- warm: the user's cache directory as an earlier run left it;
- first run: an empty cache directory (RISKCLASS_CACHE_DIR), as right after `pip install`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from measure import compile_bytecode, run

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTION = "一款为银行筛选贷款申请人的评分模型"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    compile_bytecode(str(ROOT))
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="riskclass-bench-"))
    plain_model = tmp / "plain.joblib"
    plain = [py, str(ROOT / "benchmarks" / "plain_pipeline.py")]
    print("training the plain pipeline (not timed) …", file=sys.stderr)
    run([*plain, "train", str(plain_model)])
    warm_cache = tmp / "warm-cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RISKCLASS_CACHE_DIR": str(warm_cache)}
    riskclass = [py, "-m", "riskclass"]
    cases: dict[str, tuple[list[str], bool]] = {  # name → (command, with an empty cache directory each run)
        "riskclass --help": ([*riskclass, "--help"], False),
        "riskclass classify, warm": ([*riskclass, "classify", DESCRIPTION, "--color", "never"], False),
        "riskclass classify --json, warm": ([*riskclass, "classify", DESCRIPTION, "--json"], False),
        "riskclass classify --rules-only": ([*riskclass, "classify", DESCRIPTION, "--rules-only"], False),
        "riskclass classify, first run": ([*riskclass, "classify", DESCRIPTION, "--color", "never"], True),
        "plain pipeline, one description": ([*plain, "classify", str(plain_model), DESCRIPTION], False),
    }
    for command, _ in cases.values():  # warm the OS file cache, jieba's own cache and riskclass's
        run(command, env=env, cwd=str(ROOT))
    results: dict[str, list[dict]] = {name: [] for name in cases}
    for i in range(args.runs):
        for name, (command, cold) in cases.items():
            use = env if not cold else {**env, "RISKCLASS_CACHE_DIR": str(tmp / f"cold-{i}")}
            results[name].append(run(command, env=use, cwd=str(ROOT)))
    base = statistics.median(r["wall"] for r in results["plain pipeline, one description"])
    print(f"\n{'command':34} {'median s':>9} {'min s':>7} {'max s':>7} {'× plain':>8} {'tree PSS MiB':>13}")
    for name, runs in results.items():
        walls = [r["wall"] for r in runs]
        med = statistics.median(walls)
        pss = statistics.median(r["tree_mib"] for r in runs)
        print(f"{name:34} {med:9.3f} {min(walls):7.3f} {max(walls):7.3f} {med / base:8.2f} {pss:13.0f}")
    print(
        f"({args.runs} runs each, alternating; whole process wall time; × plain: against the plain pipeline's median,"
        " which is both its vectorised and its row-by-row form for one description; tree PSS: peak, sampled)"
    )
    print(f"load average: {os.getloadavg()[0]:.2f} (other processes on the machine skew the figures)")


if __name__ == "__main__":
    main()
