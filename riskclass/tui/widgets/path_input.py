"""Path completion for Input widgets: → accepts the first file or directory that completes what was typed."""

from __future__ import annotations

import os
from pathlib import Path

from textual.suggester import Suggester


class PathSuggester(Suggester):
    """Completes the last path component from the file system (directories get a trailing separator).

    `suffixes` limits the files offered (directories are always offered, so one can walk down to a file).
    Not cached: the directory may change while the app runs.
    """

    def __init__(self, suffixes: tuple[str, ...] = (), root: Path | None = None) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.suffixes = tuple(s.lower() for s in suffixes)
        self.root = root

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value, self.suffixes, self.root)


def complete_path(value: str, suffixes: tuple[str, ...] = (), root: Path | None = None) -> str | None:
    if not value:
        return None
    head, sep, partial = value.rpartition(os.sep)
    directory = Path(os.path.expanduser(head + sep)) if sep else Path(".")
    if root is not None and not directory.is_absolute():
        directory = root / directory
    try:
        entries = sorted(os.scandir(directory), key=lambda e: (not e.is_dir(), e.name))
    except OSError:
        return None
    for entry in entries:
        if not entry.name.startswith(partial) or (entry.name.startswith(".") and not partial.startswith(".")):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if entry.name == partial and not is_dir:
            continue
        if not is_dir and suffixes and not entry.name.lower().endswith(suffixes):
            continue
        return f"{head}{sep}{entry.name}{os.sep if is_dir else ''}"
    return None
