"""Human-readable output for the terminal: plain ANSI, no UI framework, so `classify` starts fast."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from riskclass.text.inert import inert

if TYPE_CHECKING:  # the terminal app reads LABELS and the styles before its first frame: no engine needed for those
    from riskclass.engine.assessment import Assessment

RESET = "\033[0m"
TIER_STYLE = {"high": "\033[1;97;41m", "medium": "\033[1;30;43m", "low": "\033[1;30;42m"}
# One colour per criterion family, shared with the TUI's stylesheet so evidence looks the same everywhere.
CRITERION_STYLE = {
    "H1": "\033[1;4;31m",
    "H2": "\033[1;4;91m",
    "H3": "\033[1;4;35m",
    "H4": "\033[1;4;95m",
    "H5": "\033[1;4;34m",
    "H6": "\033[1;4;94m",
    "H7": "\033[1;4;36m",
    "M1": "\033[1;4;33m",
    "M2": "\033[1;4;93m",
    "M3": "\033[1;4;32m",
    "M4": "\033[1;4;92m",
    "M5": "\033[1;4;96m",
    "R1": "\033[1;4;7;31m",
    "R2": "\033[1;4;7;35m",
    "R3": "\033[1;4;7;33m",
    "R4": "\033[1;4;7;34m",
}
DIM = "\033[2m"
BOLD = "\033[1m"
CN_ITEM = {1: "一", 2: "二", 3: "三", 4: "四"}

LABELS = {
    "zh": {
        "confidence": "置信度",
        "decided_by": {
            "rules": "规则判断",
            "model": "模型判断",
            "rules+model": "规则与模型",
            "answers": "依据你的回答",
        },
        "description": "描述",
        "criteria": "触发的标准",
        "possible": "可能相关（证据较弱，未计入等级）",
        "none": "无",
        "red_flags": "红旗（可能违反第五十条）",
        "excluded": "已排除",
        "steps": "应履行的步骤",
        "a50": "第五十条 四项义务（■ 表示本描述触发）",
        "national": "另需核对的国家规则（提示，非成都义务）",
        "review": "需要人工复核",
        "yes": "是",
        "no": "否",
        "questions": "请补充以下事实",
        "model": "模型",
        "model_words": "模型最看重的词",
        "model_absent": "未加载模型：仅依据规则",
        "disclaimer": "提示：这是依据《成都市促进人工智能产业发展办法（征求意见稿）》给出的建议，不是法律意见。",
        "by": "因",
        "matched": "命中",
    },
    "en": {
        "confidence": "confidence",
        "decided_by": {
            "rules": "by rules",
            "model": "by the model",
            "rules+model": "rules and model",
            "answers": "from your answers",
        },
        "description": "Description",
        "criteria": "Criteria that fired",
        "possible": "Possibly relevant (weak evidence, not counted)",
        "none": "none",
        "red_flags": "Red flags (possible breach of 第五十条)",
        "excluded": "Excluded",
        "steps": "Required steps",
        "a50": "第五十条 duties (■ = triggered by this description)",
        "national": "National rules to check as well (pointers, not Chengdu duties)",
        "review": "Needs human review",
        "yes": "yes",
        "no": "no",
        "questions": "Please establish these facts",
        "model": "Model",
        "model_words": "Words that weighed most for the model",
        "model_absent": "no model loaded: rules only",
        "disclaimer": "Note: a suggestion under the Chengdu draft measures (征求意见稿), not legal advice.",
        "by": "by",
        "matched": "matched",
    },
}


def use_colour(stream: TextIO, choice: str = "auto") -> bool:
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def highlight(description: str, spans: list[tuple[int, int, str]], colour: bool, marker: str = "【】") -> str:
    """The description with evidence spans marked: in colour on a terminal, in brackets otherwise; escape sequences and
    bidi controls in it are shown inert (issue 12), after the spans are cut, so the offsets stay those of the text."""

    def mark(seg: str, cid: str) -> str:
        seg = inert(seg)
        return f"{CRITERION_STYLE.get(cid, BOLD)}{seg}{RESET}" if colour else f"{marker[0]}{seg}{marker[1]}"

    return "".join(inert(seg) if cid is None else mark(seg, cid) for seg, cid in marked_segments(description, spans))


def marked_segments(text: str, spans: list[tuple[int, int, str]]):
    """`text` cut into consecutive pieces, each with the criterion whose evidence it is (None between evidence), after
    merging overlaps as `non_overlapping` does: what every face of riskclass marks up in its own way."""
    pos = 0
    for start, end, cid in non_overlapping(spans):
        if start > pos:
            yield text[pos:start], None
        yield text[start:end], cid
        pos = end
    if pos < len(text):
        yield text[pos:], None


def non_overlapping(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Merge overlapping spans, keeping the criterion of the first; of spans that start together the longest comes
    first, so "贷款申请人的评分" (H4) is not shown as the M2 that only "贷款申请人" supports."""
    merged: list[list] = []
    for start, end, cid in sorted(spans, key=lambda s: (s[0], -s[1], s[2])):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, cid])
    return [tuple(m) for m in merged]


def render(a: Assessment, lang: str = "zh", colour: bool = False, max_description: int = 600) -> str:
    from riskclass.engine.assessment import QUESTIONED

    L = LABELS["en" if lang == "en" else "zh"]

    def c(style: str, s: str) -> str:
        return f"{style}{s}{RESET}" if colour else s

    lines: list[str] = []
    badge = f" {a.tier_title.get(lang)} "
    lines.append(
        f"{c(TIER_STYLE[a.tier], badge) if colour else '[' + a.tier_title.get(lang) + ']'}  "
        f"{L['confidence']} {a.confidence:.2f} · {L['decided_by'].get(a.decided_by, a.decided_by)}"
    )
    desc = a.description
    spans = a.evidence_spans()
    if len(desc) > max_description:
        desc = desc[:max_description]
        spans = [(s, min(e, max_description), k) for s, e, k in spans if s < max_description]
        shown = highlight(desc, spans, colour) + " …"
    else:
        shown = highlight(desc, spans, colour)
    lines += ["", f"{c(BOLD, L['description'])}: {shown}", "", c(BOLD, L["criteria"])]
    if not a.criteria:
        lines.append(f"  {L['none']}")
    for h in a.criteria:
        words = "、".join(dict.fromkeys(f"“{inert(e.text)}”" for e in h.evidence)) or (
            "(" + L["decided_by"]["answers"] + ")"
        )
        note = "  " + c(DIM, QUESTIONED.get(lang)) if a.questioned(h) else ""
        lines.append(
            f"  {c(CRITERION_STYLE.get(h.id, BOLD), h.id)} {h.title.get(lang)}  {words}  {c(DIM, ' '.join(h.articles))}"
            + note
        )
    if a.possible:
        lines.append(c(BOLD, L["possible"]))
        for h in a.possible:
            words = "、".join(dict.fromkeys(f"“{inert(e.text)}”" for e in h.evidence))
            lines.append(f"  {h.id} {h.title.get(lang)}  {words}")
    if a.exclusions:
        shown_ex = {}
        for x in a.exclusions:
            shown_ex.setdefault(x.criterion, x)
        lines.append(
            c(
                DIM,
                L["excluded"]
                + ": "
                + "; ".join(
                    f"{x.criterion} “{inert(x.matched.text)}” {L['by']} “{inert(x.excluded_by.text)}”"
                    for x in shown_ex.values()
                ),
            )
        )
    lines += ["", c(BOLD, L["red_flags"])]
    if not a.red_flags:
        lines.append(f"  {L['none']}")
    for h in a.red_flags:
        words = "、".join(dict.fromkeys(f"“{inert(e.text)}”" for e in h.evidence))
        lines.append(
            f"  {c(CRITERION_STYLE.get(h.id, BOLD), h.id)} {h.title.get(lang)}  {words}  {c(DIM, ' '.join(h.articles))}"
        )
    lines += ["", c(BOLD, f"{L['steps']}（第四十六条）" if lang != "en" else f"{L['steps']} (第四十六条)")]
    for o in a.obligations:
        because = f" {c(DIM, o.because.shown(lang))}" if o.because.shown(lang) else ""
        lines.append(f"  ☐ {c(BOLD, o.title.get(lang))} — {o.detail.get(lang)} {c(DIM, ' '.join(o.articles))}{because}")
    lines += ["", c(BOLD, L["a50"])]
    for m in a.article50:
        mark = "■" if m.triggered else "□"
        why = f" — {inert(m.why.get(lang))}" if m.why else ""
        lines.append(f"  {mark} ({CN_ITEM[m.item]}) {m.title.get(lang)}{why}")
    if a.national:
        lines += ["", c(BOLD, L["national"])]
        for n in a.national:
            because = f" {c(DIM, inert(n.because.shown(lang)))}" if n.because.shown(lang) else ""
            lines.append(
                f"  · {inert(n.law)}{' ' + inert(n.article) if n.article else ''} — {inert(n.topic.get(lang))}"
                + because
            )
    lines += [
        "",
        f"{c(BOLD, L['model'])}: "
        + (
            " ".join(f"{inert(t)} {p:.0%}" for t, p in (a.model.probabilities or {}).items())
            if a.model.used
            else L["model_absent"]
        ),
    ]
    if a.model.used and a.model.top_terms:
        lines.append(f"  {L['model_words']}: " + "、".join(inert(t) for t, _ in a.model.top_terms))
    review = c("\033[1;33m", L["yes"]) if a.needs_review else L["no"]
    lines += ["", f"{c(BOLD, L['review'])}: {review}"]
    for r in a.review_reasons:
        lines.append(f"  - {inert(r.get(lang))}")
    if a.questions:
        lines += ["", c(BOLD, L["questions"])]
        for i, q in enumerate(a.questions, 1):
            lines.append(f"  {i}. [{inert(q.criterion)}] {inert(q.text.get(lang))}")
    lines += ["", c(DIM, L["disclaimer"])]
    return "\n".join(lines)


def print_rendered(a: Assessment, lang: str, colour_choice: str = "auto", stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(render(a, lang, use_colour(stream, colour_choice)) + "\n")
