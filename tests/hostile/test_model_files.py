"""A model directory is data, never code: whatever sits in it (a pickle, a truncated or garbled array file) with a
manifest forged to match, `classify` runs no code from it and says in one line why it cannot use it (exit 2: a model
directory named by RISKCLASS_MODEL_DIR is input the user chose)."""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path

import pytest

from ..conftest import ROOT, run_cli

SHIPPED = ROOT / "models"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Plant:
    """Unpickling this creates `marker`: proof that loading ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _runtime_versions() -> dict:
    from riskclass.model.classifier import runtime_versions

    return runtime_versions()


def _one_line_refusal(r, marker: Path | None = None) -> str:
    err = r.stderr.decode("utf-8", "replace").strip().splitlines()
    if marker is not None:
        assert not marker.exists(), "loading the model ran code from the model directory"
    assert r.returncode == 2, (r.returncode, err)
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert r.stdout == b""
    return err[0]


def _classify(model_dir: Path, tmp_path: Path):
    return run_cli(
        "classify",
        "人脸识别门禁系统",
        env={"RISKCLASS_MODEL_DIR": str(model_dir), "RISKCLASS_CACHE_DIR": str(tmp_path / "cache")},
    )


def test_a_pickle_with_a_matching_old_style_manifest_is_never_unpickled(tmp_path):
    """The manifest an attacker writes for the pickle format riskclass used to read: hash, format and versions match."""
    marker = tmp_path / "pwned"
    d = tmp_path / "model"
    d.mkdir()
    payload = pickle.dumps({"format": 2, "word": _Plant(marker), "char": {}, "coef": []})
    (d / "tier_model.joblib").write_bytes(payload)
    manifest = {
        "format": 2,
        "model_file": "tier_model.joblib",
        "model_sha256": _sha(d / "tier_model.joblib"),
        "versions": _runtime_versions(),
    }
    (d / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    line = _one_line_refusal(_classify(d, tmp_path), marker)
    assert "format" in line and "RISKCLASS_MODEL_DIR" in line


@pytest.mark.parametrize("target", ["header", "arrays"])
def test_a_pickle_in_place_of_a_model_file_with_a_matching_manifest_is_never_unpickled(tmp_path, target):
    marker = tmp_path / "pwned"
    d = tmp_path / "model"
    shutil.copytree(SHIPPED, d)
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    name = manifest["model_file"] if target == "header" else manifest["arrays_file"]
    (d / name).write_bytes(pickle.dumps(_Plant(marker)))
    manifest["model_sha256" if target == "header" else "arrays_sha256"] = _sha(d / name)
    (d / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    line = _one_line_refusal(_classify(d, tmp_path), marker)
    assert name in line


def _truncate(b: bytes) -> bytes:
    return b[: len(b) // 2 + 3]  # not even a whole number of float64s


def _garble(b: bytes) -> bytes:
    return b[:-16] + b"\xff" * 8 + b[-8:]  # a NaN among the coefficients


@pytest.mark.parametrize(
    "damage",
    [_truncate, _garble, lambda b: b + b"\0" * 8, lambda b: b""],
    ids=["truncated", "garbled", "too long", "empty"],
)
def test_a_damaged_array_file_with_a_matching_manifest_is_one_line(tmp_path, damage):
    _damaged_copy_is_refused(tmp_path, "arrays_file", "arrays_sha256", damage)


def _damaged_copy_is_refused(tmp_path, file_key: str, sha_key: str, damage) -> None:
    """A copy of the shipped model with one file damaged and its hash in the manifest updated to match: `classify`
    refuses it with one line naming that file."""
    d = tmp_path / "model"
    shutil.copytree(SHIPPED, d)
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    damaged = d / manifest[file_key]
    damaged.write_bytes(damage(damaged.read_bytes()))
    manifest[sha_key] = _sha(damaged)
    (d / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    line = _one_line_refusal(_classify(d, tmp_path))
    assert manifest[file_key] in line


def _edit(change):
    """A header damage: the header parsed, changed by `change`, written back as JSON."""

    def damage(raw: bytes) -> bytes:
        header = json.loads(raw)
        change(header)
        return json.dumps(header).encode("utf-8")

    return damage


@pytest.mark.parametrize(
    "damage",
    [
        lambda h: h[: len(h) // 2],
        _edit(lambda h: h.pop("classes")),
        _edit(lambda h: h["blocks"][0].update(ngram_range=[1, 99])),
        _edit(lambda h: h["blocks"][1]["terms"].pop()),  # the coefficients no longer fit the vocabulary
        _edit(lambda h: h["arrays"].update(dtype="O")),
    ],
    ids=["truncated", "missing key", "bad n-gram range", "one term short", "object dtype"],
)
def test_a_damaged_header_with_a_matching_manifest_is_one_line(tmp_path, damage):
    _damaged_copy_is_refused(tmp_path, "model_file", "model_sha256", damage)


def test_the_shipped_model_directory_holds_no_pickle():
    for path in SHIPPED.iterdir():
        assert not path.read_bytes().startswith(b"\x80"), f"{path.name} looks like a pickle"
        assert path.suffix not in {".joblib", ".pkl", ".pickle", ".npy", ".npz"}, path.name
