"""Fitting the combiner (riskclass.engine.combine): how much the rules' findings and the model's probabilities are
worth, learned from labelled descriptions instead of hand-set thresholds.

Rows: the corpus and the real development descriptions (labelled from the shared records), each with the model's
probabilities out of fold: from a model that never saw the row, so a rule hit and a model opinion are weighed as they
will be on new text. The shipped model trains on both, so the real rows too must be judged out of fold. Real rows are
what the combiner must get right, so they can weigh more than a corpus row; that weight and the regularisation are
chosen by cross-validation over the real rows (`choose`), on log-loss, which rewards calibration and discrimination
together. Held-out sets play no part.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from riskclass.engine.combine import REGISTERS, STATES, TIERS, Combiner, Findings, features
from riskclass.training.pipeline import Dataset, TrainConfig, train

#: Where the combiner's choices are searched (`choose`). C: half-decades below scikit-learn's default of 1 (a first
#: search over 0.1–3 chose its lowest value); real weight: a real row worth 1 to 30 corpus rows (at 10 the 960 real
#: rows already outweigh the 4,916 corpus rows).
C_GRID = (0.03, 0.1, 0.3, 1.0)
REAL_WEIGHTS = (1.0, 3.0, 10.0, 30.0)
FOLDS = 5
# A second-order solver: with 55 features it converges in a handful of steps where lbfgs needs thousands on rows the
# rules separate perfectly (a strong hit in the corpus is nearly always right). Deterministic either way.
SOLVER = "newton-cholesky"


@dataclass(frozen=True)
class Row:
    id: str
    tier: str
    findings: Findings
    probabilities: dict[str, float]
    real: bool
    text: str = ""  # what the model read (normalised, negated words blanked): `StoredOpinions` answers by it


def feature_names(criteria: list[str]) -> tuple[str, ...]:
    """Every feature the combiner can see, in a fixed order (criteria in rulebook order)."""
    return (
        *(f"{c}:{s}" for c in criteria for s in STATES),
        *(f"model:log_{t}" for t in TIERS),
        *(f"model:log_{t}:{r}" for r in REGISTERS for t in TIERS),
        "low_signal",
        "thin",
        "english",
        "filing",
    )


def rows_of(data: Dataset, engine, model, real: bool) -> list[Row]:
    """Rule findings of each example and `model`'s probabilities of the text the model reads (negations blanked)."""
    found = [engine.findings(e.description) for e in data.examples]
    probs = model.predict_proba_normalised([norm.text for _, norm in found])
    return [
        Row(e.id, e.tier, f, p, real, norm.text) for e, (f, norm), p in zip(data.examples, found, probs, strict=True)
    ]


def out_of_fold_rows(
    corpus: Dataset, engine, real: Dataset | None = None, config: TrainConfig | None = None, folds: int = FOLDS
) -> list[Row]:
    """Corpus rows, then `real` rows, each with probabilities from a model trained on the other folds of both, as the
    shipped model is trained on both (stratified, seeded: reproducible)."""
    from sklearn.model_selection import StratifiedKFold

    def split(data: Dataset | None) -> list:
        if data is None or not data.examples:
            return [((), ())] * folds
        return list(StratifiedKFold(folds, shuffle=True, random_state=0).split(data.tiers, data.tiers))

    def part(data: Dataset | None, idx) -> Dataset:
        return Dataset("fold", "", tuple(data.examples[i] for i in idx) if data is not None else ())

    ours: list[Row | None] = [None] * len(corpus.examples)
    theirs: list[Row | None] = [None] * (len(real.examples) if real is not None else 0)
    for (c_train, c_test), (r_train, r_test) in zip(split(corpus), split(real), strict=True):
        model = train(part(corpus, c_train), config, part(real, r_train))
        for out, data, idx, is_real in ((ours, corpus, c_test, False), (theirs, real, r_test, True)):
            for i, row in zip(idx, rows_of(part(data, idx), engine, model, real=is_real), strict=True):
                out[i] = row
    return [r for r in ours + theirs if r is not None]


class StoredOpinions:
    """A tier model that answers with probabilities already computed (out of fold) for known texts: the engine can
    then be measured on rows the shipped model trained on as if it had never seen them."""

    def __init__(self, rows: list[Row], sha256: str = "out-of-fold") -> None:
        self.sha256 = sha256
        # Keyed by the text the model read (negations blanked), as the engine will ask for it.
        self._by_text = {r.text: r.probabilities for r in rows}

    def opinion(self, text):
        return self.opinions([text])[0]

    def opinions(self, texts):
        from riskclass.model.opinion import ModelOpinion

        return [ModelOpinion(dict(self._by_text[t.text])) for t in texts]


def fit(rows: list[Row], names: tuple[str, ...], C: float, real_weight: float, meta: dict | None = None) -> Combiner:
    """A multinomial logistic regression on the rows (lbfgs: deterministic)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    index = {n: i for i, n in enumerate(names)}
    X = np.zeros((len(rows), len(names)))
    for r, row in enumerate(rows):
        for n, v in features(row.findings, row.probabilities).items():
            X[r, index[n]] = v
    y = [row.tier for row in rows]
    w = [real_weight if row.real else 1.0 for row in rows]
    clf = LogisticRegression(C=C, solver=SOLVER, max_iter=1000)
    clf.fit(X, y, sample_weight=w)
    classes = list(clf.classes_)
    weights = {t: tuple(float(v) for v in clf.coef_[classes.index(t)]) for t in TIERS}
    intercepts = {t: float(clf.intercept_[classes.index(t)]) for t in TIERS}
    return Combiner(names, weights, intercepts, {"C": C, "real_weight": real_weight, **(meta or {})})


def log_loss(combiner: Combiner, rows: list[Row]) -> float:
    return -sum(math.log(max(combiner.probabilities(r.findings, r.probabilities)[r.tier], 1e-12)) for r in rows) / len(
        rows
    )


def real_folds(rows: list[Row], folds: int = FOLDS) -> list[list[int]]:
    """Indices of the real rows split into stratified, seeded folds."""
    from sklearn.model_selection import StratifiedKFold

    real = [i for i, r in enumerate(rows) if r.real]
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    return [[real[j] for j in test] for _, test in splitter.split(real, [rows[i].tier for i in real])]


def cross_validated(rows: list[Row], names, C: float, real_weight: float) -> list[tuple[int, Combiner]]:
    """For each real fold, a combiner fitted on everything but that fold."""
    out = []
    for fold in real_folds(rows):
        held = set(fold)
        combiner = fit([r for i, r in enumerate(rows) if i not in held], names, C, real_weight)
        out += [(i, combiner) for i in fold]
    return out


def choose(
    rows: list[Row], names, written: list[Row] | None = None
) -> tuple[float, float, list[tuple[float, float, float, float]]]:
    """(C, real weight) with the lowest mean of two development log-losses, and the whole grid's losses: on the real
    rows, each judged by a combiner fitted without it, and on `written`, a development set our own writers wrote
    (never fitted on), so that what is won on real filings is not paid for on the prose users also write."""
    grid = []
    for C in C_GRID:
        for rw in REAL_WEIGHTS:
            pairs = cross_validated(rows, names, C, rw)
            real = sum(log_loss(c, [rows[i]]) for i, c in pairs) / len(pairs)
            ours = log_loss(fit(rows, names, C, rw), written) if written else 0.0
            grid.append((C, rw, real, ours))
    C, rw, _, _ = min(grid, key=lambda g: (g[2] + g[3]) / (2 if written else 1))
    return C, rw, grid


#: Where `choose_high_from` looks, from argmax (0.5) down.
HIGH_FROM_GRID = (0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2)
#: How much macro-F1 on the real development rows we accept to pay for high recall: one point. Missing a high-risk
#: product skips the assessment before launch; a wrongly lifted one costs a review (every lifted result is flagged).
MACRO_F1_COST = 0.01


def choose_high_from(
    truth: list[str], tiers: list[str], p_high: list[float]
) -> tuple[float, list[tuple[float, float, float, float]]]:
    """The lowest P(high) from which high is chosen whose macro-F1 is within MACRO_F1_COST of the grid's best, and the
    grid (threshold, macro-F1, high recall, high precision). `tiers` are the argmax results, `p_high` their P(high)."""
    from riskclass.training.pipeline import metrics

    grid = []
    for t in HIGH_FROM_GRID:
        predicted = ["high" if p >= t else tier for tier, p in zip(tiers, p_high, strict=True)]
        m = metrics(truth, predicted)
        grid.append((t, m.macro_f1, m.per_tier["high"].recall, m.per_tier["high"].precision))
    best = max(f1 for _, f1, _, _ in grid)
    return min(t for t, f1, _, _ in grid if f1 >= best - MACRO_F1_COST), grid
