"""Benchmark `riskclass batch` on a generated inventory, against the plain pipelines a user would write.

usage: python benchmarks/bench_batch.py [--rows 20000] [--seed 0] [--keep DIR] [--jobs 1,2] [--no-profile]

1. Generates ROWS rows of realistic, mixed descriptions into a temporary directory: sentences of the labelled
   corpus (简体, 繁體, English and mixed) recombined one to five at a time, with company names, cities, counts and
   model numbers varied so that no two rows are the same (checked), in an inventory-like table (id, name, department,
   note).
2. Runs, each as its own process (start-up and model loading included for every command, and nothing else: the
   plain pipeline is trained and saved beforehand, untimed):
   - `riskclass batch` with its default options, and with each `--jobs` asked for;
   - the plain pipeline (`plain_pipeline.py`: jieba.lcut → TfidfVectorizer → LogisticRegression, loaded with
     joblib), the whole file predicted in one vectorised call, and row by row.
3. Reports rows/s, the ratio to each plain pipeline measured in the same run, whole-process wall time, the largest
   single process (`ru_maxrss`) and the peak PSS of the whole process tree (workers included, sampled).
4. Profiles chunks of the generated rows in-process to show where a row's time goes (tokeniser, rules, model), the
   first chunks of a run (which build the rules' batch screen) apart from the next ones.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from measure import compile_bytecode, run

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "training" / "data" / "corpus.csv"

COMPANIES = ["星河", "云启", "蓝湾", "鼎信", "智远", "华衡", "青禾", "天枢", "安澜", "博睿", "Acme", "Northwind"]
CITIES = ["成都", "重庆", "绵阳", "德阳", "宜宾", "西安", "杭州", "深圳", "Chengdu", "Shanghai"]
DEPARTMENTS = ["信息中心", "风控部", "医务处", "运营部", "人力资源部", "法务合规部", "市场部", "IT", "Procurement"]
ZH_TAILS = [
    "已在{city}{n}个网点部署。",
    "目前服务约{n}万名用户。",
    "由{company}科技提供，合同编号{code}。",
    "计划于{year}年第{q}季度上线。",
    "版本{major}.{minor}，每{n}天更新一次模型。",
    "",
]
EN_TAILS = [
    " Deployed at {n} sites in {city}.",
    " Supplied by {company} Ltd, contract {code}.",
    " Version {major}.{minor}, retrained every {n} days.",
    " About {n},000 users.",
    "",
]
SENTENCE_END = re.compile(r"(?<=[。！？；;])|(?<=[.!?])\s+")


def _clauses(corpus: Path) -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {"zh": [], "hant": [], "en": []}
    with corpus.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            lang = {"en": "en", "zh-Hant": "hant"}.get(row["lang"], "zh")
            pools[lang] += [s.strip() for s in SENTENCE_END.split(row["description"]) if len(s.strip()) >= 4]
    return pools


def generate(path: Path, rows: int, seed: int) -> None:
    """An inventory table of `rows` distinct descriptions (see the module docstring)."""
    import opencc

    rng = random.Random(seed)
    pools = _clauses(CORPUS)
    to_hant = opencc.OpenCC("s2t")
    seen: set[str] = set()
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "产品名称", "description", "部门", "备注"])
        n = 0
        while n < rows:
            roll = rng.random()
            lang = "en" if roll < 0.18 else "hant" if roll < 0.33 else "zh"
            k = rng.choices([1, 2, 3, 4, 5], weights=[30, 30, 20, 12, 8])[0]
            parts = rng.sample(pools[lang], k)
            fill = {
                "city": rng.choice(CITIES),
                "company": rng.choice(COMPANIES),
                "n": rng.randint(2, 999),
                "code": f"{rng.choice('ABCDEFGH')}{rng.randint(1000, 99999)}",
                "year": rng.randint(2025, 2028),
                "q": rng.randint(1, 4),
                "major": rng.randint(1, 9),
                "minor": rng.randint(0, 20),
            }
            if lang == "en":
                text = " ".join(parts) + rng.choice(EN_TAILS).format(**fill)
            else:
                prefix = rng.choice(["", "", f"{fill['company']}：", f"【{fill['city']}】"])
                text = prefix + "".join(parts) + rng.choice(ZH_TAILS).format(**fill)
                if lang == "hant" or (lang == "zh" and rng.random() < 0.05):
                    text = to_hant.convert(text)
            if rng.random() < 0.03:
                text = text.replace("AI", "人工智能") + "（" + rng.choice(DEPARTMENTS) + "提交）"
            if text in seen:
                continue
            seen.add(text)
            n += 1
            note = rng.choice(["", "", "待复核", "已上线"])
            w.writerow([f"P{n:06d}", text[:12], text, rng.choice(DEPARTMENTS), note])


def profile_chunk(path: Path, rows: int = 2000) -> None:
    """Where the time of a chunk goes, in this process (model already loaded): the first chunk of a run pays for
    building the batch screen and compiling the alternatives it runs; later chunks are the steady state."""
    from riskclass.batch.run import Classifier
    from riskclass.engine.decide import Engine
    from riskclass.model.classifier import load_shipped_model
    from riskclass.text.normalise import _jieba_tokenizer, normalise, tokens_of_normalised

    with path.open(encoding="utf-8", newline="") as fh:
        both = [r["description"] for _, r in zip(range(2 * rows), csv.DictReader(fh), strict=False)]
    first, descs = both[:rows], both[rows:]
    model = load_shipped_model()
    cut_piece = _jieba_tokenizer()[2]
    tok = _jieba_tokenizer()[0]

    def timed(fn, over=descs) -> float:
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) / len(over) * 1e6

    norms = [normalise(d) for d in descs]
    texts = [n.text for n in norms]
    cut_piece.cache_clear()
    print(f"\nwhere a row's time goes ({len(descs)} generated rows, µs per row, one process):")
    print(f"  normalise (NFKC, 繁→简, offsets)       {timed(lambda: [normalise(d) for d in descs]):8.0f}")
    print(f"  jieba lcut HMM=True (jieba.lcut)      {timed(lambda: [tok.lcut(t) for t in texts]):8.0f}")
    print(f"  jieba lcut HMM=False, whole text      {timed(lambda: [tok.lcut(t, HMM=False) for t in texts]):8.0f}")
    cut_piece.cache_clear()
    print(f"  tokens_of_normalised, cold cache      {timed(lambda: [tokens_of_normalised(t) for t in texts]):8.0f}")
    print(f"  tokens_of_normalised, warm cache      {timed(lambda: [tokens_of_normalised(t) for t in texts]):8.0f}")
    info = cut_piece.cache_info()
    print(f"    (pieces: {info.hits:,} hits, {info.misses:,} misses over both passes)")

    def chunks(f, xs: list) -> list:  # as batch calls them: 1,000 rows at a time
        return [y for i in range(0, len(xs), 1000) for y in f(xs[i : i + 1000])]

    probabilities = model.predict_proba_normalised
    print(f"  model opinions (incl. top terms)      {timed(lambda: chunks(model.opinions, norms)):8.0f}")
    print(f"  model probabilities only              {timed(lambda: chunks(probabilities, texts)):8.0f}")
    rules = Engine(model=None)
    print(f"  rules engine, first chunks (screen)   {timed(lambda: chunks(rules.assess_many, first), first):8.0f}")
    print(f"  rules engine, next chunks             {timed(lambda: chunks(rules.assess_many, descs)):8.0f}")
    engine = Engine(model=model)
    chunks(engine.assess_many, first)
    print(f"  Engine(model).assess_many             {timed(lambda: chunks(engine.assess_many, descs)):8.0f}")
    classify = Classifier(Engine(model=model), "csv", "zh")
    classify(first[:1000])
    print(f"  batch Classifier (CSV output)         {timed(lambda: chunks(classify, descs)):8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep the files")
    parser.add_argument("--jobs", default="1,2", help="the --jobs values to run besides the default (comma-separated)")
    parser.add_argument("--no-plain-rows", action="store_true", help="skip the row-by-row plain pipeline (slow)")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    compile_bytecode(str(ROOT))
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="riskclass-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    src = tmp / "inventory.csv"
    t = time.perf_counter()
    generate(src, args.rows, args.seed)
    size = src.stat().st_size / 2**20
    print(f"generated {args.rows:,} distinct rows ({size:.1f} MiB) in {time.perf_counter() - t:.1f} s")
    py = sys.executable
    plain = [py, str(ROOT / "benchmarks" / "plain_pipeline.py")]
    model = tmp / "plain.joblib"
    run([*plain, "train", str(model)])  # untimed; it also warms jieba's own cache
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    riskclass = [py, "-m", "riskclass", "batch", str(src), "--force", "--no-progress"]
    run([*riskclass, "-o", str(tmp / "warm.csv"), "--jobs", "1"], env=env, cwd=str(ROOT), ok=(0, 3))  # warm caches
    print(f"load average before: {os.getloadavg()[0]:.2f} (other processes on the machine skew the figures)")

    results = {}
    r = run([*plain, "batch", str(model), str(src), str(tmp / "out-plain.csv")])
    results["plain pipeline, vectorised"] = r
    if not args.no_plain_rows:
        results["plain pipeline, row by row"] = run([*plain, "rows", str(model), str(src), str(tmp / "out-rows.csv")])
    r = run([*riskclass, "-o", str(tmp / "out-default.csv")], env=env, cwd=str(ROOT), ok=(0, 3))
    results["riskclass batch (default options)"] = r
    outputs = {"default": tmp / "out-default.csv"}
    for jobs in [int(j) for j in args.jobs.split(",") if j]:
        out = tmp / f"out-jobs{jobs}.csv"
        r = run([*riskclass, "-o", str(out), "--jobs", str(jobs)], env=env, cwd=str(ROOT), ok=(0, 3))
        results[f"riskclass batch --jobs {jobs}"] = r
        outputs[f"--jobs {jobs}"] = out
    first = next(iter(outputs.values())).read_bytes()
    same = "identical" if all(p.read_bytes() == first for p in outputs.values()) else "DIFFERENT"

    vectorised = args.rows / results["plain pipeline, vectorised"]["wall"]
    by_rows = args.rows / results["plain pipeline, row by row"]["wall"] if not args.no_plain_rows else float("nan")
    print(f"\n{'run':36} {'rows/s':>8} {'× vect.':>8} {'× rows':>8} {'wall s':>8} {'peak MiB':>9} {'tree PSS MiB':>13}")
    for name, r in results.items():
        rate = args.rows / r["wall"]
        print(
            f"{name:36} {rate:8,.0f} {rate / vectorised:8.2f} {rate / by_rows:8.2f} {r['wall']:8.1f} "
            f"{r['max_process_mib']:9.0f} {r['tree_mib']:13.0f}"
        )
    print(
        f"({args.rows:,} rows; every command a whole process, start-up and loading included; rows/s = rows / wall; "
        f"× vect. and × rows: against the plain pipeline predicting the whole file in one call, and row by row, "
        f"in this run; riskclass outputs {same} across --jobs)"
    )
    print("peak MiB: largest single process (ru_maxrss); tree PSS MiB: all processes of the run (sampled)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if not args.no_profile:
        profile_chunk(src)


if __name__ == "__main__":
    main()
