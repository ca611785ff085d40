"""The help screen (? or F1): every key, grouped by where it works. Built from the screens' own bindings."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from riskclass.tui.i18n import STRINGS, t


def binding_rows(bindings: list[BindingType], lang: str) -> list[tuple[str, str]]:
    """(keys, what they do) for each binding that has a UI string; bindings of one action are merged."""
    rows: dict[str, list[str]] = {}
    for b in bindings:
        if not isinstance(b, Binding):
            continue
        action = b.action.rpartition(".")[2].split("(")[0]
        if f"binding.{action}" not in STRINGS:
            continue
        keys = [k.strip() for k in b.key.split(",")]
        rows.setdefault(action, []).extend(keys)
    return [(" / ".join(key_name(k) for k in dict.fromkeys(keys)), t(f"binding.{a}", lang)) for a, keys in rows.items()]


def key_name(key: str) -> str:
    if key == "question_mark":
        return "?"
    return "+".join(part.capitalize() if len(part) > 1 else part.upper() for part in key.split("+"))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,question_mark,q", "close", "Close", show=False)]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]], lang: str) -> None:
        super().__init__()
        self.sections = sections
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(t("help.intro", self.lang), id="help-intro", markup=False)
            with VerticalScroll(id="help-body"):
                for title, rows in self.sections:
                    yield Label(title, classes="section-title", markup=False)
                    width = max((len(k) for k, _ in rows), default=0) + 2
                    yield Static(
                        Content("\n").join(
                            Content.assemble((f"  {k:<{width}}", "bold $accent"), desc) for k, desc in rows
                        ),
                        classes="help-keys",
                    )
            yield Label(t("help.close", self.lang), classes="dim-note")

    def on_mount(self) -> None:
        self.query_one("#help-dialog").border_title = t("help.title", self.lang)

    def action_close(self) -> None:
        self.dismiss(None)
