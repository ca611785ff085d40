"""Fit the combiner (after the pipeline's train step) and write models/combiner.json.

    python training/combine.py [--rows-cache FILE] [--records DIR]

Rows: the corpus and the real development descriptions (training/data/real/dev*.csv, text read from ../shared/data),
each with out-of-fold model probabilities (the shipped model trains on both). The regularisation and the weight of a
real row are chosen on two development sets: 5-fold cross-validation over the real rows, and dev2.csv (our writers'
prose, never fitted on). The same folds then give the engine's figures on real text, a reliability table and the
expected calibration error, with the review rate for each REVIEW_BELOW: the engine judges each real row with its out-of-
fold probabilities, never the shipped model's (which saw it). No held-out set is read. The out-of-fold step fits the
model five times (minutes): --rows-cache keeps the model's probabilities between runs, and the rules' findings are
recomputed from the current rulebook on every run, so a change to rule patterns is measured in about a minute. The cache
is refilled when the corpus, the real labels or the training settings changed since it was written.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import riskclass.training.combine as combine  # noqa: E402
import riskclass.training.pipeline as training  # noqa: E402
from riskclass.engine.combine import COMBINER_FILE  # noqa: E402
from riskclass.engine.decide import Engine  # noqa: E402
from riskclass.model.classifier import load_shipped_model as shipped_model  # noqa: E402

DATA = HERE / "data"
WRITTEN_DEV = "dev2.csv"
OUT = HERE.parent / "models" / COMBINER_FILE
REVIEW_CHOICES = (0.5, 0.55, 0.6, 0.65, 0.7)


CACHE_FORMAT = 3


def _cache_key(corpus_sha256: str, real_sha256: str) -> dict:
    """What the cached probabilities depend on: the out-of-fold models are trained on the corpus and the real rows,
    with the training settings. The rules' findings are not cached (see `_cached_rows`)."""
    from dataclasses import asdict

    config = json.loads(json.dumps(asdict(training.TrainConfig())))  # as the cache file holds it (tuples are lists)
    return {"format": CACHE_FORMAT, "corpus_sha256": corpus_sha256, "real_sha256": real_sha256, "config": config}


def _cached_rows(cache: object, key: dict, texts: dict[str, str], rules: Engine) -> list[combine.Row] | None:
    """The cached rows with findings from the current rulebook, or None when the cache was written for another corpus
    or model. Probabilities are kept: they depend on the rules only through negated words, which the model does not
    read, so a change to negation words needs a fresh cache (delete the file)."""
    if not isinstance(cache, dict) or {k: cache.get(k) for k in key} != key:
        return None
    rows = []
    for d in cache["rows"]:
        findings, norm = rules.findings(texts[d["id"]])
        rows.append(combine.Row(d["id"], d["tier"], findings, d["p"], d["real"], norm.text))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows-cache", type=Path, help="keep the model's out-of-fold probabilities here (JSON) and reuse them"
    )
    parser.add_argument("--records", help="folder of the shared records (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--results",
        type=Path,
        help="write each real development row's cross-validated result here (CSV: id, tier, predicted, confidence,"
        " needs_review), for reading the errors",
    )
    args = parser.parse_args()
    rules = Engine(model=None)
    model = shipped_model()
    corpus = training.prepare(DATA / training.CORPUS_FILE)
    real = training.real_training_rows(args.records)
    if real is None:
        print(training.NO_RECORDS, file=sys.stderr)
        return 2
    key = _cache_key(corpus.sha256, real.sha256)
    texts = {e.id: e.description for d in (corpus, real) for e in d.examples}
    rows = None
    if args.rows_cache and args.rows_cache.exists():
        rows = _cached_rows(json.loads(args.rows_cache.read_text(encoding="utf-8")), key, texts, rules)
        if rows is None:
            print(f"{args.rows_cache}: written for another corpus or model; refitting the out-of-fold rows")
    if rows is None:
        rows = combine.out_of_fold_rows(corpus, rules, real)
        if args.rows_cache:
            cache = {**key, "rows": [{"id": r.id, "tier": r.tier, "real": r.real, "p": r.probabilities} for r in rows]}
            args.rows_cache.write_text(json.dumps(cache, ensure_ascii=False), "utf-8")
    criteria = [c for c, crit in rules.rulebook.criteria.items() if not crit.is_red_flag]
    names = combine.feature_names(criteria)
    # Our writers' development set: never fitted on, it keeps the choice honest on prose (see combine.choose).
    written = combine.rows_of(training.read_labelled_csv(DATA / WRITTEN_DEV), rules, model, real=False)
    C, rw, grid = combine.choose(rows, names, written)
    for c_, w_, real, ours in grid:
        print(f"C {c_:<4} real weight {w_:<4} log-loss: real rows (cross-val.) {real:.4f}, {WRITTEN_DEV} {ours:.4f}")
    print(f"chosen: C {C}, real weight {rw}")

    # The engine on the real rows, each judged with a combiner that never saw it and the model's out-of-fold opinion.
    pairs = combine.cross_validated(rows, names, C, rw)
    stored = combine.StoredOpinions([r for r in rows if r.real])

    def judged(pairs):
        engines: dict[int, Engine] = {}
        out = []
        for i, comb in pairs:
            engine = engines.setdefault(id(comb), Engine(rulebook=rules.rulebook, model=stored, combiner=comb))
            a = engine.assess(texts[rows[i].id])
            out.append((rows[i].tier, a.tier, a.confidence, a.needs_review))
        return out

    # From which P(high) high is chosen, on the same folds (argmax results and each row's P(high)).
    argmax = judged(pairs)
    p_high = [comb.probabilities(rows[i].findings, rows[i].probabilities)["high"] for i, comb in pairs]
    high_from, high_grid = combine.choose_high_from([r[0] for r in argmax], [r[1] for r in argmax], p_high)
    for t, f1, recall, precision in high_grid:
        print(f"high from P(high) {t:.2f}: macro-F1 {f1:.3f}, high recall {recall:.3f}, high precision {precision:.3f}")
    print(f"chosen: high from {high_from}")
    folded = {id(c): replace(c, meta={**c.meta, "high_from": high_from}) for _, c in pairs}
    results = judged([(i, folded[id(c)]) for i, c in pairs])
    if args.results:
        import csv

        with args.results.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["id", "tier", "predicted", "confidence", "needs_review"])
            for (i, _), (truth, tier, confidence, review) in zip(pairs, results, strict=True):
                out.writerow([rows[i].id, truth, tier, f"{confidence:.4f}", int(review)])
    truth = [r[0] for r in results]
    m = training.metrics(truth, [r[1] for r in results])
    table, ece = training.reliability([r[2] for r in results], [r[0] == r[1] for r in results])
    review = sum(r[3] for r in results) / len(results)
    print(
        f"real development rows, cross-validated ({len(results)}): macro-F1 {m.macro_f1:.3f}, "
        f"high recall {m.per_tier['high'].recall:.3f}, accuracy {m.accuracy:.3f}, needs_review {review:.1%}, "
        f"ECE {ece:.3f}"
    )
    print("confidence bin   rows  mean confidence  accuracy")
    for lo, hi, n, conf, acc in table:
        print(f"{lo:.1f}–{hi:.1f}        {n:5d}  {conf:15.3f}  {acc:8.3f}")
    for t in REVIEW_CHOICES:
        flagged = [r for r in results if r[2] < t]
        rest = [r for r in results if r[2] >= t]
        acc = sum(r[0] == r[1] for r in rest) / max(1, len(rest))
        print(f"confidence below {t}: {len(flagged) / len(results):.1%} of rows, accuracy of the rest {acc:.3f}")

    final = combine.fit(
        rows,
        names,
        C,
        rw,
        meta={
            "high_from": high_from,
            "rulebook": rules.rulebook.version,
            "model_sha256": model.sha256,
            "corpus_sha256": corpus.sha256,
            "real_rows": sum(r.real for r in rows),
            "corpus_rows": sum(not r.real for r in rows),
            "cross_validated": {
                "macro_f1": round(m.macro_f1, 4),
                "high_recall": round(m.per_tier["high"].recall, 4),
                "needs_review": round(review, 4),
                "ece": round(ece, 4),
            },
        },
    )
    args.out.write_text(json.dumps(final.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
