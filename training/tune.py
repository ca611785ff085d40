"""Choose how rules and model combine, on a development set (never a held-out test set).

    python training/tune.py [--data training/data/dev2.csv]

The rules were written against the training corpus, so cross-validation there would flatter them; dev2.csv was written
separately from the rubric and is used for nothing but this. The model is trained on the corpus, then the engine's
decision is replayed with different thresholds (riskclass.engine.decide.MODEL_RAISE_HIGH,
MODEL_LOWER_MEDIUM) and the macro-F1, high-tier recall and share of rows flagged for review are printed, so the
trade-off is visible before a threshold is changed in the engine.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import riskclass.engine.decide as engine  # noqa: E402
import riskclass.training.pipeline as training  # noqa: E402
from riskclass.engine.decide import Engine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(HERE / "data" / "dev2.csv"))
    parser.add_argument("--corpus", default=str(HERE / "data" / training.CORPUS_FILE), help="training corpus")
    args = parser.parse_args()
    dev = training.read_labelled_csv(args.data)
    model = training.train(training.prepare(args.corpus))
    rules = Engine(model=None)
    combined = Engine(rulebook=rules.rulebook, model=model)
    opinions = dict(
        zip(
            [e.description for e in dev.examples],
            model.predict_texts([e.description for e in dev.examples]),
            strict=True,
        )
    )
    truth = dev.tiers
    only_rules = training.metrics(truth, [rules.assess(e.description).tier for e in dev.examples])
    only_model = training.metrics(truth, [max(p, key=p.get) for p in opinions.values()])
    for name, m in (("rules only", only_rules), ("model only", only_model)):
        print(f"{name:10} acc {m.accuracy:.3f} macroF1 {m.macro_f1:.3f} rec.high {m.per_tier['high'].recall:.3f}")
    print(
        f"{'raise':>5} {'lower':>5} | {'acc':>5} {'macroF1':>7} {'rec.high':>8} {'prec.high':>9} "
        f"{'rec.med':>7} {'rec.low':>7} {'review':>6}"
    )
    chosen = (engine.MODEL_RAISE_HIGH, engine.MODEL_LOWER_MEDIUM)
    grid = itertools.product((0.4, 0.5, 0.6), (0.6, 0.7, 0.8))
    for raise_high, lower_medium in grid:
        engine.MODEL_RAISE_HIGH, engine.MODEL_LOWER_MEDIUM = raise_high, lower_medium
        results = [combined.assess(e.description) for e in dev.examples]
        m = training.metrics(truth, [a.tier for a in results])
        review = sum(a.needs_review for a in results) / len(results)
        mark = "  ← the engine's" if (raise_high, lower_medium) == chosen else ""
        print(
            f"{raise_high:5.2f} {lower_medium:5.2f} | {m.accuracy:5.3f} {m.macro_f1:7.3f} "
            f"{m.per_tier['high'].recall:8.3f} {m.per_tier['high'].precision:9.3f} "
            f"{m.per_tier['medium'].recall:7.3f} {m.per_tier['low'].recall:7.3f} {review:6.1%}{mark}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
