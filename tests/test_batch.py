"""`riskclass batch`: every row in, every row out, whatever the file looks like.

The golden files (tests/data/batch/expected/) are about reading and writing, not about the law: they are produced
with `KeywordEngine`, a stand-in whose answers depend only on a few keywords, so that editing the rulebook or
retraining the model never changes them. Regenerate them after an intended change to the output with

    RISKCLASS_UPDATE_GOLDEN=1 python -m pytest tests/test_batch.py

and review the diff. The real engines are tested too: the rules on the same files (spot checks), and the default
model path row by row against `Engine.assess`, with --jobs 1 and 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskclass.batch.compare as compare
import riskclass.batch.run as batch
import riskclass.cli.batch as batch_cli
import riskclass.tables.read as tables_read
import riskclass.tables.write as tables_write
from riskclass.batch.compare import compare_outputs
from riskclass.batch.run import BatchCancelled, BatchOptions, run_batch
from riskclass.errors import InputError
from riskclass.tables.read import read_table_header

DATA = Path(__file__).resolve().parent / "data" / "batch"
EXPECTED = DATA / "expected"
UPDATE = os.environ.get("RISKCLASS_UPDATE_GOLDEN") == "1"
ROOT = Path(__file__).resolve().parent.parent
RESULT = list(tables_write.RESULT_COLUMNS)


class KeywordEngine:
    """A deterministic stand-in for the engine (see the module docstring): real Assessment objects, real validation."""

    model = None
    rulebook = None

    def assess_many(self, descriptions):
        from riskclass.errors import RiskclassError
        from riskclass.text.normalise import check_description

        out = []
        for d in descriptions:
            try:
                out.append(self._assess(check_description(d)))
            except RiskclassError as exc:
                out.append(exc)
        return out

    @staticmethod
    def _assess(d: str):
        from riskclass.engine.assessment import Assessment, CriterionHit, Evidence, ModelView, ObligationItem, Question
        from riskclass.rulebook.rules import Text

        high = [w for w in ("贷款", "人脸", "简历", "resume", "诊", "自动驾驶", "scores", "打分", "X光") if w in d]
        medium = [w for w in ("聊天", "对话", "机器人", "chatbot", "AIGC", "推荐", "检索") if w in d]
        words, tier, cid = (high, "high", "H9") if high else (medium, "medium", "M9") if medium else ([], "low", "")
        hits = ()
        if words:
            start = d.index(words[0])
            evidence = (Evidence(words[0], start, start + len(words[0])),)
            hits = (CriterionHit(cid, Text("关键词", "keyword"), evidence, ("第四十九条",), ("kw",)),)
        step = ObligationItem(f"{tier}_step", Text("步骤", "step"), Text("细节", "detail"), ("第四十六条",))
        questions = () if words else (Question("H9", Text("它做什么？", "what does it do?")),)
        return Assessment(
            description=d,
            tier=tier,
            confidence=0.5 + 0.1 * len(words),
            criteria=hits,
            possible=(),
            red_flags=(),
            exclusions=(),
            obligations=(step,),
            article50=(),
            national=(),
            needs_review=not words,
            review_reasons=(),
            questions=questions,
            model=ModelView(False, note="keyword stand-in"),
            versions={"riskclass": "test", "rulebook": "test", "model_sha256": ""},
            decided_by="keywords",
        )


@pytest.fixture
def keyword_engine(monkeypatch):
    """Runs of `batch.main` without --rules-only use KeywordEngine instead of the shipped model."""
    monkeypatch.setattr(batch, "_default_engine", lambda options: KeywordEngine())


def run_main(*argv: str) -> int:
    """`riskclass batch ARGV --lang en`: these tests read the English messages (Chinese, the default, is tested in
    test_lang_config.py and by the golden files, whose questions column is in the default language)."""
    return batch_cli.main([*argv, "--lang", "en"])


def run_main_default_language(*argv: str) -> int:
    return batch_cli.main(list(argv))


def read_csv(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    """The rows of an output CSV; a BOM (written for an input from Excel: test_lang_config.py) is not a cell's."""
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.reader(fh))


def spawn(*argv: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "riskclass.cli.batch", *argv], env=env, **kw)


def check_golden(actual: bytes, name: str) -> None:
    expected = EXPECTED / name
    if UPDATE or not expected.exists():
        expected.write_bytes(actual)
        if not UPDATE:
            pytest.fail(f"golden file {expected} was missing: written, review and commit it")
    assert actual == expected.read_bytes(), f"output differs from {expected} (RISKCLASS_UPDATE_GOLDEN=1 to accept)"


# ---- golden files: one per kind of file people really have ------------------------------------------------------

GOLDEN = [
    ("gbk.csv", "gbk.csv", 0),  # what Excel writes on Chinese Windows
    ("bom.csv", "bom.csv", 0),  # Excel's "CSV UTF-8"
    ("utf16.tsv", "utf16.csv", 0),  # Excel's "Unicode text": UTF-16 with tabs
    ("tabs.tsv", "tabs.csv", 0),
    ("semicolon.csv", "semicolon.csv", 0),  # European Excel
    ("newlines.csv", "newlines.csv", 0),  # quoted cells with line breaks and quotes
    ("ragged.csv", "ragged.csv", 3),  # short rows, long rows, blank lines, a row with only an id
    ("formula.csv", "formula.csv", 0),  # cells a spreadsheet would run
    ("empty.csv", "empty.csv", 3),  # empty, blank and punctuation-only descriptions
    ("duplicate_headers.csv", "duplicate_headers.csv", 0),  # repeated, blank and result-named headers
    ("undecodable.csv", "undecodable.csv", 3),  # bytes that are not UTF-8
]


@pytest.mark.parametrize(("source", "golden", "code"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_outputs(tmp_path, capsys, keyword_engine, source, golden, code):
    out = tmp_path / "out.csv"
    assert run_main_default_language(str(DATA / source), "-o", str(out)) == code
    check_golden(out.read_bytes(), golden)
    err = capsys.readouterr().err
    rows = read_csv(out)[1:]
    assert f"读入 {len(rows)} 行，写出 {len(rows)} 行" in err  # the summary in the default language (issue 13)
    assert "出错" in err and "需复核" in err


def test_golden_jsonl(tmp_path, keyword_engine):
    out = tmp_path / "out.jsonl"
    assert run_main_default_language(str(DATA / "newlines.csv"), "-o", str(out)) == 0
    check_golden(out.read_bytes(), "newlines.jsonl")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in records] == [1, 2, 3]
    assert records[0]["input"]["description"].startswith("第一行：用于社区医院的AI分诊系统\n第二行")
    assert {"tier", "confidence", "criteria", "red_flags", "obligations", "needs_review", "model"} <= set(records[0])


def test_the_golden_cases_say_what_they_promise(tmp_path):
    """Spot checks with the real rules, so that a regenerated golden file cannot quietly accept a regression."""

    def rows(source: str) -> list[dict[str, str]]:
        out = tmp_path / (source + ".out.csv")
        run_main(str(DATA / source), "-o", str(out), "--rules-only", "--force")
        with out.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    gbk = rows("gbk.csv")
    assert gbk[0]["产品描述"] == "一款为银行筛选贷款申请人的评分模型"
    assert gbk[0]["tier"] == "high" and "H4" in gbk[0]["criteria"]
    assert rows("utf16.tsv")[0]["备注"] == "繁體, 含逗號"
    assert rows("semicolon.csv")[1]["comment"] == "分数计入期末成绩, 影响升学"
    assert rows("tabs.tsv")[1]["note"] == '"quoted" text'  # a TSV whose cells hold quotes: kept as written
    nl = rows("newlines.csv")
    assert nl[0]["note"] == 'note with "quotes" and, comma' and nl[1]["description"].startswith("Line one\r\nLine two")
    ragged = rows("ragged.csv")
    assert [r["id"] for r in ragged] == ["1", "2", "3", "4"]
    assert ragged[1]["extra_1"] == "extra1" and ragged[1]["extra_2"] == "extra2" and ragged[0]["owner"] == ""
    assert ragged[3]["tier"] == "" and ragged[3]["error"] and ragged[3]["needs_review"] == "true"
    formula = rows("formula.csv")
    assert [r["description"][:2] for r in formula] == ["'=", "'+", "'@", "'\t", "'-"]
    assert [r["amount"] for r in formula] == ["-5", "+86", "-12.5", "1e5", "'="]
    assert formula[3]["note"] == "'\rCR开头"
    empty = rows("empty.csv")
    assert [bool(r["error"]) for r in empty] == [True, True, True, False, True]
    assert all(r["tier"] == "" for r in empty if r["error"]) and empty[3]["tier"] == "high"
    dup = rows("duplicate_headers.csv")
    assert list(dup[0])[:7] == ["name", "name_2", "column_3", "description", "input_tier", "描述", "input_Tier_2"]
    assert dup[0]["input_tier"] == "high" and dup[0]["tier"] == "high"
    bad = rows("undecodable.csv")
    assert bad[1]["error"].startswith("the description has bytes that are not valid utf-8")
    assert bad[2]["note"] == "caf\\xe9" and bad[2]["tier"]  # the bad byte kept, escaped (was U+FFFD: lost)


def test_missing_description_column_exits_2_naming_the_columns(tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert run_main(str(DATA / "missing_column.csv"), "-o", str(out)) == 2
    err = capsys.readouterr().err
    assert "columns seen: id, name, owner" in err and "--column" in err and err.count("\n") == 1
    assert run_main_default_language(str(DATA / "missing_column.csv"), "-o", str(out)) == 2
    assert "现有的列：id, name, owner" in capsys.readouterr().err  # Chinese by default (issue 13)
    assert not out.exists()
    assert run_main(str(DATA / "missing_column.csv"), "-o", str(out), "--column", "nmae") == 2
    assert "did you mean 'name'" in capsys.readouterr().err
    assert run_main(str(DATA / "missing_column.csv"), "-o", str(out), "--column", "name", "--rules-only") == 0
    assert read_csv(out)[1][1] == "人脸识别门禁"


def test_column_by_position_and_by_unique_name(tmp_path, capsys):
    out = tmp_path / "out.csv"
    assert run_main(str(DATA / "duplicate_headers.csv"), "-o", str(out), "--rules-only", "--column", "6") == 0
    assert "column '描述'" in capsys.readouterr().err
    assert (
        run_main(str(DATA / "duplicate_headers.csv"), "-o", str(out), "--force", "--rules-only", "--column", "name_2")
        == 0
    )
    assert "column 'name_2'" in capsys.readouterr().err


# ---- reading edge cases ------------------------------------------------------------------------------------------


def test_cells_larger_than_the_csv_default_limit(tmp_path):
    huge_note = "备" * 200_000  # > 131,072: Python's csv refuses it by default
    huge_desc = "人脸识别" * 30_000  # 120,000 characters: more than a description may have
    src = tmp_path / "huge.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerows([["description", "note"], ["客服聊天机器人", huge_note], [huge_desc, "x"], ["人脸识别门禁", "y"]])
    out = tmp_path / "out.csv"
    assert run_main(str(src), "-o", str(out), "--rules-only") == 3
    rows = read_csv(out)
    assert len(rows) == 4
    assert rows[1][1] == huge_note and rows[1][2] == "medium"
    assert rows[2][0] == huge_desc and rows[2][2] == "" and "at most 100,000" in rows[2][2 + RESULT.index("error")]
    assert rows[3][2] == "high"


def test_standard_input_in_gbk(tmp_path):
    out = tmp_path / "out.csv"
    proc = spawn("-", "-o", str(out), "--rules-only", stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    _, err = proc.communicate((DATA / "gbk.csv").read_bytes(), timeout=60)
    assert proc.returncode == 0, err.decode()
    rows = read_csv(out)
    assert rows[1][1] == "一款为银行筛选贷款申请人的评分模型" and len(rows) == 4
    assert "\r" not in err.decode()  # no progress bar when standard error is not a terminal


def test_encoding_detection():
    def detect(data: bytes) -> str:
        return tables_read.detect_encoding(io.BytesIO(data))

    text = "id,描述\n1,人脸识别门禁\n2,客服机器人\n"
    assert detect(text.encode("utf-8")) == "utf-8"
    assert detect(codecs.BOM_UTF8 + text.encode("utf-8")) == "utf-8-sig"
    assert detect(text.encode("gbk")) == "gb18030"
    assert detect(text.encode("utf-16")) == "utf-16"
    assert detect(text.encode("utf-16-le")) == "utf-16-le"  # no byte-order mark
    assert detect(text.encode("utf-16-be")) == "utf-16-be"
    # a UTF-8 file with one corrupt byte stays UTF-8 (only that row fails), even if it happens to decode as GB18030
    assert detect((text * 20).encode("utf-8") + b"3,\xe4\xb8\n") == "utf-8"


def test_forced_encoding_and_delimiter(tmp_path, capsys):
    out = tmp_path / "out.csv"
    src = tmp_path / "big5.csv"
    src.write_bytes("id|description\n1|醫院用人臉辨識掛號\n".encode("big5"))
    assert run_main(str(src), "-o", str(out), "--encoding", "big5", "--delimiter", "|", "--rules-only") == 0
    assert read_csv(out)[1][1] == "醫院用人臉辨識掛號"
    assert run_main(str(src), "-o", str(out), "--force", "--encoding", "klingon") == 2
    assert "unknown encoding" in capsys.readouterr().err


def test_quotes_that_are_not_csv_quoting_are_kept_as_written(tmp_path, capsys):
    src = tmp_path / "stray.csv"
    src.write_text('id,description\n1,人脸识别\n2,"客服机器人\n3,自动驾驶\n4,推荐算法\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    assert run_main(str(src), "-o", str(out), "--rules-only") == 0
    assert [r[:2] for r in read_csv(out)[1:]] == [
        ["1", "人脸识别"],
        ["2", '"客服机器人'],
        ["3", "自动驾驶"],
        ["4", "推荐算法"],
    ]
    assert "not CSV quoting" in capsys.readouterr().err


def test_a_stray_quote_among_real_quoting_is_reported_instead_of_swallowing_the_rest(tmp_path, capsys):
    src = tmp_path / "stray.csv"
    src.write_text('id,description\n1,"人脸识别, 门禁"\n2,"客服机器人\n3,自动驾驶\n4,推荐算法\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    assert run_main(str(src), "-o", str(out)) == 2
    assert "line 3" in capsys.readouterr().err and not out.exists()


def test_empty_and_header_only_files(tmp_path, capsys):
    out = tmp_path / "out.csv"
    (tmp_path / "empty.csv").write_bytes(b"")
    assert run_main(str(tmp_path / "empty.csv"), "-o", str(out)) == 2
    assert "is empty" in capsys.readouterr().err
    (tmp_path / "header.csv").write_text("id,description\n", encoding="utf-8")
    assert run_main(str(tmp_path / "header.csv"), "-o", str(out), "--rules-only") == 0
    assert read_csv(out) == [["id", "description", *RESULT]]


def test_xlsx_input(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["编号", "产品描述", "上线日期", "金额"])
    ws.append([1, "为银行筛选贷款申请人的评分模型", dt.date(2025, 3, 1), 1.5])
    ws.append([])
    ws.append([2, "=1+1", None, -3.0])
    ws.append([3, None, None, None])
    src = tmp_path / "inventory.xlsx"
    wb.save(src)
    out = tmp_path / "out.csv"
    assert run_main(str(src), "-o", str(out), "--rules-only") == 3
    rows = read_csv(out)
    assert rows[0][:4] == ["编号", "产品描述", "上线日期", "金额"]
    assert rows[1][:5] == ["1", "为银行筛选贷款申请人的评分模型", "2025-03-01", "1.5", "high"]
    assert rows[2][:4] == ["2", "'=1+1", "", "-3"]  # a formula cell is read as text (no cached value): guarded
    assert rows[3][0] == "3" and rows[3][4] == "" and len(rows) == 4
    assert read_table_header(str(src)) == (["编号", "产品描述", "上线日期", "金额"], "产品描述")


def test_xlsx_without_openpyxl_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    src = tmp_path / "book.xlsx"
    src.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    assert run_main(str(src), "-o", str(tmp_path / "out.csv")) == 2
    assert "pip install openpyxl" in capsys.readouterr().err
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    assert run_main(str(old), "-o", str(tmp_path / "out.csv")) == 2
    assert "save it as .xlsx" in capsys.readouterr().err


def test_read_table_header():
    assert read_table_header(str(DATA / "gbk.csv")) == (["编号", "产品描述", "部门"], "产品描述")
    names, detected = read_table_header(str(DATA / "missing_column.csv"))
    assert names == ["id", "name", "owner"] and detected is None
    with pytest.raises(InputError):
        read_table_header(str(DATA / "no-such-file.csv"))


# ---- nothing lost: a property over random tables -----------------------------------------------------------------

cell = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
header_name = st.text("abcdefghij", min_size=1, max_size=6)


@st.composite
def tables(draw):
    width = draw(st.integers(1, 5))
    names = draw(st.lists(header_name, min_size=width - 1, max_size=width - 1, unique=True))
    names = [n for n in names if n not in tables_write.RESULT_COLUMNS and not n.startswith("input")]
    position = draw(st.integers(0, len(names)))
    names.insert(position, "description")
    rows = draw(st.lists(st.lists(cell, min_size=len(names), max_size=len(names)), max_size=25))
    return names, rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables(), delimiter=st.sampled_from([",", "\t", ";"]), encoding=st.sampled_from(["utf-8", "utf-8-sig"]))
def test_random_tables_keep_every_row_and_cell(tmp_path_factory, rules_engine, table, delimiter, encoding):
    names, rows = table
    rows = [r for r in rows if r != [""] * len(names) or len(names) > 1]  # a lone empty field is written as ""
    tmp = tmp_path_factory.mktemp("prop")
    src, out = tmp / "in.csv", tmp / "out.csv"
    with src.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows([names, *rows])
    options = BatchOptions(str(src), str(out), column="description", delimiter=delimiter, chunk_rows=7)
    summary = run_batch(options, engine=rules_engine)
    assert summary.rows_in == summary.rows_out == len(rows)
    written = read_csv(out)
    assert written[0] == names + RESULT
    assert len(written) == len(rows) + 1
    for given_row, out_row in zip(rows, written[1:], strict=True):
        assert out_row[: len(names)] == [tables_write.guard_formula(c) for c in given_row]
        assert (out_row[len(names)] == "") == bool(out_row[len(names) + RESULT.index("error")])
    assert summary.errors + sum(summary.tiers.values()) == len(rows)


def test_the_formula_guard():
    for text in ("=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "-", "+"):
        assert tables_write.guard_formula(text) == "'" + text
    for text in ("-5", "+86", "-12.5", "1e5", "", "a=b", "'=already", "５"):
        assert tables_write.guard_formula(text) == text


# ---- safe output -------------------------------------------------------------------------------------------------


def test_never_overwrites_the_input_or_an_existing_output(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_bytes((DATA / "bom.csv").read_bytes())
    before = src.read_bytes()
    assert run_main(str(src), "-o", str(src), "--force") == 2
    assert "is the input file" in capsys.readouterr().err and src.read_bytes() == before
    link = tmp_path / "link.csv"
    link.symlink_to(src)
    assert run_main(str(src), "-o", str(link), "--force") == 2 and src.read_bytes() == before
    out = tmp_path / "out.csv"
    out.write_text("keep me", encoding="utf-8")
    assert run_main(str(src), "-o", str(out)) == 2
    assert "--force" in capsys.readouterr().err and out.read_text(encoding="utf-8") == "keep me"
    assert run_main(str(src), "-o", str(out), "--force", "--rules-only") == 0
    assert read_csv(out, "utf-8")[0][0] == "\ufeffdescription"  # a BOM input (Excel's CSV UTF-8) keeps its BOM
    assert run_main(str(src), "-o", str(tmp_path / "nodir" / "out.csv")) == 2
    assert "does not exist" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_excel_flag_writes_a_byte_order_mark(tmp_path):
    out = tmp_path / "out.csv"
    assert run_main(str(DATA / "gbk.csv"), "-o", str(out), "--excel", "--rules-only") == 0
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and b"\r\n" in data
    assert data[3:].decode("utf-8").startswith("编号,产品描述")


def test_cancel_leaves_no_file(tmp_path, rules_engine):
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["description"], *[[f"第{i}个客服机器人"] for i in range(60)]])
    out = tmp_path / "out.csv"
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append((done, total))
        if done >= 20:
            cancel.set()

    with pytest.raises(BatchCancelled):
        run_batch(BatchOptions(str(src), str(out), chunk_rows=10), rules_engine, progress, cancel)
    assert not out.exists() and list(tmp_path.iterdir()) == [src]
    assert seen[0] == (0, 60) and seen[-1] == (20, 60)


def test_the_collector_is_paused_during_a_batch_and_restored_after_it_however_it_ends(tmp_path, rules_engine):
    import gc

    from riskclass.engine.decide import Engine

    enabled: list[bool] = []

    class Watching(Engine):
        def assess_many(self, descriptions, brief=False):
            enabled.append(gc.isenabled())
            return super().assess_many(descriptions, brief)

    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["description"], *[[f"第{i}个客服机器人"] for i in range(30)]])
    assert gc.isenabled()
    run_batch(BatchOptions(str(src), str(tmp_path / "out.csv"), chunk_rows=10), Watching(model=None))
    assert enabled == [False, False, False] and gc.isenabled()
    cancel = threading.Event()
    with pytest.raises(BatchCancelled):
        options = BatchOptions(str(src), str(tmp_path / "out2.csv"), chunk_rows=10)
        run_batch(options, rules_engine, lambda done, total: done and cancel.set(), cancel)
    assert gc.isenabled()

    def failing(done: int, total: int | None) -> None:
        if done:
            raise RuntimeError("a progress callback failed")

    with pytest.raises(RuntimeError) as failure:  # the traceback, kept here, holds the run's frames
        run_batch(BatchOptions(str(src), str(tmp_path / "out4.csv"), chunk_rows=10), rules_engine, failing)
    assert failure.value and gc.isenabled()
    enabled.clear()  # under the terminal app a batch runs in a thread: the collector is left alone there
    worker = threading.Thread(
        target=run_batch, args=(BatchOptions(str(src), str(tmp_path / "out3.csv"), chunk_rows=10), Watching(model=None))
    )
    worker.start()
    worker.join()
    assert enabled == [True, True, True] and gc.isenabled()


def _big_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "description"])
        for i in range(rows):
            w.writerow([i, f"第{i}号产品：为银行筛选贷款申请人的评分模型，并与用户对话解释结果，服务{i % 97}个城市"])


def _wait_for_partial(directory: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.name.endswith(".partial") and p.stat().st_size > 0 for p in directory.iterdir()):
            return
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.05)
    raise AssertionError("no partial output appeared")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["KILL", "TERM", "INT"])
def test_interrupted_run_leaves_no_file_under_the_output_name(tmp_path, sig):
    src = tmp_path / "big.csv"
    # Seconds of work even on a fast machine (a row costs well under a millisecond with the committed dictionary and
    # warm caches): it is interrupted long before the end.
    _big_file(src, 150_000)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "result.csv"
    proc = spawn(str(src), "-o", str(out), "--rules-only", stderr=subprocess.PIPE)
    try:
        _wait_for_partial(out_dir, proc)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists()
    if sig != signal.SIGKILL:  # a catchable signal also removes the temporary file
        assert proc.returncode == 130 and "没有写出输出文件" in err.decode()
        assert list(out_dir.iterdir()) == []


# ---- the model path, and --jobs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_engine():
    from riskclass.engine.decide import Engine
    from riskclass.model.classifier import load_shipped_model

    return Engine(model=load_shipped_model())


@pytest.fixture(scope="module")
def held_out(tmp_path_factory) -> Path:
    """200 rows of the held-out set (简体, 繁體, English), as a user's file with a tier column of their own."""
    src = ROOT / "training" / "data" / "test.csv"
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[:200]
    path = tmp_path_factory.mktemp("held") / "held.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "description", "tier"])
        w.writerows([r["id"], r["description"], r["tier"]] for r in rows)
    return path


def test_default_model_path_matches_the_engine_row_by_row(tmp_path, model_engine, held_out):
    out = tmp_path / "out.csv"
    summary = run_batch(BatchOptions(str(held_out), str(out), chunk_rows=64), engine=model_engine)
    assert summary.rows_in == summary.rows_out == 200 and summary.errors == 0
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:3] == ["id", "description", "input_tier"]
    for row in rows:
        a = model_engine.assess(row["description"])
        assert (row["tier"], row["confidence"], row["needs_review"]) == (
            a.tier,
            repr(a.confidence),
            "true" if a.needs_review else "false",
        ), row["id"]
        assert row["criteria"] == ";".join(h.id for h in a.criteria)
        assert row["decided_by"] == a.decided_by
    assert sum(summary.tiers.values()) == 200 and summary.tiers["high"] > 0 and summary.tiers["low"] > 0


def test_jsonl_with_the_model_carries_the_classify_fields(tmp_path, model_engine, held_out):
    out = tmp_path / "out.jsonl"
    run_batch(BatchOptions(str(held_out), str(out), format="jsonl", lang="en"), engine=model_engine)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 200
    first = json.loads(lines[0])
    assert first == {
        "row": 1,
        **model_engine.assess(first["input"]["description"]).to_dict("en"),
        "error": "",
        "input": first["input"],
    }
    assert first["model"]["used"] and set(first["model"]["probabilities"]) == {"high", "medium", "low"}


def test_jobs_2_writes_the_same_file_as_jobs_1(tmp_path, held_out):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    run_batch(BatchOptions(str(held_out), str(one), chunk_rows=30))
    summary = run_batch(BatchOptions(str(held_out), str(two), chunk_rows=30, jobs=2))
    assert one.read_bytes() == two.read_bytes()
    assert summary.rows_out == 200


def test_forked_workers_write_the_same_file_and_share_the_parents_engine(tmp_path, held_out, monkeypatch):
    """From a process with one thread, --jobs forks its workers after the first chunk, so they inherit the loaded
    engine instead of loading their own; the file is the one --jobs 1 writes, and loky is never started."""
    import riskclass.batch.run as run

    assert run._can_fork(), "this test runs where workers can be forked (Linux, one thread)"
    used = []
    original = run._forked
    monkeypatch.setattr(run, "_forked", lambda *a, **kw: (used.append(1), original(*a, **kw))[1])
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    run_batch(BatchOptions(str(held_out), str(one), chunk_rows=30))
    summary = run_batch(BatchOptions(str(held_out), str(two), chunk_rows=30, jobs=2))
    assert used, "the forked workers were not used"
    assert one.read_bytes() == two.read_bytes()
    assert summary.rows_out == 200
    assert run._inherited is None, "the batch let go of what its workers inherited"


def test_an_interrupt_while_the_workers_start_leaves_no_worker_behind(tmp_path, held_out, monkeypatch):
    """A pool start stopped after the workers were forked but before the pool's manager thread ran (Ctrl+C there,
    before signals were held back during the fork; a thread that cannot start): the pool's shutdown does not know
    those workers, and the interpreter's exit used to wait for them forever (the batch printed "interrupted" and
    never returned to the shell)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import riskclass.batch.run as run

    assert run._can_fork(), "this test runs where workers can be forked (Linux, one thread)"

    def interrupted_start(self) -> None:
        self._launch_processes()  # the workers exist …
        raise KeyboardInterrupt  # … and the interrupt arrives before the manager thread would look after them

    monkeypatch.setattr(ProcessPoolExecutor, "_start_executor_manager_thread", interrupted_start)
    before = set(multiprocessing.active_children())
    try:
        with pytest.raises(KeyboardInterrupt):
            run_batch(BatchOptions(str(held_out), str(tmp_path / "out.csv"), chunk_rows=30, jobs=2))
        left = set(multiprocessing.active_children()) - before
        assert not left, "a forked worker outlived the interrupted batch"
    finally:
        for worker in set(multiprocessing.active_children()) - before:
            worker.kill()
            worker.join()
    assert not (tmp_path / "out.csv").exists()


_INTERRUPT_AT_FORK: list[bool] = []  # set while a test wants Ctrl+C delivered during a fork


def _interrupt_at_fork() -> None:
    if _INTERRUPT_AT_FORK:
        os.kill(os.getpid(), signal.SIGINT)


# At-fork hooks cannot be removed: registered once, a no-op unless the flag is set.
os.register_at_fork(after_in_parent=_interrupt_at_fork)


def test_ctrl_c_during_the_fork_stops_the_batch(tmp_path, held_out):
    """Ctrl+C that arrives while the workers are being forked: raised inside one of Python's at-fork hooks it used to
    be printed as "Exception ignored" and lost, and the batch ran on to write its file. Now it stops the batch."""
    import riskclass.batch.run as run

    assert run._can_fork(), "this test runs where workers can be forked (Linux, one thread)"
    out = tmp_path / "out.csv"
    _INTERRUPT_AT_FORK.append(True)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_batch(BatchOptions(str(held_out), str(out), chunk_rows=30, jobs=2))
    finally:
        _INTERRUPT_AT_FORK.clear()
    assert not out.exists()


def test_the_default_jobs_are_the_idle_cores(monkeypatch):
    """Workers on cores other programs keep busy only wait their turn: by default, batch uses the idle ones."""
    import riskclass.batch.run as run

    monkeypatch.setattr(run, "usable_cores", lambda: 4)
    monkeypatch.setattr(run, "_can_fork", lambda: True)
    monkeypatch.setattr(run, "_runnable_others", lambda: 8)  # as many running now as the average says
    for load, jobs in ((0.0, 4), (1.2, 3), (3.8, 1), (9.0, 1)):
        monkeypatch.setattr(run.os, "getloadavg", lambda load=load: (load, load, load))
        assert run.default_jobs() == jobs
    # Just after another command the 1-minute load still counts it: a core is given up only when wholly busy, and
    # only while another program is running now.
    monkeypatch.setattr(run, "usable_cores", lambda: 2)
    for load, now, jobs in ((0.95, 1, 2), (1.5, 1, 1), (1.02, 0, 2), (1.5, 0, 2), (1.5, None, 1)):
        monkeypatch.setattr(run.os, "getloadavg", lambda load=load: (load, load, load))
        monkeypatch.setattr(run, "_runnable_others", lambda now=now: now)
        assert run.default_jobs() == jobs
    monkeypatch.setattr(run, "_can_fork", lambda: False)  # loky workers each load the model: one process
    monkeypatch.setattr(run.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert run.default_jobs() == 1


# ---- comparing two runs ------------------------------------------------------------------------------------------


def test_compare_lists_the_rows_whose_tier_changed(tmp_path, capsys):
    new = tmp_path / "new.csv"
    assert run_main(str(DATA / "empty.csv"), "-o", str(new), "--rules-only") == 3
    rows = read_csv(new)
    tier_at = rows[0].index("tier")
    previous = [rows[0], rows[4], rows[1], rows[2], rows[3]]  # reordered, and the last row missing
    previous[1] = [*previous[1][:tier_at], "low", *previous[1][tier_at + 1 :]]  # was high, now high
    old = tmp_path / "old.csv"
    with old.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(previous)
    result = compare_outputs(str(old), str(new))
    assert result.rows == 5 and result.previous_rows == 4
    assert [(c.row, c.previous_row, c.previous_tier, c.tier) for c in result.changes] == [
        (4, 1, "low", "high"),
        (5, None, "", ""),
    ]
    assert result.moves == {("low", "high"): 1}
    capsys.readouterr()
    assert run_main(str(new), "--compare", str(old)) == 0
    captured = capsys.readouterr()
    listed = list(csv.reader(io.StringIO(captured.out)))
    # The input has an `id` column: rows are paired by it, and the id and the criteria gained follow the columns.
    assert listed[0] == list(compare.COMPARE_ID_COLUMNS)
    assert listed[1][:4] == ["4", "1", "low", "high"] and listed[1][6] == "给贷款申请人打分的模型"
    assert "1 changed tier: low→high 1" in captured.err


# ---- progress and the tokeniser ----------------------------------------------------------------------------------


corpus_like = st.text(
    st.sampled_from(list("人脸识别门禁简历筛选贷款申请人评分模型的和与，。、；：ai agv l4 face id 2025 +#&._%-\n\t")),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(corpus_like, st.text(max_size=60)))
def test_cached_tokeniser_gives_exactly_the_tokens_of_a_plain_lcut(text):
    """tokens_of_normalised cuts jieba's blocks one by one through a cache: the tokens must be jieba's, unchanged."""
    from riskclass.text.normalise import _jieba_tokenizer, normalise, tokens_of_normalised

    tok = _jieba_tokenizer()[0]
    for t in (text, normalise(text).text):
        plain = [w for w in tok.lcut(t, HMM=False) if w.strip()]
        assert tokens_of_normalised(t) == plain
        assert tokens_of_normalised(t) == plain  # second call: from the cache


def test_cached_tokeniser_on_the_whole_corpus():
    from riskclass.text.normalise import _jieba_tokenizer, normalise, tokens_of_normalised

    tok = _jieba_tokenizer()[0]
    with (ROOT / "training" / "data" / "corpus.csv").open(encoding="utf-8", newline="") as fh:
        texts = [normalise(r["description"]).text for r in csv.DictReader(fh)]
    assert all(tokens_of_normalised(t) == [w for w in tok.lcut(t, HMM=False) if w.strip()] for t in texts)


def test_progress_bar_on_a_terminal_only(tmp_path):
    import pty

    src = tmp_path / "in.csv"
    _big_file(src, 300)
    main_fd, tty_fd = pty.openpty()
    proc = spawn(str(src), "-o", str(tmp_path / "out.csv"), "--rules-only", "--lang", "en", stderr=tty_fd)
    os.close(tty_fd)
    seen = b""
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=60)
    os.close(main_fd)
    text = seen.decode("utf-8", "replace")
    assert proc.returncode == 0
    # rich's bar (issue 13): bar, share, rows done of the total; erased when done, then the summary
    assert "\x1b[" in text and "━" in text and "/300" in text and "rows" in text
    assert "300 rows in, 300 rows out" in text


def test_add_parser_registers_the_command_on_a_cli():
    import argparse

    parser = argparse.ArgumentParser(prog="riskclass")
    batch_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["batch", "in.csv", "-o", "out.jsonl", "--jobs", "2", "--column", "描述"])
    assert (args.command, args.input, args.output, args.jobs, args.column) == (
        "batch",
        "in.csv",
        "out.jsonl",
        2,
        "描述",
    )
    assert args.format is None and not args.excel and args.lang is None  # None: the top-level --lang (zh)
    with pytest.raises(InputError, match="-o OUTPUT"):
        batch_cli.cmd_batch(parser.parse_args(["batch", "in.csv"]))
