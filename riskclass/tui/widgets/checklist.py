"""The obligations as a checklist: Space ticks an item off, Enter opens the articles it rests on."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message

from riskclass.tui.widgets.citations import CitationList, CitedLine

BOX = {False: "☐ ", True: "☑ "}


class Checklist(CitationList):
    """A CitationList whose lines can be ticked. Ticks are kept by item id while the tier's items stay the same."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "toggle_item", "Tick", show=True)]

    class Toggled(Message):
        def __init__(self, checklist: Checklist, key: str, done: bool) -> None:
            super().__init__()
            self.checklist = checklist
            self.key = key
            self.done = done

        @property
        def control(self) -> Checklist:
            return self.checklist

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.done: set[str] = set()

    def line_prompt(self, line: CitedLine) -> Content:
        return Content.assemble((BOX[line.key in self.done], "bold"), line.prompt)

    def action_toggle_item(self) -> None:
        index = self.highlighted
        if index is None or not self.lines or index >= len(self.lines):
            return
        line = self.lines[index]
        done = line.key not in self.done
        if done:
            self.done.add(line.key)
        else:
            self.done.discard(line.key)
        self.replace_option_prompt_at_index(index, self.line_prompt(line))
        self.post_message(self.Toggled(self, line.key, done))
