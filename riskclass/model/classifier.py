"""The tier classifier, and how a saved one is found and trusted.

Training fits a scikit-learn pipeline (TF-IDF over jieba words and characters → logistic regression). What is shipped
is not that pipeline but its fitted numbers — vocabularies, idf weights, coefficients — and inference recomputes the
same TF-IDF and softmax without it. So `classify` never imports scikit-learn or SciPy (a second of start-up), and an
upgrade of scikit-learn cannot break or silently change the model. One description is scored in plain Python over the
numbers as they lie in the file (`Floats`), without importing NumPy either (a tenth of a second, more than the
scoring); a batch computes its features and products with NumPy. Both add each class's products one after the other
in the same order and take `math.exp`, so the two give the same probabilities to the last bit (a matrix product's
sum has an order of its own).

The numbers are stored as JSON and one flat little-endian float64 file (`riskclass.model.files`): a format that cannot
carry code, read the same by any NumPy, so nothing is ever unpickled and nothing is retrained on load. Both files are
checked against the sha256 in the manifest written beside them before they are parsed, and parsed strictly after.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import os
import sys
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from riskclass.errors import ExitCode, ModelError
from riskclass.model.files import (
    ARRAYS_FILE,
    HEADER_FILE,
    MODEL_FORMAT,
    Floats,
    read_model,
    sha256_of,
    strictly_increasing,
)
from riskclass.model.opinion import ModelOpinion
from riskclass.text.normalise import PIECE_CACHE_SIZE, NormalizedText, _jieba_tokenizer, normalise, tokens_of_normalised

MODEL_FILE = HEADER_FILE  # the file the manifest's model_sha256 names: the header, which holds the arrays' sha256
MANIFEST_FILE = "manifest.json"
__all__ = ["ARRAYS_FILE", "MANIFEST_FILE", "MODEL_FILE", "MODEL_FORMAT", "TierClassifier", "sha256_of"]
TIERS = ("high", "medium", "low")
TOP_TERMS = 8

_lock = threading.Lock()


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
    idf: Floats
    ngram_range: tuple[int, int]
    offset: int

    def __post_init__(self) -> None:
        self._index: dict[str, int] | None = None  # term → column, built for batches (`index`)
        self._sorted: bool | None = None  # whether the terms are strictly increasing (`column`)
        self._idf_array = None  # the idf as a NumPy array, for batches
        self._codes = None  # for the chunked char n-grams: CodeIndex of the terms' gram_code, and their columns
        self._pieces: dict[str, tuple] = {}  # for word blocks: what each piece of text contributes (_piece)

    def __getstate__(self) -> dict:
        # caches are rebuilt where the block is used
        return {**self.__dict__, "_index": None, "_idf_array": None, "_codes": None, "_pieces": {}}

    @property
    def index(self) -> dict[str, int]:
        """Term → column for the whole vocabulary: a batch looks up thousands of n-grams a chunk."""
        if self._index is None:
            self._index = dict(zip(self.terms, range(len(self.terms)), strict=True))  # {t: i for …}, in C
        return self._index

    def column(self, term: str) -> int | None:
        """The column of `term`, or None: by bisection when the vocabulary is sorted (scikit-learn sorts it), so one
        description needs no dictionary of 100,000 terms (tens of milliseconds to build)."""
        if self._sorted is None:
            self._sorted = strictly_increasing(self.terms)
        if not self._sorted:
            return self.index.get(term)
        terms = self.terms
        i = bisect.bisect_left(terms, term)
        return i if i < len(terms) and terms[i] == term else None

    def idf_array(self):
        """The idf as a NumPy array over the model's bytes (no copy)."""
        if self._idf_array is None:
            import numpy as np

            self._idf_array = np.asarray(self.idf)
        return self._idf_array

    def features(self, text: str) -> list[tuple[int, float]]:
        """(column, tf-idf value) for the text: sublinear tf × idf, L2-normalised within the block.

        The straightforward computation, one text at a time; `features_many` gives exactly the same numbers faster.
        """
        grams = (
            word_ngrams(tokens_of_normalised(text), self.ngram_range)
            if self.kind == "word"
            else char_wb_ngrams(text, self.ngram_range)
        )
        columns = {g: i for g in dict.fromkeys(grams) if (i := self.column(g)) is not None}
        counts = Counter(g for g in grams if g in columns)
        idf = self.idf.flat
        values = [(columns[g], (1.0 + math.log(c)) * idf[columns[g]]) for g, c in counts.items()]
        norm = math.sqrt(sum(v * v for _, v in values)) or 1.0
        return [(self.offset + i, v / norm) for i, v in values]

    def features_many(self, texts: list[str]) -> list[tuple[Any, Any]]:
        """`features` of each text as (columns, values) arrays: bit for bit the same numbers in the same order.

        Columns come in the order of their first n-gram in the text, the squares are summed in that order, and every
        value is computed by the same floating-point operations, so the probabilities do not move by a single bit.
        Word n-grams are counted text by text; character n-grams for the whole list at once with NumPy.
        """
        import numpy as np

        if self.kind == "char" and self._chunkable():
            columns, counts, sizes = self._char_counts(texts)
        else:
            get = self.index.get
            found: list[int] = []
            times: list[int] = []
            sizes = []
            for t in texts:
                if self.kind == "word" and self.ngram_range == (1, 2):
                    c = Counter(self._word_columns(t))
                else:
                    c = Counter([i for i in map(get, self._grams(t)) if i is not None])
                found += c
                times += c.values()
                sizes.append(len(c))
            columns = np.array(found, dtype=np.int64)
            counts = np.array(times, dtype=np.int64)
        tf = np.array([0.0] + [1.0 + math.log(c) for c in range(1, int(counts.max(initial=0)) + 1)])
        values = tf[counts] * self.idf_array()[columns]
        squares = (values * values).tolist()
        norms, start = [], 0
        for size in sizes:
            norms.append(math.sqrt(sum(squares[start : start + size])) or 1.0)  # summed in order, as `features`
            start += size
        values = values / np.repeat(np.array(norms, dtype=np.float64), sizes)
        columns = columns + self.offset
        cuts = np.cumsum([0, *sizes]).tolist()
        return [(columns[a:b], values[a:b]) for a, b in itertools.pairwise(cuts)]

    def _grams(self, text: str) -> list[str]:
        if self.kind == "word":
            return word_ngrams(tokens_of_normalised(text), self.ngram_range)
        return char_wb_ngrams(text, self.ngram_range)

    def _word_columns(self, text: str) -> list[int]:
        """The columns of `word_ngrams(tokens, (1, 2))` that are in the vocabulary, in order, piece by piece.

        The tokens are those of `tokens_of_normalised` (jieba cuts each piece on its own); what a piece adds — the
        columns of its tokens and of the bigrams inside it — is remembered, as its tokens are, because batches repeat
        clauses. Only the bigrams across two pieces are looked up each time.
        """
        split, cut_piece = _jieba_tokenizer()[1:]
        get = self.index.get
        unigrams: list[int] = []
        bigrams: list[int] = []
        last = None
        for piece in split(text):
            if not piece:
                continue
            known = self._pieces.pop(piece, None)
            if known is not None:
                self._pieces[piece] = known  # most recently used last: the halving below forgets the least used
            else:
                tokens = cut_piece(piece)
                # Tuples, not lists: tens of thousands of entries stay in every process of a batch, and a tuple
                # is smaller than a list (an empty one is the shared `()`): 9.3 MiB instead of 11.5 for the
                # 29,171 pieces of 30,000 generated rows (tracemalloc, one process).
                known = (
                    tokens[0] if tokens else None,
                    tokens[-1] if tokens else None,
                    tuple([i for i in map(get, tokens) if i is not None]),
                    tuple([i for i in map(get, map(_space_join, tokens, tokens[1:])) if i is not None]),
                )
                if len(self._pieces) >= PIECE_CACHE_SIZE:  # forget the least used half: recurring clauses stay
                    for old in list(itertools.islice(self._pieces, PIECE_CACHE_SIZE // 2)):
                        del self._pieces[old]
                self._pieces[piece] = known
            first, end, uni, bi = known
            if first is None:
                continue
            if last is not None and (i := get(last + " " + first)) is not None:
                bigrams.append(i)
            unigrams += uni
            bigrams += bi
            last = end
        return unigrams + bigrams

    def _chunkable(self) -> bool:
        """Character n-grams of up to three characters fit one int64 code each (see `gram_code`)."""
        low, high = self.ngram_range
        if not 1 <= low <= high <= 3:
            return False
        if self._codes is None:
            import numpy as np

            from riskclass.text.grams import CodeIndex, gram_code

            columns = [i for i, t in enumerate(self.terms) if 1 <= len(t) <= 3]
            self._codes = (CodeIndex([gram_code(self.terms[i]) for i in columns]), np.array(columns, dtype=np.int64))
        return True

    def _char_counts(self, texts: list[str]):
        """For every text, the columns of its character n-grams in order of first occurrence, their counts, and how
        many columns each text has: `char_wb_ngrams` and `Counter` over the whole list at once."""
        import numpy as np

        low, high = self.ngram_range
        words = [t.split() for t in texts]
        padded = "".join(f" {w} " for ws in words for w in ws)  # each word as scikit-learn pads it, one after another
        width = np.array([len(w) + 2 for ws in words for w in ws], dtype=np.int64)
        codes = np.frombuffer(padded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
        codes = np.concatenate((codes, np.zeros(2, dtype=np.int64)))
        size = len(codes)
        # gram_code of the 1, 2 and 3 characters at each position, one after the other: n-gram (at, n) is at
        # (n - 1) × size + at.
        pairs = ((codes[:-1] + 1) << 21) | codes[1:]
        triples = ((codes[:-2] + 1) << 42) | (codes[1:-1] << 21) | codes[2:]
        table = np.concatenate((codes, pairs, [0], triples))
        # One segment per word and n, in the order char_wb_ngrams yields them: word by word, n from low to high.
        # A padded word is at least 3 characters long, so each n ≤ 3 gives width - n + 1 n-grams.
        ns = np.arange(low, high + 1, dtype=np.int64)
        seg_len = (width[:, None] - ns[None, :] + 1).ravel()
        seg_at = np.repeat(np.cumsum(width) - width, len(ns)) + np.tile((ns - 1) * size, len(width))
        seg_text = np.repeat(np.repeat(np.arange(len(texts), dtype=np.int64), [len(ws) for ws in words]), len(ns))
        first = np.cumsum(seg_len) - seg_len
        at = np.repeat(seg_at - first, seg_len) + np.arange(int(seg_len.sum()), dtype=np.int64)
        index, column_of = self._codes
        found = index.find(table[at])
        hit = np.flatnonzero(found >= 0)
        terms = len(self.terms)
        keys = np.repeat(seg_text, seg_len)[hit] * terms + column_of[found[hit]]
        # Counter's order: sort (key, position) pairs; the first of each key is its first occurrence.
        shift = max(1, len(keys).bit_length())
        if not len(keys):
            unique = first_seen = counts = keys
        elif (len(texts) * terms) >> (62 - shift):
            unique, first_seen, counts = np.unique(keys, return_index=True, return_counts=True)
        else:
            pairs = np.sort((keys << shift) | np.arange(len(keys), dtype=np.int64))
            key = pairs >> shift
            starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
            unique, first_seen = key[starts], pairs[starts] & ((1 << shift) - 1)
            counts = np.diff(np.append(starts, len(key)))
        order = np.argsort(first_seen)
        unique, counts = unique[order], counts[order]
        sizes = np.bincount(unique // terms, minlength=len(texts)).tolist()
        return unique % terms, counts, sizes


def _space_join(a: str, b: str) -> str:
    return a + " " + b


class TierClassifier:
    """The fitted numbers of the pipeline and a scorer over them; the engine's `TierModel` seam."""

    def __init__(self, arrays: dict, sha256: str = "") -> None:
        self.sha256 = sha256
        word, char = arrays["word"], arrays["char"]
        # Every array as Floats: read in place from the model file, or the bytes of a freshly fitted array.
        arrays = {
            **arrays,
            "word": {**word, "idf": Floats.of(word["idf"])},
            "char": {**char, "idf": Floats.of(char["idf"])},
            "coef": Floats.of(arrays["coef"]),
            "intercept": Floats.of(arrays["intercept"]),
        }
        self.arrays = arrays
        self.classes = [str(c) for c in arrays["classes"]]
        self.blocks = [
            _Block("word", list(word["terms"]), arrays["word"]["idf"], tuple(word["ngram_range"]), 0),
            _Block(
                "char",
                list(char["terms"]),
                arrays["char"]["idf"],
                tuple(char["ngram_range"]),
                len(word["terms"]),
            ),
        ]
        self.coef: Floats = arrays["coef"]  # (classes, features)
        self.intercept: Floats = arrays["intercept"]
        self.n_word = len(self.blocks[0].terms)

    @cached_property
    def feature_names(self) -> list[str]:
        return [*self.blocks[0].terms, *self.blocks[1].terms]

    @cached_property
    def _coef_array(self):
        """The coefficients as a (classes, features) NumPy array over the model's bytes (no copy), for batches."""
        import numpy as np

        return np.asarray(self.coef)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("feature_names", "_coef_array")}

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

    def _vector(self, text: str) -> tuple[list[int], list[float]]:
        """The text's features as (columns, values), in plain Python: the reference every faster path matches."""
        feats = [f for block in self.blocks for f in block.features(text)]
        return [i for i, _ in feats], [v for _, v in feats]

    def _products(self, idx: list[int], val: list[float]) -> list[list[float]]:
        """coef[class, column] × value for each class and feature, in plain Python."""
        rows = [self.coef.row(c) for c in range(len(self.classes))]
        return [[row[i] * v for i, v in zip(idx, val, strict=True)] for row in rows]

    def _logits(self, products: list[list[float]]) -> list[float]:
        """Each class's products added one after the other, in the features' order, then its intercept: the order
        `_logits_many` adds them in, so one text and a batch give the same bits."""
        intercept = self.intercept.flat
        out = []
        for c, row in enumerate(products):
            total = 0.0
            for p in row:
                total += p
            out.append(total + intercept[c])
        return out

    def _logits_many(self, products, sizes: list[int]):
        """`_logits` of each text of a chunk, with NumPy: `products` is (classes, features of every text, one text
        after the other), `sizes` how many features each text has. `np.bincount` with weights adds each weight to
        its text's total in the order given (one C loop, `out[text[i]] += weight[i]`), so each text's sum is the
        sequential one of `_logits` (a test compares them on the labelled data)."""
        import numpy as np

        texts = np.repeat(np.arange(len(sizes)), sizes)
        totals = np.stack([np.bincount(texts, weights=row, minlength=len(sizes)) for row in products])
        return (totals + np.asarray(self.intercept)[:, None]).T.tolist()

    @staticmethod
    def _softmax(logits: list[float]) -> list[float]:
        top = max(logits)
        e = [math.exp(x - top) for x in logits]
        total = 0.0
        for x in e:
            total += x
        return [x / total for x in e]

    def _probabilities(self, idx: list[int], val: list[float]) -> list[float]:
        return self._softmax(self._logits(self._products(idx, val)))

    def _vectors(self, texts: list[str]) -> list[tuple[Any, Any]]:
        """`_vector` of each text as NumPy arrays, computed block by block for the whole list: the same numbers, bit
        for bit."""
        import numpy as np

        from riskclass.text.grams import SLICE_TEXTS

        if len(texts) > SLICE_TEXTS:
            return [v for i in range(0, len(texts), SLICE_TEXTS) for v in self._vectors(texts[i : i + SLICE_TEXTS])]
        if len(texts) < 2:  # not worth indexing the vocabulary for
            return [(np.array(i, dtype=np.int64), np.array(v, dtype=np.float64)) for i, v in map(self._vector, texts)]
        blocks = [block.features_many(texts) for block in self.blocks]
        return [
            (np.concatenate([f[0] for f in feats]), np.concatenate([f[1] for f in feats]))
            for feats in zip(*blocks, strict=True)
        ]

    def _scored(self, texts: list[str], terms: bool) -> list[tuple[list[float], tuple]]:
        """For each text, its class probabilities and (with `terms`) its top terms: one text in plain Python (no
        NumPy to import), several with NumPy — the same numbers."""
        if len(texts) < 2:
            out = []
            for text in texts:
                idx, val = self._vector(text)
                products = self._products(idx, val)
                probs = self._softmax(self._logits(products))
                best = probs.index(max(probs))
                out.append((probs, self._ranked_terms(idx, products[best]) if terms else ()))
            return out
        import numpy as np

        vectors = self._vectors(texts)
        sizes = [len(i) for i, _ in vectors]
        idx = np.concatenate([i for i, _ in vectors])
        products = self._coef_array[:, idx] * np.concatenate([v for _, v in vectors])  # exactly as `*` in Python
        scored = []
        start = 0
        for size, logits in zip(sizes, self._logits_many(products, sizes), strict=True):
            probs = self._softmax(logits)
            if terms:
                best = probs.index(max(probs))
                end = start + size
                ranked = self._ranked_terms(idx[start:end].tolist(), products[best, start:end].tolist())
                start = end
            scored.append((probs, ranked if terms else ()))
        return scored

    def predict_proba_normalised(self, texts: list[str]) -> list[dict[str, float]]:
        return [dict(zip(self.classes, probs, strict=True)) for probs, _ in self._scored(texts, terms=False)]

    def predict_texts(self, descriptions: list[str]) -> list[dict[str, float]]:
        return self.predict_proba_normalised([normalise(d).text for d in descriptions])

    def opinion(self, text: NormalizedText) -> ModelOpinion:
        return self.opinions([text])[0]

    def opinions(self, texts: list[NormalizedText]) -> list[ModelOpinion]:
        out = []
        for probs, ranked in self._scored([t.text for t in texts], terms=True):
            by_class = dict(zip(self.classes, probs, strict=True))
            out.append(ModelOpinion({k: by_class[k] for k in TIERS}, ranked))
        return out

    def _top_terms(self, idx: list[int], val: list[float], class_index: int) -> tuple[tuple[str, float], ...]:
        """Words that pushed most towards tier `class_index`: tf-idf value × that tier's coefficient."""
        row = self.coef.row(class_index)
        return self._ranked_terms(idx, [row[i] * v for i, v in zip(idx, val, strict=True)])

    def _ranked_terms(self, idx: list[int], weights: list[float]) -> tuple[tuple[str, float], ...]:
        """The top terms from each feature's weight towards the predicted tier (its product with the coefficient).

        Word features come first (readable); character n-grams fill in only when words say little.
        """
        # Highest weight first, and the higher column first among equal weights.
        ranked = sorted([(w, i) for w, i in zip(weights, idx, strict=True) if w > 0], reverse=True)
        n_word = self.n_word
        word_terms, char_terms = self.blocks[0].terms, self.blocks[1].terms

        def words():
            return ((word_terms[i], w) for w, i in ranked if i < n_word)

        def chars():
            return ((char_terms[i - n_word], w) for w, i in ranked if i >= n_word)

        readable = (tw for tw in words() if len(tw[0].replace(" ", "")) >= 2)
        first = list(itertools.islice(readable, 3))  # whether there are three readable words decides the list
        out: list[tuple[str, float]] = []
        for term, w in itertools.chain(first, readable) if len(first) >= 3 else itertools.chain(words(), chars()):
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
        return Path(__file__).resolve().parents[2] / "models"


def runtime_versions() -> dict[str, str]:
    """Versions that matter for a model, read from package metadata so that nothing heavy is imported."""
    from importlib.metadata import PackageNotFoundError, version

    from riskclass import __version__
    from riskclass.rulebook.rules import load_rulebook

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


def incompatibility(manifest: dict) -> str | None:
    """Why a model saved under `manifest` is not one this riskclass reads, or None when it is.

    Only the format matters: the files hold JSON and little-endian float64, which every NumPy reads alike, and
    scikit-learn's version is recorded for reproducibility but cannot affect loading or scoring.
    """
    found = manifest.get("format", 1)
    if found == MODEL_FORMAT:
        return None
    if found in (1, 2):
        return (
            f"it is model format {found}, a pickle, which riskclass no longer loads because loading a pickle can run "
            f"code; this riskclass reads format {MODEL_FORMAT}: run `riskclass train`"
        )
    return f"it is model format {found!r}, this riskclass reads format {MODEL_FORMAT}: run `riskclass train`"


def read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"no model manifest at {path}: run `riskclass train` or use --rules-only",
            zh=f"{path} 处没有模型清单：请运行 `riskclass train`，或使用 --rules-only",
        ) from None
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"{path} is not a readable manifest ({exc}): reinstall riskclass or run `riskclass train`",
            zh=f"{path} 不是可读的模型清单（{exc}）：请重新安装 riskclass 或运行 `riskclass train`",
        ) from None
    if not isinstance(manifest, dict) or "model_sha256" not in manifest:
        raise ModelError(
            f"{path} has no model_sha256: reinstall riskclass or run `riskclass train`",
            zh=f"{path} 中没有 model_sha256：请重新安装 riskclass 或运行 `riskclass train`",
        )
    return manifest


def load_verified(directory: Path) -> TierClassifier:
    """Load the model in `directory` only if its files match the manifest's sha256 and parse as format 3."""
    manifest = read_manifest(directory)
    if reason := incompatibility(manifest):
        raise ModelError(f"model {directory} cannot be loaded: {reason}", zh=f"无法加载模型 {directory}：{reason}")
    names = (manifest.get("model_file"), manifest.get("arrays_file"))
    if names != (MODEL_FILE, ARRAYS_FILE):
        raise ModelError(
            f"{directory / MANIFEST_FILE} names model files {names!r}, not ({MODEL_FILE!r}, {ARRAYS_FILE!r}): "
            "run `riskclass train`",
            zh=f"{directory / MANIFEST_FILE} 指定的模型文件是 {names!r}，而不是 ({MODEL_FILE!r}, {ARRAYS_FILE!r})："
            "请运行 `riskclass train`",
        )
    arrays = read_model(
        directory, {MODEL_FILE: str(manifest["model_sha256"]), ARRAYS_FILE: str(manifest.get("arrays_sha256", ""))}
    )
    return TierClassifier(arrays, sha256=manifest["model_sha256"])


class UnusableModelDir(ModelError):
    """The model directory a user named (RISKCLASS_MODEL_DIR) cannot be used: their input, so exit 2."""

    exit_code = ExitCode.BAD_INPUT


_loaded: TierClassifier | None = None


def load_shipped_model() -> TierClassifier:
    """The shipped model (or the one in RISKCLASS_MODEL_DIR), loaded once per process.

    A problem with the shipped model is an installation fault (ModelError, exit 1); with a directory the user named,
    it is unusable input (UnusableModelDir, exit 2), and the message says which setting to change.
    """
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        directory = shipped_model_dir()
        try:
            _loaded = load_verified(directory)
        except ModelError as exc:
            if os.environ.get("RISKCLASS_MODEL_DIR"):
                raise UnusableModelDir(
                    f"RISKCLASS_MODEL_DIR: {exc.message}", zh=f"RISKCLASS_MODEL_DIR：{exc.text('zh')}"
                ) from None
            raise
        return _loaded


def reset_loaded_model() -> None:
    """Forget the process-wide model (tests)."""
    global _loaded
    _loaded = None
