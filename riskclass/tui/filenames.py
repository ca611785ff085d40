"""The file name Ctrl+S proposes: made from the product, so a folder of reports reads like the inventory it came from.

Safe on every file system through `riskclass.reports.report.safe_stem`, the same rules as the batch's per-row reports.
"""

from __future__ import annotations

import re

from riskclass.reports.report import safe_stem

# How much of a description names its report when the product has no id or name: the first six words of English
# (a noun phrase such as "AI resume screening for employers"), or the first twelve characters of Chinese (about as much
# meaning: a Chinese word is two characters on average). Both keep the name short enough to read in a file list.
DESCRIPTION_WORDS = 6
DESCRIPTION_CHARS = 12

FALLBACK_STEM = "riskclass-report"  # nothing usable in the product: the name the export dialog always proposed

_SENTENCE_END = re.compile(r"[。！？；;!?\n]|[.,](?=\s|$)|，|、")
_LATIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")


def description_words(description: str) -> str:
    """The start of the description's first clause: a few words of English, a few characters of Chinese."""
    clause = _SENTENCE_END.split(description.strip(), maxsplit=1)[0].strip()
    words = clause.split()
    if words and all(_LATIN_WORD.fullmatch(w.strip("()[]\"'")) for w in words[:DESCRIPTION_WORDS]):
        return " ".join(words[:DESCRIPTION_WORDS])
    return clause[:DESCRIPTION_CHARS]


def proposed_stem(description: str, product_id: str = "", name: str = "") -> str:
    """`AI-0026-贷款评分` when the product's id and name are known, else the first words of the description, made
    safe for file names; FALLBACK_STEM when nothing usable is left."""
    parts = [p.strip() for p in (product_id, name) if p and p.strip()]
    raw = "-".join(parts) if parts else description_words(description)
    stem = safe_stem(raw, 0)
    return FALLBACK_STEM if stem == "row-0" else stem
