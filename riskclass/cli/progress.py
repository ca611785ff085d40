"""Progress on long work, drawn by `rich.progress` (installed with Textual) on standard error when it is a terminal.

`progress_bar(...)` gives a context manager that is also the `progress(done, total)` callback `run_batch` (and any
long command: a register import, a rescore) calls; it is None when nothing should be drawn (not a terminal, or the
user asked for none), so callers pass it on as is. rich is imported only when a bar is shown: a script piping
`riskclass batch` never pays for it.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from riskclass.errors import Text

ROWS = Text("rows", "行")


class ProgressBar:
    """A transient rich progress bar for one task counted in rows: bar, percentage, done/total, rows/s, ETA."""

    def __init__(
        self, description: Text, lang: str, stream: TextIO | None = None, force_terminal: bool = False
    ) -> None:
        self.description = description.text(lang)
        self.unit = ROWS.text(lang)
        self.stream = stream or sys.stderr
        self.force_terminal = force_terminal  # for tests that draw into a buffer
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressBar:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        console = Console(
            file=self.stream, force_terminal=self.force_terminal or None, stderr=self.stream is sys.stderr
        )
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TextColumn(self.unit),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,  # the summary line replaces the bar when the work ends
        )
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=None, rate="")
        return self

    def __call__(self, done: int, total: int | None) -> None:
        if self._progress is None:
            return
        task = self._progress.tasks[0]
        speed = task.speed
        rate = f"{speed:,.0f} {self.unit}/s" if speed else ""
        self._progress.update(self._task, completed=done, total=total, rate=rate)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def progress_bar(
    description: Text, lang: str, enabled: bool = True, stream: TextIO | None = None
) -> ProgressBar | None:
    """A bar on `stream` (standard error) when `enabled` and it is a terminal; else None (draw nothing)."""
    stream = stream or sys.stderr
    if not enabled or not stream.isatty():
        return None
    return ProgressBar(description, lang, stream)
