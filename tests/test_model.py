"""The classifier: a reproducible pipeline, model files that are verified before they are parsed, and drift checks."""

import csv
import json
import shutil

import pytest

import riskclass.model.classifier as model_mod
import riskclass.training.pipeline as training
from riskclass.errors import ModelError
from riskclass.text.normalise import normalise

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
    assert (out / "tier_model.json").is_file() and (out / "tier_model.f64").is_file()
    assert manifest["model_sha256"] == model_mod.sha256_of(out / "tier_model.json")
    assert manifest["arrays_sha256"] == model_mod.sha256_of(out / "tier_model.f64")
    assert manifest["training_data"]["sha256"] == data.sha256
    assert set(manifest["versions"]) >= {"riskclass", "scikit-learn", "jieba", "numpy", "rulebook"}
    held = manifest["metrics"]["held_out"]
    assert set(held["ablation"]) == {"rules_only", "model_only", "combined"}
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "Known weaknesses" in card and manifest["model_sha256"] in card


def test_training_is_deterministic(tiny, tmp_path):
    """Training again on the same data writes the same model files, byte for byte."""
    data, out, manifest = tiny
    again = training.export(training.train(data), data, tmp_path)
    assert again["model_sha256"] == manifest["model_sha256"]
    assert again["arrays_sha256"] == manifest["arrays_sha256"]
    for name in ("tier_model.json", "tier_model.f64"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


def test_exporting_the_loaded_model_again_gives_the_same_bytes(tiny, tmp_path):
    """Reading a model and writing it back loses nothing: the format round-trips exactly."""
    data, out, _ = tiny
    training.export(model_mod.load_verified(out), data, tmp_path)
    for name in ("tier_model.json", "tier_model.f64"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes()


def test_verified_model_gives_probabilities_and_weighty_words(tiny):
    _, out, _ = tiny
    m = model_mod.load_verified(out)
    op = m.opinion(normalise("一款为银行筛选贷款申请人的评分模型"))
    assert set(op.probabilities) == {"high", "medium", "low"}
    assert abs(sum(op.probabilities.values()) - 1) < 1e-6
    assert op.top_terms and all(w > 0 for _, w in op.top_terms)


@pytest.mark.parametrize("name", ["tier_model.json", "tier_model.f64"])
def test_a_tampered_model_is_refused_before_it_is_parsed(tiny, tmp_path, name):
    _, out, _ = tiny
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    blob = bytearray((bad / name).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (bad / name).write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="does not match its manifest"):
        model_mod.load_verified(bad)
    # A directory the user named is their input (exit 2); the shipped one failing would be an internal fault (1).
    r = run_cli("classify", "人脸识别门禁", "--lang", "en", env={"RISKCLASS_MODEL_DIR": str(bad)})
    assert r.returncode == 2
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


def test_the_model_files_hold_only_json_and_floats(tiny):
    """So a scikit-learn or NumPy upgrade can neither break loading nor change scores; and nothing in them is code."""
    import numpy as np

    _, out, manifest = tiny
    header = json.loads((out / "tier_model.json").read_text(encoding="utf-8"))
    assert header["format"] == model_mod.MODEL_FORMAT == manifest["format"]
    assert header["arrays"]["dtype"] == "<f8"
    floats = np.frombuffer((out / "tier_model.f64").read_bytes(), dtype="<f8")
    assert len(floats) == sum(int(np.prod(a["shape"])) for a in header["arrays"]["layout"])


def test_numpy_scorer_reproduces_the_scikit_learn_pipeline():
    import numpy as np

    data = training.read_labelled_csv(DATA / "rubric_cases.csv")
    pipeline = training.fit_pipeline(data)
    compact = model_mod.TierClassifier.from_pipeline(pipeline)
    texts = [normalise(e.description).text for e in data.examples] + ["人臉辨識 ＡＩ  门禁", "x"]
    want = pipeline.predict_proba(texts)
    got = np.array([[p[c] for c in pipeline.classes_] for p in compact.predict_proba_normalised(texts)])
    assert np.abs(want - got).max() < 1e-5


def test_a_model_saved_under_another_numpy_is_loaded_as_it_is(tiny, tmp_path):
    """The files are JSON and little-endian float64: the NumPy that wrote them does not matter, nothing is retrained."""
    _, out, _ = tiny
    old = tmp_path / "old"
    shutil.copytree(out, old)
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    manifest["versions"]["numpy"] = "1.26.4"
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert model_mod.load_verified(old).sha256 == manifest["model_sha256"]


def test_a_model_of_the_old_pickle_format_is_refused_with_a_reason(tiny, tmp_path):
    _, out, _ = tiny
    old = tmp_path / "old"
    shutil.copytree(out, old)
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 2
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match=r"format 2, a pickle.*riskclass train"):
        model_mod.load_verified(old)


# ---- the shipped model ------------------------------------------------------------------------------------------

SHIPPED = ROOT / "models"


def test_shipped_model_matches_its_manifest():
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    assert model_mod.sha256_of(SHIPPED / manifest["model_file"]) == manifest["model_sha256"]
    assert model_mod.sha256_of(SHIPPED / manifest["arrays_file"]) == manifest["arrays_sha256"]
    assert model_mod.load_verified(SHIPPED).sha256 == manifest["model_sha256"]


def test_shipped_model_was_trained_on_the_committed_corpus():
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    corpus = ROOT / "training" / "data" / "corpus.csv"
    assert manifest["training_data"]["sha256"] == training.sha256_bytes(corpus.read_bytes()), (
        "corpus.csv changed since the model was trained: run `riskclass train`"
    )
    assert manifest["real_training_data"]["sha256"] == training.real_labels_sha256(), (
        "a real development label file changed since the model was trained: run `riskclass train`"
    )
    from riskclass.rulebook.rules import load_rulebook

    assert manifest["versions"]["rulebook"] == load_rulebook().version, "rulebook changed: run `riskclass train`"


def test_real_rows_teach_the_model_and_are_recorded_apart_from_the_corpus(tmp_path):
    data = training.read_labelled_csv(DATA / "rubric_cases.csv")
    half = len(data.examples) // 2
    corpus = training.Dataset(data.name, data.sha256, data.examples[:half])
    real = training.Dataset("real/a.csv+real/b.csv", "labels-sha", data.examples[half:])
    with_real = training.train(corpus, real=real)
    unseen = [e.description for e in real.examples[:5]]
    assert with_real.predict_texts(unseen) != training.train(corpus).predict_texts(unseen)
    manifest = training.export(with_real, corpus, tmp_path, real=real)
    recorded = manifest["real_training_data"]
    assert recorded["files"] == ["real/a.csv", "real/b.csv"] and recorded["rows"] == len(real.examples)
    assert recorded["weight"] == training.TrainConfig().real_weight
    assert manifest["training_data"]["rows"] == half, "the corpus is counted on its own"
    assert "Real descriptions" in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_without_the_shared_records_the_model_is_fitted_on_the_corpus_alone(tmp_path):
    assert training.real_training_rows(records=tmp_path) is None


def test_model_card_is_generated_from_the_manifest():
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    card = training.model_card(manifest, training.current_real_figures(SHIPPED, manifest))
    assert (SHIPPED / "README.md").read_text(encoding="utf-8") == card


def test_model_card_shows_every_real_held_out_set_measured_with_the_shipped_engine():
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    figures = training.current_real_figures(SHIPPED, manifest)
    assert figures is not None, "model, rulebook or combiner changed since: run python training/real_figures.py"
    assert [r["file"] for r in figures["sets"]] == list(training.REAL_HELD_OUT_FILES)
    card = (SHIPPED / "README.md").read_text(encoding="utf-8")
    for r in figures["sets"]:
        assert f"| `{r['file']}` | {r['rows']} | {r['kappa']:.3f} |" in card
    assert set(figures["development_kappa"]) == set(training.REAL_TRAIN_FILES)


def test_real_figures_measured_with_another_combiner_are_not_shown(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(SHIPPED, models)
    manifest = json.loads((models / "manifest.json").read_text(encoding="utf-8"))
    assert training.current_real_figures(models, manifest) is not None
    with (models / "combiner.json").open("a", encoding="utf-8") as fh:
        fh.write("\n")  # refitted: other bytes
    assert training.current_real_figures(models, manifest) is None
    assert "Not measured with this model, rulebook and combiner" in training.model_card(manifest, None)


def test_annotator_agreement_is_cohens_kappa_on_the_two_readers_tiers(tmp_path):
    path = tmp_path / "labels.csv"
    rows = [
        ("high", "high", "agreed"),
        ("medium", "medium", "agreed"),
        ("low", "medium", "third reading"),
        ("high", "high", "agreed"),
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "annotator_1", "annotator_2", "settled"])
        for n, (a, b, settled) in enumerate(rows):
            w.writerow([f"r{n}", f"{a}:", f"{b}:", settled])
    kappa, third = training.annotator_agreement(path)
    # observed agreement 3/4; chance: high 2/4·2/4 + medium 1/4·2/4 + low 1/4·0 = 3/8; κ = (3/4 − 3/8) / (1 − 3/8)
    assert kappa == pytest.approx(0.6)
    assert third == 1


def test_shipped_manifest_reports_held_out_metrics_with_the_ablation():
    manifest = json.loads((SHIPPED / "manifest.json").read_text(encoding="utf-8"))
    held = manifest["metrics"]["held_out"]
    assert held["n"] >= 300
    assert set(held["ablation"]) == {"rules_only", "model_only", "combined"}
    assert manifest["test_data"]["sha256"] == training.sha256_bytes((ROOT / "training/data/test.csv").read_bytes())
    for name, rows in (("test2.csv", 300), ("test3.csv", 200)):
        more = manifest["metrics"]["more_held_out"][name]
        assert more["n"] >= rows and set(more["ablation"]) == {"rules_only", "model_only", "combined"}
    recorded = {t["file"]: t["sha256"] for t in manifest["more_test_data"]}
    for name in ("test2.csv", "test3.csv"):
        assert recorded[name] == training.sha256_bytes((ROOT / "training/data" / name).read_bytes())
