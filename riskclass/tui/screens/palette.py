"""The command palette (Ctrl+P) in the interface language: Textual's own, with its two fixed English texts replaced."""

from __future__ import annotations

from rich.align import Align
from rich.text import Text
from textual.command import CommandList, CommandPalette
from textual.widgets.option_list import Option

from riskclass.tui.i18n import t


class LocalizedPalette(CommandPalette):
    """The placeholder ("Search for commands…") and the "No matches found" line in `lang`."""

    def __init__(self, lang: str, placeholder_key: str = "palette.placeholder", **kwargs) -> None:
        super().__init__(placeholder=t(placeholder_key, lang), **kwargs)
        self.lang = lang

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual's version (8.x) adds a hard-coded English line; this one says the same in the app's language.
        # Private in Textual: tests/test_tui.py searches for a command that does not exist and reads the line.
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(t("palette.no_matches", self.lang), style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:
                self._list_visible = False  # discovery mode with nothing to discover: nothing to say

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)
