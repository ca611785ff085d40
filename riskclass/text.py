"""Text normalisation and tokenisation, shared by the rules, the model, training and batch.

Rules match on a normalised form (NFKC, lower case, 繁體 → 简体, whitespace collapsed, control characters dropped)
but evidence must point into the text exactly as the user gave it, so `normalise` keeps, for every normalised
character, the span of original characters it came from.

The model tokenises through `tokenize`, which is the only tokeniser used in training and inference alike.
"""

from __future__ import annotations

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


@lru_cache(maxsize=1)
def _jieba_tokenizer():
    """A private jieba Tokenizer with the domain dictionary, so rubric terms (简历筛选, 人脸识别…) stay whole."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    with _tokenizer_lock:
        tok.initialize()
        with resources.files("riskclass.data").joinpath(USER_DICT).open("rb") as fh:
            tok.load_userdict(fh)
    return tok


def user_dictionary_terms() -> list[str]:
    text = resources.files("riskclass.data").joinpath(USER_DICT).read_text(encoding="utf-8")
    return [line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("#")]


def tokenize(text: str) -> list[str]:
    """Tokens for the model: normalised text segmented by jieba (HMM off: deterministic and faster), spaces dropped.

    Module-level so a pickled pipeline finds it by name.
    """
    norm = normalise(text).text if not isinstance(text, NormalizedText) else text.text
    return [t for t in _jieba_tokenizer().lcut(norm, HMM=False) if t.strip()]
