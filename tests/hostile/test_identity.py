"""A product's identity and a reviewer's decision in a report are text people typed (or a register imported from a
spreadsheet): markup, line breaks, terminal escapes, bidi controls and spreadsheet formulas in them stay inert in
every format, as the description's do (issue 12)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

import riskclass.reports.report as reports
from riskclass.cli.main import main
from tests.hostile.test_saved_and_output import HIGH, HOSTILE, _assert_inert_html, _assert_inert_markdown

FORMULA = '=HYPERLINK("http://evil.example","x")'
HEADING = "正常名称\n# 伪造的标题\n- 伪造的列表 | 表格"
ESCAPES = "AI\x1b]0;pwned\x07\x1b[2J\u202e反转\x9b31m"
VALUES = {"markup": HOSTILE, "formula": FORMULA, "lines": HEADING, "escapes": ESCAPES}
OPTIONS = ("--id", "--name", "--provider", "--owner")
RAW = ("\x1b", "\x07", "\u202e", "\x9b")


def _report(tmp_path: Path, capsys, fmt: str, value: str) -> str:
    out = tmp_path / f"r.{fmt}"
    args = [arg for option in OPTIONS for arg in (option, value)]
    assert main(["report", "--rules-only", HIGH, "-o", str(out), *args]) == 0, capsys.readouterr().err
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", list(VALUES))
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_hostile_identity_gives_no_live_markup_no_escapes_and_no_formula(tmp_path, capsys, fmt, kind):
    text = _report(tmp_path, capsys, fmt, VALUES[kind])
    (_assert_inert_html if fmt == "html" else _assert_inert_markdown)(text)
    for raw in RAW:
        assert raw not in text, ascii(raw)
    if fmt == "md":
        assert "\n# 伪造的标题" not in text and "\n- 伪造的列表" not in text  # a field stays on its own line
        assert not any(line.startswith("=") for line in text.splitlines())
    if kind == "formula":
        shown = html.unescape(text) if fmt == "html" else text
        assert "'=HYPERLINK" in shown and "| =HYPERLINK" not in shown and ">=HYPERLINK" not in shown


@pytest.mark.parametrize("kind", list(VALUES))
def test_hostile_identity_in_json_keeps_the_value_and_nothing_active(tmp_path, capsys, kind):
    text = _report(tmp_path, capsys, "json", VALUES[kind])
    for raw in RAW:
        assert raw not in text, ascii(raw)
    product = json.loads(text)["report"]["product"]
    assert product == dict.fromkeys(("id", "name", "provider", "owner"), VALUES[kind].strip())  # data, as given


@pytest.mark.parametrize("kind", list(VALUES))
def test_a_hostile_reviewer_and_reason_stay_inert(rules_engine, kind):
    value = VALUES[kind]
    decision = reports.TierDecision("medium", value, date=value, reason=value)
    r = reports.build_report(rules_engine.assess(HIGH), "zh", decision=decision)
    md, html = reports.to_markdown(r), reports.to_html(r)
    _assert_inert_markdown(md)
    _assert_inert_html(html)
    for raw in RAW:
        assert raw not in md and raw not in html, ascii(raw)
    assert "\n# 伪造的标题" not in md
    if kind == "formula":  # the comparison table and the sign-off: no cell a spreadsheet would run
        assert "| =HYPERLINK" not in md and ">=HYPERLINK" not in html and "| '=HYPERLINK" in md


def test_a_report_with_identity_and_decision_reads_back_as_a_saved_assessment(tmp_path, capsys):
    """A report JSON is still a saved assessment `report --from-json` accepts (its report section is rebuilt)."""
    text = _report(tmp_path, capsys, "json", HOSTILE)
    saved = tmp_path / "saved.json"
    saved.write_text(text, encoding="utf-8")
    assert main(["report", "--from-json", str(saved), "--format", "md", "--id", "AI-1"]) == 0
    assert "- **产品编号**: AI-1" in capsys.readouterr().out
