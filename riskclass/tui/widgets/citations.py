"""A list of lines that cite articles of the draft: Enter or a click on a line opens its articles."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from riskclass.tui.messages import Citation, OpenArticles


@dataclass(frozen=True)
class CitedLine:
    prompt: Content
    citations: tuple[Citation, ...]
    key: str = ""  # a stable id (criterion or obligation id)


class CitationList(OptionList):
    """Options that each carry the articles they cite. An empty list shows one disabled line (e.g. 无)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[CitedLine] = []
        self._empty = ""

    def show(self, lines: list[CitedLine], empty: str) -> None:
        if lines == self.lines and empty == self._empty and self.option_count:
            return
        highlighted = self.highlighted
        self.lines = list(lines)
        self._empty = empty
        if lines:
            self.set_options(Option(self.line_prompt(line), id=str(i)) for i, line in enumerate(lines))
            if highlighted is not None:
                self.highlighted = min(highlighted, len(lines) - 1)
        else:
            self.set_options([Option(Content.styled(empty, "dim"), disabled=True)])

    def _on_focus(self) -> None:
        # Arriving by Tab, the first line is under the cursor, so Enter opens something at once.
        if self.highlighted is None and self.lines:
            self.highlighted = 0

    def line_prompt(self, line: CitedLine) -> Content:
        """The option's prompt; subclasses decorate it (the checklist adds a box)."""
        return line.prompt

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is None:
            return
        line = self.lines[int(event.option.id)]
        if line.citations:
            self.post_message(OpenArticles(line.citations))
