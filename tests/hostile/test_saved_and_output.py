"""Issue 12, saved assessments and what riskclass writes: reports, file names, spreadsheet cells, the terminal.

Each test plays a hostile or careless colleague: a saved assessment edited by hand, a CSV cell that a spreadsheet
would run, an id that names a device or reverses text, a description that carries terminal escape sequences, bytes
on the command line that are not text in the locale.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from riskclass.cli.main import main
from riskclass.tables.write import guard_formula

HIGH = "一款为银行筛选贷款申请人的评分模型，按户籍地域给申请人降分"
IMG = '<img src=x onerror="alert(1)">'
LINK = "[点此](javascript:alert(1)) ![x](http://evil.example/x.png)"
HOSTILE = f"{IMG} {LINK} <script>alert(2)</script>"


def _saved(tmp_path: Path, capsys) -> dict:
    assert main(["classify", "--json", "--rules-only", HIGH]) == 0
    return json.loads(capsys.readouterr().out)


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


class _Live(HTMLParser):
    """Every element and event-handler attribute a browser would act on."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.handlers += [k for k, _ in attrs if k.startswith("on")]
        self.hrefs += [v or "" for k, v in attrs if k in ("href", "src")]


def _live(html_text: str) -> _Live:
    p = _Live()
    p.feed(html_text)
    return p


def _assert_inert_html(html_text: str) -> None:
    live = _live(html_text)
    assert not live.tags & {"img", "script", "a", "iframe"}, live.tags
    assert live.handlers == [] and live.hrefs == []


def _assert_inert_markdown(md: str) -> None:
    from markdown_it import MarkdownIt

    _assert_inert_html(MarkdownIt("commonmark").render(md))  # raw HTML on, as most Markdown viewers have it


def _hostile_saved(data: dict, field: str) -> dict:
    """`data` with HOSTILE in one field a saved assessment carries as free text."""
    data = json.loads(json.dumps(data))
    if field == "article50.why":
        data["article50"][0]["why"] = HOSTILE
    elif field == "national":
        data["national"] = [{"law": HOSTILE, "article": HOSTILE, "topic": HOSTILE}]
    elif field == "questions":
        data["questions"] = [HOSTILE]
        data["follow_up"] = [{"criterion": "H4", "question": HOSTILE}]
    elif field == "versions":
        data["versions"]["riskclass"] = HOSTILE
    elif field == "review_reasons":
        data["review_reasons"] = [HOSTILE]
    elif field == "criteria.articles":
        data["criteria"][0]["articles"] = [HOSTILE]
    elif field == "model.top_terms":
        data["model"] = {
            "used": True,
            "probabilities": {"high": 0.9, "medium": 0.05, "low": 0.05},
            "top_terms": [{"term": HOSTILE, "weight": 0.5}],
            "note": HOSTILE,
        }
    elif field == "description":
        data["description"] = data["description"] + HOSTILE
    return data


SAVED_FIELDS = [
    "article50.why",
    "national",
    "questions",
    "versions",
    "review_reasons",
    "criteria.articles",
    "model.top_terms",
    "description",
]


@pytest.mark.parametrize("field", SAVED_FIELDS)
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_hostile_saved_assessment_gives_no_live_markup(tmp_path, capsys, field, fmt):
    path = _write(tmp_path, _hostile_saved(_saved(tmp_path, capsys), field))
    out = tmp_path / f"report.{fmt}"
    assert main(["report", "--from-json", str(path), "-o", str(out)]) == 0, capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    (_assert_inert_html if fmt == "html" else _assert_inert_markdown)(text)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["model"].update(probabilities={IMG: 0.5, "high": 0.5}), "model.probabilities"),
        (lambda d: d["model"].update(probabilities={"high": "<b>x</b>"}), "model.probabilities"),
        (lambda d: d.update(confidence=True), "confidence"),
        (lambda d: d.update(evil="<script>"), "evil"),
        (lambda d: d["criteria"][0].update(onerror="x"), "criteria[0].onerror"),
        (lambda d: d.update(answers={IMG: True}), "answers"),
        (lambda d: d["versions"].update({IMG: "1"}), "versions"),
        (lambda d: d.update(decided_by=IMG), "decided_by"),
    ],
)
def test_a_saved_assessment_with_unknown_or_non_numeric_fields_is_refused(tmp_path, capsys, change, named):
    data = _saved(tmp_path, capsys)
    if data["model"].get("probabilities") is None:
        data["model"] = {"used": True, "probabilities": {"high": 0.9}, "top_terms": [], "note": ""}
    change(data)
    out = tmp_path / "r.html"
    code = main(["report", "--from-json", str(_write(tmp_path, data)), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and named in err
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_what_riskclass_saves_is_accepted_back(tmp_path, capsys):
    """Every saved shape riskclass writes stays readable: classify --json (with answers, rules only or not) and report
    JSON (with its report section)."""
    saved = []
    assert main(["classify", "--json", "--rules-only", "--answer", "H4=unknown", HIGH]) == 0
    saved.append(capsys.readouterr().out)
    assert main(["classify", "--json", "给租户打分的平台", "--lang", "en"]) == 0
    saved.append(capsys.readouterr().out)
    assert main(["report", "--format", "json", "--rules-only", HIGH]) == 0
    saved.append(capsys.readouterr().out)
    for i, text in enumerate(saved):
        path = tmp_path / f"s{i}.json"
        path.write_text(text, encoding="utf-8")
        assert main(["report", "--from-json", str(path), "--format", "md"]) == 0, capsys.readouterr().err
        assert "# AI 产品风险分级建议报告" in capsys.readouterr().out


# ---- 2. the formula guard through batch ------------------------------------------------------------------------

FORMULA_CELLS = [
    '＝HYPERLINK("http://evil")',  # fullwidth equals sign
    "﹦1+1",  # small equals sign
    " =1+1",  # a leading space
    "\u200b=cmd|' /C calc'!A0",  # a zero-width space
    "\ufeff+1+1",  # a byte-order mark
    "\u200b@SUM(A1)",
    "\u00a0-2+3",  # a no-break space
    "＋1＋1",
    "＠SUM(A1)",
]


def test_batch_guards_formula_cells_hidden_behind_lookalikes_and_invisible_leaders(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["note", "description"], *[[cell, HIGH + cell] for cell in FORMULA_CELLS]])
    assert main(["batch", str(src), "-o", str(out), "--rules-only", "--no-progress"]) == 0
    rows = list(csv.reader(out.open(encoding="utf-8", newline="")))[1:]
    assert len(rows) == len(FORMULA_CELLS)
    for cell, row in zip(FORMULA_CELLS, rows, strict=True):
        assert row[0] == "'" + cell, row[0]
    for plain in (" -5", "5", "中文", "a=b", "\u200b中文"):  # numbers and ordinary text are left alone
        assert guard_formula(plain) == plain


# ---- 3. report file names --------------------------------------------------------------------------------------

DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)$", re.IGNORECASE)
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
HOSTILE_IDS = ["\u202egpj.exe", "COM¹", "conin$", "CONOUT$.txt", "Lpt².md", "c\u200bon", "a\u2067b\u2069c", "nul"]


def test_batch_report_names_have_no_bidi_controls_and_no_windows_device_names(tmp_path):
    src, out, reports = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "reports"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["id", "description"], *[[i, HIGH] for i in HOSTILE_IDS]])
    assert main(["batch", str(src), "-o", str(out), "--rules-only", "--no-progress", "--reports", str(reports)]) == 0
    names = sorted(p.name for p in reports.iterdir())
    assert len(names) == len(HOSTILE_IDS)
    for name in names:
        assert not BIDI.search(name) and "\u200b" not in name, ascii(name)
        assert not DEVICE.match(name.split(".")[0].rstrip(" ")), name


# ---- 4. the terminal ---------------------------------------------------------------------------------------------

ESCAPES = "人脸识别门禁\x1b]0;pwned\x07 \x1b[2J清屏\r覆盖 \u202e反转 \x9b31m"


def test_classify_shows_escape_sequences_and_bidi_controls_inert(capsys):
    assert main(["classify", "--rules-only", "--color", "never", ESCAPES]) == 0
    out = capsys.readouterr().out
    for raw in ("\x1b", "\x07", "\r", "\u202e", "\x9b"):
        assert raw not in out, ascii(raw)
    assert "\\x1b]0;pwned" in out and "<U+202E>" in out and "【人脸识别】门禁" in out


def test_classify_in_colour_emits_only_its_own_colour_codes(capsys):
    assert main(["classify", "--rules-only", "--color", "always", ESCAPES]) == 0
    out = capsys.readouterr().out
    assert re.sub(r"\x1b\[[0-9;]*m", "", out).count("\x1b") == 0
    assert "\x1b[2J" not in out and "\u202e" not in out


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_reports_show_escape_sequences_and_bidi_controls_inert(tmp_path, capsys, fmt):
    out = tmp_path / f"r.{fmt}"
    assert main(["report", "--rules-only", ESCAPES, "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for raw in ("\x1b", "\x07", "\r", "\u202e", "\x9b"):
        assert raw not in text, ascii(raw)


def test_classify_json_keeps_the_text_and_escapes_invisible_controls(capsys):
    assert main(["classify", "--json", "--rules-only", ESCAPES]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out and "\x9b" not in out and "\x1b" not in out
    assert json.loads(out)["description"] == ESCAPES


# ---- 5. bytes on the command line that are not text ------------------------------------------------------------

BAD = "人脸识别门禁系统".encode() + b"\xff\xfe"


def _one_line(r) -> str:
    lines = r.stderr.decode("utf-8", "replace").strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr.decode("utf-8", "replace"), r.stderr
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        [b"report", BAD, b"--rules-only", b"-o", b"x.md"],
        [b"classify", BAD, b"--rules-only"],
        [b"classify", BAD, b"--rules-only", b"--json"],
        [b"review", "人脸识别门禁系统".encode(), b"--rules-only", b"--accept", b"--reviewer", b"a\xff"],
        [
            b"review",
            "人脸识别门禁系统".encode(),
            b"--rules-only",
            b"--tier",
            b"low",
            b"--reviewer",
            b"a",
            b"--reason",
            b"\xff\xfe",
        ],
    ],
)
def test_undecodable_bytes_in_a_text_argument_are_a_one_line_error(tmp_path, args):
    r = subprocess.run(
        [sys.executable, "-m", "riskclass", *args],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "RISKCLASS_AUDIT_LOG": str(tmp_path / "log.jsonl")},
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert "0xff" in _one_line(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no report, no log, nothing half-written


def test_an_undecodable_output_path_is_used_as_the_name_it_is(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "riskclass", b"report", HIGH.encode(), b"--rules-only", b"-o", b"r\xff.md"],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert os.listdir(os.fsencode(tmp_path)) == [b"r\xff.md"]
