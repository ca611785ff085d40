"""`riskclass batch`: classify every row of a CSV, TSV or .xlsx file and lose none of them.

Reading (what people really have):

- Encoding detected without flags: a UTF-8, UTF-16 or UTF-32 byte-order mark wins; UTF-16 without a mark is recognised
  by its zero bytes; otherwise the whole file is checked as UTF-8, and a file that is not UTF-8 is read as GB18030
  (the superset of GBK that Excel writes on Chinese Windows). `--encoding` forces one.
- Delimiter sniffed among `,` tab `;` (the one that splits the header into most columns and the first rows into the
  same number); `--delimiter` forces one. Quoted cells may hold delimiters, quotes and line breaks; cells of any size
  are read (Python's 128 KiB default field limit is lifted).
- Blank lines (no field at all) are not rows: they are skipped and counted in the summary. A row of empty fields
  (`,,,`) is a row, and fails with "the description is empty".
- Ragged rows: a row with fewer fields than the header is padded with empty cells; fields beyond the header are kept,
  in added columns `extra_1`, `extra_2`, … (so the output table is rectangular and nothing is dropped).
- Header names: a blank name becomes `column_N` (N its position), a repeated one `name_2`, `name_3`, … and an input
  column whose name is one of the result columns (e.g. the `tier` of a labelled file) becomes `input_tier`; only the
  header changes, never a cell. Names are compared case-insensitively.
- A byte that is not valid in the file's encoding never stops the run: if it is in the description that row fails
  with an `error`; elsewhere it is written as U+FFFD (�) and counted in the summary.
- `-` reads standard input (spooled to a temporary file, so it can be read twice: once to count, once to classify).
- `.xlsx` (the active sheet, or `--sheet`) when openpyxl is installed: the values Excel cached, not formulas (the
  formula text only where a workbook holds no cached value, as in files written by scripts).

Output:

- Every input row, in order, with every input column, then the result columns `RESULT_COLUMNS`: tier (high|medium|low,
  empty when the row failed), confidence, criteria, red_flags, needs_review, obligations (ids joined by `;`), error
  (empty unless the row failed), then possible_criteria, article50 (items triggered), decided_by and questions
  (joined by ` | `). A failed row has needs_review `true`: a person has to look at it.
- CSV is UTF-8 with CRLF line ends (`--excel` adds a byte-order mark so Excel shows Chinese correctly). JSONL writes
  one object a line: the `classify --json` fields plus `row` (1-based data row), `input` (the row by column name) and
  `error`; a failed row has `"tier": null` and its `error`.
- Formula guard (CSV only): a cell starting with `=`, `+`, `-`, `@`, tab or carriage return is written with a leading
  `'` so that a spreadsheet shows it as text instead of running it (CSV injection). Plain numbers (`-12.5`, `+86`)
  cannot run anything and are left alone. This is the one change ever made to an input cell; `--no-formula-guard`
  turns it off for output that no spreadsheet will open.
- Safe writing: the output is written to a hidden temporary file beside it (`.NAME.*.partial`), flushed to disk and
  renamed over NAME only when complete, so an interrupted run never leaves a half file under the output name (a run
  killed with SIGKILL may leave the hidden `.partial` file behind). The input file is never overwritten, nor an
  existing output without `--force`.

Exit status (CONTRACT.md): 0 every row classified; 3 finished but some rows carry an `error`; 2 unusable input or
arguments. Memory stays flat as the file grows: rows are read, classified (`Engine.assess_many`, one vectorised model
call per chunk) and written `CHUNK_ROWS` at a time; `--jobs N` classifies chunks in N worker processes (joblib/loky,
each loading the model once) and writes them in input order.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import csv
import difflib
import io
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, BinaryIO

from riskclass.errors import ExitCode, InputError, RiskclassError
from riskclass.files import AtomicOutput

if TYPE_CHECKING:
    from riskclass.engine import Engine

TIERS = ("high", "medium", "low")
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
# Looked for (in this order, case-insensitively, ignoring spaces, `_` and `-`) when --column is not given.
DESCRIPTION_NAMES = (
    "description",
    "描述",
    "产品描述",
    "產品描述",
    "product_description",
    "产品说明",
    "產品說明",
    "功能描述",
    "说明",
    "說明",
    "text",
    "文本",
    "desc",
    "简介",
    "簡介",
)
DELIMITERS = (",", "\t", ";")
FORMULA_LEADERS = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*|\.\d+)(?:[eE][+-]?\d+)?%?")
_UNDECODABLE = re.compile("[\udc00-\udcff]")

# Rows per chunk: large enough that the model's vectorised call and the per-chunk overhead (and, with --jobs, the
# pickling to a worker) are amortised, small enough that memory stays flat and progress moves every second or so.
CHUNK_ROWS = 1000
# Identical descriptions (an inventory lists the same product many times) are assessed once; the last this many
# distinct results are remembered across chunks. Descriptions longer than CACHE_MAX_CHARS are not remembered.
RESULT_CACHE_ROWS = 4096
CACHE_MAX_CHARS = 2000
SNIFF_CHARS = 64 * 1024  # text read to choose the delimiter
DETECT_BYTES = 4 << 20  # bytes scored when telling UTF-8 from GB18030

ERROR_HANDLER = "riskclass-undecodable"


def _escape_undecodable(exc: UnicodeError) -> tuple[str, int]:
    """Decoding error handler: each bad byte b becomes the lone surrogate U+DC00+b (never produced by a valid decode),
    so the row it sits in can be told apart and the run goes on."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _undecodable_seen[0] += 1
    return "".join(chr(0xDC00 + b) for b in exc.object[exc.start : exc.end]), exc.end


_undecodable_seen = [0]  # bumped by the handler: lets the reader skip the per-cell check when nothing was bad
codecs.register_error(ERROR_HANDLER, _escape_undecodable)


class BatchCancelled(RiskclassError):
    """The run was cancelled (TUI) or interrupted: no output file was written."""

    title = "cancelled"


@dataclass
class BatchOptions:
    input: str
    """Path of the CSV/TSV/xlsx file, or "-" for standard input."""
    output: str
    """Path of the output file, or "-" for standard output (then written as it goes, not atomically)."""
    column: str | None = None
    """The description column (name, or 1-based position); found by name when None."""
    format: str = "csv"
    """csv | jsonl"""
    excel: bool = False
    """CSV with a UTF-8 byte-order mark, so Excel opens Chinese text correctly."""
    jobs: int = 1
    """Worker processes (joblib/loky, each loading the model once); 1 classifies in this process, 0 uses every core."""
    encoding: str | None = None
    """Force the input encoding (detected when None)."""
    force: bool = False
    """Replace an existing output file."""
    lang: str = "zh"
    """Language of the questions column and of JSONL texts."""
    rules_only: bool = False
    """Do not consult the model (used only when run_batch builds the engine itself)."""
    delimiter: str | None = None
    """Force the CSV delimiter (sniffed among , tab ; when None)."""
    sheet: str | None = None
    """Worksheet of an .xlsx input (the active one when None)."""
    formula_guard: bool = True
    """Prefix spreadsheet-formula cells with ' in CSV output (see the module docstring)."""
    chunk_rows: int = CHUNK_ROWS
    """Rows read, classified and written at a time."""
    reports: str | None = None
    """Directory for one report per classified row (riskclass.reports), moved into place when the run succeeds."""
    report_format: str = "html"
    """md | html | json"""
    id_column: str | None = None
    """Column naming each row's report (name or 1-based position); an id-like column by name, else row-N."""


@dataclass
class BatchSummary:
    rows_in: int
    rows_out: int
    tiers: dict[str, int]
    needs_review: int
    errors: int
    output: str
    encoding: str | None = None
    delimiter: str | None = None
    column: str = ""
    blank_lines: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    reports: int = 0  # report files written (--reports)
    """What was changed or skipped on the way (renamed headers, padded rows, blank lines, replaced bytes)."""
    failed_rows: list[tuple[int, str]] = field(default_factory=list)
    """The first few failed rows: (1-based data row, error)."""

    @property
    def exit_code(self) -> int:
        return ExitCode.PARTIAL if self.errors else ExitCode.OK


# ---- reading ------------------------------------------------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _norm_name(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lstrip("\ufeff")).casefold()


def description_column(names: Iterable[str]) -> str | None:
    """The first of `names` that is a description column by DESCRIPTION_NAMES (order of preference; case, spaces,
    `_` and `-` ignored), or None. The one rule for batch, its --compare and `riskclass evaluate`."""
    names = list(names)
    folded = [_norm_name(n) for n in names]
    for want in DESCRIPTION_NAMES:
        if _norm_name(want) in folded:
            return names[folded.index(_norm_name(want))]
    return None


def _count_bad(data: bytes, encoding: str) -> tuple[int, int]:
    """(bytes that do not decode, non-ASCII characters that do) for `data` read as `encoding` (tail may be cut)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    text = decoder.decode(data, final=False)
    bad = text.count("\ufffd")
    non_ascii = len(text) - len(text.encode("ascii", "ignore")) - bad
    return bad, non_ascii


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a byte-order mark: ASCII characters (delimiters, digits, header letters) give zero bytes."""
    sample = head[:4096]
    if len(sample) < 16:
        return None
    half = len(sample) // 2
    even, odd = sample[0::2].count(0) / half, sample[1::2].count(0) / half
    if odd > 0.2 and even < 0.02:
        return "utf-16-le"
    if even > 0.2 and odd < 0.02:
        return "utf-16-be"
    return None


def _is_utf8(fh: BinaryIO) -> bool:
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while block := fh.read(1 << 20):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        fh.seek(0)
    return True


def detect_encoding(fh: BinaryIO) -> str:
    """The codec to read a seekable binary file with (see the module docstring for the order of the checks)."""
    fh.seek(0)
    head = fh.read(DETECT_BYTES)
    fh.seek(0)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if guess := _utf16_without_bom(head):
        return guess
    if _is_utf8(fh):
        return "utf-8"
    bad_utf8, good_utf8 = _count_bad(head, "utf-8")
    bad_gb, _ = _count_bad(head, "gb18030")
    # A UTF-8 file with a few corrupt bytes (≤ 5% of its non-ASCII characters) stays UTF-8: those rows fail alone.
    # GBK text read as UTF-8 fails on most of its characters.
    if bad_utf8 * 20 <= good_utf8 or bad_utf8 <= bad_gb:
        return "utf-8"
    return "gb18030"


def _resolve_encoding(name: str, fh: BinaryIO) -> str:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise InputError(f"unknown encoding {name!r} (try utf-8, gb18030, gbk, big5, utf-16)") from None
    if codec == "utf-8":
        fh.seek(0)
        if fh.read(3) == codecs.BOM_UTF8:
            codec = "utf-8-sig"
        fh.seek(0)
    return codec


def sniff_delimiter(sample: str, at_eof: bool) -> str:
    """The candidate that splits the header into ≥ 2 columns and most of the first rows into as many; else ","."""
    best, best_score = ",", (0.0, 0)
    for delim in DELIMITERS:
        try:
            records = [r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delim) if r]
        except csv.Error:
            continue
        if not at_eof and len(records) > 1:
            records = records[:-1]  # the sample may end inside the last record
        records = records[:200]
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        consistent = sum(1 for r in records if len(r) == width) / len(records)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _cell_text(value: Any) -> str:
    """An .xlsx cell value as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if hasattr(value, "isoformat"):
        text = value.isoformat(sep=" ") if hasattr(value, "hour") and hasattr(value, "date") else value.isoformat()
        return text[:-9] if text.endswith(" 00:00:00") else text
    return str(value)


def _unique_names(raw: list[str], width: int) -> tuple[list[str], list[str]]:
    """Output names for the input columns (header plus extras), and notes on every name that had to change."""
    names: list[str] = []
    notes: list[str] = []
    taken = {c.casefold() for c in RESULT_COLUMNS}
    used: set[str] = set()

    def claim(base: str) -> str:
        name, k = base, 2
        while name.casefold() in used or name.casefold() in taken:
            name, k = f"{base}_{k}", k + 1
        used.add(name.casefold())
        return name

    for i in range(width):
        if i >= len(raw):
            names.append(claim(f"extra_{i - len(raw) + 1}"))
            continue
        given = raw[i]
        if not given.strip():
            name = claim(f"column_{i + 1}")
            notes.append(f"column {i + 1} has no name: called {name!r}")
        elif given.strip().casefold() in taken:
            name = claim(f"input_{given.strip()}")
            notes.append(f"input column {given!r} renamed {name!r} (the result column has that name)")
        else:
            name = claim(given)
            if name != given:
                notes.append(f"column {i + 1} repeats the name {given!r}: called {name!r}")
        names.append(name)
    return names, notes


@dataclass
class _Shape:
    """What one counting pass over a table found."""

    header: list[str] | None = None
    total: int = 0
    width: int = 0
    blank_lines: int = 0
    short_rows: int = 0
    long_rows: int = 0
    last_line: int = 0
    last: list[str] = field(default_factory=list)

    @property
    def consistency(self) -> float:
        return 1.0 - (self.short_rows + self.long_rows) / self.total if self.total else 1.0


class Table:
    """An input table opened for two passes: `scan` counts rows and columns, `records` yields the data rows.

    Use as a context manager. Header names are in `names` (unique, as in the output); `total` is the number of data
    rows (blank lines excluded).
    """

    def __init__(
        self, path: str, encoding: str | None = None, delimiter: str | None = None, sheet: str | None = None
    ) -> None:
        self.path = path
        self.label = "standard input" if path == "-" else path
        self.forced_encoding = encoding
        self.forced_delimiter = delimiter
        self.sheet = sheet
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.kind = "csv"
        self.mode = "lenient"  # how quotes are read: see _raw_records
        self.raw_header: list[str] = []
        self.names: list[str] = []
        self.notes: list[str] = []
        self.total = 0
        self.blank_lines = 0
        self.short_rows = 0
        self.long_rows = 0
        self._binary: BinaryIO | None = None
        self._text: io.TextIOWrapper | None = None
        self._workbooks: list[Any] = []
        self._sheets: list[Any] = []

    # -- opening --

    def __enter__(self) -> Table:
        try:
            self._open()
            self._scan()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for wb in self._workbooks:
            wb.close()
        self._workbooks = []
        if self._text is not None:
            self._text.detach()
            self._text = None
        if self._binary is not None:
            self._binary.close()
            self._binary = None

    def _open(self) -> None:
        self._binary = _open_binary(self.path)
        magic = self._binary.read(8)
        self._binary.seek(0)
        if magic.startswith(b"PK\x03\x04") or self.path.lower().endswith((".xlsx", ".xlsm")):
            self.kind = "xlsx"
            self._open_xlsx()
            return
        if magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise InputError(f"{self.label} is an old Excel .xls workbook: save it as .xlsx or as CSV UTF-8")
        if self.forced_encoding:
            self.encoding = _resolve_encoding(self.forced_encoding, self._binary)
        else:
            self.encoding = detect_encoding(self._binary)
        self._text = io.TextIOWrapper(self._binary, encoding=self.encoding, errors=ERROR_HANDLER, newline="")
        if self.forced_delimiter:
            delim = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}.get(
                self.forced_delimiter, self.forced_delimiter
            )
            if len(delim) != 1:
                raise InputError(f"--delimiter must be one character (or tab), not {self.forced_delimiter!r}")
            self.delimiter = delim
        else:
            sample = self._text.read(SNIFF_CHARS)
            at_eof = len(sample) < SNIFF_CHARS
            self._text.seek(0)
            self.delimiter = sniff_delimiter(sample, at_eof)

    def _open_xlsx(self) -> None:
        try:
            import openpyxl
        except ImportError:
            raise InputError(
                f"{self.label} is an Excel workbook: install openpyxl (pip install openpyxl) to read it, "
                "or save it as CSV UTF-8"
            ) from None
        # Two read-only views: the values Excel cached (what the user sees) and, for cells without a cached value
        # (workbooks written by scripts), the formula text, so that no cell is read as empty.
        for data_only in (True, False):
            try:
                self._binary.seek(0)
                self._workbooks.append(openpyxl.load_workbook(self._binary, read_only=True, data_only=data_only))
            except Exception as exc:  # a damaged or non-Excel zip: one line, not a traceback
                raise InputError(
                    f"{self.label} is not a readable .xlsx workbook ({type(exc).__name__}: {exc})"
                ) from None
        names = self._workbooks[0].sheetnames
        if self.sheet is not None and self.sheet not in names:
            raise InputError(f"{self.label} has no sheet {self.sheet!r}; sheets: {', '.join(names)}")
        for wb in self._workbooks:
            self._sheets.append(wb[self.sheet] if self.sheet is not None else (wb.active or wb.worksheets[0]))

    # -- the two passes --

    def _raw_records(self, mode: str | None = None) -> Iterator[tuple[int, list[str]]]:
        """(first physical line, fields) of every record, blank ones included (as []).

        mode: "strict" (RFC 4180 quoting, raising on anything else), "lenient" (Python's default reading of sloppy
        quotes) or "verbatim" (quotes are ordinary characters); default: the mode `scan` chose.
        """
        if self.kind == "xlsx":
            values, formulas = (sheet.iter_rows(values_only=True) for sheet in self._sheets)
            for n, (cached, written) in enumerate(zip(values, formulas, strict=False), start=1):
                cells = [_cell_text(v if v is not None else f) for v, f in zip(cached, written, strict=False)]
                while cells and cells[-1] == "":
                    cells.pop()
                yield n, cells
            return
        assert self._text is not None
        mode = mode or self.mode
        self._text.seek(0)
        reader = csv.reader(
            self._text,
            delimiter=self.delimiter or ",",
            strict=mode == "strict",
            quoting=csv.QUOTE_NONE if mode == "verbatim" else csv.QUOTE_MINIMAL,
        )
        line = 1
        for record in reader:
            yield line, record
            line = reader.line_num + 1

    def _count(self, mode: str | None = None) -> _Shape:
        shape = _Shape()
        for line, record in self._raw_records(mode):
            if not record:
                shape.blank_lines += 1
            elif shape.header is None:
                shape.header = list(record)
                shape.width = len(record)
            else:
                shape.total += 1
                if len(record) < len(shape.header):
                    shape.short_rows += 1
                elif len(record) > len(shape.header):
                    shape.long_rows += 1
                shape.width = max(shape.width, len(record))
                shape.last_line, shape.last = line, record
        return shape

    def _scan(self) -> None:
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # huge cells are data too
        try:
            shape = self._count("strict" if self.kind == "csv" else None)
        except csv.Error:
            # Quotes used otherwise than CSV quoting: a stray quote, or a TSV whose cells hold quotes ("Best" deal).
            # Python's lenient reading drops such quotes; reading them as ordinary characters keeps every cell as
            # written, and is chosen when it splits the rows at least as consistently into the header's columns.
            try:
                lenient, verbatim = self._count("lenient"), self._count("verbatim")
            except csv.Error as exc:
                raise InputError(f"{self.label}: not readable as CSV ({exc})") from None
            if verbatim.header is not None and verbatim.consistency >= lenient.consistency:
                self.mode, shape = "verbatim", verbatim
                self.notes.append("quotes in this file are not CSV quoting: cells read exactly as written")
            else:
                shape = lenient
                if shape.last and any("\n" in c or "\r" in c for c in shape.last):
                    self._check_last_record_closed(shape.last_line)
        if shape.header is None:
            raise InputError(f"{self.label} is empty: expected a header row, then one row per product")
        self.raw_header = shape.header
        if self.raw_header and self.raw_header[0].startswith("\ufeff"):
            self.raw_header[0] = self.raw_header[0][1:]
        self.total, self.blank_lines = shape.total, shape.blank_lines
        self.short_rows, self.long_rows = shape.short_rows, shape.long_rows
        self.names, notes = _unique_names(self.raw_header, shape.width)
        self.notes += notes
        if self.long_rows:
            extra = ", ".join(self.names[len(self.raw_header) :])
            self.notes.append(f"{_count(self.long_rows, 'row')} with more fields than the header: kept in {extra}")
        if self.short_rows:
            self.notes.append(
                f"{_count(self.short_rows, 'row')} with fewer fields than the header: padded with empty cells"
            )
        if self.blank_lines:
            self.notes.append(f"{_count(self.blank_lines, 'blank line')} skipped (not rows)")

    def _check_last_record_closed(self, line: int) -> None:
        """A stray opening quote makes the rest of the file one cell; say so instead of silently merging rows."""
        assert self._text is not None
        self._text.seek(0)
        lines = iter(self._text)
        for _ in range(line - 1):
            next(lines, None)
        try:
            for _ in csv.reader(lines, delimiter=self.delimiter or ",", strict=True):
                pass
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise InputError(
                    f'{self.label}: line {line}: a quoted cell starts here and never ends (a stray " ?): '
                    "fix the quote, or every later row would be merged into this cell"
                ) from None

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(first physical line, cells padded to len(names)) of every data row, in order."""
        width = len(self.names)
        header_skipped = False
        for line, record in self._raw_records():
            if not record:
                continue
            if not header_skipped:
                header_skipped = True
                continue
            if len(record) < width:
                record = record + [""] * (width - len(record))
            yield line, record

    # -- the description column --

    def find_column(self, requested: str | None) -> int:
        """Index of the description column: `requested` (name, output name, or 1-based position) or found by name."""
        header = [h.strip() for h in self.raw_header]
        seen = ", ".join(self.names) or "none"
        if requested is not None:
            want = requested.strip()
            for candidates in (header, self.names):
                if want in candidates:
                    return candidates.index(want)
            folded = [_norm_name(h) for h in header]
            if _norm_name(want) in folded:
                return folded.index(_norm_name(want))
            if want.isdigit() and 1 <= int(want) <= len(self.names):
                return int(want) - 1
            close = difflib.get_close_matches(want, header + self.names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"{self.label}: no column {requested!r}{hint}; columns seen: {seen}")
        if (found := description_column(header)) is not None:
            return header.index(found)
        raise InputError(
            f"{self.label}: no description column (looked for {', '.join(DESCRIPTION_NAMES)}); "
            f"columns seen: {seen}; name the column with --column NAME"
        )


def _open_binary(path: str) -> BinaryIO:
    if path == "-":
        # A real file (not SpooledTemporaryFile, which is no io.BufferedIOBase before Python 3.11): the input is read
        # twice, and can be larger than memory.
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by Table.close
        source = sys.stdin.buffer
        while block := source.read(1 << 20):
            spool.write(block)
        spool.seek(0)
        return spool  # type: ignore[return-value]
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"cannot read {path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"cannot read {path}: it is a directory") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_table_header(path: str, encoding: str | None = None) -> tuple[list[str], str | None]:
    """Column names (as they will appear in the output) and the detected description column (None if not found).

    Reads the whole file once (to count rows and columns). Raises InputError for an unusable file.
    """
    if path == "-":
        raise InputError("read_table_header needs a file, not standard input")
    with Table(path, encoding) as table:
        try:
            return list(table.names), table.names[table.find_column(None)]
        except InputError:
            return list(table.names), None


# ---- classifying --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """One row's result: what is counted (tier, needs_review, error) and what is written (cells or record)."""

    tier: str  # "" when the row failed
    needs_review: bool
    error: str
    cells: tuple[str, ...]  # CSV result columns, in RESULT_COLUMNS order
    record: dict | None = None  # JSONL: Assessment.to_dict(lang); None for CSV output or a failed row


def _number(x: float) -> str:
    return repr(round(float(x), 4))


def failed(message: str) -> Outcome:
    cells = [""] * len(RESULT_COLUMNS)
    cells[RESULT_COLUMNS.index("needs_review")] = "true"
    cells[ERROR_INDEX] = message
    return Outcome("", True, message, tuple(cells))


def outcome_of(result: Any, fmt: str, lang: str) -> Outcome:
    """The Outcome of one `Engine.assess_many` item (an Assessment or a RiskclassError)."""
    if isinstance(result, RiskclassError):
        return failed(result.message)
    a = result
    cells = (
        a.tier,
        _number(a.confidence),
        ";".join(h.id for h in a.criteria),
        ";".join(h.id for h in a.red_flags),
        "true" if a.needs_review else "false",
        ";".join(o.id for o in a.obligations),
        "",
        ";".join(h.id for h in a.possible),
        ";".join(str(m.item) for m in a.article50 if m.triggered),
        a.decided_by,
        " | ".join(q.text.get(lang) for q in a.questions),
    )
    return Outcome(a.tier, a.needs_review, "", cells, a.to_dict(lang) if fmt == "jsonl" else None)


class ProbabilitiesOnly:
    """The model's probabilities without its per-row top terms.

    The CSV output shows no terms, and ranking them is a large share of the model's time per row; the probabilities
    (all the engine decides on) come from the model's own `predict_proba_normalised`, so tiers, confidence and review
    flags are identical (a test checks). JSONL output keeps the full model.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.sha256 = model.sha256

    def opinion(self, text: Any) -> Any:
        return self.opinions([text])[0]

    def opinions(self, texts: list) -> list:
        from riskclass.engine import ModelOpinion

        rows = self.model.predict_proba_normalised([t.text for t in texts])
        return [ModelOpinion({t: row[t] for t in TIERS}) for row in rows]


def _for_format(engine: Engine, fmt: str) -> Engine:
    """The engine to run for `fmt`: for CSV, the same rules with a probabilities-only view of the model."""
    model = engine.model
    if fmt != "csv" or model is None or not hasattr(model, "predict_proba_normalised"):
        return engine
    from riskclass.engine import Engine

    return Engine(rulebook=engine.rulebook, model=ProbabilitiesOnly(model))


class Classifier:
    """Classifies lists of descriptions into Outcomes; identical descriptions are assessed once (bounded cache)."""

    def __init__(self, engine: Engine, fmt: str, lang: str) -> None:
        self.engine = _for_format(engine, fmt)
        self.fmt = fmt
        self.lang = lang
        self.cache: OrderedDict[str, Outcome] = OrderedDict()
        self.assessed = 0  # distinct descriptions sent to the engine

    def __call__(self, descriptions: list[str]) -> list[Outcome]:
        known: dict[str, Outcome] = {}
        todo: list[str] = []
        for d in descriptions:
            if d in known:
                continue
            hit = self.cache.get(d)
            if hit is not None:
                self.cache.move_to_end(d)
                known[d] = hit
            else:
                known[d] = None  # type: ignore[assignment] - filled below
                todo.append(d)
        if todo:
            self.assessed += len(todo)
            for d, oc in zip(todo, self._assess(todo), strict=True):
                known[d] = oc
                if len(d) <= CACHE_MAX_CHARS:
                    self.cache[d] = oc
            while len(self.cache) > RESULT_CACHE_ROWS:
                self.cache.popitem(last=False)
        return [known[d] for d in descriptions]

    def _assess(self, descriptions: list[str]) -> list[Outcome]:
        try:
            results = self.engine.assess_many(descriptions)
        except Exception:  # a bug hit by one row must not sink its chunk: retry row by row
            results = []
            for d in descriptions:
                try:
                    results.extend(self.engine.assess_many([d]))
                except Exception as exc:
                    results.append(RiskclassError(f"internal error on this row: {type(exc).__name__}: {exc}"))
        return [outcome_of(r, self.fmt, self.lang) for r in results]


# Worker processes (--jobs N): one engine per process, built on the first chunk and kept for the next ones.
_worker_classifiers: dict[tuple, Classifier] = {}


def _classify_in_worker(spec: Any, descriptions: list[str], fmt: str, lang: str) -> list[Outcome]:
    if isinstance(spec, tuple):
        key = (*spec, fmt, lang)
        classifier = _worker_classifiers.get(key)
        if classifier is None:
            classifier = _worker_classifiers[key] = Classifier(_engine_from_spec(spec[0]), fmt, lang)
    else:  # an Engine the caller built (a custom model or rulebook): shipped with every chunk
        classifier = Classifier(spec, fmt, lang)
    return classifier(descriptions)


def _engine_from_spec(spec: str) -> Engine:
    from riskclass.engine import Engine

    if spec == "rules":
        return Engine(model=None)
    from riskclass.model import load_shipped_model

    return Engine(model=load_shipped_model())


def _worker_spec(engine: Engine | None, options: BatchOptions) -> Any:
    """How a worker gets its engine: ("rules",), ("shipped",) (loaded once per worker), or the Engine itself."""
    if engine is None:
        return ("rules",) if options.rules_only else ("shipped",)
    from riskclass.rulebook import load_rulebook

    if engine.rulebook is not load_rulebook():
        return engine
    if engine.model is None:
        return ("rules",)
    try:
        from riskclass.model import read_manifest, shipped_model_dir

        if engine.model.sha256 == read_manifest(shipped_model_dir())["model_sha256"]:
            return ("shipped",)
    except RiskclassError:
        pass
    loaded = getattr(sys.modules.get("riskclass.model"), "_loaded", None)
    return ("shipped",) if loaded is not None and engine.model is loaded else engine


def _default_engine(options: BatchOptions) -> Engine:
    return _engine_from_spec("rules" if options.rules_only else "shipped")


# ---- writing ------------------------------------------------------------------------------------------------------


def guard_formula(cell: str) -> str:
    """`cell` as a spreadsheet will show but never run it: a leading ' before =, +, -, @, tab or CR (not numbers)."""
    if cell and cell[0] in FORMULA_LEADERS and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def _printable(cell: str) -> str:
    """Undecodable input bytes (kept as lone surrogates while reading) as U+FFFD, which UTF-8 can hold."""
    return _UNDECODABLE.sub("\ufffd", cell)


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
            cells = [guard_formula(c) if c and c[0] in FORMULA_LEADERS else c for c in cells]
        self.writer.writerow(cells)

    def write(self, row: int, cells: list[str], outcome: Outcome, clean: bool) -> None:
        self.writerow([*cells, *outcome.cells], clean=clean)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


class _JsonlWriter:
    def __init__(self, stream: BinaryIO, names: list[str]) -> None:
        self.text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        self.names = names

    def write(self, row: int, cells: list[str], outcome: Outcome, clean: bool) -> None:
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


# ---- the run ------------------------------------------------------------------------------------------------------


def _check_paths(options: BatchOptions) -> None:
    if options.format not in ("csv", "jsonl"):
        raise InputError(f"--format must be csv or jsonl, not {options.format!r}")
    if options.excel and options.format != "csv":
        raise InputError("--excel applies to CSV output only")
    if options.jobs < 0:
        raise InputError(f"--jobs must be 1 or more (0: every core), not {options.jobs}")
    if options.chunk_rows < 1:
        raise InputError("chunk_rows must be at least 1")
    if options.lang not in ("zh", "en"):
        raise InputError(f"--lang must be zh or en, not {options.lang!r}")
    out = options.output
    if out == "-":
        return
    if out.lower().endswith((".xlsx", ".xls")):
        raise InputError(f"{out}: batch writes CSV or JSONL; name the output .csv (add --excel to open it in Excel)")
    if os.path.isdir(out):
        raise InputError(f"{out} is a directory: give the output file's name")
    directory = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(directory):
        raise InputError(f"cannot write {out}: the directory {directory} does not exist")
    if (
        options.input != "-"
        and os.path.exists(out)
        and os.path.exists(options.input)
        and os.path.samefile(options.input, out)
    ):
        raise InputError(f"{out} is the input file: write the results to another file")
    if os.path.exists(out) and not options.force:
        raise InputError(f"{out} already exists: pass --force to replace it, or choose another name")


def _chunks(records: Iterator[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _undecodable_error(encoding: str | None) -> Outcome:
    return failed(
        f"the description has bytes that are not valid {encoding or 'text'}: fix them, or pass --encoding "
        "if the whole file is in another encoding"
    )


@dataclass
class _Chunk:
    rows: list[tuple[int, list[str]]]
    clean: bool  # no undecodable bytes in any of its cells
    todo: list[int]  # positions whose description goes to the engine
    descriptions: list[str]
    replaced: int = 0  # cells other than the description with undecodable bytes (written with U+FFFD)


def _prepare(rows: list[tuple[int, list[str]]], column: int, watch_bytes: bool) -> _Chunk:
    chunk = _Chunk(rows, True, [], [])
    for i, (_, cells) in enumerate(rows):
        if watch_bytes:
            bad = [j for j, c in enumerate(cells) if _UNDECODABLE.search(c)]
            if bad:
                chunk.clean = False
                chunk.replaced += sum(1 for j in bad if j != column)
                if column in bad:
                    continue
        chunk.todo.append(i)
        chunk.descriptions.append(cells[column])
    return chunk


def _merge(chunk: _Chunk, outcomes: list[Outcome], encoding: str | None) -> list[Outcome]:
    """Outcomes for every row of the chunk: the engine's, and an error where the description did not decode."""
    if len(chunk.todo) == len(chunk.rows):
        return outcomes
    merged = [_undecodable_error(encoding)] * len(chunk.rows)
    for i, oc in zip(chunk.todo, outcomes, strict=True):
        merged[i] = oc
    return merged


def _classified(
    table: Table,
    column: int,
    engine: Engine | None,
    options: BatchOptions,
    cancel: threading.Event | None,
) -> Iterator[tuple[_Chunk, list[Outcome]]]:
    """Chunks of rows with their outcomes, in input order, classified here or in worker processes."""
    start_seen = _undecodable_seen[0]

    def prepared() -> Iterator[_Chunk]:
        for rows in _chunks(table.records(), options.chunk_rows):
            if cancel is not None and cancel.is_set():
                return
            yield _prepare(rows, column, _undecodable_seen[0] != start_seen)

    jobs = options.jobs or os.cpu_count() or 1
    fmt = "jsonl" if options.reports else options.format  # a report needs the whole assessment, as JSONL does
    if jobs == 1:
        classify = Classifier(engine or _default_engine(options), fmt, options.lang)
        for chunk in prepared():
            yield chunk, _merge(chunk, classify(chunk.descriptions), table.encoding)
        return

    from joblib import Parallel, delayed

    spec = _worker_spec(engine, options)
    pending: deque[_Chunk] = deque()

    def tasks() -> Iterator[Any]:
        for chunk in prepared():
            pending.append(chunk)
            yield delayed(_classify_in_worker)(spec, chunk.descriptions, fmt, options.lang)

    results = Parallel(n_jobs=jobs, backend="loky", return_as="generator", pre_dispatch="2*n_jobs")(tasks())
    try:
        for outcomes in results:
            chunk = pending.popleft()
            yield chunk, _merge(chunk, outcomes, table.encoding)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stops dispatching and lets the workers go when the run ends early


def run_batch(
    options: BatchOptions,
    engine: Engine | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    cancel: threading.Event | None = None,
) -> BatchSummary:
    """Classify every row of `options.input` into `options.output`.

    Raises InputError for unusable input or arguments; a cancelled run leaves no output file and raises
    BatchCancelled. `engine` defaults to the shipped model and rules (rules only with `options.rules_only`).
    `progress(rows_done, total)` is called after each chunk is written.
    """
    _check_paths(options)
    started = time.monotonic()
    tiers = dict.fromkeys(TIERS, 0)
    rows_out = needs_review = errors = replaced = 0
    failed_rows: list[tuple[int, str]] = []
    with Table(options.input, options.encoding, options.delimiter, options.sheet) as table:
        column = table.find_column(options.column)
        reports = _report_directory(options)
        id_index = _report_id_column(table.names, options) if reports else None
        if progress is not None:
            progress(0, table.total)
        output = AtomicOutput(options.output)
        with output as stream, reports or contextlib.nullcontext():
            writer: _CsvWriter | _JsonlWriter
            if options.format == "jsonl":
                writer = _JsonlWriter(stream, table.names)
            else:
                extra = ["report"] if reports else []
                writer = _CsvWriter(
                    stream, [*table.names, *RESULT_COLUMNS, *extra], options.excel, options.formula_guard
                )
            for chunk, outcomes in _classified(table, column, engine, options, cancel):
                replaced += chunk.replaced
                for (_, cells), oc in zip(chunk.rows, outcomes, strict=True):
                    rows_out += 1
                    if reports:
                        oc = _with_report(reports, oc, cells, id_index, column, rows_out, options.format)
                    writer.write(rows_out, cells, oc, chunk.clean)
                    if oc.error:
                        errors += 1
                        if len(failed_rows) < 5:
                            failed_rows.append((rows_out, oc.error))
                    else:
                        tiers[oc.tier] += 1
                        needs_review += oc.needs_review
                if progress is not None:
                    progress(rows_out, table.total)
                if cancel is not None and cancel.is_set():
                    break
            if cancel is not None and cancel.is_set():
                raise BatchCancelled("cancelled: no output file was written")
            if rows_out != table.total:  # never expected: the promise of this command is that this cannot happen
                raise RiskclassError(f"internal error: read {table.total} rows but wrote {rows_out}; output discarded")
            writer.close()
            if reports:
                reports.commit()
            output.commit()
        notes = list(table.notes)
        if replaced:
            notes.append(f"{_count(replaced, 'cell')} with bytes not valid in {table.encoding}: written with \ufffd")
        summary = BatchSummary(
            rows_in=table.total,
            rows_out=rows_out,
            tiers=tiers,
            needs_review=needs_review,
            errors=errors,
            output=options.output,
            encoding=table.encoding,
            delimiter=table.delimiter,
            column=table.names[column],
            blank_lines=table.blank_lines,
            seconds=time.monotonic() - started,
            notes=notes,
            failed_rows=failed_rows,
            reports=reports.written if reports else 0,
        )
        if reports and errors:
            summary.notes.append(f"{_count(errors, 'row')} with an error: no report (see the error column)")
    return summary


def _report_directory(options: BatchOptions) -> Any:
    if not options.reports:
        return None
    from riskclass.reports import ReportDirectory

    return ReportDirectory(options.reports, options.report_format, options.lang, options.force)


def _report_id_column(names: list[str], options: BatchOptions) -> int | None:
    from riskclass.reports import find_id_column

    return find_id_column(names, options.id_column)


def _with_report(
    reports: Any, oc: Outcome, cells: list[str], id_index: int | None, column: int, row: int, fmt: str
) -> Outcome:
    """Write the row's report (none for a failed row) and name it in the row's output."""
    if oc.error or oc.record is None:
        return replace(oc, cells=(*oc.cells, ""), record=None)
    name = reports.write(cells[id_index] if id_index is not None else "", row, oc.record, cells[column])
    return replace(oc, cells=(*oc.cells, name), record={**oc.record, "report": name} if fmt == "jsonl" else None)


# ---- comparing two runs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierChange:
    """A row whose tier differs between two outputs of the same input (or that is in only one of them)."""

    row: int | None  # 1-based data row in the new output; None when the row is only in the previous one
    previous_row: int | None  # None when the row is only in the new output
    description: str
    previous_tier: str  # "" when that row failed, or is absent
    tier: str
    previous_criteria: str
    criteria: str


@dataclass
class Comparison:
    rows: int
    previous_rows: int
    changes: list[TierChange]

    @property
    def moves(self) -> Counter[tuple[str, str]]:
        """(previous tier, tier) → rows, among rows present in both."""
        return Counter(
            (c.previous_tier or "error", c.tier or "error")
            for c in self.changes
            if c.row is not None and c.previous_row is not None
        )


COMPARE_COLUMNS = ("row", "previous_row", "previous_tier", "tier", "previous_criteria", "criteria", "description")


def _output_rows(path: str, column: str | None) -> Iterator[tuple[int, str, str, str]]:
    """(row, description, tier, criteria) of each row of a `riskclass batch` output (CSV or JSONL)."""
    with _open_binary(path) as fh:
        head = fh.read(4096).lstrip(codecs.BOM_UTF8).lstrip()
    if path.lower().endswith((".jsonl", ".ndjson")) or head.startswith(b"{"):
        yield from _jsonl_rows(path, column)
        return
    with Table(path) as table:
        header = [h.strip() for h in table.raw_header]
        missing = [c for c in ("tier", "criteria") if c not in header]
        if missing:
            raise InputError(f"{path} is not a riskclass batch output: no {' or '.join(missing)} column")
        # The result columns come after the input's: take the last column of each name.
        tier_at = len(header) - 1 - header[::-1].index("tier")
        crit_at = len(header) - 1 - header[::-1].index("criteria")
        desc_at = table.find_column(column)
        for row, (_, cells) in enumerate(table.records(), start=1):
            yield row, cells[desc_at], cells[tier_at], cells[crit_at]


def _jsonl_rows(path: str, column: str | None) -> Iterator[tuple[int, str, str, str]]:
    with open(path, encoding="utf-8-sig") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                inputs = obj["input"]
            except (ValueError, KeyError, TypeError):
                raise InputError(f"{path}:{n}: not a riskclass batch JSONL line") from None
            if column is not None and column in inputs:
                desc_key = column
            else:
                desc_key = description_column(inputs)
                if desc_key is None:
                    raise InputError(f"{path}:{n}: no description column in `input`; pass --column NAME")
            criteria = ";".join(c["id"] if isinstance(c, dict) else str(c) for c in obj.get("criteria") or [])
            yield obj.get("row", n), str(inputs[desc_key]), obj.get("tier") or "", criteria


def compare_outputs(previous: str, new: str, column: str | None = None) -> Comparison:
    """Rows whose tier changed between two batch outputs of the same input.

    Rows are matched by their description (the k-th occurrence of a text with the k-th), so rows inserted, removed or
    moved between the runs are still paired; rows in only one output are listed as changes with the other side empty.
    """
    earlier: dict[str, deque[tuple[int, str, str]]] = {}
    previous_rows = 0
    for row, desc, tier, crit in _output_rows(previous, column):
        previous_rows += 1
        earlier.setdefault(desc, deque()).append((row, tier, crit))
    changes: list[TierChange] = []
    rows = 0
    for row, desc, tier, crit in _output_rows(new, column):
        rows += 1
        queue = earlier.get(desc)
        if not queue:
            changes.append(TierChange(row, None, desc, "", tier, "", crit))
            continue
        prev_row, prev_tier, prev_crit = queue.popleft()
        if prev_tier != tier:
            changes.append(TierChange(row, prev_row, desc, prev_tier, tier, prev_crit, crit))
    gone = [(r, d, t, c) for d, q in earlier.items() for r, t, c in q]
    changes += [TierChange(None, r, d, t, "", c, "") for r, d, t, c in sorted(gone)]
    return Comparison(rows, previous_rows, changes)


# ---- command line -------------------------------------------------------------------------------------------------

EPILOG = """\
output columns:
  every input column, then tier, confidence, criteria, red_flags, needs_review,
  obligations, error, possible_criteria, article50, decided_by, questions. A row that
  cannot be classified (empty, over 100,000 characters, undecodable bytes) gets an
  error and an empty tier; the run goes on.
reading:
  UTF-8 (with or without BOM), UTF-16 and GB18030/GBK are detected (--encoding forces
  one) and , tab ; delimiters sniffed. Blank lines are skipped; short rows are padded,
  extra fields kept as extra_1, extra_2, ...; blank or repeated header names are made
  unique, and an input column named like a result column becomes input_NAME.
formula guard:
  in CSV output a cell starting with = + - @ tab or CR gets a leading ' so that a
  spreadsheet shows it as text instead of running it (plain numbers are left alone).
  It is the only change made to an input cell; --no-formula-guard turns it off.
safety:
  written to a hidden .partial file beside OUTPUT and renamed when complete; never
  overwrites INPUT, nor OUTPUT without --force.
exit status:
  0 every row classified; 3 finished, some rows carry an error; 2 unusable input or
  arguments.
compare:
  riskclass batch NEW_OUT.csv --compare PREVIOUS_OUT.csv lists the rows whose tier
  changed (CSV on standard output, or -o FILE)."""


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT", help="CSV, TSV or .xlsx file, or - for standard input")
    p.add_argument("-o", "--output", metavar="OUTPUT", help="output file (.csv or .jsonl), or - for standard output")
    p.add_argument("--column", metavar="NAME", help="the description column (default: found by name)")
    p.add_argument(
        "--format", choices=["csv", "jsonl"], help="output format (default: jsonl for a .jsonl OUTPUT, else csv)"
    )
    p.add_argument("--excel", action="store_true", help="CSV with a UTF-8 byte-order mark, for Excel")
    p.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="worker processes for big files (default 1; 0: all cores)"
    )
    p.add_argument("--encoding", metavar="ENC", help="force the input encoding (default: detected)")
    p.add_argument("--delimiter", metavar="CHAR", help="force the input delimiter: , ; or tab (default: sniffed)")
    p.add_argument("--sheet", metavar="NAME", help="worksheet of an .xlsx input (default: the active one)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of questions and JSON texts")
    p.add_argument("--rules-only", action="store_true", help="do not consult the model")
    p.add_argument("--no-formula-guard", action="store_true", help="write cells starting with = + - @ unchanged")
    p.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    p.add_argument(
        "--reports",
        metavar="DIR",
        help="also write one report per row into DIR (a new or empty directory; --force adds to a non-empty one)",
    )
    p.add_argument(
        "--report-format", choices=["html", "md", "json"], default="html", help="format of --reports (default html)"
    )
    p.add_argument(
        "--id-column",
        metavar="NAME",
        help="column naming each report file (default: a column called id, 编号, 序号 …, else row-N)",
    )
    p.add_argument(
        "--compare",
        metavar="PREVIOUS",
        help="INPUT is a batch output: list its rows whose tier differs from the output PREVIOUS",
    )


def add_parser(subparsers: Any) -> None:
    """Register `riskclass batch` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "batch",
        help="classify every row of a CSV/TSV/xlsx file",
        description="Classify every row of a CSV, TSV or .xlsx file into a copy with the result columns added.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _configure(p)


class ProgressBar:
    """A one-line progress bar with rows/s and ETA, redrawn at most ten times a second (for a terminal)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.drawn = 0.0
        self.visible = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.drawn < 0.1 and done != total:
            return
        self.drawn = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        if total:
            share = done / total
            bar = "█" * int(share * 24) + "·" * (24 - int(share * 24))
            eta = (total - done) / rate if rate > 0 else 0
            line = f"{bar} {share:4.0%}  {done:,}/{total:,} rows  {rate:,.0f} rows/s  ETA {_clock(eta)}"
        else:
            line = f"{done:,} rows  {rate:,.0f} rows/s"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.visible = True

    def clear(self) -> None:
        if self.visible:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.visible = False


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else (f"{seconds // 60}:{seconds % 60:02d}")
    )


def _print_summary(s: BatchSummary, out: Any) -> None:
    rate = s.rows_out / s.seconds if s.seconds > 0 else 0.0
    where = "standard output" if s.output == "-" else s.output
    delim = {"\t": "tab", None: "-"}.get(s.delimiter, repr(s.delimiter))
    read = f"{s.encoding}, delimiter {delim}, " if s.encoding else ""
    print(
        f"riskclass batch: {s.rows_in:,} rows in, {s.rows_out:,} rows out → {where} "
        f"({read}column {s.column!r}; {s.seconds:.1f} s, {rate:,.0f} rows/s)",
        file=out,
    )
    tiers = " · ".join(f"{t} {s.tiers.get(t, 0):,}" for t in TIERS)
    print(f"  {tiers} · needs_review {s.needs_review:,} · errors {s.errors:,}", file=out)
    if s.reports:
        print(f"  reports: {s.reports:,} written", file=out)
    for row, message in s.failed_rows:
        print(f"  row {row}: {message}", file=out)
    if s.errors > len(s.failed_rows):
        print(f"  … and {s.errors - len(s.failed_rows):,} more rows with an error (see the error column)", file=out)
    for note in s.notes:
        print(f"  note: {note}", file=out)


def _cmd_compare(args: argparse.Namespace) -> int:
    comparison = compare_outputs(args.compare, args.input, args.column)
    output = AtomicOutput(args.output or "-")
    if args.output and args.output != "-" and os.path.exists(args.output) and not args.force:
        raise InputError(f"{args.output} already exists: pass --force to replace it, or choose another name")
    with output as stream:
        writer = _CsvWriter(stream, list(COMPARE_COLUMNS), args.excel, not args.no_formula_guard)
        for c in comparison.changes:
            writer.writerow(
                [
                    "" if c.row is None else str(c.row),
                    "" if c.previous_row is None else str(c.previous_row),
                    c.previous_tier,
                    c.tier,
                    c.previous_criteria,
                    c.criteria,
                    c.description,
                ]
            )
        writer.close()
        output.commit()
    moves = ", ".join(f"{a}→{b} {n:,}" for (a, b), n in comparison.moves.most_common())
    only_new = sum(1 for c in comparison.changes if c.previous_row is None)
    only_old = sum(1 for c in comparison.changes if c.row is None)
    print(
        f"riskclass batch --compare: {comparison.rows:,} rows (previous {comparison.previous_rows:,}); "
        f"{sum(comparison.moves.values()):,} changed tier{': ' + moves if moves else ''}"
        + (f"; {only_new:,} only in {args.input}" if only_new else "")
        + (f"; {only_old:,} only in {args.compare}" if only_old else ""),
        file=sys.stderr,
    )
    return ExitCode.OK


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def cmd_batch(args: argparse.Namespace) -> int:
    """Run `riskclass batch` from parsed arguments; returns the exit status (CONTRACT.md)."""
    if args.compare:
        return _cmd_compare(args)
    if not args.output:
        raise InputError("batch needs -o OUTPUT (the file to write the results to)")
    fmt = args.format or ("jsonl" if args.output.lower().endswith((".jsonl", ".ndjson")) else "csv")
    options = BatchOptions(
        input=args.input,
        output=args.output,
        column=args.column,
        format=fmt,
        excel=args.excel,
        jobs=args.jobs,
        encoding=args.encoding,
        force=args.force,
        lang=args.lang,
        rules_only=args.rules_only,
        delimiter=args.delimiter,
        sheet=args.sheet,
        formula_guard=not args.no_formula_guard,
        reports=args.reports,
        report_format=args.report_format,
        id_column=args.id_column,
    )
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.no_progress else None
    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so the temporary file is removed on the way out.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        summary = run_batch(options, progress=bar)
    except (KeyboardInterrupt, BatchCancelled):
        if bar is not None:
            bar.clear()
        print("riskclass: interrupted: no output written", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.clear()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    _print_summary(summary, sys.stderr)
    return summary.exit_code


def main(argv: Iterable[str] | None = None) -> int:
    """`python -m riskclass.batch …`: the `riskclass batch` command, with the CLI's error handling and exit codes."""
    from riskclass.cli import main as cli_main

    return cli_main(["batch", *(sys.argv[1:] if argv is None else list(argv))])


if __name__ == "__main__":
    sys.exit(main())
