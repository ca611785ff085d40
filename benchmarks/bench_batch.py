"""Benchmark `riskclass batch` on a generated inventory, against the plain pipeline a user would write.

usage: python benchmarks/bench_batch.py [--rows 100000] [--seed 0] [--keep DIR]

1. Generates ROWS rows of realistic, mixed descriptions into a temporary directory: sentences of the labelled
   corpus (简体, 繁體, English and mixed) recombined one to five at a time, with company names, cities, counts and
   model numbers varied so that no two rows are the same (checked), in an inventory-like table (id, name, department,
   note).
2. Runs, each as its own process, timed by wall clock (start-up and model loading included for riskclass):
   - `riskclass batch --jobs 1` and `--jobs 2` (the shipped model and the rules: the default),
   - the plain pipeline: jieba.lcut → TfidfVectorizer → LogisticRegression trained on the same corpus, then the CSV
     read with the csv module and each row's probabilities predicted and written one row at a time (its training
     time is reported but not counted in its rows/s, which favours it).
3. Reports rows/s, the speed-up over the plain pipeline, and peak memory: the largest single process
   (`ru_maxrss` of the waited-for children) and the whole process tree (PSS summed over the child and its workers,
   sampled every 0.2 s).
4. Profiles chunks of the generated rows in-process to show where a row's time goes (tokeniser, rules, model), the
   first chunks of a run (which build the rules' batch screen) apart from the next ones.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

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


PLAIN = r"""
import csv, json, logging, sys, time
import jieba
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

jieba.setLogLevel(logging.WARNING)
corpus, src, dst = sys.argv[1:4]
t0 = time.perf_counter()
with open(corpus, encoding="utf-8", newline="") as fh:
    rows = list(csv.DictReader(fh))
model = make_pipeline(
    TfidfVectorizer(tokenizer=jieba.lcut, token_pattern=None, lowercase=False),
    LogisticRegression(max_iter=2000),
)
model.fit([r["description"] for r in rows], [r["tier"] for r in rows])
trained = time.perf_counter() - t0
t1 = time.perf_counter()
n = 0
with open(src, encoding="utf-8", newline="") as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
    reader = csv.DictReader(fin)
    writer = csv.writer(fout)
    writer.writerow([*reader.fieldnames, "tier", "p_high", "p_medium", "p_low"])
    classes = list(model.classes_)
    for row in reader:
        p = model.predict_proba([row["description"]])[0]
        best = classes[int(p.argmax())]
        probs = [round(float(p[classes.index(t)]), 4) for t in ("high", "medium", "low")]
        writer.writerow([*row.values(), best, *probs])
        n += 1
print(json.dumps({"rows": n, "train_s": trained, "loop_s": time.perf_counter() - t1}))
"""


def _tree_rss(pid: int) -> int:
    """Memory (bytes) of `pid` and all its descendants, from /proc: proportional set size where available."""
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
        ppid, pages = int(fields[1]), int(fields[21])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * page
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _pss(p, rss.get(p, 0))
        todo += children.get(p, [])
    return total


def _pss(pid: int, rss: int) -> int:
    """Proportional set size of `pid` (pages shared with forked workers counted once across the tree), or its RSS
    where the kernel does not say."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss


def run(cmd: list[str]) -> dict:
    """Run `cmd`: wall seconds, its stdout, its peak RSS (`wait4`: the largest of it and its waited-for children)
    and the peak PSS of its whole process tree (sampled)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _tree_rss(proc.pid))
                done.wait(0.2)

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
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr}")
    return {
        "wall": wall,
        "stdout": stdout,
        "stderr": stderr,
        "max_process_mib": usage.ru_maxrss / 1024,  # Linux: KiB
        "tree_mib": peak[0] / 2**20,
    }


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
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep the files")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="riskclass-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    src = tmp / "inventory.csv"
    t = time.perf_counter()
    generate(src, args.rows, args.seed)
    size = src.stat().st_size / 2**20
    print(f"generated {args.rows:,} distinct rows ({size:.1f} MiB) in {time.perf_counter() - t:.1f} s")
    print(f"load average before: {os.getloadavg()[0]:.2f} (other processes on the machine skew the figures)")

    results = {}
    py = sys.executable
    small = tmp / "inventory-tenth.csv"  # the first tenth of the rows: memory must not grow with the file
    with src.open(encoding="utf-8", newline="") as fin, small.open("w", encoding="utf-8", newline="") as fout:
        w = csv.writer(fout)
        for i, row in enumerate(csv.reader(fin)):
            if i > args.rows // 10:
                break
            w.writerow(row)
    r = run([py, "-m", "riskclass", "batch", str(small), "-o", str(tmp / "out-tenth.csv"), "--force"])
    results[f"riskclass batch --jobs 1 ({args.rows // 10:,} rows)"] = (args.rows // 10 / r["wall"], r)
    for jobs in (1, 2):
        out = tmp / f"out-jobs{jobs}.csv"
        r = run([py, "-m", "riskclass", "batch", str(src), "-o", str(out), "--force", "--jobs", str(jobs)])
        results[f"riskclass batch --jobs {jobs}"] = (args.rows / r["wall"], r)
    a = (tmp / "out-jobs1.csv").read_bytes()
    b = (tmp / "out-jobs2.csv").read_bytes()
    same = "identical" if a == b else "DIFFERENT"

    script = tmp / "plain.py"
    script.write_text(PLAIN, encoding="utf-8")
    r = run([py, str(script), str(CORPUS), str(src), str(tmp / "out-plain.csv")])
    stats = json.loads(r["stdout"].strip().splitlines()[-1])
    plain_rate = stats["rows"] / stats["loop_s"]
    results["plain jieba→tf-idf→LR, row by row"] = (plain_rate, r)

    print(f"\n{'run':38} {'rows/s':>8} {'× plain':>8} {'wall s':>8} {'peak MiB':>9} {'tree MiB':>9}")
    for name, (rate, r) in results.items():
        print(
            f"{name:38} {rate:8,.0f} {rate / plain_rate:8.2f} {r['wall']:8.1f} "
            f"{r['max_process_mib']:9.0f} {r['tree_mib']:9.0f}"
        )
    print(
        f"(plain: training {stats['train_s']:.1f} s not counted; riskclass: whole command, start-up and model "
        f"loading included; --jobs 1 and --jobs 2 outputs {same})"
    )
    print("peak MiB: largest single process (ru_maxrss); tree MiB: all processes of the run, PSS (sampled)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if not args.no_profile:
        profile_chunk(src)


if __name__ == "__main__":
    main()
