"""Table cells in the interface language: 高/中/低 and 是/否 (high/medium/low, yes/no), coloured and sortable.

The batch and register tables keep the raw values (high, true) for filtering and sorting; only what is shown is
translated, so switching language rebuilds the cells and changes nothing else.
"""

from __future__ import annotations

from rich.text import Text

from riskclass.tui.i18n import TIER_WORDS, t

TIER_ORDER = {"high": 0, "medium": 1, "low": 2, "": 3}
TIER_CELL_STYLE = {"high": "bold red", "medium": "bold yellow", "low": "bold green"}  # render.TIER_STYLE's colours
# Shown word → tier, in both languages: a sort reads the cell, whichever language it was written in.
_TIER_OF_WORD = {word: tier for tier, words in TIER_WORDS.items() for word in words}


def tier_word(tier: str, lang: str) -> str:
    """高 / high; an unknown or empty tier is shown as it is."""
    zh, en = TIER_WORDS.get(tier, (tier, tier))
    return en if lang == "en" else zh


def tier_cell(tier: str, lang: str) -> Text:
    return Text(tier_word(tier, lang), style=TIER_CELL_STYLE.get(tier, ""))


def tier_sort_key(cell: object) -> int:
    return TIER_ORDER.get(_TIER_OF_WORD.get(getattr(cell, "plain", str(cell)), ""), 3)


def yes_no(value: bool | str | None, lang: str) -> str:
    """是 / 否 for a flag (True, or the CSV's "true"); empty for an unknown (a row that failed)."""
    if isinstance(value, str):
        value = {"true": True, "false": False}.get(value.strip().lower())
    if value is None:
        return ""
    return t("questions.yes" if value else "questions.no", lang)
