"""Reports of a reviewed product: the decided tier drives the paperwork, the product's identity heads the report and a
sign-off block ends it — in Markdown, HTML and JSON, in both languages.

The goldens (tests/data/reports/reviewed.*) are one product with an identity and a signed decision that differs from
the suggestion, made with the rules alone, a fixed date, fixed versions and a fixed decision, so nothing in them moves
from run to run. To accept a deliberate change:
    RISKCLASS_UPDATE_GOLDEN=1 python -m pytest tests/test_reviewed_reports.py
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

GOLDEN_DIR = Path(__file__).parent / "data" / "reports"
UPDATE = os.environ.get("RISKCLASS_UPDATE_GOLDEN") == "1"
FIXED_VERSIONS = {"riskclass": "0.0.0-test", "rulebook": "test", "model_sha256": ""}
GENERATED = "2026-11-22"

LOAN = "一款为银行筛选贷款申请人的评分模型，按户籍地域给申请人降分"  # riskclass: high (H4, R2)
SUPPORT = (
    "我们星河科技有限公司推出的“小智客服”系统，面向电商平台的消费者，基于大模型自动回答售后问题，"
    "会读取用户的订单记录和收货地址。"
)  # riskclass: medium (M1, M2)
ROSTER = "员工排班系统，根据员工填写的空闲时间排班"  # riskclass: medium

IDENTITY = reports.ProductIdentity(id="AI-0026", name="贷款初筛评分", provider="星河银行", owner="风控部 李四")
DECISION = reports.TierDecision(  # as `TierDecision.from_review` makes it from a verified audit-log entry
    tier="medium",
    reviewer="张三",
    date="2026-11-20T09:30:00Z",
    reason="只给参考分，最终由信贷员人工决定",
    signature="verified",
    suggested_tier="high",
    entry=3,
    key="3f9c2a17b8e4d05c61aa",
    chain_intact=True,
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(model=None)


def assessed(engine: Engine, text: str, tier: str):
    a = engine.assess(text)
    assert a.tier == tier, f"the example is now assessed {a.tier}, not {tier}: choose another example"
    return dataclasses.replace(a, versions=FIXED_VERSIONS)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN_DIR / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path} did not exist and was written: check it and commit it")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs (RISKCLASS_UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_reviewed_product_matches_the_goldens(engine, lang):
    r = reports.build_report(
        assessed(engine, LOAN, "high"), lang, generated=GENERATED, decision=DECISION, identity=IDENTITY
    )
    check_golden(f"reviewed.{lang}.md", reports.to_markdown(r))
    check_golden(f"reviewed.{lang}.html", reports.to_html(r))
    check_golden(f"reviewed.{lang}.json", reports.to_json(r))


# ---- the decided tier drives the paperwork, in every format --------------------------------------------------------


class Page(HTMLParser):
    """Section ids, the follows marker, identity rows, sign-off rows and the obligations of the checklist."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.follows: dict[str, str] = {}
        self.identity: list[str] = []
        self.roles: list[str] = []
        self.obligations: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if a.get("id") == "follows":
            self.follows = {"tier": a["data-tier"], "follows": a["data-follows"]}
        if "data-identity" in a:
            self.identity.append(a["data-identity"])
        if "data-role" in a:
            self.roles.append(a["data-role"])
        if "data-obligation" in a:
            self.obligations.append(a["data-obligation"])


def page(text: str) -> Page:
    p = Page()
    p.feed(text)
    p.close()
    return p


def decided(tier: str, reviewer: str = "张三", **kw) -> reports.TierDecision:
    return reports.TierDecision(tier, reviewer, date="2026-11-20T09:30:00Z", reason="理由", **kw)


def test_a_medium_decision_on_a_product_suggested_high_gives_the_disclosure_draft(engine):
    r = reports.build_report(assessed(engine, LOAN, "high"), "zh", generated=GENERATED, decision=decided("medium"))
    assert (r.tier, r.kind, r.follows) == ("medium", "disclosure", "decision")
    md = reports.to_markdown(r)
    assert "## 事前披露草稿（第四十六条）" in md and "## 事后控制计划提纲（第四十六条）" in md
    assert "## 事前评估与风险预警清单" not in md
    assert "- **本报告依据**: 复核决定的等级：中风险 (medium)（复核人：张三）" in md
    assert "本报告不是高风险 (high)所需的事前评估与风险预警清单。" in md
    assert "| 等级 | 高风险 (high) | 中风险 (medium) |" in md  # the suggestion beside the decision
    html = page(reports.to_html(r))
    assert {"disclosure", "post-control", "review"} <= set(html.ids) and "checklist" not in html.ids
    assert html.follows == {"tier": "medium", "follows": "decision"}
    data = json.loads(reports.to_json(r))
    assert data["tier"] == "high"  # the assessment is kept as riskclass made it …
    report = data["report"]
    assert (report["kind"], report["tier"], report["follows"]) == ("disclosure", "medium", "decision")
    assert report["suggestion"]["tier"] == "high" and report["decision"]["tier"] == "medium"
    assert report["checklist"] == [] and report["post_control"]  # … the paperwork is the decision's
    assert [o["id"] for o in report["obligations"]][:2] == ["pre_disclosure", "post_control"]
    assert "pre_assessment" in [o["id"] for o in data["obligations"]]


def test_a_high_decision_on_a_product_suggested_medium_gives_the_checklist(engine):
    r = reports.build_report(assessed(engine, SUPPORT, "medium"), "en", generated=GENERATED, decision=decided("high"))
    md = reports.to_markdown(r)
    assert "## Pre-launch assessment and risk-warning checklist" in md and "## Pre-launch disclosure draft" not in md
    assert "It is not the pre-launch disclosure draft and post-launch control plan outline that Medium risk" in md
    items = {i.obligation: i for i in r.checklist}
    assert items["pre_assessment"].applies and items["risk_warning"].applies  # what any high tier owes
    assert not items["ethics_review"].applies  # no life, health or public safety in the description: to confirm
    html = page(reports.to_html(r))
    assert html.obligations[:5] == list(reports.HIGH_OBLIGATIONS) and "disclosure" not in html.ids
    report = json.loads(reports.to_json(r))["report"]
    assert (report["kind"], report["tier"], report["suggestion"]["tier"]) == ("checklist", "high", "medium")


def test_a_low_decision_gives_the_low_tier_control_plan(engine):
    r = reports.build_report(assessed(engine, SUPPORT, "medium"), "en", decision=decided("low"))
    assert r.kind == "disclosure" and r.post_control[0].startswith("A channel for problems")
    ids = [o.id for o in r.obligations]
    assert "basic_disclosure" in ids and "problem_channel" in ids and "pre_disclosure" not in ids


def test_without_a_decision_the_report_says_it_follows_the_suggestion(engine):
    r = reports.build_report(assessed(engine, LOAN, "high"), "en", generated=GENERATED)
    md = reports.to_markdown(r)
    assert "- **Paperwork follows**: riskclass's suggested tier, High risk (high) (no reviewer has decided yet)" in md
    assert "## Reviewer's decision" not in md and "Decided tier" not in md
    report = json.loads(reports.to_json(r))["report"]
    assert report["follows"] == "suggestion" and report["decision"] is None and report["tier"] == "high"


def test_an_accepted_suggestion_is_still_shown_as_the_decision(engine):
    r = reports.build_report(assessed(engine, LOAN, "high"), "zh", decision=decided("high"))
    md = reports.to_markdown(r)
    assert "复核决定的等级：高风险 (high)（复核人：张三，接受系统建议）" in md and "本报告不是" not in md
    assert r.kind == "checklist"


def test_a_decision_read_from_the_audit_log_drives_the_paperwork(engine):
    """The `review` object `classify --json` and `report` carry (audit.review_json) is a decision too."""
    review = {
        "reviewer": "张三",
        "timestamp": "2026-11-20T09:30:00Z",
        "decided_tier": "medium",
        "accepted": False,
        "reason": "只给参考分",
        "suggested_tier": "medium",
        "versions_changed": ["rulebook"],
        "entry": 7,
        "signed_by": "3f9c2a17b8e4d05c61aa",
        "chain_intact": False,
        "verified": True,
    }
    r = reports.build_report(assessed(engine, LOAN, "high"), "en", review=review)
    assert r.tier == "medium" and r.decision.signature == "verified" and r.decision.entry == 7
    md = reports.to_markdown(r)
    assert (
        "| Signature | — (a suggestion, not signed) | verified (audit log entry 7, signing key 3f9c2a17b8e4d05c…) |"
        in md
    )
    assert "At the review riskclass suggested Medium risk (medium); it now suggests High risk (high)." in md
    assert "Changed since the review: rulebook." in md
    assert "the audit log's hash chain is broken" in md
    assert json.loads(reports.to_json(r))["report"]["review"] == review  # the existing field, unchanged


def test_a_decision_passed_in_is_shown_as_not_signed(engine):
    md = reports.to_markdown(reports.build_report(assessed(engine, LOAN, "high"), "zh", decision=decided("low")))
    assert "| 签名 | —（系统建议，不签名） | 未签名：未记入审计日志 |" in md


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: reports.TierDecision("extreme", "张三"), "one of high, medium, low"),
        (lambda: reports.TierDecision("high", "  "), "reviewer's name"),
        (lambda: reports.TierDecision("high", "张三", signature="trust me"), "signature"),
        (lambda: reports.TierDecision("high", "张三", reason=None), "reason must be text"),
        (lambda: reports.ProductIdentity(id=26), "must be text"),
    ],
)
def test_an_unusable_decision_or_identity_is_one_clear_error_in_both_languages(make, message):
    with pytest.raises(InputError, match=message) as caught:
        make()
    assert caught.value.zh and caught.value.text("zh") != caught.value.text("en")


# ---- identity and sign-off --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_identity_heads_and_sign_off_ends_every_format(engine, lang):
    r = reports.build_report(assessed(engine, SUPPORT, "medium"), lang, identity=IDENTITY)
    md = reports.to_markdown(r)
    labels = reports.HEADINGS[lang]["product_fields"]
    assert md.index(f"## {reports.HEADINGS[lang]['product']}") < md.index(f"## {reports.HEADINGS[lang]['summary']}")
    assert f"- **{labels['id']}**: AI-0026" in md and f"- **{labels['owner']}**: 风控部 李四" in md
    sign_off = md.index(f"## {reports.HEADINGS[lang]['sign_off']}")
    assert sign_off > md.index(f"## {reports.HEADINGS[lang]['versions']}")  # the last section
    assert md[sign_off:].count("\n## ") == 0
    columns = " | ".join(reports.HEADINGS[lang]["sign_off_columns"])
    assert f"| {columns} |" in md
    for role in ("编制", "复核", "批准") if lang == "zh" else ("Prepared by", "Reviewed by", "Approved by"):
        assert f"| {role} | {reports.BLANK} | {reports.BLANK} | {reports.BLANK} |" in md  # no decision: all by hand
    html = page(reports.to_html(r))
    assert html.identity == ["id", "name", "provider", "owner"]
    assert html.ids[-2:] == ["sign-off", "disclaimer"] and html.roles == ["prepared", "reviewed", "approved"]
    report = json.loads(reports.to_json(r))["report"]
    assert report["product"] == IDENTITY.to_dict()
    assert [s["role"] for s in report["sign_off"]] == ["prepared", "reviewed", "approved"]


def test_the_sign_off_names_the_reviewer_of_a_decision(engine):
    r = reports.build_report(assessed(engine, LOAN, "high"), "en", decision=decided("medium", reviewer="Zhang San"))
    assert f"| Reviewed by | Zhang San | 2026-11-20 | {reports.BLANK} |" in reports.to_markdown(r)
    reviewed = json.loads(reports.to_json(r))["report"]["sign_off"][1]
    assert reviewed == {"role": "reviewed", "title": "Reviewed by", "name": "Zhang San", "date": "2026-11-20"}


def test_the_disclosure_draft_takes_the_name_and_provider_from_the_identity(engine):
    r = reports.build_report(assessed(engine, SUPPORT, "medium"), "zh", identity=IDENTITY)
    fields = {f.id: f for f in r.disclosure}
    assert (fields["product"].value, fields["product"].source) == ("贷款初筛评分", "identity")
    assert (fields["provider"].value, fields["provider"].source) == ("星河银行", "identity")
    assert "（摘自产品信息，请核对）" in reports.to_markdown(r)
    bare = {f.id: f for f in reports.build_report(assessed(engine, SUPPORT, "medium"), "zh").disclosure}
    assert bare["product"].value == "小智客服"  # without an identity, from the description as before


def test_an_empty_identity_is_left_to_complete(engine):
    md = reports.to_markdown(reports.build_report(assessed(engine, LOAN, "high"), "en"))
    assert "- **Product id**: 【to complete】" in md and "- **Owner**: 【to complete】" in md


# ---- the command line ------------------------------------------------------------------------------------------


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "riskclass", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **env},
    )


def test_report_options_give_the_identity_in_every_format(tmp_path):
    identity = ["--id", "AI-0026", "--name", "贷款初筛评分", "--provider", "星河银行", "--owner", "李四"]
    for fmt in ("md", "html", "json"):
        out = tmp_path / f"r.{fmt}"
        r = cli("report", LOAN, "--rules-only", "-o", str(out), *identity, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        text = out.read_text(encoding="utf-8")
        if fmt == "json":
            assert json.loads(text)["report"]["product"]["id"] == "AI-0026"
        else:
            assert "AI-0026" in text and "贷款初筛评分" in text and "星河银行" in text and "李四" in text


def test_report_follows_a_decision_recorded_with_review(tmp_path):
    log = str(tmp_path / "audit.jsonl")
    decide = ["review", LOAN, "--reviewer", "张三", "--tier", "medium", "--reason", "只给参考分", "--rules-only"]
    r = cli(*decide, cwd=tmp_path, RISKCLASS_AUDIT_LOG=log)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "r.json"
    r = cli("report", LOAN, "--rules-only", "-o", str(out), "--id", "AI-0026", cwd=tmp_path, RISKCLASS_AUDIT_LOG=log)
    assert r.returncode == 0, r.stderr
    assert "中风险" in r.stderr  # the paperwork's tier, as the file is named on standard error
    report = json.loads(out.read_text(encoding="utf-8"))["report"]
    assert (report["kind"], report["tier"], report["suggestion"]["tier"]) == ("disclosure", "medium", "high")
    assert report["decision"]["signature"] == "verified" and report["decision"]["entry"] == 1
    assert report["sign_off"][1]["name"] == "张三"


def test_batch_reports_carry_the_row_id(tmp_path):
    import csv

    from riskclass.batch.run import BatchOptions, run_batch

    with (tmp_path / "in.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["编号", "产品描述"], ["AI-0026", LOAN], ["AI-0027", ROSTER]])
    options = BatchOptions(
        input=str(tmp_path / "in.csv"),
        output=str(tmp_path / "out.csv"),
        reports=str(tmp_path / "reports"),
        report_format="json",
    )
    run_batch(options, engine=Engine(model=None))
    for id_ in ("AI-0026", "AI-0027"):
        data = json.loads((tmp_path / "reports" / f"{id_}.json").read_text(encoding="utf-8"))
        assert data["report"]["product"]["id"] == id_
