"""Reading tables people really have: CSV, TSV and .xlsx, in whatever encoding and delimiter they came in.

Encoding detection, delimiter sniffing, ragged rows and header repair, and finding the description column.
See `riskclass.batch` for how a batch uses them.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import re
import stat
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from riskclass.errors import InputError, Text

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
_UNDECODABLE = re.compile("[\udc00-\udcff]")

# Rows per chunk: large enough that the model's vectorised call and the per-chunk overhead (and, with --jobs, the
# pickling to a worker) are amortised, small enough that memory stays flat and progress moves every second or so.
CHUNK_ROWS = 1000
# Identical descriptions (an inventory lists the same product many times) are assessed once; the last this many
# distinct results are remembered across chunks. Descriptions longer than CACHE_MAX_CHARS are not remembered.
RESULT_CACHE_ROWS = 4096
CACHE_MAX_CHARS = 2000
SNIFF_CHARS = 64 * 1024  # text read to choose the delimiter
DETECT_BYTES = 4 << 20  # bytes looked at for a byte-order mark and UTF-16 without one

# What an .xlsx may expand to (sum of its parts' uncompressed sizes): a generated inventory of 20,000 rows with
# descriptions of 40-200 characters is 15 MB of XML, so the largest inventory we expect (200,000 rows, the size the
# batch is sized for) is ~150 MB; about three times that is allowed.
XLSX_MAX_EXPANDED = 512 * 2**20
# Parts larger than XLSX_RATIO_FROM may expand at most XLSX_MAX_RATIO times their compressed size: measured, 4.4× for
# that inventory and 12.4× for 100,000 rows of identical cells (the most repetitive real sheet); deflate tops out
# near 1,000× on the repeated XML a zip bomb is made of (the 296 KB workbook took 2.8 GB of memory).
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM = 1 << 20

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


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


ZH_NOUNS = {"line": "行", "row": "行", "blank line": "个空行", "cell": "个单元格"}


def _count_zh(n: int, noun: str) -> str:
    return f"{n:,} {ZH_NOUNS.get(noun, noun)}"


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


# Characters a UTF-16 table of Chinese product descriptions is made of: controls a table uses, ASCII, Latin-1 letters,
# general punctuation, CJK punctuation, the CJK Unified Ideographs block and full-width forms.
_UTF16_PLAUSIBLE = re.compile("[\t\n\r\x20-\x7e\u00a0-\u00ff\u2000-\u206f\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Share of those characters above which a decoding as UTF-16 is taken: a wrong byte order or a file in another
# encoding lands mostly in Hangul, private use and rare blocks (measured: under 50%), real descriptions at 100%.
UTF16_PLAUSIBLE_SHARE = 0.95


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a byte-order mark.

    Mostly ASCII (delimiters, digits, header letters): the zero bytes give it away. Mostly Chinese: few zero bytes,
    so the sample is decoded both ways and taken when it holds line breaks (U+000A needs a zero byte, which no
    single-byte or GBK/Big5 file has) and is made almost only of the characters a table of descriptions holds.
    """
    sample = head[:4096]
    if len(sample) < 16:
        return None
    half = len(sample) // 2
    even, odd = sample[0::2].count(0) / half, sample[1::2].count(0) / half
    guess = "utf-16-le" if odd > 0.2 and even < 0.02 else "utf-16-be" if even > 0.2 and odd < 0.02 else None
    # A UTF-16 table has line breaks as whole characters (0A 00 or 00 0A in step): NUL bytes in a UTF-8 file do not.
    if guess and (b"\n" not in sample or "\n" in sample[: len(sample) & ~1].decode(guess, errors="replace")):
        return guess
    sample = head[: SNIFF_CHARS & ~1]
    for codec in ("utf-16-le", "utf-16-be"):
        text = sample.decode(codec, errors="replace")
        if "\n" in text and len(_UTF16_PLAUSIBLE.findall(text)) >= UTF16_PLAUSIBLE_SHARE * len(text):
            return codec
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


# Legacy encodings a file that is not UTF-8 is told apart among (by charset-normalizer's language coherence):
# GB18030 (a superset of GBK and GB2312, what Excel writes on Chinese Windows) and Big5 (Taiwan, Hong Kong).
LEGACY_CANDIDATES = ("gb18030", "big5")
# Bytes of ambiguous lines given to charset-normalizer: enough text for its language statistics (a few hundred
# descriptions), small enough that detection costs milliseconds whatever the file's size.
LEGACY_SAMPLE_BYTES = 64 * 1024


# Characters that betray a wrong guess between the two: GBK's full-width punctuation (，。：) read as Big5 is Bopomofo,
# which Big5 product descriptions do not use; Big5 punctuation read as GB18030 is private-use; and Big5 has no code
# for most simplified characters (U+FFFD when read as Big5).
_NOT_BIG5 = re.compile("[\u3100-\u312f\ufffd]")
_NOT_GB18030 = re.compile("[\ue000-\uf8ff\ufffd]")


_TELL_TALES = {"big5": _NOT_BIG5, "gb18030": _NOT_GB18030}


def _readings(line: bytes) -> list[str]:
    """The legacy encodings `line` is valid in without betraying itself (`_NOT_BIG5`, `_NOT_GB18030`)."""
    found = []
    for codec in LEGACY_CANDIDATES:
        try:
            text = line.decode(codec)
        except UnicodeDecodeError:
            continue
        if not _TELL_TALES[codec].search(text):
            found.append(codec)
    return found


def _legacy_encoding(ambiguous: bytes, votes: dict[str, int]) -> str:
    """The legacy encoding of the lines that are not UTF-8: GB18030 or Big5, whichever holds more of their bytes.

    `votes` counts the non-ASCII bytes of lines that read well in only one of them; the lines that read well in both
    (`ambiguous`) go, by their bytes, to charset-normalizer's choice (language coherence). A tie: GB18030.
    """
    votes = dict(votes)
    if ambiguous:
        from charset_normalizer import from_bytes  # imported here: only files that are not UTF-8 need it

        best = from_bytes(ambiguous, cp_isolation=list(LEGACY_CANDIDATES)).best()
        if best is not None:
            codec = codecs.lookup(best.encoding).name
            votes[codec] = votes.get(codec, 0) + len(ambiguous)
    return "big5" if votes.get("big5", 0) > votes.get("gb18030", 0) else "gb18030"


def _is_ascii(line: bytes) -> bool:
    return line.isascii()


def _damaged_utf8(line: bytes) -> bool:
    """A UTF-8 line with a few corrupt bytes (at most one per DAMAGED_UTF8_RATIO characters that do decode).

    GBK or Big5 text read as UTF-8 fails on most of its characters; a UTF-8 export with a stray byte decodes around it.
    """
    text = line.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    return bad > 0 and bad * DAMAGED_UTF8_RATIO <= good


# A line is damaged UTF-8 (not another encoding) when its bad bytes are at most 1 in 4 of its non-ASCII characters:
# measured on the training corpus, GBK text read as UTF-8 has more bad bytes than good characters on every line.
DAMAGED_UTF8_RATIO = 4


@dataclass
class Detection:
    """How a file is to be decoded: its main encoding and, when some lines are not UTF-8, the legacy one."""

    encoding: str
    """The encoding of most of the file's non-ASCII lines (named in the summary)."""
    legacy: str | None = None
    """Set when the file is not wholly valid UTF-8 (nor UTF-16/32): decode line by line (see `LineDecoder`)."""


def detect(fh: BinaryIO) -> Detection:
    """How to decode a seekable binary file.

    A UTF-8, UTF-16 or UTF-32 byte-order mark wins; UTF-16 without one is recognised by `_utf16_without_bom`; a file
    that is valid UTF-8 throughout is UTF-8. Otherwise the lines that are not UTF-8 choose between GB18030 and Big5
    (`_legacy_encoding`), and the file is decoded line by line (`LineDecoder`); its main
    encoding is UTF-8 when most non-ASCII lines are UTF-8 (an export with a few corrupt bytes), else the legacy one.
    """
    fh.seek(0)
    head = fh.read(DETECT_BYTES)
    fh.seek(0)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return Detection("utf-32")
    if head.startswith(codecs.BOM_UTF8):
        return Detection("utf-8-sig")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Detection("utf-16")
    if guess := _utf16_without_bom(head):
        return Detection(guess)
    if _is_utf8(fh):
        return Detection("utf-8")
    utf8_lines = other_lines = 0
    ambiguous = bytearray()
    votes: dict[str, int] = {}
    try:
        for line in fh:
            if _is_ascii(line):
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                if _damaged_utf8(line):
                    utf8_lines += 1
                    continue
                other_lines += 1
                readings = _readings(line)
                if len(readings) == 1:
                    votes[readings[0]] = votes.get(readings[0], 0) + sum(1 for b in line if b > 0x7F)
                elif readings and len(ambiguous) < LEGACY_SAMPLE_BYTES:
                    ambiguous += line
            else:
                utf8_lines += 1
    finally:
        fh.seek(0)
    legacy = _legacy_encoding(bytes(ambiguous), votes)
    return Detection("utf-8" if utf8_lines >= other_lines else legacy, legacy)


def detect_encoding(fh: BinaryIO) -> str:
    """The main encoding of a seekable binary file (see `detect`)."""
    return detect(fh).encoding


class LineDecoder:
    """A file that is not wholly UTF-8, decoded line by line: what `csv.reader` reads instead of a TextIOWrapper.

    The rule for each physical line (lines split at LF; no byte of GBK, GB18030 or Big5 text is LF or CR):

    1. ASCII: as is.
    2. Valid UTF-8, and either not valid in the legacy encoding or holding a character beyond U+07FF (a Chinese
       character: GBK and Big5 text almost never forms such UTF-8 sequences, while UTF-8 text is often *valid*
       GB18030, as mojibake): UTF-8.
    3. UTF-8 with a few corrupt bytes (`_damaged_utf8`): UTF-8, each bad byte kept as an escape.
    4. Valid in the legacy encoding (GB18030 or Big5, see `_legacy_encoding`) without the characters a wrong reading
       betrays itself by (`_NOT_BIG5`, `_NOT_GB18030`): that encoding.
    5. Likewise in the other one: that one (a Big5 export pasted into a GBK one, or the reverse).
    6. Otherwise: ASCII, each other byte kept as U+DC00+byte (`_escape_undecodable`), so the row is marked and its
       bytes are written back escaped, never guessed.

    Each pass counts the lines read in each encoding; `counts` and `minority` hold those of the last complete pass.
    """

    def __init__(self, binary: BinaryIO, detection: Detection) -> None:
        self.binary = binary
        self.main = detection.encoding
        self.legacy = detection.legacy or "gb18030"
        self.counts: dict[str, int] = {}
        self.minority: list[int] = []  # first few line numbers read in another encoding than the main one
        self.undecodable: list[int] = []  # first few line numbers valid in no candidate
        self._counts: dict[str, int] = {}
        self._minority: list[int] = []
        self._undecodable: list[int] = []
        self._lines: Iterator[str] = iter(())
        self._pending = ""
        self.seek(0)

    def seek(self, offset: int) -> int:
        assert offset == 0, "LineDecoder only rewinds"
        self.binary.seek(0)
        self._counts, self._minority, self._undecodable = {}, [], []
        self._lines = self._decode_lines()
        self._pending = ""
        return 0

    def _decode(self, line: bytes) -> tuple[str, str | None]:
        """(text, encoding it was read in; None for ASCII, "" when valid in none)."""
        if _is_ascii(line):
            return line.decode("ascii"), None
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if _BEYOND_U07FF.search(text):
                return text, "utf-8"
            try:
                return line.decode(self.legacy), self.legacy
            except UnicodeDecodeError:
                return text, "utf-8"
        if _damaged_utf8(line):
            return line.decode("utf-8", errors=ERROR_HANDLER), "utf-8"
        readings = _readings(line)
        for codec in dict.fromkeys((self.legacy, *LEGACY_CANDIDATES)):
            if codec in readings:
                return line.decode(codec), codec
        return line.decode("ascii", errors=ERROR_HANDLER), ""  # every non-ASCII byte escaped: its text is unknown

    def _decode_lines(self) -> Iterator[str]:
        for number, line in enumerate(self.binary, start=1):
            text, codec = self._decode(line)
            if codec is not None:
                self._counts[codec or "undecodable"] = self._counts.get(codec or "undecodable", 0) + 1
                if codec == "" and len(self._undecodable) < 5:
                    self._undecodable.append(number)
                elif codec and codec != self.main and len(self._minority) < 5:
                    self._minority.append(number)
            # A lone CR ends a line for the csv module too: split there as TextIOWrapper(newline="") does.
            yield from _LINE_ENDS.findall(text) if "\r" in text[:-2] else (text,)
        self.counts, self.minority, self.undecodable = self._counts, self._minority, self._undecodable

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self._pending:
            text, self._pending = self._pending, ""
            return text
        return next(self._lines)

    def read(self, size: int = -1) -> str:
        parts = [self._pending]
        length = len(self._pending)
        for text in self._lines:
            parts.append(text)
            length += len(text)
            if 0 <= size <= length:
                break
        joined = "".join(parts)
        if size < 0:
            self._pending = ""
            return joined
        self._pending = joined[size:]
        return joined[:size]

    def detach(self) -> None:
        """Nothing to let go: the binary file is closed by its owner (as TextIOWrapper.detach leaves it open)."""

    def summary(self) -> Text | None:
        """A note when lines disagree about the encoding or decode in none, for the run's summary; else None."""
        read_in = {c: n for c, n in self.counts.items() if c != "undecodable"}
        bad = self.counts.get("undecodable", 0)
        if len(read_in) <= 1 and not bad:
            return None
        ordered = sorted(read_in.items(), key=lambda kv: -kv[1])
        parts = [f"{_count(n, 'line')} read as {c}" for c, n in ordered]
        parts_zh = [f"{_count_zh(n, 'line')}按 {c} 读取" for c, n in ordered]
        note = "lines disagree about the encoding: " + ", ".join(parts) if len(read_in) > 1 else ""
        zh = "各行编码不一致：" + "，".join(parts_zh) if len(read_in) > 1 else ""
        if self.minority:
            more = ", …" if len(self.minority) == 5 else ""
            lines = ", ".join(map(str, self.minority)) + more
            note += f" (not {self.main}: lines {lines})"
            zh += f"（不是 {self.main} 的行：{lines}）"
        if bad:
            note += "; " if note else ""
            zh += "；" if zh else ""
            lines = ", ".join(map(str, self.undecodable)) + (", …" if bad > len(self.undecodable) else "")
            note += f"{_count(bad, 'line')} valid in no encoding tried (lines {lines}): bytes written as \\xNN"
            zh += f"{_count_zh(bad, 'line')}在所试的编码中都无效（第 {lines} 行）：这些字节写作 \\xNN"
        if len(read_in) > 1:
            note += "; check those rows and save the file in one encoding (UTF-8)"
            zh += "；请检查这些行，并把文件存为同一种编码（UTF-8）"
        return Text(note, zh)
        return note

    @property
    def mixed(self) -> bool:
        """Lines were read in more than one encoding."""
        return sum(1 for c in self.counts if c != "undecodable") > 1


_BEYOND_U07FF = re.compile("[\u0800-\U0010ffff]")
_LINE_ENDS = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


# Encodings that say a CSV came from Excel on a Chinese Windows: "CSV UTF-8" (with a BOM), the legacy "CSV" (the ANSI
# code page: GBK/GB18030 on 简体, Big5 on 繁體 systems) and "Unicode Text" (UTF-16 with a BOM). Output for such a file
# gets a BOM so it opens right in Excel again (issue 13); codec names as `codecs.lookup` spells them.
EXCEL_ENCODINGS = frozenset({"utf-8-sig", "gb18030", "gbk", "gb2312", "big5", "cp950", "utf-16"})


def _resolve_encoding(name: str, fh: BinaryIO) -> str:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise InputError(
            f"unknown encoding {name!r} (try utf-8, gb18030, gbk, big5, utf-16)",
            zh=f"未知的编码 {name!r}（可试 utf-8、gb18030、gbk、big5、utf-16）",
        ) from None
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


def _unique_names(raw: list[str], width: int) -> tuple[list[str], list[Text]]:
    """Output names for the input columns (header plus extras), and notes on every name that had to change."""
    names: list[str] = []
    notes: list[Text] = []
    from riskclass.tables.write import RESULT_COLUMNS  # the columns a result table adds

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
            notes.append(Text(f"column {i + 1} has no name: called {name!r}", f"第 {i + 1} 列没有列名：称为 {name!r}"))
        elif given.strip().casefold() in taken:
            name = claim(f"input_{given.strip()}")
            notes.append(
                Text(
                    f"input column {given!r} renamed {name!r} (the result column has that name)",
                    f"输入列 {given!r} 改名为 {name!r}（结果列用了这个名字）",
                )
            )
        else:
            name = claim(given)
            if name != given:
                notes.append(
                    Text(
                        f"column {i + 1} repeats the name {given!r}: called {name!r}",
                        f"第 {i + 1} 列与前面的列同名 {given!r}：称为 {name!r}",
                    )
                )
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
        self.notes: list[Text] = []  # for the run's summary, in both languages
        self.total = 0
        self.blank_lines = 0
        self.short_rows = 0
        self.long_rows = 0
        self._binary: BinaryIO | None = None
        self._text: io.TextIOWrapper | None = None
        self._lines: LineDecoder | None = None  # set when the file is decoded line by line
        self._workbooks: list[Any] = []
        self._sheets: list[Any] = []

    @property
    def from_excel(self) -> bool:
        """Whether the input looks like Excel wrote it (a workbook, or an encoding in EXCEL_ENCODINGS)."""
        return self.kind == "xlsx" or (self.encoding or "").lower() in EXCEL_ENCODINGS

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
            raise InputError(
                f"{self.label} is an old Excel .xls workbook: save it as .xlsx or as CSV UTF-8",
                zh=f"{self.label} 是旧的 Excel .xls 工作簿：请另存为 .xlsx 或“CSV UTF-8”",
            )
        detection = None
        if self.forced_encoding:
            self.encoding = _resolve_encoding(self.forced_encoding, self._binary)
        else:
            detection = detect(self._binary)
            self.encoding = detection.encoding
        if detection is not None and detection.legacy is not None:
            self._lines = LineDecoder(self._binary, detection)
            self._text = self._lines  # type: ignore[assignment] - reads like the TextIOWrapper it replaces
        else:
            self._text = io.TextIOWrapper(self._binary, encoding=self.encoding, errors=ERROR_HANDLER, newline="")
        if self.forced_delimiter:
            delim = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}.get(
                self.forced_delimiter, self.forced_delimiter
            )
            if len(delim) != 1:
                raise InputError(
                    f"--delimiter must be one character (or tab), not {self.forced_delimiter!r}",
                    zh=f"--delimiter 必须是一个字符（或 tab），而不是 {self.forced_delimiter!r}",
                )
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
                "or save it as CSV UTF-8",
                zh=f"{self.label} 是 Excel 工作簿：请安装 openpyxl（pip install openpyxl）以读取它，或另存为“CSV "
                "UTF-8”",
            ) from None
        self._check_xlsx_size()
        # Two read-only views: the values Excel cached (what the user sees) and, for cells without a cached value
        # (workbooks written by scripts), the formula text, so that no cell is read as empty.
        for data_only in (True, False):
            try:
                self._binary.seek(0)
                self._workbooks.append(openpyxl.load_workbook(self._binary, read_only=True, data_only=data_only))
            except Exception as exc:  # a damaged or non-Excel zip: one line, not a traceback
                raise InputError(
                    f"{self.label} is not a readable .xlsx workbook ({type(exc).__name__}: {exc})",
                    zh=f"{self.label} 不是可读的 .xlsx 工作簿（{type(exc).__name__}: {exc}）",
                ) from None
        names = self._workbooks[0].sheetnames
        if self.sheet is not None and self.sheet not in names:
            raise InputError(
                f"{self.label} has no sheet {self.sheet!r}; sheets: {', '.join(names)}",
                zh=f"{self.label} 中没有工作表 {self.sheet!r}；现有工作表：{', '.join(names)}",
            )
        for wb in self._workbooks:
            self._sheets.append(wb[self.sheet] if self.sheet is not None else (wb.active or wb.worksheets[0]))

    def _check_xlsx_size(self) -> None:
        """Refuse a workbook that would expand beyond what an inventory needs, from its zip directory, before parsing.

        openpyxl holds the shared strings (and, read twice, two copies) in memory: a 296 KB zip of repeated XML took
        2.8 GB. Python's zipfile never inflates a part beyond the size its directory entry declares, so the declared
        sizes are a bound that holds.
        """
        assert self._binary is not None
        try:
            with zipfile.ZipFile(self._binary) as book:
                parts = book.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise InputError(
                f"{self.label} is not a readable .xlsx workbook ({exc})",
                zh=f"{self.label} 不是可读的 .xlsx 工作簿（{exc}）",
            ) from None
        finally:
            self._binary.seek(0)
        total = sum(p.file_size for p in parts)
        if total > XLSX_MAX_EXPANDED:
            raise InputError(
                f"{self.label}: this workbook expands to {total / 2**20:,.0f} MiB, more than the "
                f"{XLSX_MAX_EXPANDED // 2**20} MiB riskclass reads: save it as CSV UTF-8, or split it",
                zh=f"{self.label}：此工作簿解压后有 {total / 2**20:,.0f} MiB，超过 riskclass 读取的上限 "
                f"{XLSX_MAX_EXPANDED // 2**20} MiB：请另存为“CSV UTF-8”，或拆分",
            )
        for p in parts:
            if p.file_size > XLSX_RATIO_FROM and p.file_size > XLSX_MAX_RATIO * max(p.compress_size, 1):
                raise InputError(
                    f"{self.label}: {p.filename} expands {p.file_size // max(p.compress_size, 1):,} times "
                    f"(to {p.file_size / 2**20:,.0f} MiB): not a workbook a spreadsheet program writes; "
                    "save it as CSV UTF-8",
                    zh=f"{self.label}：{p.filename} 解压后膨胀 {p.file_size // max(p.compress_size, 1):,} "
                    f"倍（到 {p.file_size / 2**20:,.0f} MiB）：不是电子表格程序写出的工作簿；请另存为“CSV "
                    "UTF-8”",
                )

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
                raise InputError(
                    f"{self.label}: not readable as CSV ({exc})", zh=f"{self.label}：无法按 CSV 读取（{exc}）"
                ) from None
            if verbatim.header is not None and verbatim.consistency >= lenient.consistency:
                self.mode, shape = "verbatim", verbatim
                self.notes.append(
                    Text(
                        "quotes in this file are not CSV quoting: cells read exactly as written",
                        "此文件中的引号不是 CSV 的引用符：单元格按原样读取",
                    )
                )
            else:
                shape = lenient
                if shape.last and any("\n" in c or "\r" in c for c in shape.last):
                    self._check_last_record_closed(shape.last_line)
        if shape.header is None:
            raise InputError(
                f"{self.label} is empty: expected a header row, then one row per product",
                zh=f"{self.label} 是空的：应先有一行表头，然后每个产品一行",
            )
        self.raw_header = shape.header
        if self.raw_header and self.raw_header[0].startswith("\ufeff"):
            self.raw_header[0] = self.raw_header[0][1:]
        self.total, self.blank_lines = shape.total, shape.blank_lines
        self.short_rows, self.long_rows = shape.short_rows, shape.long_rows
        self.names, notes = _unique_names(self.raw_header, shape.width)
        self.notes += notes
        if self.long_rows:
            extra = ", ".join(self.names[len(self.raw_header) :])
            self.notes.append(
                Text(
                    f"{_count(self.long_rows, 'row')} with more fields than the header: kept in {extra}",
                    f"{_count_zh(self.long_rows, 'row')}的字段比表头多：保存在 {extra}",
                )
            )
        if self.short_rows:
            self.notes.append(
                Text(
                    f"{_count(self.short_rows, 'row')} with fewer fields than the header: padded with empty cells",
                    f"{_count_zh(self.short_rows, 'row')}的字段比表头少：用空单元格补齐",
                )
            )
        if self.blank_lines:
            self.notes.append(
                Text(
                    f"{_count(self.blank_lines, 'blank line')} skipped (not rows)",
                    f"跳过 {_count_zh(self.blank_lines, 'blank line')}（不算行）",
                )
            )
        if self._lines is not None and (note := self._lines.summary()):
            self.notes.append(note)

    @property
    def encodings_tried(self) -> str | None:
        """What a row's bytes were checked against, for its error: the file's encoding, or those of `LineDecoder`."""
        if self._lines is None:
            return self.encoding
        return " or ".join(dict.fromkeys(("utf-8", self._lines.legacy, "gb18030")))

    @property
    def mixed_encodings(self) -> bool:
        """Lines of the file were read in different encodings (a file pasted together from two exports)."""
        return self._lines is not None and self._lines.mixed

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
                    "fix the quote, or every later row would be merged into this cell",
                    zh=f'{self.label}：第 {line} 行：一个带引号的单元格从这里开始却没有结束（多了一个 " ？）：'
                    "请修正引号，否则之后的每一行都会并入这个单元格",
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
            hint_zh = f"（是不是 {close[0]!r}？）" if close else ""
            raise InputError(
                f"{self.label}: no column {requested!r}{hint}; columns seen: {seen}",
                zh=f"{self.label}：没有列 {requested!r}{hint_zh}；现有的列：{seen}",
            )
        if (found := description_column(header)) is not None:
            return header.index(found)
        raise InputError(
            f"{self.label}: no description column (looked for {', '.join(DESCRIPTION_NAMES)}); "
            f"columns seen: {seen}; name the column with --column NAME",
            zh=f"{self.label}：没有描述列（查找了 {', '.join(DESCRIPTION_NAMES)}）；现有的列：{seen}；"
            "请用 --column NAME 指定",
        )


def check_input_file(path: str) -> None:
    """Refuse, before any work, an input that is not a regular file: opening a named pipe blocks until some other
    program writes to it, and a device never ends. `-` (standard input) is left to the caller."""
    if path == "-":
        return
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"cannot read {path}: no such file", zh=f"无法读取 {path}：文件不存在") from None
    except OSError as exc:
        raise InputError(
            f"cannot read {path}: {exc.strerror or exc}", zh=f"无法读取 {path}：{exc.strerror or exc}"
        ) from None
    if stat.S_ISDIR(mode):
        raise InputError(f"cannot read {path}: it is a directory", zh=f"无法读取 {path}：它是目录")
    if not stat.S_ISREG(mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        kind_zh = "命名管道（FIFO）" if stat.S_ISFIFO(mode) else "套接字" if stat.S_ISSOCK(mode) else "设备"
        raise InputError(
            f"cannot read {path}: it is {kind}, not a file; to read a stream, pass - and redirect it",
            zh=f"无法读取 {path}：它是{kind_zh}，不是文件；要读取数据流，请给出 - 并重定向",
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
    check_input_file(path)
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"cannot read {path}: no such file", zh=f"无法读取 {path}：文件不存在") from None
    except IsADirectoryError:
        raise InputError(f"cannot read {path}: it is a directory", zh=f"无法读取 {path}：它是目录") from None
    except OSError as exc:
        raise InputError(
            f"cannot read {path}: {exc.strerror or exc}", zh=f"无法读取 {path}：{exc.strerror or exc}"
        ) from None


def read_table_header(path: str, encoding: str | None = None) -> tuple[list[str], str | None]:
    """Column names (as they will appear in the output) and the detected description column (None if not found).

    Reads the whole file once (to count rows and columns). Raises InputError for an unusable file.
    """
    if path == "-":
        raise InputError(
            "read_table_header needs a file, not standard input", zh="read_table_header 需要文件，不能是标准输入"
        )
    with Table(path, encoding) as table:
        try:
            return list(table.names), table.names[table.find_column(None)]
        except InputError:
            return list(table.names), None
