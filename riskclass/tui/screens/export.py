"""The export dialog: where to save the current assessment (a .md and a .json file are written there)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from riskclass.tui.i18n import t
from riskclass.tui.widgets.path_input import PathSuggester

SUFFIXES = (".md", ".json", ".markdown")


def export_base(value: str) -> Path:
    """The path without extension: `report`, `report.md` and `report.json` all mean report.md + report.json."""
    path = Path(value.strip()).expanduser()
    return path.with_suffix("") if path.suffix.lower() in SUFFIXES else path


class ExportScreen(ModalScreen[Path | None]):
    """Returns the chosen base path (without extension), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, default: str, lang: str) -> None:
        super().__init__()
        self.default = default
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog"):
            yield Label(t("export.prompt", self.lang), markup=False)
            yield Input(self.default, id="export-path", suggester=PathSuggester())
            yield Label("", id="export-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(t("export.save", self.lang), id="export-save", variant="primary")
                yield Button(t("export.cancel", self.lang), id="export-cancel")

    def on_mount(self) -> None:
        self.query_one("#export-dialog").border_title = t("export.title", self.lang)
        self.query_one(Input).focus()

    @on(Input.Submitted, "#export-path")
    @on(Button.Pressed, "#export-save")
    def _save(self) -> None:
        value = self.query_one("#export-path", Input).value
        if not value.strip():
            self.query_one("#export-error", Label).update(t("export.empty", self.lang))
            return
        self.dismiss(export_base(value))

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
