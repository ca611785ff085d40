"""Reports of one assessment as Markdown and JSON files (the TUI's Export; the report issue will enrich them).

Core module: no UI framework. Everything shown comes from the Assessment and the shipped rulebook; nothing is added.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from riskclass.assessment import Assessment, CriterionHit
from riskclass.render import CN_ITEM, LABELS, non_overlapping
from riskclass.rulebook import Citation, Rulebook, load_rulebook

HEADINGS = {
    "zh": {
        "title": "AI 产品风险分级建议",
        "tier": "建议等级",
        "confidence": "置信度",
        "decided_by": "判断依据",
        "quote": "原文：",
        "answers": "你的回答（作为事实采用）",
        "versions": "版本",
        "evidence_note": "【】内为证据词，后附其所属标准。",
    },
    "en": {
        "title": "AI product risk-tier suggestion",
        "tier": "Suggested tier",
        "confidence": "Confidence",
        "decided_by": "Decided",
        "quote": "text: ",
        "answers": "Your answers (applied as facts)",
        "versions": "Versions",
        "evidence_note": "Evidence words are in 【】, followed by their criterion.",
    },
}


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def marked_description(a: Assessment) -> str:
    """The description with each evidence span as 【words｜criterion】 (overlaps merged, the first criterion kept)."""
    out, pos = [], 0
    for start, end, cid in non_overlapping(a.evidence_spans()):
        out.append(a.description[pos:start])
        out.append(f"【{a.description[start:end]}｜{cid}】")
        pos = end
    out.append(a.description[pos:])
    return "".join(out)


def _quotes(labels: Iterable[str], known: Iterable[Citation]) -> list[tuple[str, str]]:
    quotes = {c.article: c.quote for c in known}
    return [(label, quotes.get(label, "")) for label in dict.fromkeys(labels)]


def _cited(lines: list[str], cites: list[tuple[str, str]], quote_word: str) -> None:
    for article, quote in cites:
        lines.append(f"  - {article}" + (f" {quote_word}“{quote}”" if quote else ""))


def _hits(lines: list[str], hits: tuple[CriterionHit, ...], rb: Rulebook, lang: str, none: str) -> None:
    L, H = LABELS[lang], HEADINGS[lang]
    if not hits:
        lines.append(f"- {none}")
    for h in hits:
        words = "、".join(dict.fromkeys(f"“{e.text}”" for e in h.evidence))
        if h.source == "answer":
            words = f"（{L['decided_by']['answers']}）" if lang == "zh" else "(from your answer)"
        lines.append(f"- **{h.id} {h.title.get(lang)}** {words}".rstrip())
        crit = rb.criteria.get(h.id)
        _cited(lines, _quotes(h.articles, crit.articles if crit else ()), H["quote"])


def to_markdown(a: Assessment, lang: str = "zh", done: Iterable[str] = (), rulebook: Rulebook | None = None) -> str:
    """A Markdown report: tier, confidence, marked description, criteria with articles and quotes, steps (ticked
    where `done` names them), 第五十条 items, questions, versions and the disclaimer."""
    lang = _lang(lang)
    rb = rulebook or load_rulebook()
    L, H = LABELS[lang], HEADINGS[lang]
    done = set(done)
    lines = [
        f"# {H['title']}",
        "",
        f"- **{H['tier']}**: {a.tier_title.get(lang)} ({a.tier})",
        f"- **{H['confidence']}**: {a.confidence:.2f}",
        f"- **{H['decided_by']}**: {L['decided_by'].get(a.decided_by, a.decided_by)}",
        f"- **{L['review']}**: {L['yes'] if a.needs_review else L['no']}",
    ]
    lines += [f"  - {r.get(lang)}" for r in a.review_reasons]
    if a.answers:
        yes_no = {True: L["yes"], False: L["no"]}
        lines.append(f"- **{H['answers']}**: " + "、".join(f"{k}={yes_no[v]}" for k, v in a.answers.items()))
    lines += ["", f"## {L['description']}", "", *(f"> {line}" for line in marked_description(a).splitlines())]
    lines += ["", f"*{H['evidence_note']}*", "", f"## {L['criteria']}", ""]
    _hits(lines, a.criteria, rb, lang, L["none"])
    if a.possible:
        lines += ["", f"## {L['possible']}", ""]
        _hits(lines, a.possible, rb, lang, L["none"])
    lines += ["", f"## {L['red_flags']}", ""]
    _hits(lines, a.red_flags, rb, lang, L["none"])
    known = {o.id: o for o in rb.obligations}
    lines += ["", f"## {L['steps']}（第四十六条）" if lang == "zh" else f"## {L['steps']} (第四十六条)", ""]
    for o in a.obligations:
        lines.append(f"- [{'x' if o.id in done else ' '}] **{o.title.get(lang)}** — {o.detail.get(lang)}")
        _cited(lines, _quotes(o.articles, known[o.id].articles if o.id in known else ()), H["quote"])
    lines += ["", f"## {L['a50']}", ""]
    for m in a.article50:
        why = f" — {m.why.get(lang)}" if m.why else ""
        lines.append(f"- {'■' if m.triggered else '□'} ({CN_ITEM[m.item]}) {m.title.get(lang)}{why}")
        lines.append(f"  - 第五十条 {H['quote']}“{m.quote}”")
    if a.national:
        lines += ["", f"## {L['national']}", ""]
        lines += [f"- {n.law}{' ' + n.article if n.article else ''} — {n.topic.get(lang)}" for n in a.national]
    lines += ["", f"## {L['model']}", ""]
    if a.model.used:
        lines.append("- " + " ".join(f"{tier} {p:.0%}" for tier, p in (a.model.probabilities or {}).items()))
        if a.model.top_terms:
            lines.append(f"- {L['model_words']}: " + "、".join(term for term, _ in a.model.top_terms))
    else:
        lines.append(f"- {L['model_absent']}")
    if a.questions:
        lines += ["", f"## {L['questions']}", ""]
        lines += [f"{i}. [{q.criterion}] {q.text.get(lang)}" for i, q in enumerate(a.questions, 1)]
    lines += ["", f"## {H['versions']}", ""]
    lines += [f"- {k}: {v}" for k, v in a.versions.items()]
    lines += ["", "---", "", L["disclaimer"], ""]
    return "\n".join(lines)


def to_json(a: Assessment, lang: str = "zh", done: Iterable[str] = ()) -> str:
    """The `classify --json` object (CONTRACT.md) with the description it was made from and the ticked steps."""
    data = {**a.to_dict(_lang(lang)), "description": a.description, "steps_done": sorted(set(done))}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
