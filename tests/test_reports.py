"""Reports: golden Markdown and JSON for one case per tier, the HTML's sections, pre-filling, saved assessments and
safe file names.

Goldens are made with the rules alone, a fixed date and fixed versions, so retraining the model does not move them;
a rulebook change that alters these three assessments does, on purpose. To accept a deliberate change:
    RISKCLASS_UPDATE_GOLDEN=1 python -m pytest tests/test_reports.py
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import riskclass.reports.report as reports
from riskclass.engine.decide import Engine
from riskclass.errors import InputError
from riskclass.law.draft import load_draft

GOLDEN_DIR = Path(__file__).parent / "data" / "reports"
UPDATE = os.environ.get("RISKCLASS_UPDATE_GOLDEN") == "1"
FIXED_VERSIONS = {"riskclass": "0.0.0-test", "rulebook": "test", "model_sha256": ""}

CASES = {
    "high": "一款为银行筛选贷款申请人的评分模型，按户籍地域给申请人降分",
    "medium": "我们星河科技有限公司推出的“小智客服”系统，面向电商平台的消费者，基于大模型自动回答售后问题，"
    "会读取用户的订单记录和收货地址。",
    "low": "工厂产线上的零件表面缺陷检测，用深度学习识别划痕，不处理任何个人信息",
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(model=None)


def assessed(engine: Engine, tier: str):
    a = engine.assess(CASES[tier])
    assert a.tier == tier, f"the {tier} example is now assessed {a.tier}: choose another example"
    return dataclasses.replace(a, versions=FIXED_VERSIONS)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN_DIR / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} did not exist and was written: check it and commit it")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs (RISKCLASS_UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize("tier", ["high", "medium", "low"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_markdown_and_json_match_the_goldens(engine, tier, lang):
    r = reports.build_report(assessed(engine, tier), lang, generated="2026-11-22")
    check_golden(f"{tier}.{lang}.md", reports.to_markdown(r))
    check_golden(f"{tier}.{lang}.json", reports.to_json(r))


class Sections(HTMLParser):
    """Collects section ids, data attributes, every tag name and every attribute that could load something."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.obligations: list[str] = []
        self.fields: dict[str, str] = {}
        self.marks: list[str] = []
        self.tags: set[str] = set()
        self.loads: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if "data-obligation" in a:
            self.obligations.append(a["data-obligation"])
        if "data-field" in a:
            self.fields[a["data-field"]] = a["data-source"]
        if tag == "mark":
            self.marks.append(a["data-criterion"])
        self.loads += [v for k, v in a.items() if k in ("src", "href") and v]


def parsed(html_text: str) -> Sections:
    p = Sections()
    p.feed(html_text)
    p.close()
    return p


def test_html_high_report_has_the_checklist_and_loads_nothing(engine):
    page = parsed(reports.to_html(assessed(engine, "high"), "zh", generated="2026-11-22"))
    for section in (
        "summary",
        "description",
        "criteria",
        "red-flags",
        "checklist",
        "article50",
        "national",
        "articles",
        "versions",
        "disclaimer",
    ):
        assert section in page.ids
    assert "disclosure" not in page.ids
    assert page.obligations[:5] == [
        "pre_assessment",
        "ethics_review",
        "public_explanation",
        "risk_warning",
        "insurance",
    ]
    assert "R2" in page.marks  # evidence is marked in the description
    assert not page.loads, "a report must be self-contained: no src or href"
    assert not page.tags & {"script", "link", "img", "iframe"}


def test_html_medium_report_has_a_disclosure_draft(engine):
    page = parsed(reports.to_html(assessed(engine, "medium"), "en"))
    assert {"disclosure", "post-control"} <= set(page.ids)
    assert "checklist" not in page.ids
    assert page.fields["product"] == "description"
    assert page.fields["limitations"] == "to_complete"


def test_html_escapes_the_description(engine):
    a = engine.assess('<script>alert("x")</script> 的人脸识别门禁系统 & <b>')
    text = reports.to_html(a, "zh")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert not parsed(text).tags & {"script", "b"}


def test_high_checklist_marks_what_the_description_triggers(engine):
    r = reports.build_report(engine.assess("医院用的AI影像辅助诊断系统，给出肺结节良恶性判断"), "zh")
    items = {i.obligation: i for i in r.checklist}
    assert items["ethics_review"].applies  # 生命健康 → 第四十九条
    assert not items["public_explanation"].applies  # not a public-interest algorithm by the description: confirm
    assert all(i.steps for i in r.checklist)
    loan = {i.obligation: i for i in reports.build_report(assessed(engine, "high"), "zh").checklist}
    assert loan["public_explanation"].applies and not loan["ethics_review"].applies


def test_every_article_cited_is_quoted_in_full_from_the_draft(engine):
    draft = load_draft()
    for tier in CASES:
        r = reports.build_report(assessed(engine, tier), "zh")
        assert "第四十六条（分类监管）" in r.articles
        for label, text in r.articles.items():
            number = label.split("（")[0]
            assert text == draft.article(number).text


def test_disclosure_is_prefilled_only_from_the_description(engine):
    r = reports.build_report(assessed(engine, "medium"), "zh")
    fields = {f.id: f for f in r.disclosure}
    assert fields["product"].value == "小智客服"
    assert fields["provider"].value == "星河科技有限公司"
    assert fields["users"].value == "电商平台的消费者"
    assert fields["principle"].value == "大模型"
    for f in r.disclosure:
        if f.source == "description":
            assert f.value in CASES["medium"], f"{f.id} invents {f.value!r}"
    assert fields["limitations"].source == fields["contact"].source == "to_complete"
    assert fields["limitations"].value == ""


def test_a_bare_description_leaves_the_fields_to_complete(engine):
    r = reports.build_report(engine.assess("设备预测性维护"), "en")
    todo = [f.id for f in r.disclosure if f.source == "to_complete"]
    assert {"product", "provider", "users", "data", "limitations", "contact"} <= set(todo)
    assert "【to complete: " in reports.to_markdown(r)


def test_a_saved_assessment_gives_the_same_report(engine, tmp_path):
    a = assessed(engine, "high")
    saved = tmp_path / "a.json"
    saved.write_text(reports.to_json(a, "zh"), encoding="utf-8")
    back = reports.load_saved_assessment(str(saved))
    assert reports.to_markdown(back, "zh", generated="d") == reports.to_markdown(a, "zh", generated="d")
    en = reports.to_markdown(back, "en", generated="d")  # titles come back in both languages from the rulebook
    assert "**H4 Decisions on significant rights**" in en and "## Pre-launch assessment and risk-warning" in en


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b'{"tier": "high"}', 'no "description"'),
        (json.dumps({"description": "人脸识别", "tier": "extreme"}).encode(), '"tier"'),
        (
            json.dumps(
                {
                    "description": "人脸识别",
                    "tier": "high",
                    "criteria": [{"id": "H5", "evidence": [{"text": "人脸", "start": 5, "end": 7}]}],
                }
            ).encode(),
            "is not at 5–7",
        ),
        ("{}".encode("utf-16"), "not UTF-8"),
    ],
)
def test_an_unusable_saved_assessment_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "saved.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        reports.load_saved_assessment(str(path))


@pytest.mark.parametrize(
    "raw",
    [
        "../../etc/passwd",
        "",
        "..",
        "/abs/path",
        "C:\\Windows\\system32",
        "CON",
        "nul.txt",
        "a" * 1000,
        "产品" * 300,
        "\x00\n\t",
        "..\\..\\x",
        "  .hidden  ",
    ],
)
def test_report_names_from_hostile_ids_stay_inside_the_directory(tmp_path, raw):
    names = reports.ReportNames(tmp_path, "md")
    name = names.name(raw, 12)
    path = tmp_path / name
    path.write_text("x", encoding="utf-8")  # the file system accepts it
    assert path.resolve().parent == tmp_path.resolve()
    assert len(name.encode("utf-8")) <= reports.NAME_MAX_BYTES + len(".md")
    assert not name.startswith(".")


def test_report_names_are_unique_and_keep_chinese(tmp_path):
    names = reports.ReportNames(tmp_path, "html")
    got = [names.name(x, i) for i, x in enumerate(["产品A", "产品a", "产品A", "", ""], start=1)]
    assert got[0] == "产品A.html"
    assert len({g.casefold() for g in got}) == len(got)
    assert got[3] == "row-4.html"


def cli(*args: str, cwd: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "riskclass", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **env},
    )


def test_a_report_shows_the_reviewers_earlier_decision(tmp_path):
    log = str(tmp_path / "audit.jsonl")
    text = "员工排班系统，根据员工填写的空闲时间排班"
    r = cli(
        "review",
        text,
        "--reviewer",
        "张三",
        "--tier",
        "low",
        "--reason",
        "只按自报时间排班",
        "--rules-only",
        cwd=tmp_path,
        RISKCLASS_AUDIT_LOG=log,
    )
    assert r.returncode == 0, r.stderr
    md = cli("report", text, "--rules-only", "--lang", "en", cwd=tmp_path, RISKCLASS_AUDIT_LOG=log)
    assert "## Reviewer's decision" in md.stdout
    assert "| Tier | Medium risk (medium) | Low risk (low) |" in md.stdout  # the suggestion beside the decision
    assert "| By | riskclass " in md.stdout and " | 张三 |" in md.stdout
    assert "| Signature | — (a suggestion, not signed) | verified (audit log entry 1, signing key " in md.stdout
    assert "**Paperwork follows**: the reviewer's decided tier, Low risk (low)" in md.stdout
    assert "A channel for problems" in md.stdout and "Monitoring: which figures" not in md.stdout  # low's plan
    assert "| Reviewed by | 张三 | 20" in md.stdout  # the sign-off names the reviewer and the day
    other = cli("report", "工厂零件缺陷检测", "--rules-only", cwd=tmp_path, RISKCLASS_AUDIT_LOG=log)
    assert "人工复核记录" not in other.stdout


def test_report_command_writes_the_format_of_the_extension_and_keeps_existing_files(tmp_path):
    out = tmp_path / "loan.html"
    r = cli("report", CASES["high"], "-o", str(out), "--rules-only", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert parsed(out.read_text(encoding="utf-8")).obligations[0] == "pre_assessment"
    again = cli("report", "别的描述：人脸识别门禁", "-o", str(out), "--rules-only", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    assert "pre_assessment" in out.read_text(encoding="utf-8")


def test_report_command_from_saved_json_and_bad_input(tmp_path):
    saved = tmp_path / "c.json"
    r = cli("classify", "--json", "--rules-only", CASES["medium"], cwd=tmp_path)
    saved.write_text(r.stdout, encoding="utf-8")
    md = cli("report", "--from-json", str(saved), cwd=tmp_path)
    assert md.returncode == 0 and "## 事前披露草稿" in md.stdout
    empty = cli("report", "   ", cwd=tmp_path)
    assert empty.returncode == 2 and empty.stderr.count("\n") == 1 and "Traceback" not in empty.stderr
    both = cli("report", "x", "--from-json", str(saved), cwd=tmp_path)
    assert both.returncode == 2


# ---- batch --reports ------------------------------------------------------------------------------------------------

HOSTILE_IDS = ["../../etc/passwd", "", "x" * 400, "产品/甲", "/abs", "CON", "..", "产品/甲"]


def write_inventory(path: Path) -> None:
    import csv

    rows = [[i, CASES[t]] for i, t in zip(HOSTILE_IDS, ["high", "medium", "low"] * 3, strict=False)]
    rows.insert(3, ["empty-row", "   "])
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["编号", "产品描述"], *rows])


def run(tmp_path: Path, reports_dir: Path, **kw):
    from riskclass.batch.run import BatchOptions, run_batch

    options = BatchOptions(
        input=str(tmp_path / "in.csv"), output=str(tmp_path / "out.csv"), reports=str(reports_dir), **kw
    )
    return run_batch(options, engine=Engine(model=None), **({"cancel": kw.pop("cancel")} if "cancel" in kw else {}))


def test_batch_reports_one_file_per_row_named_safely_inside_the_directory(tmp_path):
    import csv

    write_inventory(tmp_path / "in.csv")
    reports_dir = tmp_path / "reports"
    summary = run(tmp_path, reports_dir, report_format="md")
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert len(rows) == len(HOSTILE_IDS) + 1 and summary.errors == 1 and summary.reports == len(HOSTILE_IDS)
    files = sorted(p.name for p in reports_dir.iterdir())
    assert len(files) == len(HOSTILE_IDS)
    assert all(p.resolve().parent == reports_dir.resolve() for p in reports_dir.iterdir())
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging directory left
    for row in rows:
        if row["error"]:
            assert row["report"] == ""  # a failed row: no report, and the row says why
        else:
            text = (reports_dir / row["report"]).read_text(encoding="utf-8")
            assert text.startswith("# AI 产品风险分级建议报告") and f"({row['tier']})" in text
    assert rows[0]["report"] == "etc_passwd.md" and "产品_甲.md" in files


def test_batch_reports_refuse_a_non_empty_directory_and_an_unknown_id_column(tmp_path):
    write_inventory(tmp_path / "in.csv")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        run(tmp_path, tmp_path / "reports")
    with pytest.raises(InputError, match="no column 'nope'"):
        run(tmp_path, tmp_path / "new", id_column="nope")
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "new").exists()
    run(tmp_path, tmp_path / "reports", force=True)
    assert (tmp_path / "reports" / "keep.txt").read_text() == "mine"
    assert len(list((tmp_path / "reports").glob("*.html"))) == len(HOSTILE_IDS)


def test_a_cancelled_batch_leaves_no_reports(tmp_path):
    import threading

    from riskclass.batch.run import BatchCancelled, BatchOptions, run_batch

    write_inventory(tmp_path / "in.csv")
    cancel = threading.Event()
    options = BatchOptions(
        input=str(tmp_path / "in.csv"),
        output=str(tmp_path / "out.csv"),
        reports=str(tmp_path / "reports"),
        chunk_rows=2,
    )

    def progress(done: int, total: int | None) -> None:
        if done >= 2:
            cancel.set()

    with pytest.raises(BatchCancelled):
        run_batch(options, engine=Engine(model=None), progress=progress, cancel=cancel)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_every_article_behind_a_criterion_is_shown_with_its_quote(engine, fmt):
    """No article is cited without the draft's words: the loan scorer's 第二十九条 (智能金融风控) among them."""
    a = assessed(engine, "high")
    text = reports.render_report(reports.build_report(a, "en", generated="2026-11-22"), fmt)
    draft = load_draft()
    for h in (*a.criteria, *a.red_flags):
        for article in h.articles:
            quotes = [c.quote for c in h.citations if c.article == article]
            assert quotes, f"{h.id} cites {article} without a quote"
            for q in quotes:
                assert q in draft.article(article).text
                assert f"{article} text: “{q}”" in text or f"{article} text: “{q}”" in text.replace("&quot;", '"')
