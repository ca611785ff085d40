"""The model's file format: data that cannot carry code.

A model is two files beside its manifest:

- `tier_model.json`, the header: the classes, each feature block's kind, n-gram range and vocabulary (in column order),
  and where each numeric array lies in the array file (name, shape), with that file's sha256;
- `tier_model.f64`, the arrays: one flat run of little-endian float64 (the word block's idf, the character block's
  idf, the coefficients row by row, the intercepts), read in place (`Floats`): as a memoryview by plain Python, which
  scores one description without importing NumPy, and with `np.frombuffer` by NumPy, which scores batches.

Nothing here unpickles, imports or evaluates anything: JSON and raw floats are all any reader needs, any NumPy reads
them the same way, and the bytes written for the same fitted numbers are always the same (no timestamps, sorted by
nothing but the model's own order), so a retrained model can be compared with the shipped one byte for byte.
Everything read is checked against what the rest of the file says before it is used: a header or array file that is
truncated, garbled or inconsistent raises ModelError naming the file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import operator
import os
import sys
from pathlib import Path
from typing import Any

from riskclass.cache import sha256_file as sha256_of
from riskclass.errors import ModelError

MODEL_FORMAT = 3  # 3: JSON header + flat little-endian float64 (2 was a joblib pickle, never read any more)
HEADER_FILE = "tier_model.json"
ARRAYS_FILE = "tier_model.f64"
DTYPE = "<f8"  # little-endian float64, whatever the machine: the fitted numbers exactly as scikit-learn gave them
BLOCKS = ("word", "char")
TIERS = ("high", "medium", "low")
# The widest n-grams a block may declare: training uses (1, 2) words and (1, 3) characters (TrainConfig); anything
# beyond 8 is not a model riskclass would write, and would only make scoring slow.
MAX_NGRAM = 8


class Floats:
    """float64 values in row-major `shape`, read in place from little-endian bytes: without NumPy by index (`flat`,
    `row`), with NumPy through `np.asarray` (no copy). Pickles as its bytes (a loky worker gets its own copy)."""

    __slots__ = ("_blob", "_flat", "_offset", "shape")

    def __init__(self, blob: bytes, offset: int, shape: tuple[int, ...]) -> None:
        self._blob = blob
        self._offset = offset
        self.shape = tuple(shape)
        self._flat: Any = None

    @classmethod
    def of(cls, values: Any) -> Floats:
        """Floats holding `values` (a NumPy array, a list, or Floats already)."""
        if isinstance(values, Floats):
            return values
        import numpy as np

        array = np.ascontiguousarray(np.asarray(values, dtype=np.float64), dtype=DTYPE)
        return cls(array.tobytes(), 0, array.shape)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def flat(self) -> Any:
        """Every value in order, indexable by position (a memoryview of the bytes: nothing copied)."""
        if self._flat is None:
            view = memoryview(self._blob)[self._offset : self._offset + 8 * self.size]
            if sys.byteorder == "little":
                self._flat = view.cast("d")
            else:  # a big-endian machine reads a copy with its bytes swapped
                import array

                swapped = array.array("d", view.tobytes())
                swapped.byteswap()
                self._flat = memoryview(swapped)
        return self._flat

    def row(self, i: int) -> Any:
        """Row `i` of a two-dimensional array, indexable by column (a slice of `flat`: nothing copied)."""
        width = self.shape[1]
        return self.flat[i * width : (i + 1) * width]

    def __getitem__(self, i: int) -> float:
        return self.flat[i]

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        import numpy as np

        array = np.frombuffer(self._blob, dtype=DTYPE, count=self.size, offset=self._offset).reshape(self.shape)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __getstate__(self) -> tuple[bytes, tuple[int, ...]]:
        return bytes(memoryview(self._blob)[self._offset : self._offset + 8 * self.size]), self.shape

    def __setstate__(self, state: tuple[bytes, tuple[int, ...]]) -> None:
        self._blob, self.shape = state
        self._offset, self._flat = 0, None


def strictly_increasing(terms: list[str]) -> bool:
    """Whether every term sorts after the one before it (one pass in C): then none repeats, and a term's column can
    be found by bisection without building a dictionary of the whole vocabulary. scikit-learn sorts its vocabulary,
    so a model riskclass trained always is."""
    return all(map(operator.lt, terms, itertools.islice(terms, 1, None)))


def all_finite(values: Any) -> bool:
    """Whether no value is infinite or NaN, by one sum in C: a NaN or an infinity makes the sum one too; a sum that
    overflows from finite values is told apart by looking at each value."""
    return math.isfinite(sum(values)) or all(map(math.isfinite, values))


def _layout(arrays: dict) -> list[tuple[str, list[int]]]:
    """Name and shape of every array, in the order they lie in the array file."""
    n_word, n_char = len(arrays["word"]["terms"]), len(arrays["char"]["terms"])
    n_classes = len(arrays["classes"])
    return [
        ("word.idf", [n_word]),
        ("char.idf", [n_char]),
        ("coef", [n_classes, n_word + n_char]),
        ("intercept", [n_classes]),
    ]


def _array_of(arrays: dict, name: str):
    block, _, key = name.partition(".")
    return arrays[block][key] if key else arrays[block]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_model(arrays: dict, out: Path) -> dict[str, str]:
    """Write the fitted numbers (the `TierClassifier.arrays` mapping) as header + array file into `out`.

    Returns {file name: sha256} for the manifest. The array file is written first, so a header never names an array
    file that is not there.
    """
    import numpy as np

    blob = b"".join(
        np.ascontiguousarray(np.asarray(_array_of(arrays, name), dtype=np.float64), dtype=DTYPE).tobytes()
        for name, _ in _layout(arrays)
    )
    _write_atomic(out / ARRAYS_FILE, blob)
    header = {
        "format": MODEL_FORMAT,
        "classes": [str(c) for c in arrays["classes"]],
        "blocks": [
            {
                "name": name,
                "ngram_range": [int(n) for n in arrays[name]["ngram_range"]],
                "terms": [str(t) for t in arrays[name]["terms"]],
            }
            for name in BLOCKS
        ],
        "arrays": {
            "file": ARRAYS_FILE,
            "sha256": hashlib.sha256(blob).hexdigest(),
            "dtype": DTYPE,
            "layout": [{"name": name, "shape": shape} for name, shape in _layout(arrays)],
        },
    }
    text = json.dumps(header, ensure_ascii=False, indent=0, separators=(",", ":")) + "\n"
    _write_atomic(out / HEADER_FILE, text.encode("utf-8"))
    return {HEADER_FILE: sha256_of(out / HEADER_FILE), ARRAYS_FILE: hashlib.sha256(blob).hexdigest()}


def _bad(path: Path, why: str) -> ModelError:
    return ModelError(
        f"model file {path} is not a usable riskclass model ({why}); run `riskclass train`",
        zh=f"模型文件 {path} 不是可用的 riskclass 模型（{why}）；请运行 `riskclass train`",
    )


def _terms(path: Path, block: Any, name: str) -> tuple[list[str], tuple[int, int]]:
    if not isinstance(block, dict) or block.get("name") != name:
        raise _bad(path, f"the feature blocks are not {', '.join(BLOCKS)}")
    terms, ngrams = block.get("terms"), block.get("ngram_range")
    # One pass in C over ~100,000 terms (a generator of isinstance calls took most of the load): JSON makes only
    # exact str, so the set of their types is {str} exactly when every term is a string.
    if not isinstance(terms, list) or not set(map(type, terms)) <= {str}:
        raise _bad(path, f"the {name} vocabulary is not a list of strings")
    if not strictly_increasing(terms) and len(set(terms)) != len(terms):
        raise _bad(path, f"the {name} vocabulary repeats a term")
    if (
        not isinstance(ngrams, list)
        or len(ngrams) != 2
        or not all(type(n) is int for n in ngrams)
        or not 1 <= ngrams[0] <= ngrams[1] <= MAX_NGRAM
    ):
        raise _bad(path, f"the {name} n-gram range {ngrams!r} is not 1 ≤ low ≤ high ≤ {MAX_NGRAM}")
    return terms, (ngrams[0], ngrams[1])


def read_model(directory: Path, expected: dict[str, str]) -> dict:
    """The fitted numbers in `directory`, each file checked against `expected` ({file name: sha256}, from the
    manifest) and against each other. Raises ModelError naming the file at the first thing that does not fit.

    The numeric arrays come as `Floats` over the bytes read: NumPy is not imported (a tenth of a second), and a
    forked batch worker shares them with its parent."""

    header_path, arrays_path = directory / HEADER_FILE, directory / ARRAYS_FILE
    raw, digests = {}, {}
    for path in (header_path, arrays_path):
        try:
            raw[path.name] = path.read_bytes()
        except FileNotFoundError:
            raise ModelError(
                f"model file {path} is missing: reinstall riskclass or run `riskclass train`",
                zh=f"模型文件 {path} 缺失：请重新安装 riskclass 或运行 `riskclass train`",
            ) from None
        except OSError as exc:
            raise ModelError(
                f"model file {path} cannot be read ({exc.strerror or exc})",
                zh=f"无法读取模型文件 {path}（{exc.strerror or exc}）",
            ) from None
        actual = digests[path.name] = hashlib.sha256(raw[path.name]).hexdigest()
        want = expected.get(path.name, "")
        if actual != want:
            raise ModelError(
                f"model file {path} does not match its manifest (sha256 {actual[:12]}…, expected {want[:12]}…): "
                "it may have been altered, so it was not loaded; reinstall riskclass or run `riskclass train` "
                "(or use --rules-only)",
                zh=f"模型文件 {path} 与其清单不符（sha256 {actual[:12]}…，应为 {want[:12]}…）：可能已被改动，"
                "因此没有加载；请重新安装 riskclass 或运行 `riskclass train`（或使用 --rules-only）",
            )
    try:
        header = json.loads(raw[HEADER_FILE].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(header_path, f"not JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != MODEL_FORMAT:
        raise _bad(header_path, f"not model format {MODEL_FORMAT}")
    classes = header.get("classes")
    if not isinstance(classes, list) or sorted(map(str, classes)) != sorted(TIERS) or len(classes) != len(TIERS):
        raise _bad(header_path, f"its classes are not {', '.join(TIERS)}")
    blocks = header.get("blocks")
    if not isinstance(blocks, list) or len(blocks) != len(BLOCKS):
        raise _bad(header_path, f"the feature blocks are not {', '.join(BLOCKS)}")
    (word, word_ngrams), (char, char_ngrams) = (_terms(header_path, b, n) for b, n in zip(blocks, BLOCKS, strict=True))
    spec = header.get("arrays")
    arrays: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "classes": list(classes),
        "word": {"terms": word, "ngram_range": list(word_ngrams)},
        "char": {"terms": char, "ngram_range": list(char_ngrams)},
    }
    layout = [{"name": name, "shape": shape} for name, shape in _layout(arrays)]
    if not isinstance(spec, dict) or spec.get("dtype") != DTYPE or spec.get("file") != ARRAYS_FILE:
        raise _bad(header_path, f"it does not describe {ARRAYS_FILE} as {DTYPE} arrays")
    if spec.get("layout") != layout:
        raise _bad(header_path, "its array shapes do not fit its vocabularies and classes")
    blob = raw[ARRAYS_FILE]
    if spec.get("sha256") != digests[ARRAYS_FILE]:
        raise _bad(arrays_path, f"it is not the array file {HEADER_FILE} was written with")
    sizes = [math.prod(item["shape"]) for item in layout]
    if len(blob) != 8 * sum(sizes):
        raise _bad(arrays_path, f"{len(blob)} bytes where {8 * sum(sizes)} were expected")
    if not all_finite(Floats(blob, 0, (sum(sizes),)).flat):
        raise _bad(arrays_path, "it holds a value that is not a finite number")
    start = 0
    for item, size in zip(layout, sizes, strict=True):
        value = Floats(blob, 8 * start, item["shape"])
        start += size
        block, _, key = item["name"].partition(".")
        if key:
            arrays[block][key] = value
        else:
            arrays[block] = value
    return arrays
