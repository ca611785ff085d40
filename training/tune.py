"""Choose how rules and model combine, by 5-fold cross-validation on the corpus only (never the held-out set).

    python training/tune.py

Computes each corpus row's out-of-fold model probabilities once, then replays the engine's decision with different
thresholds (riskclass.engine.MODEL_RAISE_HIGH, MODEL_DOUBT, MODEL_SURE) and prints macro-F1, high recall and the share
of rows flagged for review, so the trade-off is visible before a threshold is changed in the engine.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from riskclass import engine, training  # noqa: E402
from riskclass.engine import Engine, ModelOpinion  # noqa: E402


class OutOfFold:
    """Stands in for the model: returns the probabilities a model that never saw the row would give."""

    sha256 = "out-of-fold"

    def __init__(self, probs: dict[str, dict[str, float]]) -> None:
        self.probs = probs

    def opinion(self, text):
        return ModelOpinion(self.probs[text.text])


def out_of_fold(data: training.Dataset, folds: int = 5) -> dict[str, dict[str, float]]:
    from sklearn.model_selection import StratifiedKFold

    texts = data.texts
    probs: dict[str, dict[str, float]] = {}
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, data.tiers):
        fold = training.Dataset("fold", "", tuple(data.examples[i] for i in train_idx))
        model = training.train(fold)
        for i, p in zip(test_idx, model.predict_proba_normalised([texts[i] for i in test_idx]), strict=True):
            probs[texts[i]] = p
    return probs


def main() -> int:
    data = training.prepare(HERE / "data" / training.CORPUS_FILE)
    eng = Engine(model=OutOfFold(out_of_fold(data)))
    print(
        f"{'raise_high':>10} {'doubt':>6} {'sure':>5} | {'acc':>5} {'macroF1':>7} {'rec.high':>8} {'prec.high':>9} "
        f"{'rec.low':>7} {'review':>6}"
    )
    for raise_high, doubt, sure in itertools.product((0.35, 0.4, 0.45, 0.5, 0.6), (0.1, 0.15), (0.5, 0.6)):
        engine.MODEL_RAISE_HIGH, engine.MODEL_DOUBT, engine.MODEL_SURE = raise_high, doubt, sure
        truth, pred, review = [], [], 0
        for e in data.examples:
            a = eng.assess(e.description)
            truth.append(e.tier)
            pred.append(a.tier)
            review += a.needs_review
        m = training.metrics(truth, pred)
        print(
            f"{raise_high:10.2f} {doubt:6.2f} {sure:5.2f} | {m.accuracy:5.3f} {m.macro_f1:7.3f} "
            f"{m.per_tier['high'].recall:8.3f} {m.per_tier['high'].precision:9.3f} {m.per_tier['low'].recall:7.3f} "
            f"{review / len(truth):6.1%}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
