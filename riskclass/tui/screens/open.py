"""The open dialog: a saved assessment (`classify --json`, or the .json of a report Ctrl+S wrote) to continue."""

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


class OpenScreen(ModalScreen[Path | None]):
    """Returns the chosen file (relative paths are read from `start_dir`), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, start_dir: Path, lang: str) -> None:
        super().__init__()
        self.start_dir = start_dir
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="open-dialog"):
            yield Label(t("open.prompt", self.lang), markup=False)
            yield Input(
                id="open-path",
                placeholder=t("open.placeholder", self.lang),
                suggester=PathSuggester((".json",), root=self.start_dir),
            )
            yield Label("", id="open-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(t("open.open", self.lang), id="open-ok", variant="primary")
                yield Button(t("open.cancel", self.lang), id="open-cancel")

    def on_mount(self) -> None:
        self.query_one("#open-dialog").border_title = t("open.title", self.lang)
        self.query_one(Input).focus()

    @on(Input.Submitted, "#open-path")
    @on(Button.Pressed, "#open-ok")
    def _open(self) -> None:
        value = self.query_one("#open-path", Input).value.strip()
        if not value:
            self.query_one("#open-error", Label).update(t("open.empty", self.lang))
            return
        path = Path(value).expanduser()
        path = path if path.is_absolute() else self.start_dir / path
        if not path.is_file():
            self.query_one("#open-error", Label).update(t("open.missing", self.lang, path=path))
            return
        self.dismiss(path)

    @on(Button.Pressed, "#open-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
