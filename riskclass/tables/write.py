"""Writing result tables: CSV a spreadsheet opens safely (formula guard) and JSON Lines."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from typing import Any, BinaryIO

from riskclass.tables.read import _UNDECODABLE

# The CONTRACT columns first, in its order, then what a reviewer needs to act on a row.
RESULT_COLUMNS = (
    "tier",
    "confidence",
    "criteria",
    "red_flags",
    "needs_review",
    "obligations",
    "error",
    "possible_criteria",
    "article50",
    "decided_by",
    "questions",
)
ERROR_INDEX = RESULT_COLUMNS.index("error")
# What a spreadsheet may run when a cell starts with it: = + - @ and tab and CR, the list of OWASP's "CSV Injection"
# page. The fullwidth and small forms (＝ ﹦ ＋ ﹢ － ﹣ ＠ ﹫) are the same characters under Unicode compatibility
# folding (NFKC), which spreadsheets in Chinese and Japanese locales apply to what is typed and pasted (issue 12).
FORMULA_LEADERS = frozenset("=+-@\t\r＝﹦＋﹢－﹣＠﹫")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*|\.\d+)(?:[eE][+-]?\d+)?%?")
_PLAIN, _LEADER, _SKIPPED = 0, 1, 2


_KIND: dict[str, int] = {}  # first character → kind: a few hundred distinct first characters in a real table


def _first_kind(ch: str) -> int:
    """What a cell's first character means to the guard: a formula leader; invisible or blank, so a spreadsheet that
    trims it would see the next character as the first (spaces, no-break space, zero-width space, BOM, bidi
    controls: Unicode whitespace and format characters); or plain."""
    if ch in FORMULA_LEADERS or unicodedata.normalize("NFKC", ch)[:1] in FORMULA_LEADERS:
        return _LEADER
    if ch.isspace() or unicodedata.category(ch) == "Cf":
        return _SKIPPED
    return _PLAIN


def guard_formula(cell: str) -> str:
    """`cell` as a spreadsheet will show but never run it: a leading ' before =, +, -, @, tab or CR, their fullwidth
    forms, and any of them behind leading blanks or invisible characters (plain numbers are left alone)."""
    if not cell or _KIND.get(cell[0]) == _PLAIN:  # the common case in one dict look-up (a batch writes ~20 a row)
        return cell
    for i, ch in enumerate(cell):
        kind = _KIND.get(ch)
        if kind is None:
            kind = _KIND[ch] = _first_kind(ch)
        if kind == _PLAIN:
            return cell
        if kind == _LEADER:
            return cell if _PLAIN_NUMBER.fullmatch(cell[i:]) else "'" + cell
    return cell


def _escape_byte(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()) - 0xDC00:02x}"


def _printable(cell: str) -> str:
    """Undecodable input bytes (kept as lone surrogates U+DC00+byte while reading) written back as `\\xNN`.

    The original bytes stay recoverable from the output (a U+FFFD would lose them), and the text is plainly not the
    input's: a row whose description holds such bytes carries an error and no tier.
    """
    return _UNDECODABLE.sub(_escape_byte, cell)


class _CsvWriter:
    def __init__(self, stream: BinaryIO, header: list[str], excel: bool, guard: bool) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig" if excel else "utf-8", newline="")
        self.writer = csv.writer(self.text, lineterminator="\r\n")
        self.guard = guard
        self.writerow(header)

    def writerow(self, cells: list[str], clean: bool = False) -> None:
        if not clean:
            cells = [_printable(c) for c in cells]
        if self.guard:
            cells = [guard_formula(c) for c in cells]
        self.writer.writerow(cells)

    def write(self, row: int, cells: list[str], outcome: Any, clean: bool) -> None:
        self.writerow([*cells, *outcome.cells], clean=clean)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


class _JsonlWriter:
    def __init__(self, stream: BinaryIO, names: list[str]) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        self.names = names

    def write(self, row: int, cells: list[str], outcome: Any, clean: bool) -> None:
        if not clean:
            cells = [_printable(c) for c in cells]
        obj: dict[str, Any] = {"row": row}
        if outcome.record is not None:
            obj.update(outcome.record)
        else:
            obj["tier"] = None
        obj["error"] = outcome.error
        obj["input"] = dict(zip(self.names, cells, strict=True))
        self.text.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self.text.flush()
        self.text.detach()
