"""Fitting the combiner: reproducible, calibrated on what it is fitted on, and the shipped one in step with the
rulebook and model it weighs."""

import json

import pytest

import riskclass.training.combine as combine
from riskclass.engine.combine import COMBINER_FILE, Findings, _combiner_path, read_combiner
from riskclass.model.classifier import load_shipped_model
from riskclass.rulebook.rules import load_rulebook
from riskclass.training.pipeline import reliability

CRITERIA = ["H1", "H5", "M1", "M2"]


def _rows() -> list[combine.Row]:
    """A small, hand-made set: a strong H5 hit is usually high, M1 alone medium, nothing at all usually low."""
    # (id prefix, its tier and the tier it has every n-th row, n, the rules' findings, the model's probabilities)
    kinds = [
        ("h", "high", "medium", 6, Findings(strong=frozenset({"H5"})), {"high": 0.6, "medium": 0.3, "low": 0.1}),
        ("m", "medium", "low", 5, Findings(strong=frozenset({"M1"})), {"high": 0.2, "medium": 0.5, "low": 0.3}),
        ("l", "low", "medium", 4, Findings(), {"high": 0.1, "medium": 0.3, "low": 0.6}),
    ]
    return [
        combine.Row(f"{p}{i}", usual if i % n else other, found, probs, real=i % 2 == 0)
        for i in range(30)
        for p, usual, other, n, found, probs in kinds
    ]


def test_fitting_is_reproducible_and_the_result_round_trips_through_json(tmp_path):
    names = combine.feature_names(CRITERIA)
    first = combine.fit(_rows(), names, C=1.0, real_weight=3.0)
    second = combine.fit(_rows(), names, C=1.0, real_weight=3.0)
    assert json.dumps(first.to_dict()) == json.dumps(second.to_dict())
    path = tmp_path / COMBINER_FILE
    path.write_text(json.dumps(first.to_dict()), encoding="utf-8")
    again = read_combiner(path)
    f = Findings(strong=frozenset({"H5"}))
    p = {"high": 0.6, "medium": 0.3, "low": 0.1}
    assert again.probabilities(f, p) == pytest.approx(first.probabilities(f, p), abs=1e-6)


def test_the_fitted_probabilities_follow_the_evidence_it_was_fitted_on():
    names = combine.feature_names(CRITERIA)
    c = combine.fit(_rows(), names, C=1.0, real_weight=1.0)
    h5 = c.probabilities(Findings(strong=frozenset({"H5"})), {"high": 0.6, "medium": 0.3, "low": 0.1})
    nothing = c.probabilities(Findings(), {"high": 0.1, "medium": 0.3, "low": 0.6})
    # 25 of 30 H5 rows are high; 22 of 30 rows with nothing are low (i % 4 != 0): the fit lands near those shares.
    assert h5["high"] == pytest.approx(25 / 30, abs=0.1)
    assert nothing["low"] == pytest.approx(22 / 30, abs=0.1)


def test_choosing_keeps_real_rows_out_of_the_combiner_that_judges_them():
    rows = _rows()
    names = combine.feature_names(CRITERIA)
    pairs = combine.cross_validated(rows, names, C=1.0, real_weight=3.0)
    judged = [i for i, _ in pairs]
    assert sorted(judged) == sorted(i for i, r in enumerate(rows) if r.real), "every real row judged exactly once"
    assert len({id(c) for _, c in pairs}) == combine.FOLDS


def test_reliability_table_and_calibration_error():
    table, ece = reliability([0.95, 0.95, 0.55, 0.55], [True, True, True, False])
    assert [(lo, n) for lo, _, n, _, _ in table] == [(0.5, 2), (0.9, 2)]
    assert ece == pytest.approx(0.5 * abs(0.55 - 0.5) + 0.5 * abs(0.95 - 1.0))


def test_the_shipped_combiner_was_fitted_for_the_shipped_rulebook_and_model():
    """Drift: a rulebook or model change without refitting (python training/combine.py) fails here."""
    meta = json.loads(_combiner_path().read_text(encoding="utf-8"))["meta"]
    assert meta["rulebook"] == load_rulebook().version
    assert meta["model_sha256"] == load_shipped_model().sha256


def _combine_script():
    """training/combine.py, the script a maintainer runs (it lives outside the package)."""
    import importlib.util

    from .conftest import ROOT

    spec = importlib.util.spec_from_file_location("combine_script", ROOT / "training" / "combine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_rows_cache_keeps_probabilities_and_reads_findings_from_the_current_rulebook():
    """After a rule change the cached rows must show the new rules' findings (a stale cache measured the old
    rulebook), and a cache written for another corpus or model is not used at all."""
    from riskclass.engine.decide import Engine

    script = _combine_script()
    key = script._cache_key("corpus-sha", "real-labels-sha")
    p = {"high": 0.2, "medium": 0.5, "low": 0.3}
    # Through JSON, as the file holds it (the training settings' tuples come back as lists).
    cache = json.loads(json.dumps({**key, "rows": [{"id": "x1", "tier": "high", "real": True, "p": p}]}))
    texts = {"x1": "人脸识别门禁，刷脸开门"}
    (row,) = script._cached_rows(cache, key, texts, Engine(model=None))
    assert "H5" in row.findings.strong and row.probabilities == p and row.real
    assert row.text == Engine(model=None).findings(texts["x1"])[1].text, "the text the model reads, for StoredOpinions"
    other = script._cache_key("another-corpus", "real-labels-sha")
    assert script._cached_rows(cache, other, texts, Engine(model=None)) is None
    assert script._cached_rows([{"id": "x1"}], key, texts, Engine(model=None)) is None  # the old list format


def test_high_is_chosen_from_the_lowest_probability_that_costs_at_most_a_point_of_macro_f1():
    truth = ["high"] * 10 + ["medium"] * 10 + ["low"] * 10
    argmax = ["high"] * 6 + ["medium"] * 4 + ["medium"] * 10 + ["low"] * 10
    # The four missed highs have P(high) 0.42; two mediums have 0.36 (lifting them costs precision).
    p_high = [0.8] * 6 + [0.42] * 4 + [0.36] * 2 + [0.1] * 8 + [0.05] * 10
    chosen, grid = combine.choose_high_from(truth, argmax, p_high)
    assert chosen == 0.4, grid
    assert dict((t, r) for t, _, r, _ in grid)[0.4] == 1.0
    # With nothing to gain, argmax stays.
    assert combine.choose_high_from(truth, truth, [0.9] * 10 + [0.45] * 20)[0] == 0.5


def test_stored_opinions_answer_with_the_out_of_fold_probabilities_for_the_text_the_model_reads():
    """The engine judged with them gives each real row the opinion of a model that never saw it."""
    from riskclass.engine.decide import Engine

    rules = Engine(model=None)
    text = "一款不使用人脸识别的小区车辆道闸，仅识别车牌"  # the model reads it with the negated words blanked
    p = {"high": 0.1, "medium": 0.2, "low": 0.7}
    findings, read = rules.findings(text)
    stored = combine.StoredOpinions([combine.Row("r1", "low", findings, p, True, read.text)])
    a = Engine(rulebook=rules.rulebook, model=stored).assess(text)
    assert a.model.probabilities == p
