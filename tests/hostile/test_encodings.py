"""Hostile inputs to `riskclass batch` (issue #12): mixed and unexpected encodings, special files, .xlsx bombs.

Each example-based test failed on the code before the fix; the properties run random descriptions in random
encodings (and random garbage bytes) through the batch in-process with the real rules.
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskclass.cli.batch as batch_cli
from riskclass.batch.run import BatchOptions, run_batch

SIMPLIFIED = [
    "银行贷款申请人信用评分模型",
    "医院用人脸识别挂号系统",
    "客服聊天机器人回答常见问题",
    "为招聘筛选简历的打分工具",
]
TRADITIONAL = [
    "銀行貸款申請人信用評分模型",
    "醫院用人臉辨識掛號系統",
    "客服聊天機器人回答常見問題",
    "為招聘篩選履歷的打分工具",
]
ENGLISH = ["a scoring model that screens loan applicants", "a chatbot answering customer questions"]


def run_main(*argv: str) -> int:
    """`riskclass batch ARGV --lang en`: these tests read the English summary (Chinese is the default)."""
    return batch_cli.main([*argv, "--lang", "en"])


def table_bytes(rows: list[str], encoding: str, header: str = "id,description") -> bytes:
    return (header + "\n" + "".join(f"{i},{r}\n" for i, r in enumerate(rows, 1))).encode(encoding)


def read_rows(path: Path) -> list[dict[str, str]]:
    """An output's rows by column; the BOM an input from Excel gets (test_lang_config.py) is not part of a name."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def tiers_of(tmp_path: Path, rows: list[str]) -> list[str]:
    """The tiers the rules give these descriptions read from a plain UTF-8 file: what every encoding must give."""
    src, out = tmp_path / "reference.csv", tmp_path / "reference.out.csv"
    src.write_bytes(table_bytes(rows, "utf-8"))
    assert run_main(str(src), "-o", str(out), "--rules-only", "--force") == 0
    return [r["tier"] for r in read_rows(out)]


# ---- 1. mixed or unexpected encodings ------------------------------------------------------------------------------


def test_a_file_pasted_from_utf8_and_gbk_exports_is_read_row_by_row_and_exits_3(tmp_path, capsys):
    # before: read as GB18030 whole, the UTF-8 rows garbled and classified as garbled, exit 0
    src, out = tmp_path / "pasted.csv", tmp_path / "out.csv"
    gbk_rows = "".join(f"{i},{r}\n" for i, r in enumerate(SIMPLIFIED[2:], 3)).encode("gbk")
    src.write_bytes(table_bytes(SIMPLIFIED[:2], "utf-8") + gbk_rows)
    assert run_main(str(src), "-o", str(out), "--rules-only") == 3
    err = capsys.readouterr().err
    assert "disagree about the encoding" in err and "utf-8" in err and "gb18030" in err
    rows = read_rows(out)
    assert [r["description"] for r in rows] == SIMPLIFIED
    assert [r["tier"] for r in rows] == tiers_of(tmp_path, SIMPLIFIED)


def test_a_row_valid_in_no_encoding_keeps_its_bytes_escaped_and_is_not_classified(tmp_path, capsys):
    # before: the row's bytes read as GB18030 mojibake ("\xfe\x80" is a valid GB18030 character) and U+FFFD
    src, out = tmp_path / "broken.csv", tmp_path / "out.csv"
    src.write_bytes(table_bytes(SIMPLIFIED[:1], "gbk") + b"2,\xff\xfe\x80 scoring\n")
    assert run_main(str(src), "-o", str(out), "--rules-only") == 3
    rows = read_rows(out)
    assert rows[1]["description"] == "\\xff\\xfe\\x80 scoring"
    assert rows[1]["tier"] == "" and "not valid" in rows[1]["error"]
    assert rows[0]["description"] == SIMPLIFIED[0] and rows[0]["tier"]
    assert "row 2:" in capsys.readouterr().err


def test_big5_and_gbk_are_told_apart(tmp_path):
    # before: Big5 read as GB18030, descriptions garbled and classified as garbled
    expected = tiers_of(tmp_path, TRADITIONAL)
    for name, rows, encoding in (("big5.csv", TRADITIONAL, "big5"), ("gbk.csv", SIMPLIFIED, "gbk")):
        src, out = tmp_path / name, tmp_path / (name + ".out.csv")
        src.write_bytes(table_bytes(rows, encoding))
        assert run_main(str(src), "-o", str(out), "--rules-only") == 0
        got = read_rows(out)
        assert [r["description"] for r in got] == rows
    assert [r["tier"] for r in read_rows(tmp_path / "big5.csv.out.csv")] == expected


def test_utf16_without_bom_and_mostly_chinese_is_detected(tmp_path):
    # before: too few zero bytes for the UTF-16 check, read as GB18030 garbage
    src, out = tmp_path / "u16.tsv", tmp_path / "out.csv"
    long = ["，".join([r, *SIMPLIFIED[:2]]) for r in SIMPLIFIED]  # ~40 characters a row: few zero bytes
    text = "编号\t产品描述\n" + "".join(f"{i}\t{r}\n" for i, r in enumerate(long, 1))
    src.write_bytes(text.encode("utf-16-le"))
    assert run_main(str(src), "-o", str(out), "--rules-only") == 0
    rows = read_rows(out)
    assert [r["产品描述"] for r in rows] == long
    assert [r["tier"] for r in rows] == tiers_of(tmp_path, long)


# ---- 2. special files ------------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_with_one_line(tmp_path, capsys):
    # before: open() blocked until the run was killed (no writer ever comes)
    fifo, out = tmp_path / "in.csv", tmp_path / "out.csv"
    os.mkfifo(fifo)
    assert run_main(str(fifo), "-o", str(out), "--rules-only") == 2
    err = capsys.readouterr().err
    assert "named pipe" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [fifo]


# ---- 3. .xlsx bombs ------------------------------------------------------------------------------------------------


def _workbook(path: Path, shared_string: str) -> None:
    """A minimal valid .xlsx whose one cell holds `shared_string` (written in pieces, deflated)."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',  # noqa: E501
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',  # noqa: E501
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',  # noqa: E501
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',  # noqa: E501
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>description</t></is></c></row><row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>',  # noqa: E501
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as book:
        for name, text in parts.items():
            book.writestr(name, text)
        with book.open("xl/sharedStrings.xml", "w") as fh:
            fh.write(
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
                b"<si><t>"
            )
            for start in range(0, len(shared_string), 1 << 20):
                fh.write(shared_string[start : start + (1 << 20)].encode("utf-8"))
            fh.write(b"</t></si></sst>")


def test_an_xlsx_that_expands_far_beyond_its_size_is_refused_before_parsing(tmp_path, capsys):
    pytest.importorskip("openpyxl")
    # before: openpyxl loaded the whole 64 MB string (twice), the row failed as too long, exit 3 after the work
    bomb, out = tmp_path / "bomb.xlsx", tmp_path / "out.csv"
    _workbook(bomb, "人" * (1 << 20) + "A" * (64 << 20))
    assert bomb.stat().st_size < 1 << 20
    assert run_main(str(bomb), "-o", str(out), "--rules-only") == 2
    err = capsys.readouterr().err
    assert "expands" in err and err.count("\n") == 1 and not out.exists()


def test_an_ordinary_xlsx_still_reads(tmp_path):
    pytest.importorskip("openpyxl")
    book, out = tmp_path / "ok.xlsx", tmp_path / "out.csv"
    _workbook(book, SIMPLIFIED[0])
    assert run_main(str(book), "-o", str(out), "--rules-only") == 0
    assert read_rows(out)[0]["description"] == SIMPLIFIED[0]


# ---- 4. properties -------------------------------------------------------------------------------------------------

PHRASES = {"simplified": SIMPLIFIED, "traditional": TRADITIONAL, "english": ENGLISH}
ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "gb18030", "big5", "utf-16"]


@st.composite
def descriptions(draw: st.DrawFn) -> str:
    """A description of one to three phrases of one script, or mixed (English with Chinese)."""
    kind = draw(st.sampled_from(["simplified", "traditional", "english", "mixed"]))
    pool = SIMPLIFIED + ENGLISH if kind == "mixed" else PHRASES[kind]
    return "，".join(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3)))


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@pytest.fixture(scope="module")
def rules_tiers(rules_engine):
    """Reference tiers of descriptions as the rules give them (memoised): what a correctly decoded row must get."""
    cache: dict[str, str] = {}

    def tier(text: str) -> str:
        if text not in cache:
            cache[text] = rules_engine.assess(text).tier
        return cache[text]

    return tier


def _run(tmp: Path, data: bytes, engine) -> tuple[object, list[dict[str, str]]]:
    src, out = tmp / "in.csv", tmp / "out.csv"
    src.write_bytes(data)
    summary = run_batch(BatchOptions(input=str(src), output=str(out), force=True), engine=engine)
    return summary, read_rows(out)


PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@PROPERTY
@given(data=st.data(), encoding=st.sampled_from(ENCODINGS))
def test_any_file_in_one_encoding_is_read_as_written(tmp_path_factory, rules_engine, rules_tiers, data, encoding):
    pool = descriptions().filter(lambda d: _encodable(d, encoding))
    rows = data.draw(st.lists(pool, min_size=1, max_size=5))
    summary, out = _run(tmp_path_factory.mktemp("one"), table_bytes(rows, encoding), rules_engine)
    assert len(out) == len(rows) == summary.rows_out
    for written, got in zip(rows, out, strict=True):
        if got["description"] != written:  # not read as written: must carry an error, never a tier
            assert got["error"] and not got["tier"], (encoding, written, got["description"])
        elif not got["error"]:
            assert got["tier"] == rules_tiers(written)


@PROPERTY
@given(
    rows=st.lists(
        st.one_of(
            st.tuples(descriptions(), st.sampled_from(["utf-8", "gbk", "gb18030", "big5"])),
            st.tuples(st.binary(min_size=1, max_size=12), st.just("bytes")),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_mixed_rows_and_garbage_never_give_a_garbled_tier(tmp_path_factory, rules_engine, rules_tiers, rows):
    lines = [b"id,description\n"]
    for i, (value, encoding) in enumerate(rows, 1):
        if encoding == "bytes":
            raw = bytes(b for b in value if b not in b'\r\n,"') or b"x"  # one cell of garbage on one line
        elif _encodable(value, encoding):
            raw = value.encode(encoding)
        else:
            raw = value.encode("utf-8")
        lines.append(f"{i},".encode() + raw + b"\n")
    summary, out = _run(tmp_path_factory.mktemp("mixed"), b"".join(lines), rules_engine)
    assert len(out) == len(rows) == summary.rows_out  # rows in = rows out, and no exception on the way
    for (value, encoding), got in zip(rows, out, strict=True):
        if encoding == "bytes":
            continue  # garbage has no text to compare with: an error, or a tier for what it decodes to
        if got["description"] != value:
            assert got["error"] and not got["tier"], (encoding, value, got["description"])
        elif not got["error"]:
            assert got["tier"] == rules_tiers(value)
