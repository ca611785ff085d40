"""Reports: one assessment turned into paperwork a compliance team can work from, as Markdown, HTML and JSON.

A report is built once (`build_report`) and rendered three ways, so the formats never disagree. It holds:
- the description with its evidence marked, the tier, the criteria and red flags with the articles and the verbatim
  quotes they rest on, the full text of every article cited, the model's weightiest words and the versions;
- for the high tier, the 事前评估 + 风险预警 checklist: each high-tier obligation with working steps, marked as applying
  (the description triggers it) or to confirm (it may apply; the description does not say), and the 第五十条 items
  triggered;
- for medium and low, a 事前披露 draft whose fields are pre-filled only from words of the description and otherwise
  marked for the user to complete, and a 事后控制 plan outline;
- the national-rule pointers, apart from the Chengdu duties, and the statement that this is a suggestion under a draft.

Core module: no UI framework. The working steps and disclosure fields are data (`data/report.yaml`); everything cited
comes from the rulebook, whose quotes are verified against the shipped draft.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from riskclass.engine.assessment import QUESTIONED, TIER_TITLES, TIERS, Assessment, CriterionHit, ObligationItem
from riskclass.errors import InputError
from riskclass.errors import Text as Message  # a message in both languages (rulebook.Text is a title's)
from riskclass.reports.terminal import CN_ITEM, LABELS, marked_segments
from riskclass.rulebook.rules import Citation, Rulebook, Text, load_rulebook
from riskclass.tables.files import default_mode, probe_directory, write_failure
from riskclass.text.inert import inert, inert_json

REPORT_DATA_FILE = "report.yaml"
REPORT_CSS_FILE = "report.css"
FORMATS = ("md", "html", "json")
EXTENSIONS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}

HEADINGS = {
    "zh": {
        "lang": "zh",
        "title": "AI 产品风险分级建议报告",
        "summary": "结论",
        "tier": "建议等级",
        "confidence": "置信度",
        "decided_by": "判断依据",
        "generated": "生成日期",
        "quote": "原文：",
        "answers": "你的回答（作为事实采用）",
        "versions": "版本",
        "evidence_note": "【】内为证据词，后附其所属标准。",
        "checklist": "事前评估与风险预警清单（高风险，第四十六条）",
        "checklist_note": "逐项完成并留存记录。“适用”表示描述触发了该项；“请确认”表示描述未提及，需判断是否适用。",
        "applies": "适用",
        "confirm": "请确认是否适用",
        "a50_check": "第五十条：确认已采取措施",
        "disclosure": "事前披露草稿（第四十六条）",
        "disclosure_note": "“摘自描述”的内容由描述自动摘出，请核对；“待填写”的内容需由你补全。",
        "from_description": "摘自描述，请核对",
        "from_assessment": "依据评估结果，请核对",
        "to_complete": "待填写",
        "extra_disclosure": "本产品另需披露",
        "post_control": "事后控制计划提纲（第四十六条）",
        "articles": "所引条文全文",
        "articles_note": "以下为《成都市促进人工智能产业发展办法（征求意见稿）》原文。",
        "review": "人工复核记录",
        "decided_tier": "决定等级",
        "report_kind": {"checklist": "事前评估与风险预警清单", "disclosure": "事前披露草稿与事后控制计划提纲"},
        "from_identity": "摘自产品信息，请核对",
        "product": "产品信息",
        "product_fields": {"id": "产品编号", "name": "产品名称", "provider": "提供者", "owner": "负责人"},
        "follows": "本报告依据",
        "follows_suggestion": "系统建议的等级：{tier}（尚无复核决定）。本报告为{kind}。",
        "follows_decision": "复核决定的等级：{tier}（复核人：{reviewer}）。本报告为{kind}；系统建议为{suggested}。",
        "follows_accepted": "复核决定的等级：{tier}（复核人：{reviewer}，接受系统建议）。本报告为{kind}。",
        "follows_not": "本报告不是{suggested}所需的{kind}。",
        "compare": ("项目", "系统建议", "复核决定"),
        "compare_rows": {
            "tier": "等级",
            "confidence": "置信度",
            "by": "作出者",
            "date": "日期",
            "reason": "理由",
            "signature": "签名",
        },
        "by_riskclass": "riskclass {riskclass}（规则库 {rulebook}）",
        "criteria_found": "触发的标准：{ids}",
        "no_criteria": "未触发任何标准",
        "no_confidence": "—（人的决定）",
        "suggestion_unsigned": "—（系统建议，不签名）",
        "signature_states": {
            "verified": "已验证（审计日志第 {entry} 条，签名密钥 {key}）",
            "verified_no_entry": "已验证",
            "unsigned": "未签名：未记入审计日志",
        },
        "chain_broken": "注意：审计日志的哈希链已损坏，请运行 riskclass audit verify。",
        "suggested_then": "复核时系统建议为{then}，现在建议为{now}。",
        "versions_since": "复核之后有变的版本：{keys}。",
        "sign_off": "签署",
        "sign_off_note": "签字即确认已核对本报告的内容。",
        "sign_off_columns": ("职责", "姓名", "日期", "签字"),
    },
    "en": {
        "lang": "en",
        "title": "AI product risk-tier report",
        "summary": "Summary",
        "tier": "Suggested tier",
        "confidence": "Confidence",
        "decided_by": "Suggestion made",
        "generated": "Generated",
        "quote": "text: ",
        "answers": "Your answers (applied as facts)",
        "versions": "Versions",
        "evidence_note": "Evidence words are in 【】, followed by their criterion.",
        "checklist": "Pre-launch assessment and risk-warning checklist (high risk, 第四十六条)",
        "checklist_note": "Work through each item and keep a record. “Applies”: the description triggers it; "
        "“confirm”: the description does not say, decide whether it applies.",
        "applies": "applies",
        "confirm": "confirm whether it applies",
        "a50_check": "第五十条: confirm the measures taken",
        "disclosure": "Pre-launch disclosure draft (第四十六条)",
        "disclosure_note": "“From the description” entries were taken from the description: check them. "
        "“To complete” entries are yours to fill in.",
        "from_description": "from the description, check",
        "from_assessment": "from the assessment, check",
        "to_complete": "to complete",
        "extra_disclosure": "This product must also disclose",
        "post_control": "Post-launch control plan outline (第四十六条)",
        "articles": "Full text of the articles cited",
        "articles_note": "Verbatim from the Chengdu draft measures (成都市促进人工智能产业发展办法（征求意见稿）).",
        "review": "Reviewer's decision",
        "decided_tier": "Decided tier",
        "report_kind": {
            "checklist": "pre-launch assessment and risk-warning checklist",
            "disclosure": "pre-launch disclosure draft and post-launch control plan outline",
        },
        "from_identity": "from the product details, check",
        "product": "Product",
        "product_fields": {"id": "Product id", "name": "Name", "provider": "Provider", "owner": "Owner"},
        "follows": "Paperwork follows",
        "follows_suggestion": "riskclass's suggested tier, {tier} (no reviewer has decided yet). "
        "This report is the {kind}.",
        "follows_decision": "the reviewer's decided tier, {tier} (reviewer: {reviewer}). This report is the {kind}; "
        "riskclass suggested {suggested}.",
        "follows_accepted": "the reviewer's decided tier, {tier} (reviewer: {reviewer}, accepting the suggestion). "
        "This report is the {kind}.",
        "follows_not": "It is not the {kind} that {suggested} calls for.",
        "compare": ("", "riskclass suggested", "Reviewer decided"),
        "compare_rows": {
            "tier": "Tier",
            "confidence": "Confidence",
            "by": "By",
            "date": "Date",
            "reason": "Reason",
            "signature": "Signature",
        },
        "by_riskclass": "riskclass {riskclass} (rulebook {rulebook})",
        "criteria_found": "criteria found: {ids}",
        "no_criteria": "no criterion found",
        "no_confidence": "— (a person's decision)",
        "suggestion_unsigned": "— (a suggestion, not signed)",
        "signature_states": {
            "verified": "verified (audit log entry {entry}, signing key {key})",
            "verified_no_entry": "verified",
            "unsigned": "not signed: not recorded in the audit log",
        },
        "chain_broken": "Note: the audit log's hash chain is broken; run riskclass audit verify.",
        "suggested_then": "At the review riskclass suggested {then}; it now suggests {now}.",
        "versions_since": "Changed since the review: {keys}.",
        "sign_off": "Sign-off",
        "sign_off_note": "Signing confirms the contents of this report have been checked.",
        "sign_off_columns": ("Role", "Name", "Date", "Signature"),
    },
}
HIGH_OBLIGATIONS = ("pre_assessment", "ethics_review", "public_explanation", "risk_warning", "insurance")


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _paren(s: str, lang: str) -> str:
    return f"({s})" if lang == "en" else f"（{s}）"


def _colon(lang: str) -> str:
    return ": " if lang == "en" else "："


# ---- the report, built once ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckItem:
    """One obligation of the high-tier checklist, with its working steps."""

    obligation: str
    title: str
    detail: str
    articles: tuple[Citation, ...]
    applies: bool  # False: the description does not trigger it; the team must confirm whether it applies
    steps: tuple[str, ...]
    done: bool = False
    because: str = ""  # what brought it when it applies: "H4", or the tier that owes it (`Because.text`)


@dataclass(frozen=True)
class DisclosureField:
    """One field of the 事前披露 draft: pre-filled from the description, or left for the user to complete."""

    id: str
    title: str
    hint: str
    value: str = ""
    source: str = "to_complete"  # description | assessment | identity | to_complete


IDENTITY_FIELDS = ("id", "name", "provider", "owner")
SIGNATURES = ("verified", "unsigned")


@dataclass(frozen=True)
class ProductIdentity:
    """Which product a report is about, as the team's register (or `report --id --name --provider --owner`) names
    it: a description says what a product does, not which entry of the inventory it is. Free text typed by people, so
    every renderer escapes it; empty means not given (the report leaves it to complete)."""

    id: str = ""
    name: str = ""
    provider: str = ""
    owner: str = ""

    def __post_init__(self) -> None:
        for name in IDENTITY_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InputError(
                    f"the product's {name} must be text, not {type(value).__name__}",
                    zh=f"产品的 {name} 必须是文本，而不是 {type(value).__name__}",
                )
            object.__setattr__(self, name, value.strip())

    def to_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in IDENTITY_FIELDS}


@dataclass(frozen=True)
class TierDecision:
    """A reviewer's decided tier: the tier a report's paperwork follows, whatever riskclass suggested. It comes from a
    verified entry of the audit log (`from_review`) or from a caller that holds one (the register, the terminal app).
    """

    tier: str  # high | medium | low
    reviewer: str
    date: str = ""  # when it was decided: the audit log's ISO-8601 UTC timestamp, or what the caller gives
    reason: str = ""
    # verified: a signed audit-log entry whose signature verified against the keyring; unsigned: given by a caller
    # and not (yet) in the audit log. An entry that does not verify is never a decision (issue 12).
    signature: str = "unsigned"
    suggested_tier: str | None = None  # what riskclass suggested when the reviewer decided, when known
    entry: int | None = None  # the audit log entry, when it came from the log
    key: str = ""  # fingerprint of the signing key that verified
    chain_intact: bool | None = None  # the audit log's hash chain when the decision was read (None: not from a log)

    def __post_init__(self) -> None:
        if self.tier not in TIERS:
            raise InputError(
                f"a decided tier must be one of {', '.join(TIERS)}, not {self.tier!r}",
                zh=f"决定的等级必须是 {'、'.join(TIERS)} 之一，而不是 {self.tier!r}",
            )
        if self.suggested_tier is not None and self.suggested_tier not in TIERS:
            object.__setattr__(self, "suggested_tier", None)  # unknown then: shown as not known, never guessed
        if not isinstance(self.reviewer, str) or not self.reviewer.strip():
            raise InputError("a decision needs the reviewer's name", zh="复核决定必须写明复核人")
        for name in ("date", "reason", "key"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InputError(
                    f"a decision's {name} must be text, not {type(value).__name__}",
                    zh=f"复核决定的 {name} 必须是文本，而不是 {type(value).__name__}",
                )
        if self.signature not in SIGNATURES:
            raise InputError(
                f"a decision's signature is one of {', '.join(SIGNATURES)}, not {self.signature!r}",
                zh=f"复核决定的签名状态必须是 {'、'.join(SIGNATURES)} 之一，而不是 {self.signature!r}",
            )

    @classmethod
    def from_review(cls, review: dict[str, Any]) -> TierDecision:
        """The decision in a `review` object (`riskclass.audit.log.review_json`: a verified audit-log entry)."""
        entry = review.get("entry")
        return cls(
            tier=str(review.get("decided_tier", "")),
            reviewer=str(review.get("reviewer", "")),
            date=str(review.get("timestamp", "")),
            reason=str(review.get("reason", "")),
            signature="verified" if review.get("verified") else "unsigned",
            suggested_tier=review.get("suggested_tier"),
            entry=entry if isinstance(entry, int) and not isinstance(entry, bool) else None,
            key=str(review.get("signed_by", "")),
            chain_intact=review.get("chain_intact"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "reviewer": self.reviewer,
            "date": self.date,
            "reason": self.reason,
            "signature": self.signature,
            "suggested_tier": self.suggested_tier,
            "entry": self.entry,
            "key": self.key,
            "chain_intact": self.chain_intact,
        }


@dataclass(frozen=True)
class SignOff:
    """One line of the sign-off block: a role, and the name and date when they are known (signatures are by hand)."""

    role: str  # prepared | reviewed | approved
    title: str
    name: str = ""
    date: str = ""


@dataclass(frozen=True)
class Report:
    assessment: Assessment
    lang: str
    generated: str
    kind: str  # checklist (high) | disclosure (medium, low): of the decided tier when there is a decision
    checklist: tuple[CheckItem, ...] = ()
    article50_checks: tuple[tuple[int, str, str], ...] = ()  # (item, title, quote) triggered
    disclosure: tuple[DisclosureField, ...] = ()
    extra_disclosure: tuple[CheckItem, ...] = ()  # AI notice, labelling, personal-information notice
    post_control: tuple[str, ...] = ()
    articles: dict[str, str] = field(default_factory=dict)  # label → verbatim text, every article cited
    steps_done: tuple[str, ...] = ()
    review: dict[str, Any] | None = None  # an earlier reviewer decision on the same description, if one is known
    decision: TierDecision | None = None  # the decided tier the paperwork follows (from `review`, or given)
    obligations: tuple[ObligationItem, ...] = ()  # what the paperwork's tier owes (the suggested tier's if undecided)
    identity: ProductIdentity = field(default_factory=ProductIdentity)
    sign_off: tuple[SignOff, ...] = ()

    @property
    def tier(self) -> str:
        """The tier the paperwork follows: the reviewer's decision when there is one, else riskclass's suggestion."""
        return self.decision.tier if self.decision else self.assessment.tier

    @property
    def follows(self) -> str:
        return "decision" if self.decision else "suggestion"


@lru_cache(maxsize=1)
def report_data() -> dict:
    import yaml

    text = resources.files("riskclass.data").joinpath(REPORT_DATA_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _text(d: dict, lang: str) -> str:
    return Text(d["zh"], d["en"]).get(lang)


def build_report(
    a: Assessment,
    lang: str = "zh",
    done: Iterable[str] = (),
    rulebook: Rulebook | None = None,
    generated: str | None = None,
    review: dict[str, Any] | None = None,
    *,
    decision: TierDecision | None = None,
    identity: ProductIdentity | None = None,
) -> Report:
    """Everything a report shows, in one language; `generated` defaults to today's date.

    With a decision (given, or the one in `review`), the paperwork is the decided tier's: a medium decision on a
    product riskclass calls high gives the 事前披露 draft and 事后控制 plan, not the 事前评估 checklist. The suggestion
    stays in the report beside the decision."""
    lang = _lang(lang)
    rb = rulebook or load_rulebook()
    data = report_data()
    done = tuple(sorted(set(done)))
    identity = identity or ProductIdentity()
    if decision is None and review:
        decision = TierDecision.from_review(review)
    tier = decision.tier if decision else a.tier
    obligations = a.obligations if tier == a.tier else _obligations_of(tier, a, rb)
    applying = {o.id: o.because.text(lang) for o in obligations}
    known = {o.id: o for o in rb.obligations}
    kind = "checklist" if tier == "high" else "disclosure"
    checklist: list[CheckItem] = []
    extra: list[CheckItem] = []
    if kind == "checklist":
        for oid in HIGH_OBLIGATIONS:
            o = known[oid]
            steps = tuple(_text(s, lang) for s in data["checklist"].get(oid, ()))
            checklist.append(
                CheckItem(
                    oid,
                    o.title.get(lang),
                    o.detail.get(lang),
                    o.articles,
                    oid in applying,
                    steps,
                    oid in done,
                    applying.get(oid, ""),
                )
            )
    for o in obligations:  # the transparency duties the criteria add (M1, M2, M3), at any tier
        if o.id not in HIGH_OBLIGATIONS and known.get(o.id) and known[o.id].when_criteria:
            extra.append(
                CheckItem(
                    o.id,
                    o.title.get(lang),
                    o.detail.get(lang),
                    known[o.id].articles,
                    True,
                    (),
                    o.id in done,
                    o.because.text(lang),
                )
            )
    disclosure: tuple[DisclosureField, ...] = ()
    post: tuple[str, ...] = ()
    if kind == "disclosure":
        disclosure = tuple(prefill_disclosure(a, lang, identity))
        post = tuple(_text(s, lang) for s in data["post_control"][tier])
    a50 = tuple((m.item, m.title.get(lang), m.quote) for m in a.article50 if m.triggered)
    return Report(
        assessment=a,
        lang=lang,
        generated=generated or dt.date.today().isoformat(),
        kind=kind,
        checklist=tuple(checklist),
        article50_checks=a50,
        disclosure=disclosure,
        extra_disclosure=tuple(extra),
        post_control=post,
        articles=_cited_articles(a, rb, obligations, checklist, extra),
        steps_done=done,
        review=review,
        decision=decision,
        obligations=obligations,
        identity=identity,
        sign_off=_sign_off(lang, decision),
    )


def _obligations_of(tier: str, a: Assessment, rb: Rulebook) -> tuple[ObligationItem, ...]:
    """What `tier` owes with the criteria and red flags of `a` holding, chosen by the engine's own selection."""
    from riskclass.engine.decide import Engine

    return Engine(rb).obligations_for(tier, a)


def _sign_off(lang: str, decision: TierDecision | None) -> tuple[SignOff, ...]:
    """Prepared by / reviewed by / approved by; the reviewer's name and date come from the decision when there is
    one, the rest is written by hand on the printed report."""
    lines = []
    for role in report_data()["sign_off"]:
        name = date = ""
        if role["id"] == "reviewed" and decision is not None:
            name, date = decision.reviewer, decision.date[:10]  # the day, as a signature line gives it
        lines.append(SignOff(role["id"], _text(role["title"], lang), name, date))
    return tuple(lines)


def _cited_articles(a: Assessment, rb: Rulebook, obligations, checklist, extra) -> dict[str, str]:
    """Every article the report cites, in the draft's order, with its full verbatim text."""
    from riskclass.law.draft import load_draft

    labels: list[str] = []
    for h in (*a.criteria, *a.red_flags, *a.possible):
        labels += h.articles
    known = {o.id: o for o in rb.obligations}
    for o in obligations:
        labels += [c.article for c in known[o.id].articles] if o.id in known else list(o.articles)
    for item in (*checklist, *extra):
        labels += [c.article for c in item.articles]
    if any(m.triggered for m in a.article50):
        labels.append("第五十条")
    draft = load_draft()
    found = []
    for label in dict.fromkeys(labels):
        try:
            art = draft.article(label)
        except Exception:  # a label the draft lacks is caught by the rulebook's own validation
            continue
        found.append((art.number, f"{art.label}（{art.title}）" if art.title else art.label, art.text))
    return {label: text for _, label, text in sorted(found)}


def _as_report(
    a: Assessment | Report, lang: str, done: Iterable[str], rulebook: Rulebook | None, generated: str | None
) -> Report:
    """What every renderer starts from: the Report given, or one built from the assessment."""
    return a if isinstance(a, Report) else build_report(a, lang, done, rulebook, generated)


# ---- pre-filling the disclosure draft from the description ------------------------------------------------------

_STOP = r"的是款个种套了为用把将在，,。：:；;、\s“”\"「」《》（）()"
_PRODUCT = re.compile(
    r"[《「『“\"]([^》」』”\"\n]{2,30})[》」』”\"]"
    rf"|(?:^|(?<=[{_STOP}]))([^{_STOP}]{{1,14}}?(?:系统|系統|平台|平臺|助手|机器人|機器人|大模型|软件|軟體|小程序|App|APP|app))"
    r"|\b(?:called|named)\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,3})"
)
_PROVIDER = re.compile(
    rf"(?:^|(?<=[{_STOP}]))([^{_STOP}]{{2,16}}?(?:有限公司|公司|集团|集團|医院|醫院|银行|銀行|研究院|大学|大學))"
    r"|\b([A-Z][\w&]*(?:\s+[A-Z][\w&]*){0,3}\s+(?:Inc|Ltd|Co|Bank|Hospital|Group|Labs|Technologies)\b\.?)"
)
_USERS = re.compile(
    r"(?:面向|面對|供|为|為|帮助|幫助|服务于|服務於)([^，,。；;：:\n]{2,30}?)(?:使用|提供|，|,|。|；|;|$)"
    r"|\b(?:for|used by|helps)\s+([^,.;:\n]{3,60})",
)
_PRINCIPLE = re.compile(
    r"大语言模型|大語言模型|大模型|深度学习|深度學習|机器学习|機器學習|神经网络|神經網路|知识图谱|知識圖譜|规则引擎|規則引擎"
    r"|推荐算法|推薦演算法|计算机视觉|電腦視覺|语音识别|語音辨識|OCR|\bLLM\b|large language model|deep learning"
    r"|machine learning|neural network|computer vision|speech recognition|knowledge graph|rule engine",
    re.IGNORECASE,
)
_DATA = re.compile(
    r"[^，,。；;、：:\s的和与及或]{0,8}(?:数据|資料|数据集|信息|資訊|影像|图像|圖像|图片|圖片|照片|视频|視頻|影片|语音|語音|录音|錄音"
    r"|记录|紀錄|日志|日誌|病历|病歷|简历|簡歷|轨迹|軌跡|档案|檔案)"
    r"|\b(?:\w+\s)?(?:data|records|images|photos|video|audio|logs|resumes|CVs)\b",
    re.IGNORECASE,
)
_VERB = re.compile(r"^(?:基于|基於|根据|根據|利用|使用|读取|讀取|采集|採集|收集|通过|通過|结合|結合|分析|调用|調用)")
_OWN = re.compile(r"^(?:我们|我們|我司|本公司|由)")  # "我们星河科技有限公司" names 星河科技有限公司
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?|[^\n]+")
PERSONAL_CRITERIA = ("M2", "H1", "H4", "H5", "H6")


def _first(pattern: re.Pattern[str], text: str) -> str:
    m = pattern.search(text)
    if not m:
        return ""
    return next((g for g in m.groups() if g), m.group(0)).strip()


def _all(pattern: re.Pattern[str], text: str, limit: int = 6) -> list[str]:
    found = (_VERB.sub("", m.group(0).strip()) for m in pattern.finditer(text))
    return list(dict.fromkeys(f for f in found if f))[:limit]


def first_sentence(text: str, limit: int = 160) -> str:
    m = _SENTENCE.search(text.strip())
    s = (m.group(0) if m else text).strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


def prefill_disclosure(a: Assessment, lang: str, identity: ProductIdentity | None = None) -> list[DisclosureField]:
    """The disclosure fields, each pre-filled only with words found in the description (or facts of the assessment,
    or the product's name and provider as the team gave them), and otherwise left empty with a hint: a draft must
    never invent a fact about the product."""
    text = a.description
    sep = "、" if lang == "zh" else ", "
    values: dict[str, tuple[str, str]] = {}
    if identity is not None and identity.name:
        values["product"] = (identity.name, "identity")
    elif product := _first(_PRODUCT, text):
        values["product"] = (product, "description")
    if identity is not None and identity.provider:
        values["provider"] = (identity.provider, "identity")
    elif provider := _OWN.sub("", _first(_PROVIDER, text)):
        values["provider"] = (provider, "description")
    values["function"] = (first_sentence(text), "description")
    if users := _first(_USERS, text):
        values["users"] = (users, "description")
    if methods := _all(_PRINCIPLE, text):
        values["principle"] = (sep.join(methods), "description")
    data_words = _all(_DATA, text)
    personal = [h for h in a.criteria if h.id in PERSONAL_CRITERIA]
    if personal:
        note = (
            f"涉及个人信息{_paren(sep.join(h.id + ' ' + h.title.get(lang) for h in personal), lang)}"
            if lang == "zh"
            else f"involves personal information ({sep.join(h.id + ' ' + h.title.get(lang) for h in personal)})"
        )
        data_words.append(note)
    if data_words:
        values["data"] = (sep.join(data_words), "description" if not personal else "assessment")
    fields = []
    for f in report_data()["disclosure_fields"]:
        value, source = values.get(f["id"], ("", "to_complete"))
        fields.append(DisclosureField(f["id"], _text(f["title"], lang), _text(f["hint"], lang), value, source))
    return fields


# ---- what every format shows the same way -----------------------------------------------------------------------

BLANK = "＿＿＿＿＿＿"  # a line to write on in a printed Markdown report; not Markdown syntax, unlike "___"


def _tier_words(tier: str, lang: str) -> str:
    return f"{TIER_TITLES[tier].get(lang)} ({tier})" if tier in TIER_TITLES else tier


def _people(value: str) -> str:
    """Text people typed (a product's identity, a reviewer's name or reason) as a table shows it: a spreadsheet that
    opens the HTML or Markdown table shows a formula, never runs it. JSON keeps the value as given."""
    from riskclass.tables.write import guard_formula

    return guard_formula(value)


def _follows(r: Report, esc: Callable[[str], str]) -> str:
    """One plain sentence: which tier the paperwork follows, and what riskclass suggested when that differs."""
    a, lang, H = r.assessment, r.lang, HEADINGS[r.lang]
    kind = H["report_kind"][r.kind]
    if r.decision is None:
        return H["follows_suggestion"].format(tier=esc(_tier_words(a.tier, lang)), kind=esc(kind))
    d = r.decision
    if d.tier == a.tier:
        return H["follows_accepted"].format(
            tier=esc(_tier_words(d.tier, lang)), reviewer=esc(_people(d.reviewer)), kind=esc(kind)
        )
    text = H["follows_decision"].format(
        tier=esc(_tier_words(d.tier, lang)),
        reviewer=esc(_people(d.reviewer)),
        kind=esc(kind),
        suggested=esc(_tier_words(a.tier, lang)),
    )
    suggested_kind = "checklist" if a.tier == "high" else "disclosure"
    if suggested_kind != r.kind:
        text += ("" if lang == "zh" else " ") + H["follows_not"].format(
            kind=esc(H["report_kind"][suggested_kind]), suggested=esc(_tier_words(a.tier, lang))
        )
    return text


def _compare_rows(r: Report) -> list[tuple[str, str, str]]:
    """The suggestion and the decision side by side: (row label, suggestion, decision), unescaped."""
    assert r.decision is not None
    a, d, lang, H = r.assessment, r.decision, r.lang, HEADINGS[r.lang]
    rows = H["compare_rows"]
    sep = "、" if lang == "zh" else ", "
    ids = [h.id for h in a.criteria]
    states = H["signature_states"]
    if d.signature == "verified":
        signature = (
            states["verified"].format(entry=d.entry, key=d.key[:16] + "…")
            if d.entry is not None
            else states["verified_no_entry"]
        )
    else:
        signature = states["unsigned"]
    return [
        (rows["tier"], _tier_words(a.tier, lang), _tier_words(d.tier, lang)),
        (rows["confidence"], f"{a.confidence:.2f}", H["no_confidence"]),
        (
            rows["by"],
            H["by_riskclass"].format(
                riskclass=a.versions.get("riskclass", "?"), rulebook=a.versions.get("rulebook", "?")
            ),
            _people(d.reviewer),
        ),
        (rows["date"], r.generated, _people(d.date) or "—"),
        (
            rows["reason"],
            H["criteria_found"].format(ids=sep.join(ids)) if ids else H["no_criteria"],
            _people(d.reason) or "—",
        ),
        (rows["signature"], H["suggestion_unsigned"], signature),
    ]


def _decision_notes(r: Report) -> list[str]:
    """What a reader of the decision should also know: a broken log, a suggestion that moved since the review."""
    assert r.decision is not None
    d, lang, H = r.decision, r.lang, HEADINGS[r.lang]
    notes = []
    if d.suggested_tier is not None and d.suggested_tier != r.assessment.tier:
        notes.append(
            H["suggested_then"].format(
                then=_tier_words(d.suggested_tier, lang), now=_tier_words(r.assessment.tier, lang)
            )
        )
    changed = (r.review or {}).get("versions_changed") or []
    if changed:
        notes.append(H["versions_since"].format(keys=("、" if lang == "zh" else ", ").join(map(str, changed))))
    if d.chain_intact is False:
        notes.append(H["chain_broken"])
    return notes


def _identity_rows(r: Report) -> list[tuple[str, str]]:
    """(label, value) for each identity field; an empty value is left for the team to complete."""
    labels = HEADINGS[r.lang]["product_fields"]
    return [(labels[name], _people(getattr(r.identity, name))) for name in IDENTITY_FIELDS]


# ---- Markdown ----------------------------------------------------------------------------------------------------


def marked_description(a: Assessment) -> str:
    """The description with each evidence span as 【words｜criterion】 (overlaps merged, the first criterion kept)."""
    return "".join(
        seg if cid is None else f"【{seg}｜{cid}】" for seg, cid in marked_segments(a.description, a.evidence_spans())
    )


def _quotes(labels: Iterable[str], known: Iterable[Citation]) -> list[tuple[str, str]]:
    quotes = {c.article: c.quote for c in known}
    return [(label, quotes.get(label, "")) for label in dict.fromkeys(labels)]


def _hit_quotes(h: CriterionHit, rb: Rulebook) -> list[tuple[str, str]]:
    """Each article behind a criterion with the words of the draft it rests on, as the rules that fired quote it."""
    if h.citations:
        return [(c.article, c.quote) for c in h.citations]
    crit = rb.criteria.get(h.id)
    known = [c for r in rb.rules if r.id in h.rules for c in r.articles] + list(crit.articles if crit else ())
    return _quotes(h.articles, reversed(known))  # the first quote of an article wins


def _hit_words(h: CriterionHit, lang: str) -> str:
    if h.source == "answer":
        return f"（{LABELS[lang]['decided_by']['answers']}）" if lang == "zh" else "(from your answer)"
    return "、".join(dict.fromkeys(f"“{e.text}”" for e in h.evidence))


def _md_escape(s: str) -> str:
    """Keep a user's text from turning into Markdown structure (headings, lists, links, emphasis, HTML), and terminal
    escapes and bidi controls from acting when the file is shown (`inert`)."""
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", inert(s))


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.-]+")  # model_sha256: nothing in it can become markup, shown as it is
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def _md(s: object) -> str:
    """One field on one line of Markdown, inert: line breaks become spaces (a field cannot start a heading, a list or
    an HTML block on a line of its own) and Markdown and HTML syntax is escaped. Every field of an assessment goes
    through here or `_md_escape`: a saved assessment may come from anyone (issue 12)."""
    return _md_escape(_LINE_BREAKS.sub(" ", str(s)))


def to_markdown(
    a: Assessment | Report,
    lang: str = "zh",
    done: Iterable[str] = (),
    rulebook: Rulebook | None = None,
    generated: str | None = None,
) -> str:
    """The report as Markdown: readable as plain text, printable through any Markdown viewer."""
    r = _as_report(a, lang, done, rulebook, generated)
    a, lang, rb = r.assessment, r.lang, rulebook or load_rulebook()
    L, H = LABELS[lang], HEADINGS[lang]
    lines = [f"# {H['title']}", "", f"*{L['disclaimer']}*", "", f"## {H['product']}", ""]
    todo = f"【{H['to_complete']}】"
    lines += [f"- **{label}**: {_md(value) if value else todo}" for label, value in _identity_rows(r)]
    lines += ["", f"## {H['summary']}", "", f"- **{H['follows']}**: {_follows(r, _md)}"]
    lines.append(f"- **{H['tier']}**: {_tier_words(a.tier, lang)}")
    if r.decision:
        lines.append(f"- **{H['decided_tier']}**: {_tier_words(r.decision.tier, lang)}")
    lines += [
        f"- **{H['confidence']}**: {a.confidence:.2f}",
        f"- **{H['decided_by']}**: {_md(L['decided_by'].get(a.decided_by, a.decided_by))}",
        f"- **{L['review']}**: {L['yes'] if a.needs_review else L['no']}",
    ]
    lines += [f"  - {_md(x.get(lang))}" for x in a.review_reasons]
    if a.answers:
        yes_no = {True: L["yes"], False: L["no"]}
        lines.append(f"- **{H['answers']}**: " + "、".join(f"{_md(k)}={yes_no[v]}" for k, v in a.answers.items()))
    lines.append(f"- **{H['generated']}**: {r.generated}")
    if r.decision:
        lines += ["", f"## {H['review']}", "", _md_row(H["compare"]), "| --- | --- | --- |"]
        lines += [_md_row(row) for row in _compare_rows(r)]
        notes = _decision_notes(r)
        if notes:
            lines += ["", *(f"- {_md(n)}" for n in notes)]
    lines += ["", f"## {L['description']}", ""]
    lines += [f"> {_md_escape(line)}" if line else ">" for line in marked_description(a).splitlines()]
    lines += ["", f"*{H['evidence_note']}*", "", f"## {L['criteria']}", ""]
    _md_hits(lines, a.criteria, rb, lang, L["none"], a.questioned)
    if a.possible:
        lines += ["", f"## {L['possible']}", ""]
        _md_hits(lines, a.possible, rb, lang, L["none"])
    lines += ["", f"## {L['red_flags']}", ""]
    _md_hits(lines, a.red_flags, rb, lang, L["none"])
    if r.kind == "checklist":
        lines += ["", f"## {H['checklist']}", "", f"*{H['checklist_note']}*", ""]
        for item in r.checklist:
            lines += _md_check(item, H)
        if r.article50_checks:
            lines += ["", f"### {H['a50_check']}", ""]
            lines += [f"- [ ] ({CN_ITEM[n]}) {t} — 第五十条 {H['quote']}“{q}”" for n, t, q in r.article50_checks]
        if r.extra_disclosure:
            lines += ["", f"### {H['extra_disclosure']}", ""]
            for item in r.extra_disclosure:
                lines += _md_check(item, H)
    else:
        lines += ["", f"## {H['disclosure']}", "", f"*{H['disclosure_note']}*", ""]
        for f in r.disclosure:
            if f.value:
                value = _md(_people(f.value)) if f.source == "identity" else _md_escape(f.value)
                lines.append(f"- **{f.title}**: {value} *{_paren(H['from_' + f.source], lang)}*")
            else:
                lines.append(f"- **{f.title}**: 【{H['to_complete']}{_colon(lang)}{f.hint}】")
        if r.extra_disclosure:
            lines += ["", f"### {H['extra_disclosure']}", ""]
            for item in r.extra_disclosure:
                lines += _md_check(item, H)
        lines += ["", f"## {H['post_control']}", ""]
        lines += [f"- [ ] {s}" for s in r.post_control]
    lines += ["", f"## {L['steps']}（第四十六条）" if lang == "zh" else f"## {L['steps']} (第四十六条)", ""]
    lines += [
        f"- [{'x' if o.id in r.steps_done else ' '}] **{o.title.get(lang)}** — {o.detail.get(lang)}"
        + (f" *{_md(o.because.shown(lang))}*" if o.because.shown(lang) else "")
        for o in r.obligations
    ]
    lines += ["", f"## {L['a50']}", ""]
    for m in a.article50:
        why = f" — {_md(m.why.get(lang))}" if m.why else ""
        lines.append(f"- {'■' if m.triggered else '□'} ({CN_ITEM[m.item]}) {m.title.get(lang)}{why}")
    if a.national:
        lines += ["", f"## {L['national']}", ""]
        lines += [
            f"- {_md(n.law)}{' ' + _md(n.article) if n.article else ''} — {_md(n.topic.get(lang))}"
            + (f" *{_md(n.because.shown(lang))}*" if n.because.shown(lang) else "")
            for n in a.national
        ]
    lines += ["", f"## {L['model']}", ""]
    if a.model.used:
        lines.append("- " + " ".join(f"{_md(tier)} {p:.0%}" for tier, p in (a.model.probabilities or {}).items()))
        if a.model.top_terms:
            lines.append(f"- {L['model_words']}: " + "、".join(_md(t) for t, _ in a.model.top_terms))
    else:
        lines.append(f"- {L['model_absent']}")
    if a.questions:
        lines += ["", f"## {L['questions']}", ""]
        lines += [f"{i}. [{_md(q.criterion)}] {_md(q.text.get(lang))}" for i, q in enumerate(a.questions, 1)]
    lines += ["", f"## {H['articles']}", "", f"*{H['articles_note']}*", ""]
    for label, text in r.articles.items():
        lines += [f"### {label}", "", *(f"> {p}" for p in text.splitlines()), ""]
    lines += [f"## {H['versions']}", ""]
    lines += [f"- {k if _PLAIN_KEY.fullmatch(k) else _md(k)}: {_md(v)}" for k, v in a.versions.items()]
    lines += ["", f"## {H['sign_off']}", "", f"*{H['sign_off_note']}*", "", _md_row(H["sign_off_columns"])]
    lines.append("| --- | --- | --- | --- |")
    lines += [_md_row((s.title, _people(s.name) or BLANK, _people(s.date) or BLANK, BLANK)) for s in r.sign_off]
    lines += ["", "---", "", L["disclaimer"], ""]
    return "\n".join(lines)


def _md_row(cells: Iterable[str]) -> str:
    """One Markdown table row; each cell on one line with `|` and markup escaped (`_md`)."""
    return "| " + " | ".join(_md(c) for c in cells) + " |"


def _md_hits(
    lines: list[str], hits: tuple[CriterionHit, ...], rb: Rulebook, lang: str, none: str, questioned=lambda h: False
) -> None:
    if not hits:
        lines.append(f"- {none}")
    for h in hits:
        note = f" *{QUESTIONED.get(lang)}*" if questioned(h) else ""
        lines.append(f"- **{_md(h.id)} {h.title.get(lang)}** {_md(_hit_words(h, lang))}".rstrip() + note)
        for article, quote in _hit_quotes(h, rb):
            lines.append(f"  - {_md(article)}" + (f" {HEADINGS[lang]['quote']}“{quote}”" if quote else ""))


def _status(item: CheckItem, H: dict) -> str:
    """The status of a checklist item: "applies: H4" (what brought it), or "confirm whether it applies"."""
    if not item.applies:
        return H["confirm"]
    return f"{H['applies']}{_colon(H['lang'])}{item.because}" if item.because else H["applies"]


def _md_check(item: CheckItem, H: dict) -> list[str]:
    status = _status(item, H)
    cites = "；".join(f"{c.article}“{c.quote}”" for c in item.articles)
    out = [
        f"- [{'x' if item.done else ' '}] **{item.title}** {_paren(status, H['lang'])} — {item.detail}",
        f"  - {cites}",
    ]
    out += [f"  - [ ] {s}" for s in item.steps]
    return out


# ---- HTML --------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _css() -> str:
    return resources.files("riskclass.data").joinpath(REPORT_CSS_FILE).read_text(encoding="utf-8")


def _e(s: object) -> str:
    """HTML-escaped, with control and bidi characters shown inert: a bidi override cannot reorder a report's text."""
    return html.escape(inert(str(s)), quote=True)


def to_html(
    a: Assessment | Report,
    lang: str = "zh",
    done: Iterable[str] = (),
    rulebook: Rulebook | None = None,
    generated: str | None = None,
) -> str:
    """The report as one self-contained HTML file: inline styles, no scripts, no network assets; prints well."""
    r = _as_report(a, lang, done, rulebook, generated)
    a, lang, rb = r.assessment, r.lang, rulebook or load_rulebook()
    L, H = LABELS[lang], HEADINGS[lang]
    out: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{"en" if lang == "en" else "zh-CN"}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="riskclass {_e(a.versions.get("riskclass", ""))}">',
        f"<title>{_e(H['title'])}{' — ' + _e(_people(r.identity.name)) if r.identity.name else ''} — "
        f"{_e(_tier_words(r.tier, lang))}</title>",
        f"<style>{_css()}</style></head>",
        "<body><main>",
        f"<header><h1>{_e(H['title'])}</h1>",
        f'<p class="disclaimer">{_e(L["disclaimer"])}</p></header>',
        f'<section id="product"><h2>{_e(H["product"])}</h2><table class="fields">',
    ]
    for name, (label, value) in zip(IDENTITY_FIELDS, _identity_rows(r), strict=True):
        cell = _e(value) if value else f'<span class="todo">【{_e(H["to_complete"])}】</span>'
        out.append(f'<tr data-identity="{name}"><th>{_e(label)}</th><td>{cell}</td></tr>')
    out += [
        "</table></section>",
        f'<section id="summary"><h2>{_e(H["summary"])}</h2><dl class="summary">',
        f'<dt>{_e(H["follows"])}</dt><dd id="follows" data-tier="{r.tier}" data-follows="{r.follows}">'
        f"{_follows(r, _e)}</dd>",
        f'<dt>{_e(H["tier"])}</dt><dd><span class="tier tier-{a.tier}">{_e(a.tier_title.get(lang))}</span> '
        f"({a.tier})</dd>",
    ]
    if r.decision:
        d = r.decision
        out.append(
            f'<dt>{_e(H["decided_tier"])}</dt><dd><span class="tier tier-{d.tier}">'
            f"{_e(TIER_TITLES[d.tier].get(lang))}</span> ({d.tier})</dd>"
        )
    out += [
        f"<dt>{_e(H['confidence'])}</dt><dd>{a.confidence:.2f}</dd>",
        f"<dt>{_e(H['decided_by'])}</dt><dd>{_e(L['decided_by'].get(a.decided_by, a.decided_by))}</dd>",
        f"<dt>{_e(L['review'])}</dt><dd>{_e(L['yes'] if a.needs_review else L['no'])}",
    ]
    if a.review_reasons:
        out.append("<ul>" + "".join(f"<li>{_e(x.get(lang))}</li>" for x in a.review_reasons) + "</ul>")
    out.append("</dd>")
    if a.answers:
        yes_no = {True: L["yes"], False: L["no"]}
        out.append(
            f"<dt>{_e(H['answers'])}</dt><dd>"
            + "、".join(_e(f"{k}={yes_no[v]}") for k, v in a.answers.items())
            + "</dd>"
        )
    out += [f"<dt>{_e(H['generated'])}</dt><dd>{_e(r.generated)}</dd></dl></section>"]
    if r.decision:
        head = "".join(f'<th scope="col">{_e(c)}</th>' for c in H["compare"])
        out.append(f'<section id="review"><h2>{_e(H["review"])}</h2><table class="compare"><tr>{head}</tr>')
        out += [
            f'<tr><th scope="row">{_e(label)}</th><td>{_e(suggested)}</td><td>{_e(decided)}</td></tr>'
            for label, suggested, decided in _compare_rows(r)
        ]
        out.append("</table>")
        notes = _decision_notes(r)
        if notes:
            out.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>")
        out.append("</section>")
    out += [
        f'<section id="description"><h2>{_e(L["description"])}</h2>',
        f"<blockquote>{_html_marked(a, rb, lang)}</blockquote></section>",
        f'<section id="criteria"><h2>{_e(L["criteria"])}</h2>'
        f"{_html_hits(a.criteria, rb, lang, a.questioned)}</section>",
    ]
    if a.possible:
        out.append(f'<section id="possible"><h2>{_e(L["possible"])}</h2>{_html_hits(a.possible, rb, lang)}</section>')
    out.append(f'<section id="red-flags"><h2>{_e(L["red_flags"])}</h2>{_html_hits(a.red_flags, rb, lang)}</section>')
    if r.kind == "checklist":
        out += [
            f'<section id="checklist"><h2>{_e(H["checklist"])}</h2>',
            f'<p class="quote">{_e(H["checklist_note"])}</p><ul class="check">',
        ]
        out += [_html_check(item, H) for item in r.checklist]
        out.append("</ul>")
        if r.article50_checks:
            out.append(f'<h3>{_e(H["a50_check"])}</h3><ul class="check">')
            out += [
                f'<li><span class="box">☐</span>({CN_ITEM[n]}) {_e(t)}<div class="quote">第五十条 '
                f"{_e(H['quote'])}“{_e(q)}”</div></li>"
                for n, t, q in r.article50_checks
            ]
            out.append("</ul>")
        if r.extra_disclosure:
            out.append(f'<h3>{_e(H["extra_disclosure"])}</h3><ul class="check">')
            out += [_html_check(item, H) for item in r.extra_disclosure]
            out.append("</ul>")
        out.append("</section>")
    else:
        out += [
            f'<section id="disclosure"><h2>{_e(H["disclosure"])}</h2>',
            f'<p class="quote">{_e(H["disclosure_note"])}</p><table class="fields">',
        ]
        for f in r.disclosure:
            if f.value:
                value = _people(f.value) if f.source == "identity" else f.value
                cell = f'{_e(value)} <span class="prefilled">{_e(_paren(H["from_" + f.source], lang))}</span>'
            else:
                cell = f'<span class="todo">【{_e(H["to_complete"])}】</span> {_e(f.hint)}'
            out.append(f'<tr data-field="{f.id}" data-source="{f.source}"><th>{_e(f.title)}</th><td>{cell}</td></tr>')
        out.append("</table>")
        if r.extra_disclosure:
            out.append(f'<h3>{_e(H["extra_disclosure"])}</h3><ul class="check">')
            out += [_html_check(item, H) for item in r.extra_disclosure]
            out.append("</ul>")
        out += ["</section>", f'<section id="post-control"><h2>{_e(H["post_control"])}</h2><ul class="check">']
        out += [f'<li><span class="box">☐</span>{_e(s)}</li>' for s in r.post_control]
        out.append("</ul></section>")
    steps_title = f"{L['steps']}（第四十六条）" if lang == "zh" else f"{L['steps']} (第四十六条)"
    out.append(f'<section id="steps"><h2>{_e(steps_title)}</h2><ul class="check">')
    for o in r.obligations:
        box = "☑" if o.id in r.steps_done else "☐"
        because = o.because.shown(lang)
        out.append(
            f'<li><span class="box">{box}</span><strong>{_e(o.title.get(lang))}</strong> — '
            f'{_e(o.detail.get(lang))} <span class="quote">{_e("、".join(o.articles))}</span>'
            + (f' <span class="because">{_e(because)}</span>' if because else "")
            + "</li>"
        )
    out += ["</ul></section>", f'<section id="article50"><h2>{_e(L["a50"])}</h2><ul class="check">']
    for m in a.article50:
        why = f" — {_e(m.why.get(lang))}" if m.why else ""
        out.append(
            f'<li><span class="box">{"■" if m.triggered else "□"}</span>({CN_ITEM[m.item]}) '
            f'{_e(m.title.get(lang))}{why}<div class="quote">“{_e(m.quote)}”</div></li>'
        )
    out.append("</ul></section>")
    if a.national:
        out.append(f'<section id="national"><h2>{_e(L["national"])}</h2><ul>')
        out += [
            f"<li>{_e(n.law)}{' ' + _e(n.article) if n.article else ''} — {_e(n.topic.get(lang))}"
            + (f' <span class="because">{_e(n.because.shown(lang))}</span>' if n.because.shown(lang) else "")
            + "</li>"
            for n in a.national
        ]
        out.append("</ul></section>")
    out.append(f'<section id="model"><h2>{_e(L["model"])}</h2><ul>')
    if a.model.used:
        out.append("<li>" + " ".join(f"{_e(t)} {p:.0%}" for t, p in (a.model.probabilities or {}).items()) + "</li>")
        if a.model.top_terms:
            out.append(f"<li>{_e(L['model_words'])}: " + "、".join(_e(t) for t, _ in a.model.top_terms) + "</li>")
    else:
        out.append(f"<li>{_e(L['model_absent'])}</li>")
    out.append("</ul></section>")
    if a.questions:
        out.append(f'<section id="questions"><h2>{_e(L["questions"])}</h2><ol>')
        out += [f"<li>[{_e(q.criterion)}] {_e(q.text.get(lang))}</li>" for q in a.questions]
        out.append("</ol></section>")
    out += [f'<section id="articles"><h2>{_e(H["articles"])}</h2><p class="quote">{_e(H["articles_note"])}</p>']
    out += [f'<h3>{_e(label)}</h3><p class="article">{_e(text)}</p>' for label, text in r.articles.items()]
    out += ["</section>", f'<section id="versions"><h2>{_e(H["versions"])}</h2><ul class="versions">']
    out += [f"<li>{_e(k)}: {_e(v)}</li>" for k, v in a.versions.items()]
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in H["sign_off_columns"])
    out += [
        "</ul></section>",
        f'<section id="sign-off"><h2>{_e(H["sign_off"])}</h2><p class="quote">{_e(H["sign_off_note"])}</p>',
        f'<table class="sign-off"><tr>{head}</tr>',
    ]
    out += [
        f'<tr data-role="{s.role}"><th scope="row">{_e(s.title)}</th><td>{_e(_people(s.name))}</td>'
        f"<td>{_e(_people(s.date))}</td><td></td></tr>"
        for s in r.sign_off
    ]
    out += ["</table></section>", f'<footer id="disclaimer">{_e(L["disclaimer"])}</footer>', "</main></body></html>"]
    out.append("")
    return "\n".join(out)


def _html_marked(a: Assessment, rb: Rulebook, lang: str) -> str:
    out = []
    for seg, cid in marked_segments(a.description, a.evidence_spans()):
        if cid is None:
            out.append(_e(seg))
            continue
        crit = rb.criteria.get(cid)
        title = f"{cid} {crit.title.get(lang)}" if crit else cid
        out.append(f'<mark data-criterion="{_e(cid)}" title="{_e(title)}">{_e(seg)}<sup>{_e(cid)}</sup></mark>')
    return "".join(out)


def _html_hits(hits: tuple[CriterionHit, ...], rb: Rulebook, lang: str, questioned=lambda h: False) -> str:
    if not hits:
        return f"<ul><li>{_e(LABELS[lang]['none'])}</li></ul>"
    items = []
    for h in hits:
        cites = "".join(
            f"<li>{_e(article)}{' ' + _e(HEADINGS[lang]['quote']) + '“' + _e(q) + '”' if q else ''}</li>"
            for article, q in _hit_quotes(h, rb)
        )
        items.append(
            f'<li data-criterion="{_e(h.id)}"><strong>{_e(h.id)} {_e(h.title.get(lang))}</strong> '
            f"{_e(_hit_words(h, lang))}"
            + (f" <em>{_e(QUESTIONED.get(lang))}</em>" if questioned(h) else "")
            + f'<ul class="quote">{cites}</ul></li>'
        )
    return "<ul>" + "".join(items) + "</ul>"


def _html_check(item: CheckItem, H: dict) -> str:
    status = _status(item, H)
    cites = "；".join(f"{c.article}“{c.quote}”" for c in item.articles)
    steps = "".join(f'<li><span class="box">☐</span>{_e(s)}</li>' for s in item.steps)
    return (
        f'<li data-obligation="{_e(item.obligation)}"><span class="box">{"☑" if item.done else "☐"}</span>'
        f"<strong>{_e(item.title)}</strong> "
        f'<span class="status{" applies" if item.applies else ""}">{_e(_paren(status, H["lang"]))}</span>'
        f" — {_e(item.detail)}"
        f'<div class="quote">{_e(cites)}</div>' + (f"<ul>{steps}</ul>" if steps else "") + "</li>"
    )


# ---- JSON --------------------------------------------------------------------------------------------------------


def report_dict(r: Report) -> dict:
    """The `classify --json` object with the description, the ticked steps and the report's own sections."""
    a, lang = r.assessment, r.lang

    def cite(c: Citation) -> dict:
        return {"article": c.article, "quote": c.quote}

    def check(item: CheckItem) -> dict:
        return {
            "obligation": item.obligation,
            "title": item.title,
            "detail": item.detail,
            "applies": item.applies,
            "because": item.because,
            "done": item.done,
            "articles": [cite(c) for c in item.articles],
            "steps": list(item.steps),
        }

    report: dict[str, Any] = {
        "kind": r.kind,
        "lang": lang,
        "generated": r.generated,
        "tier": r.tier,
        "follows": r.follows,
        "suggestion": {
            "tier": a.tier,
            "confidence": round(a.confidence, 4),
            "criteria": [h.id for h in a.criteria],
            "by": {k: a.versions.get(k, "") for k in ("riskclass", "rulebook")},
            "date": r.generated,
        },
        "decision": r.decision.to_dict() if r.decision else None,
        "product": r.identity.to_dict(),
        "obligations": [o.to_dict(lang) for o in r.obligations],
        "checklist": [check(i) for i in r.checklist],
        "article50_checks": [{"item": n, "title": t, "quote": q} for n, t, q in r.article50_checks],
        "disclosure": [
            {"id": f.id, "title": f.title, "value": f.value, "source": f.source, "hint": f.hint} for f in r.disclosure
        ],
        "extra_disclosure": [check(i) for i in r.extra_disclosure],
        "post_control": list(r.post_control),
        "articles": dict(r.articles),
        "review": r.review,
        "sign_off": [{"role": x.role, "title": x.title, "name": x.name, "date": x.date} for x in r.sign_off],
        "disclaimer": LABELS[lang]["disclaimer"],
    }
    return {**a.to_dict(lang), "description": a.description, "steps_done": list(r.steps_done), "report": report}


def to_json(
    a: Assessment | Report,
    lang: str = "zh",
    done: Iterable[str] = (),
    rulebook: Rulebook | None = None,
    generated: str | None = None,
) -> str:
    r = _as_report(a, lang, done, rulebook, generated)
    # As `classify --json`: the same values for a parser, no bidi control or escape sequence for whoever cats it.
    return inert_json(json.dumps(report_dict(r), ensure_ascii=False, indent=2)) + "\n"


RENDERERS = {"md": to_markdown, "html": to_html, "json": to_json}


def format_for(path: str, explicit: str | None = None) -> str:
    """The report format: --format if given, else from the file's extension (Markdown when it says nothing)."""
    if explicit:
        if explicit not in FORMATS:
            raise InputError(
                f"unknown report format {explicit!r}: use one of {', '.join(FORMATS)}",
                zh=f"未知的报告格式 {explicit!r}：请用 {', '.join(FORMATS)} 之一",
            )
        return explicit
    from pathlib import PurePath

    return EXTENSIONS.get(PurePath(path).suffix.lower(), "md")


def render_report(r: Report, fmt: str) -> str:
    return RENDERERS[fmt](r)


# ---- files -------------------------------------------------------------------------------------------------------

SAVED_MAX_BYTES = 20 * 1024 * 1024  # a saved assessment holds one description (≤100,000 characters) and its evidence


def load_saved_assessment(path: str, rulebook: Rulebook | None = None) -> Assessment:
    """Read an assessment saved as JSON (`classify --json`, `report --format json`); one-line errors otherwise."""
    from pathlib import Path

    from riskclass.engine.assessment import assessment_from_dict

    p = Path(path)
    try:
        if p.stat().st_size > SAVED_MAX_BYTES:
            raise InputError(
                f"{path}: too large for a saved assessment ({p.stat().st_size:,} bytes)",
                zh=f"{path}：作为已保存的评估太大（{p.stat().st_size:,} 字节）",
            )
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read {path}: {exc.strerror or exc}", zh=f"无法读取 {path}：{exc.strerror or exc}"
        ) from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 (byte {exc.start})", zh=f"{path}：不是 UTF-8（第 {exc.start} 字节）"
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
            zh=f"{path}：不是 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）",
        ) from None
    from riskclass.reports.saved import SavedShapeError, check_saved_assessment
    from riskclass.text.normalise import check_description

    try:
        check_saved_assessment(data)  # before anything of it is read: it may come from anyone (issue 12)
    except SavedShapeError as exc:
        raise InputError(
            f"{path}: not a saved assessment riskclass wrote: {exc}",
            zh=f"{path}：不是 riskclass 写出的已保存评估：{exc}",
        ) from None
    if isinstance(data, dict) and isinstance(data.get("description"), str):
        check_description(data["description"])
    try:
        return assessment_from_dict(data, rulebook or load_rulebook())
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a saved assessment: {exc}", zh=f"{path}：不是已保存的评估：{exc}") from None


# ---- one report per batch row ------------------------------------------------------------------------------------

NAME_MAX_BYTES = 120  # well under the 255-byte limit of common file systems, with room for "-N" and the extension
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\<>:"|?*]+')
# Windows device names, which open the device whatever the extension and case: Microsoft's "Naming Files, Paths, and
# Namespaces" lists CON PRN AUX NUL COM0-9 LPT0-9 and the superscript digits ¹ ² ³ Windows also accepts, plus CONIN$
# and CONOUT$ (the console's input and output) and the historical CLOCK$.
_WINDOWS_RESERVED = re.compile(
    r"^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)(?:\..*)?$", re.IGNORECASE
)
ID_COLUMNS = ("id", "编号", "編號", "序号", "序號", "产品编号", "產品編號", "product_id", "code", "编码")


def safe_stem(raw: str, row: int) -> str:
    """A file-name stem from a row's id that stays inside the reports directory on any system: no separators, no
    control, format (bidi) or reserved characters, no leading dots, not a Windows device name (any case, any
    extension), at most NAME_MAX_BYTES of UTF-8.
    An id with nothing usable left becomes row-N."""
    import unicodedata

    s = unicodedata.normalize("NFC", raw)
    # Format characters (bidi controls such as U+202E, zero-width spaces, BOM) make a name read differently from what
    # it is ("\u202egpj.exe" shows as "exe.jpg"); surrogates (undecodable input bytes) cannot be a UTF-8 name: dropped.
    s = "".join(ch for ch in s if unicodedata.category(ch) not in ("Cf", "Cs"))
    s = _UNSAFE.sub("_", s)
    s = re.sub(r"\s+", "_", s).strip("._ ")
    if _WINDOWS_RESERVED.match(s):
        s = "_" + s
    encoded = s.encode("utf-8")[:NAME_MAX_BYTES]
    s = encoded.decode("utf-8", errors="ignore").rstrip("._ ")
    return s or f"row-{row}"


class ReportNames:
    """Unique, safe report file names for the rows of one batch (case-insensitively unique, for macOS and Windows)."""

    def __init__(self, directory, ext: str) -> None:
        from pathlib import Path

        self.directory = Path(directory).resolve()
        self.ext = ext
        self.taken: set[str] = set()

    def name(self, raw_id: str, row: int) -> str:
        stem = safe_stem(raw_id, row)
        candidate, n = stem, 1
        while f"{candidate}.{self.ext}".casefold() in self.taken:
            n += 1
            candidate = f"{stem}-{row}" if n == 2 else f"{stem}-{row}-{n}"
        name = f"{candidate}.{self.ext}"
        if (self.directory / name).resolve().parent != self.directory:  # cannot happen after safe_stem: checked anyway
            raise InputError(
                f"row {row}: report name {name!r} would leave {self.directory}",
                zh=f"第 {row} 行：报告文件名 {name!r} 会落到 {self.directory} 之外",
            )
        self.taken.add(name.casefold())
        return name


def find_id_column(names: list[str], wanted: str | None) -> int | None:
    """The column that names each row's report: `wanted` (a name, or a 1-based position), else a column called id,
    编号, 序号 … (case-insensitive), else None (reports are then named row-N)."""
    if wanted:
        folded = [n.strip().casefold() for n in names]
        if wanted.strip().casefold() in folded:
            return folded.index(wanted.strip().casefold())
        if wanted.isdigit() and 1 <= int(wanted) <= len(names):
            return int(wanted) - 1
        raise InputError(
            f"no column {wanted!r} for --id-column; the columns are: {', '.join(names)}",
            zh=f"没有 --id-column 所说的列 {wanted!r}；现有的列：{', '.join(names)}",
        )
    for i, n in enumerate(names):
        if n.strip().casefold() in ID_COLUMNS:
            return i
    return None


class ReportDirectory:
    """One report per batch row, staged in a hidden directory beside DIR and moved into DIR only when the whole run
    has succeeded: an interrupted or failed batch leaves no partial set of reports behind, as it leaves no partial
    output file."""

    def __init__(self, directory: str, fmt: str = "html", lang: str = "zh", force: bool = False) -> None:
        from pathlib import Path

        if fmt not in FORMATS:
            raise InputError(
                f"--report-format must be one of {', '.join(FORMATS)}, not {fmt!r}",
                zh=f"--report-format 只能是 {', '.join(FORMATS)} 之一，而不是 {fmt!r}",
            )
        self.directory = Path(directory)
        self.fmt, self.lang = fmt, _lang(lang)
        if self.directory.exists():
            if not self.directory.is_dir():
                raise InputError(
                    f"{directory} is not a directory: give --reports a directory",
                    zh=f"{directory} 不是目录：请给 --reports 一个目录",
                )
            if any(self.directory.iterdir()) and not force:
                raise InputError(
                    f"{directory} is not empty: choose a new or empty directory, or pass --force to add to it",
                    zh=f"{directory} 不是空目录：请选一个新的或空的目录，或加 --force 往里添加",
                )
        elif not self.directory.parent.resolve().is_dir():
            raise InputError(
                f"cannot create {directory}: {self.directory.parent} does not exist",
                zh=f"无法创建 {directory}：{self.directory.parent} 不存在",
            )
        probe_directory(
            str(self.directory.parent.resolve()), Message(f"the reports {directory}", f"报告目录 {directory}")
        )  # before the run
        self.names = ReportNames(self.directory.parent.resolve() / self.directory.name, fmt)
        self.staging = None
        self.written = 0
        self._rulebook = load_rulebook()

    def __enter__(self) -> ReportDirectory:
        import os
        import tempfile
        from pathlib import Path

        parent = self.directory.resolve().parent
        try:
            self.staging = Path(tempfile.mkdtemp(prefix=f".{self.directory.name[:40]}.partial-", dir=parent))
            os.chmod(self.staging, default_mode(0o777))  # it becomes DIR: an ordinary directory, not mkdtemp's 0700
        except OSError as exc:
            raise InputError(write_failure(exc, Message(f"reports in {parent}", f"{parent} 中的报告"))) from None
        return self

    def write(self, raw_id: str, row: int, record: dict, description: str) -> str:
        """Write one row's report (from its `classify --json` record); returns the file name."""
        from riskclass.engine.assessment import assessment_from_dict

        name = self.names.name(raw_id, row)
        a = assessment_from_dict({**record, "description": description}, self._rulebook)
        identity = ProductIdentity(id=raw_id)  # the row's id names the product in its report, not only the file
        text = render_report(build_report(a, self.lang, rulebook=self._rulebook, identity=identity), self.fmt)
        try:
            (self.staging / name).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(
                write_failure(exc, Message(f"the report of row {row} ({name})", f"第 {row} 行的报告（{name}）"))
            ) from None
        self.written += 1
        return name

    def commit(self) -> None:
        import os

        try:
            if not self.directory.exists():
                os.rename(self.staging, self.directory)
            else:
                for f in self.staging.iterdir():
                    os.replace(f, self.directory / f.name)
                self.staging.rmdir()
        except OSError as exc:
            raise InputError(
                write_failure(exc, Message(f"the reports into {self.directory}", f"报告到 {self.directory}"))
            ) from None
        self.staging = None

    def __exit__(self, *exc_info) -> None:
        import shutil

        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
