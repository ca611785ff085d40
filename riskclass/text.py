"""Text normalisation and tokenisation, shared by the rules, the model, training and batch.

Rules match on a normalised form (NFKC, lower case, 繁體 → 简体, whitespace collapsed, control characters dropped)
but evidence must point into the text exactly as the user gave it, so `normalise` keeps, for every normalised
character, the span of original characters it came from.

The model tokenises through `tokenize`, which is the only tokeniser used in training and inference alike.
"""

from __future__ import annotations

import contextlib
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from riskclass.errors import InputError

# A product description, not a document: longer input gets a clear error instead of a long wait.
MAX_DESCRIPTION_CHARS = 100_000

USER_DICT = "userdict.txt"


@dataclass(frozen=True)
class NormalizedText:
    original: str
    text: str
    starts: tuple[int, ...]  # starts[i]: index in `original` where normalised char i came from
    ends: tuple[int, ...]  # ends[i]: index just past it

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text back to a half-open span of the original text."""
        if not 0 <= start < end <= len(self.starts):
            raise ValueError(f"not a non-empty span of the normalised text: {start}..{end}")
        return self.starts[start], self.ends[end - 1]


@lru_cache(maxsize=1)
def _t2s():
    # OpenCC's C++ converter: about 5 µs per description, versus milliseconds for pure-Python converters.
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """繁體 → 简体 character by character where phrase conversion would change the length (offsets must stay exact)."""
    if not text or text.isascii():
        return text
    cc = _t2s()
    out = cc.convert(text)
    if len(out) == len(text):
        return out
    return "".join(c if len(c := cc.convert(ch)) == 1 else ch for ch in text)


def _is_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Zs"


def normalise(original: str) -> NormalizedText:
    """NFKC + lower case + whitespace collapsed + control/format characters dropped, then 繁體 → 简体, with offsets."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(original):
        if _is_space(ch):
            if chars and chars[-1] != " ":
                chars.append(" ")
                starts.append(i)
                ends.append(i + 1)
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue  # control, zero-width, lone surrogates, private use, unassigned: never meaningful evidence
        piece = unicodedata.normalize("NFKC", ch).lower() if not ch.isascii() else ch.lower()
        for p in piece:
            if _is_space(p):
                if chars and chars[-1] != " ":
                    chars.append(" ")
                    starts.append(i)
                    ends.append(i + 1)
                continue
            chars.append(p)
            starts.append(i)
            ends.append(i + 1)
    while chars and chars[-1] == " ":
        chars.pop()
        starts.pop()
        ends.pop()
    text = "".join(chars)
    simplified = to_simplified(text)
    return NormalizedText(original, simplified, tuple(starts), tuple(ends))


def content_chars(text: str) -> int:
    """Letters, digits and CJK characters: what is left once punctuation, symbols and spaces are gone."""
    return sum(1 for ch in text if unicodedata.category(ch)[0] in ("L", "N"))


def check_description(description: object) -> str:
    """The one gate every face (CLI, batch, TUI) uses: returns the description or raises a one-line InputError."""
    if not isinstance(description, str):
        raise InputError(f"the description must be text, not {type(description).__name__}")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InputError(
            f"the description has {len(description):,} characters; riskclass reads at most "
            f"{MAX_DESCRIPTION_CHARS:,} (paste the part that describes the product)"
        )
    if not description.strip():
        raise InputError("the description is empty: describe the AI product in a sentence or more")
    if content_chars(description) == 0:
        raise InputError("the description has no words, only punctuation, symbols or control characters")
    return description


# ---- tokenisation (model features) -------------------------------------------------------------------------------

_tokenizer_lock = threading.Lock()


# Distinct pieces (clauses between punctuation) whose tokens are kept: ~4 MB at most, and enough to hold the recurring
# clauses of a large batch; unique clauses simply pass through.
PIECE_CACHE_SIZE = 32_768


_on_disk_dictionary = False


def use_on_disk_dictionary() -> None:
    """For one-off runs (`riskclass classify`): look words up in an on-disk copy of jieba's dictionary.

    jieba keeps ~500,000 words and prefixes in a dict that takes most of a second to load; one description needs a few
    hundred look-ups. The copy is an SQLite table built once from the very dictionary jieba loads (with riskclass's
    domain words) and used by jieba's own segmentation, so the tokens are the same (a test checks it on every labelled
    description). Batch runs, training and the terminal app keep the in-memory dictionary.
    """
    global _on_disk_dictionary
    _on_disk_dictionary = True


class _DiskFreq:
    """The read-only mapping jieba's segmentation needs (`in`, `[]`, `get`), served from SQLite."""

    def __init__(self, path) -> None:
        import sqlite3

        self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._seen: dict[str, int | None] = {}

    def get(self, word: str, default=None):
        if word not in self._seen:
            with self._lock:
                row = self._con.execute("select n from freq where w = ?", (word,)).fetchone()
            self._seen[word] = row[0] if row else None
        found = self._seen[word]
        return default if found is None else found

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    def __getitem__(self, word: str) -> int:
        found = self.get(word)
        if found is None:
            raise KeyError(word)
        return found

    def total(self) -> int:
        return int(self._con.execute("select n from meta where k = 'total'").fetchone()[0])


def _dictionary_table_path():
    import hashlib

    import jieba

    from riskclass.cache import cache_dir

    user = resources.files("riskclass.data").joinpath(USER_DICT).read_bytes()
    key = hashlib.sha256(jieba.__version__.encode() + b"\0" + user).hexdigest()[:16]
    return cache_dir() / f"jieba-dictionary-{key}.sqlite"


def _write_dictionary_table(tok, path) -> None:
    """Dump a loaded tokenizer's dictionary to SQLite, atomically (a half-written table is never used)."""
    import os
    import sqlite3
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        con.execute("create table freq (w text primary key, n integer) without rowid")
        con.execute("create table meta (k text primary key, n integer)")
        con.executemany("insert into freq values (?, ?)", tok.FREQ.items())
        con.execute("insert into meta values ('total', ?)", (tok.total,))
        con.commit()
        con.close()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@lru_cache(maxsize=1)
def _jieba_tokenizer():
    """A private jieba Tokenizer with the domain dictionary, so rubric terms (简历筛选, 人脸识别…) stay whole.

    Returns (tokenizer, split, cut_piece): `split` is jieba's own block splitter (`re_han_default.split`), and
    `cut_piece` the cached tokens of one piece, spaces dropped.
    """
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    with _tokenizer_lock:
        table = _dictionary_table_path() if _on_disk_dictionary else None
        if table is not None and table.is_file():
            freq = _DiskFreq(table)
            tok.FREQ, tok.total, tok.initialized = freq, freq.total(), True
        else:
            tok.initialize()
            with resources.files("riskclass.data").joinpath(USER_DICT).open("rb") as fh:
                tok.load_userdict(fh)
            if table is not None:
                # An unwritable cache only costs speed: this run already has the dictionary in memory.
                with contextlib.suppress(OSError):
                    _write_dictionary_table(tok, table)

    @lru_cache(maxsize=PIECE_CACHE_SIZE)
    def cut_piece(piece: str) -> tuple[str, ...]:
        return tuple(t for t in tok.lcut(piece, HMM=False) if t.strip())

    return tok, jieba.re_han_default.split, cut_piece


def tokens_of_normalised(text: str) -> list[str]:
    """jieba tokens of text that is already normalised (HMM off: deterministic and faster), spaces dropped.

    The one tokeniser of the model, in training and inference alike. jieba cuts each run of Han/alphanumeric
    characters (its `re_han_default` blocks) on its own and passes everything between them through character by
    character, so cutting the pieces of `re_han_default.split(text)` one by one gives exactly `lcut(text)`; each piece's
    tokens are cached, because descriptions in a batch repeat clauses (公司名, 产品类型, boilerplate) far more often
    than whole texts. A test checks the tokens are identical to a plain `lcut` of the whole text.
    """
    _, split, cut_piece = _jieba_tokenizer()
    out: list[str] = []
    for piece in split(text):
        if piece:
            out += cut_piece(piece)
    return out


def tokenize(text: str) -> list[str]:
    """Tokens of a description as the user gave it: normalise, then `tokens_of_normalised`."""
    return tokens_of_normalised(normalise(text).text)
