"""The description with the evidence words highlighted in the colour of their criterion."""

from __future__ import annotations

from functools import lru_cache

from textual.content import Content
from textual.widgets import Static

from riskclass.reports.terminal import CRITERION_STYLE, non_overlapping
from riskclass.tui.i18n import t

SHOWN_CHARS = 3000  # a longer description is cut here: highlighting 100,000 characters on every keystroke is not useful

_SGR_COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")
_SGR_FLAGS = {1: "bold", 4: "underline", 7: "reverse"}


def sgr_to_style(sgr: str) -> str:
    """A Textual style string for an ANSI SGR sequence: the TUI uses exactly the terminal renderer's colours."""
    parts = []
    for code in (int(c) for c in sgr.removeprefix("\033[").removesuffix("m").split(";") if c):
        if code in _SGR_FLAGS:
            parts.append(_SGR_FLAGS[code])
        elif 30 <= code <= 37:
            parts.append(f"ansi_{_SGR_COLOURS[code - 30]}")
        elif 90 <= code <= 97:
            parts.append(f"ansi_bright_{_SGR_COLOURS[code - 90]}")
    return " ".join(parts)


@lru_cache(maxsize=32)
def criterion_style(cid: str) -> str:
    """The style of a criterion id (H1…M5, R1…R4); bold for anything the renderer does not colour."""
    return sgr_to_style(CRITERION_STYLE[cid]) if cid in CRITERION_STYLE else "bold"


def highlighted(description: str, spans: list[tuple[int, int, str]], lang: str, limit: int = SHOWN_CHARS) -> Content:
    """Content of the description with each evidence span styled in its criterion's colour (never parsed as markup)."""
    shown = description[:limit]
    parts: list[str | tuple[str, str]] = []
    pos = 0
    for start, end, cid in non_overlapping([(s, min(e, limit), c) for s, e, c in spans if s < limit]):
        parts.append(shown[pos:start])
        parts.append((shown[start:end], criterion_style(cid)))
        pos = end
    parts.append(shown[pos:])
    if len(description) > limit:
        parts.append((" " + t("view.evidence_more", lang, more=f"{len(description) - limit:,}"), "dim"))
    return Content.assemble(*parts)


class EvidenceView(Static):
    """The assessed description, evidence highlighted; empty until there is an assessment."""

    def show(self, description: str | None, spans: list[tuple[int, int, str]], lang: str) -> None:
        self.update(highlighted(description, spans, lang) if description else "")
