"""The classifier: a reproducible pipeline, a model file that is verified before it is unpickled, and drift checks."""

import json
import shutil

import pytest

import riskclass.model.classifier as model_mod
import riskclass.training.pipeline as training
from riskclass.errors import ModelError
from riskclass.text.normalise import normalise
from riskclass.training.shipped import shipped_model

from .conftest import DATA, ROOT, run_cli


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A model trained end to end on the rubric case table (small, fast), exported to a temporary directory."""
    data = training.read_labelled_csv(DATA / "rubric_cases.csv")
    out = tmp_path_factory.mktemp("model")
    model = training.train(data)
    held = training.evaluate(data, model)
    manifest = training.export(model, data, out, held_out=held, test_data=data)
    return data, out, manifest


def test_pipeline_writes_model_manifest_and_card(tiny):
    data, out, manifest = tiny
    assert (out / "tier_model.joblib").is_file()
    assert manifest["model_sha256"] == model_mod.sha256_of(out / "tier_model.joblib")
    assert manifest["training_data"]["sha256"] == data.sha256
    assert set(manifest["versions"]) >= {"riskclass", "scikit-learn", "jieba", "numpy", "rulebook"}
    held = manifest["metrics"]["held_out"]
    assert set(held["ablation"]) == {"rules_only", "model_only", "combined"}
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "Known weaknesses" in card and manifest["model_sha256"] in card


def test_training_is_deterministic(tiny, tmp_path):
    data, _, manifest = tiny
    again = training.export(training.train(data), data, tmp_path)
    assert again["model_sha256"] == manifest["model_sha256"]


def test_verified_model_gives_probabilities_and_weighty_words(tiny):
    _, out, _ = tiny
    m = model_mod.load_verified(out)
    op = m.opinion(normalise("一款为银行筛选贷款申请人的评分模型"))
    assert set(op.probabilities) == {"high", "medium", "low"}
    assert abs(sum(op.probabilities.values()) - 1) < 1e-6
    assert op.top_terms and all(w > 0 for _, w in op.top_terms)


def test_a_tampered_model_is_refused_before_unpickling(tiny, tmp_path):
    _, out, _ = tiny
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    blob = bytearray((bad / "tier_model.joblib").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (bad / "tier_model.joblib").write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="does not match its manifest"):
        model_mod.load_verified(bad)
    r = run_cli("classify", "人脸识别门禁", env={"RISKCLASS_MODEL_DIR": str(bad)})
    assert r.returncode == 1
    err = r.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "does not match its manifest" in err[0] and "Traceback" not in err[0]
    assert run_cli("classify", "人脸识别门禁", "--rules-only", env={"RISKCLASS_MODEL_DIR": str(bad)}).returncode == 0


def test_missing_or_broken_manifest_is_a_clear_error(tiny, tmp_path):
    _, out, _ = tiny
    d = tmp_path / "m"
    shutil.copytree(out, d)
    (d / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not a readable manifest"):
        model_mod.load_verified(d)
    (d / "manifest.json").unlink()
    with pytest.raises(ModelError, match="no model manifest"):
        model_mod.load_verified(d)


def test_the_shipped_file_holds_no_scikit_learn_objects(tiny):
    """So a scikit-learn upgrade can neither break loading nor change scores; and classify never imports it."""
    _, out, _ = tiny
    import joblib

    obj = joblib.load(out / "tier_model.joblib")
    assert obj["format"] == model_mod.MODEL_FORMAT
    kinds = {type(v).__module__.split(".")[0] for v in (obj["coef"], obj["intercept"], obj["word"]["idf"])}
    assert kinds == {"numpy"}


def test_numpy_scorer_reproduces_the_scikit_learn_pipeline():
    import numpy as np

    data = training.read_labelled_csv(DATA / "rubric_cases.csv")
    pipeline = training.fit_pipeline(data)
    compact = model_mod.TierClassifier.from_pipeline(pipeline)
    texts = [normalise(e.description).text for e in data.examples] + ["人臉辨識 ＡＩ  门禁", "x"]
    want = pipeline.predict_proba(texts)
    got = np.array([[p[c] for c in pipeline.classes_] for p in compact.predict_proba_normalised(texts)])
    assert np.abs(want - got).max() < 1e-5


def test_a_model_saved_under_another_numpy_major_is_retrained_once_not_unpickled(tiny, tmp_path, monkeypatch):
    _, out, _ = tiny
    old = tmp_path / "old"
    shutil.copytree(out, old)
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    manifest["versions"]["numpy"] = "1.26.4"
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(model_mod.IncompatibleModel, match=r"NumPy 1\.26\.4"):
        model_mod.load_verified(old)

    monkeypatch.setenv("RISKCLASS_MODEL_DIR", str(old))
    monkeypatch.setenv("RISKCLASS_CACHE_DIR", str(tmp_path / "cache"))
    said = []
    model_mod.reset_loaded_model()
    try:
        with pytest.raises(model_mod.IncompatibleModel):
            model_mod.load_shipped_model(notify=said.append)  # the runtime never retrains on its own
        model_mod.reset_loaded_model()
        first = shipped_model(notify=said.append)
        assert len(said) == 1 and "retraining it once" in said[0]
        model_mod.reset_loaded_model()
        second = model_mod.load_shipped_model(notify=said.append)  # the cached copy, without the pipeline
        assert len(said) == 1, "the retrained model is reused from the cache"
        assert first.sha256 == second.sha256
    finally:
        model_mod.reset_loaded_model()


# ---- the shipped model ------------------------------------------------------------------------------------------

SHIPPED = ROOT / "models"


def test_shipped_model_matches_its_manifest():
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    assert model_mod.sha256_of(SHIPPED / manifest["model_file"]) == manifest["model_sha256"]


def test_shipped_model_was_trained_on_the_committed_corpus():
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    corpus = ROOT / "training" / "data" / "corpus.csv"
    assert manifest["training_data"]["sha256"] == training.sha256_bytes(corpus.read_bytes()), (
        "corpus.csv changed since the model was trained: run `riskclass train`"
    )
    from riskclass.rulebook.rules import load_rulebook

    assert manifest["versions"]["rulebook"] == load_rulebook().version, "rulebook changed: run `riskclass train`"


def test_model_card_is_generated_from_the_manifest():
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    assert (SHIPPED / "README.md").read_text(encoding="utf-8") == training.model_card(manifest)


def test_shipped_manifest_reports_held_out_metrics_with_the_ablation():
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    held = manifest["metrics"]["held_out"]
    assert held["n"] >= 300
    assert set(held["ablation"]) == {"rules_only", "model_only", "combined"}
    assert manifest["test_data"]["sha256"] == training.sha256_bytes((ROOT / "training/data/test.csv").read_bytes())
    second = manifest["metrics"]["more_held_out"]["test2.csv"]
    assert second["n"] >= 300 and set(second["ablation"]) == {"rules_only", "model_only", "combined"}
    [recorded] = manifest["more_test_data"]
    assert recorded["sha256"] == training.sha256_bytes((ROOT / "training/data/test2.csv").read_bytes())
