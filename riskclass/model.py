"""The tier classifier, and how a saved one is found and trusted.

Training fits a scikit-learn pipeline (TF-IDF over jieba words and characters → logistic regression). What is shipped
is not that pipeline but its fitted numbers — vocabularies, idf weights, coefficients — and inference recomputes the
same TF-IDF and softmax with NumPy alone. So `classify` never imports scikit-learn or SciPy (a second of start-up), and
no scikit-learn object is ever unpickled: an upgrade of scikit-learn cannot break or silently change the model.

The file is still a joblib pickle, and loading a pickle runs code, so it is loaded only after its sha256 matches the
manifest written beside it. A file saved under another NumPy major version or model format is never unpickled:
riskclass retrains one from the shipped data into the user cache (saying so once) instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from riskclass.cache import cache_dir
from riskclass.engine import ModelOpinion
from riskclass.errors import ModelError
from riskclass.text import NormalizedText, normalise, tokens_of_normalised

MODEL_FILE = "tier_model.joblib"
MANIFEST_FILE = "manifest.json"
MODEL_FORMAT = 2  # 2: plain arrays and lists only (no scikit-learn objects)
TIERS = ("high", "medium", "low")
TOP_TERMS = 8

_lock = threading.Lock()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def word_tokens(text: str) -> list[str]:
    """Analyzer for the word features (the text is already normalised). Module-level so a pipeline pickles."""
    return tokens_of_normalised(text)


def word_ngrams(tokens: list[str], ngram_range: tuple[int, int]) -> list[str]:
    """Exactly scikit-learn's `_word_ngrams` (tokens joined by a space), so training and inference agree."""
    low, high = ngram_range
    out = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        out += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return out


def char_wb_ngrams(text: str, ngram_range: tuple[int, int]) -> list[str]:
    """Exactly scikit-learn's `_char_wb_ngrams`: character n-grams inside space-padded words."""
    low, high = ngram_range
    out = []
    for w in text.split():
        w = f" {w} "
        for n in range(low, high + 1):
            offset = 0
            out.append(w[offset : offset + n])
            while offset + n < len(w):
                offset += 1
                out.append(w[offset : offset + n])
            if offset == 0:
                break
    return out


@dataclass
class _Block:
    """One TF-IDF feature block: its vocabulary, idf weights and where its columns start."""

    kind: str  # word | char
    terms: list[str]
    idf: Any  # numpy array
    ngram_range: tuple[int, int]
    offset: int

    def __post_init__(self) -> None:
        self.index = {t: i for i, t in enumerate(self.terms)}

    def features(self, text: str) -> list[tuple[int, float]]:
        """(column, tf-idf value) for the text: sublinear tf × idf, L2-normalised within the block."""
        grams = (
            word_ngrams(tokens_of_normalised(text), self.ngram_range)
            if self.kind == "word"
            else char_wb_ngrams(text, self.ngram_range)
        )
        counts = Counter(g for g in grams if g in self.index)
        values = [(self.index[g], (1.0 + math.log(c)) * float(self.idf[self.index[g]])) for g, c in counts.items()]
        norm = math.sqrt(sum(v * v for _, v in values)) or 1.0
        return [(self.offset + i, v / norm) for i, v in values]


class TierClassifier:
    """The fitted numbers of the pipeline and a NumPy scorer over them; the engine's `TierModel` seam."""

    def __init__(self, arrays: dict, sha256: str = "") -> None:
        import numpy as np

        self.sha256 = sha256
        self.arrays = arrays
        self.classes = [str(c) for c in arrays["classes"]]
        word, char = arrays["word"], arrays["char"]
        self.blocks = [
            _Block("word", list(word["terms"]), np.asarray(word["idf"]), tuple(word["ngram_range"]), 0),
            _Block(
                "char", list(char["terms"]), np.asarray(char["idf"]), tuple(char["ngram_range"]), len(word["terms"])
            ),
        ]
        self.coef = np.asarray(arrays["coef"], dtype=np.float64)  # (classes, features)
        self.intercept = np.asarray(arrays["intercept"], dtype=np.float64)
        self.feature_names = [*self.blocks[0].terms, *self.blocks[1].terms]
        self.n_word = len(self.blocks[0].terms)

    @classmethod
    def from_pipeline(cls, pipeline) -> TierClassifier:
        """Take the fitted numbers out of a scikit-learn pipeline (FeatureUnion(word, char) → LogisticRegression)."""
        union, clf = pipeline.named_steps["features"], pipeline.named_steps["clf"]
        blocks = {}
        for name, vec in union.transformer_list:
            terms = [""] * len(vec.vocabulary_)
            for term, i in vec.vocabulary_.items():
                terms[i] = term
            blocks[name] = {"terms": terms, "idf": vec.idf_.astype("float64"), "ngram_range": list(vec.ngram_range)}
        return cls(
            {
                "format": MODEL_FORMAT,
                "classes": [str(c) for c in clf.classes_],
                "word": blocks["word"],
                "char": blocks["char"],
                "coef": clf.coef_.astype("float64"),
                "intercept": clf.intercept_.astype("float64"),
            }
        )

    def _vector(self, text: str):
        import numpy as np

        feats = [f for block in self.blocks for f in block.features(text)]
        idx = np.fromiter((i for i, _ in feats), dtype=np.int64, count=len(feats))
        val = np.fromiter((v for _, v in feats), dtype=np.float64, count=len(feats))
        return idx, val

    def _probabilities(self, idx, val):
        import numpy as np

        logits = self.coef[:, idx] @ val + self.intercept
        logits -= logits.max()
        e = np.exp(logits)
        return e / e.sum()

    def predict_proba_normalised(self, texts: list[str]) -> list[dict[str, float]]:
        out = []
        for t in texts:
            p = self._probabilities(*self._vector(t))
            out.append({c: float(v) for c, v in zip(self.classes, p, strict=True)})
        return out

    def predict_texts(self, descriptions: list[str]) -> list[dict[str, float]]:
        return self.predict_proba_normalised([normalise(d).text for d in descriptions])

    def opinion(self, text: NormalizedText) -> ModelOpinion:
        return self.opinions([text])[0]

    def opinions(self, texts: list[NormalizedText]) -> list[ModelOpinion]:
        out = []
        for t in texts:
            idx, val = self._vector(t.text)
            p = self._probabilities(idx, val)
            probs = {c: float(v) for c, v in zip(self.classes, p, strict=True)}
            best = self.classes.index(max(probs, key=probs.get))
            out.append(ModelOpinion({k: probs[k] for k in TIERS}, self._top_terms(idx, val, best)))
        return out

    def _top_terms(self, idx, val, class_index: int) -> tuple[tuple[str, float], ...]:
        """Words that pushed most towards the predicted tier: tf-idf value × that tier's coefficient.

        Word features come first (readable); character n-grams fill in only when words say little.
        """
        weights = val * self.coef[class_index, idx]
        ranked = sorted(((float(w), int(i)) for w, i in zip(weights, idx, strict=True) if w > 0), reverse=True)
        words = [(self.feature_names[i], w) for w, i in ranked if i < self.n_word]
        chars = [(self.feature_names[i], w) for w, i in ranked if i >= self.n_word]
        out: list[tuple[str, float]] = []
        readable = [(t, w) for t, w in words if len(t.replace(" ", "")) >= 2]
        for term, w in readable if len(readable) >= 3 else words + chars:
            term = term.replace(" ", "")
            # Fragments a reader cannot use as an explanation (模型, / 分 / 按) are skipped.
            if len(term) < 2 or not all(unicodedata.category(ch)[0] in "LN" for ch in term):
                continue
            if not any(term in s or s in term for s, _ in out):
                out.append((term, w))
            if len(out) == TOP_TERMS:
                break
        return tuple(out)


# ---- where models live ------------------------------------------------------------------------------------------


def shipped_model_dir() -> Path:
    """`riskclass/models` inside an installed wheel, or `models/` beside the package in a checkout.

    RISKCLASS_MODEL_DIR overrides both (tests, or a team's own model).
    """
    if env := os.environ.get("RISKCLASS_MODEL_DIR"):
        return Path(env)
    try:
        return Path(str(resources.files("riskclass.models")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "models"


def runtime_versions() -> dict[str, str]:
    """Versions that matter for a model, read from package metadata so that nothing heavy is imported."""
    from importlib.metadata import PackageNotFoundError, version

    from riskclass import __version__
    from riskclass.rulebook import load_rulebook

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "absent"

    return {
        "riskclass": __version__,
        "scikit-learn": installed("scikit-learn"),
        "numpy": installed("numpy"),
        "jieba": installed("jieba"),
        "python": sys.version.split()[0],
        "rulebook": load_rulebook().version,
    }


def incompatibility(manifest: dict, versions: dict[str, str]) -> str | None:
    """Why a model saved under `manifest` must not be unpickled here, or None when it may be.

    The file holds only NumPy arrays and plain lists, so only the NumPy major version and the format matter;
    scikit-learn's version is recorded for reproducibility but cannot affect loading or scoring.
    """
    saved = manifest.get("versions", {})
    if manifest.get("format") != MODEL_FORMAT:
        return f"it is model format {manifest.get('format', 1)}, this riskclass reads format {MODEL_FORMAT}"
    if saved.get("numpy", "?").split(".")[0] != versions["numpy"].split(".")[0]:
        return f"it was saved with NumPy {saved.get('numpy', '?')}, this is {versions['numpy']}"
    return None


def read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no model manifest at {path}: run `riskclass train` or use --rules-only") from None
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"{path} is not a readable manifest ({exc}): reinstall riskclass or run `riskclass train`"
        ) from None
    if not isinstance(manifest, dict) or "model_sha256" not in manifest:
        raise ModelError(f"{path} has no model_sha256: reinstall riskclass or run `riskclass train`")
    return manifest


def load_verified(directory: Path) -> TierClassifier:
    """Load the model in `directory` only if its sha256 matches the manifest and its versions match this machine."""
    manifest = read_manifest(directory)
    path = directory / manifest.get("model_file", MODEL_FILE)
    if not path.is_file():
        raise ModelError(f"model file {path} is missing: reinstall riskclass or run `riskclass train`")
    actual = sha256_of(path)
    if actual != manifest["model_sha256"]:
        raise ModelError(
            f"model file {path} does not match its manifest (sha256 {actual[:12]}…, expected "
            f"{manifest['model_sha256'][:12]}…): it may have been altered, so it was not loaded; reinstall riskclass "
            "or run `riskclass train` (or use --rules-only)"
        )
    if reason := incompatibility(manifest, runtime_versions()):
        raise IncompatibleModel(f"model {path} cannot be loaded safely: {reason}")
    import warnings

    import joblib

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an InconsistentVersionWarning is a mismatch, not a note
        try:
            obj = joblib.load(path)
        except Exception as exc:  # any unpickling failure becomes one clear message
            raise ModelError(
                f"model file {path} could not be loaded ({type(exc).__name__}: {exc}); "
                "run `riskclass train` or use --rules-only"
            ) from None
    if not isinstance(obj, dict) or obj.get("format") != MODEL_FORMAT or not {"word", "char", "coef"} <= set(obj):
        raise ModelError(f"model file {path} is not a riskclass model of format {MODEL_FORMAT}; run `riskclass train`")
    return TierClassifier(obj, sha256=actual)


class IncompatibleModel(ModelError):
    """The model was saved under another NumPy major or format: never unpickled; retrained for this machine."""


_loaded: TierClassifier | None = None


def load_shipped_model(notify=None) -> TierClassifier:
    """The shipped model, or — when it was saved by other library versions — one retrained for this machine.

    Loaded once per process. `notify` receives the one-time message about retraining (default: standard error).
    """
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        shipped = shipped_model_dir()
        try:
            _loaded = load_verified(shipped)
            return _loaded
        except IncompatibleModel as exc:
            reason = str(exc)
        versions = runtime_versions()
        target = cache_dir() / f"model-format{MODEL_FORMAT}-numpy{versions['numpy']}"
        try:
            _loaded = load_verified(target)
            return _loaded
        except ModelError:
            pass
        say = notify or (lambda m: print(m, file=sys.stderr))
        say(f"riskclass: {reason}; retraining it once from the shipped data into {target} (a few seconds)")
        from riskclass.training import retrain_shipped

        retrain_shipped(target)
        _loaded = load_verified(target)
        return _loaded


def reset_loaded_model() -> None:
    """Forget the process-wide model (tests)."""
    global _loaded
    _loaded = None
