"""What an assessment is: the typed result every face of riskclass (CLI, JSON, batch, TUI, reports) shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from riskclass.rulebook.rules import Citation, Text

TIER_RANK = {"low": 0, "medium": 1, "high": 2}
# Shown beside a criterion the suggested tier does not follow (`Assessment.questioned`).
QUESTIONED = Text(
    "（待确认：建议的等级未采纳此项，见复核）", "(in question: the suggested tier does not follow it, see review)"
)

TIER_TITLES = {
    "high": Text("高风险", "High risk"),
    "medium": Text("中风险", "Medium risk"),
    "low": Text("低风险", "Low risk"),
}


@dataclass(frozen=True)
class Evidence:
    text: str  # exactly description[start:end]
    start: int
    end: int

    def to_dict(self) -> dict:
        return {"text": self.text, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class CriterionHit:
    """A criterion (or red flag) that holds, with the words that triggered it and the articles behind it."""

    id: str
    title: Text
    evidence: tuple[Evidence, ...]
    articles: tuple[str, ...]
    rules: tuple[str, ...]  # rule ids that fired
    source: str = "rules"  # rules | answer (the user said so) | model
    # The verbatim quote behind each cited article, as the rules that fired cite it (an article may be cited for two
    # passages): no article is shown without the words of the draft it rests on.
    citations: tuple[Citation, ...] = ()

    def to_dict(self, lang: str) -> dict:
        return {
            "id": self.id,
            "title": self.title.get(lang),
            "evidence": [e.to_dict() for e in self.evidence],
            "articles": list(self.articles),
            "citations": [{"article": c.article, "quote": c.quote} for c in self.citations],
            "rules": list(self.rules),
            "source": self.source,
        }


TIER_OWES = {
    "high": Text("高风险产品均须履行", "owed by every high-risk product"),
    "medium": Text("中风险产品均须履行", "owed by every medium-risk product"),
    "low": Text("低风险产品均须履行", "owed by every low-risk product"),
}


@dataclass(frozen=True)
class Because:
    """What brought an obligation, a national pointer or a 第五十条 item into an assessment, so a reader can see it is
    not padding: the tier that owes it, the criteria that hold, and the words of the description that showed the kind
    of evidence a criterion needed for it (a swapped face, not any face) — or, for 第五十条, words that trigger an
    item on their own (criterion None)."""

    tier: str | None = None  # an obligation every product of this tier owes
    criteria: tuple[str, ...] = ()
    words: tuple[tuple[str | None, str], ...] = ()  # (criterion whose evidence it is, or None; the words)

    def to_dict(self) -> dict:
        return {
            "tier": self.tier,
            "criteria": list(self.criteria),
            "words": [{"criterion": c, "text": w} for c, w in self.words],
        }

    def text(self, lang: str) -> str:
        """One short phrase: "H5 “换脸”、M2", or the tier when nothing narrower brought it."""
        sep = ", " if lang == "en" else "、"
        parts = []
        for cid in self.criteria:
            said = [f"“{w}”" for c, w in self.words if c == cid]
            parts.append(" ".join([cid, *said]))
        parts += [f"“{w}”" for c, w in self.words if c is None or c not in self.criteria]
        if parts:
            return sep.join(parts)
        return TIER_OWES[self.tier].get(lang) if self.tier in TIER_OWES else ""

    def shown(self, lang: str) -> str:
        """The phrase with its lead-in, for a line of text: "（由 H5 触发）" / "(brought by H5)"; empty when unknown."""
        said = self.text(lang)
        if not said:
            return ""
        if not self.criteria and not self.words:
            return f"（{said}）" if lang != "en" else f"({said})"
        return f"（由 {said} 触发）" if lang != "en" else f"(brought by {said})"


@dataclass(frozen=True)
class Exclusion:
    """A rule whose patterns matched but which did not apply, and the words that ruled it out."""

    rule: str
    criterion: str
    matched: Evidence
    excluded_by: Evidence
    # Always false since exclusions became local to their phrase; kept so saved assessments keep their shape.
    contested: bool = False

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "criterion": self.criterion,
            "matched": self.matched.to_dict(),
            "excluded_by": self.excluded_by.to_dict(),
            "contested": self.contested,
        }


@dataclass(frozen=True)
class Question:
    criterion: str  # answering it settles this criterion
    text: Text

    def to_dict(self, lang: str) -> dict:
        return {"criterion": self.criterion, "question": self.text.get(lang)}


@dataclass(frozen=True)
class ObligationItem:
    id: str
    title: Text
    detail: Text
    articles: tuple[str, ...]
    because: Because = Because()

    def to_dict(self, lang: str) -> dict:
        return {
            "id": self.id,
            "title": self.title.get(lang),
            "articles": list(self.articles),
            "detail": self.detail.get(lang),
            "because": self.because.to_dict(),
        }


@dataclass(frozen=True)
class Article50Mark:
    item: int
    title: Text
    quote: str
    triggered: bool
    why: Text | None  # set when triggered
    because: Because = Because()

    def to_dict(self, lang: str) -> dict:
        return {
            "item": self.item,
            "title": self.title.get(lang),
            "why": self.why.get(lang) if self.why else "",
            "because": self.because.to_dict(),
        }


@dataclass(frozen=True)
class NationalRef:
    law: str
    article: str | None
    topic: Text
    because: Because = Because()

    def to_dict(self, lang: str) -> dict:
        return {
            "law": self.law,
            "article": self.article,
            "topic": self.topic.get(lang),
            "because": self.because.to_dict(),
        }


@dataclass(frozen=True)
class ModelView:
    """What the classifier said, or why it was not consulted."""

    used: bool
    probabilities: dict[str, float] | None = None
    top_terms: tuple[tuple[str, float], ...] = ()  # (token, weight towards the predicted tier)
    note: str = ""

    def to_dict(self) -> dict:
        return {
            "used": self.used,
            "probabilities": self.probabilities,
            "top_terms": [{"term": t, "weight": round(w, 4)} for t, w in self.top_terms],
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a batch's CSV output shows of an assessment, and no more: the ids and flags `Assessment` would carry,
    without the evidence, reasons, article-50 texts and worded obligations that cost a batch a sixth of its time per
    row and that the CSV does not print (`Engine.assess_many(..., brief=True)`; a test compares the two)."""

    tier: str
    confidence: float  # rounded as Assessment.confidence is
    criteria: tuple[str, ...]
    red_flags: tuple[str, ...]
    possible: tuple[str, ...]
    needs_review: bool
    obligations: tuple[str, ...]
    article50: tuple[int, ...]  # the items triggered
    decided_by: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Assessment:
    description: str
    tier: str  # high | medium | low
    confidence: float
    criteria: tuple[CriterionHit, ...]
    possible: tuple[CriterionHit, ...]  # weak evidence only: asked about, not counted
    red_flags: tuple[CriterionHit, ...]
    exclusions: tuple[Exclusion, ...]
    obligations: tuple[ObligationItem, ...]
    article50: tuple[Article50Mark, ...]  # all four items, each marked triggered or not
    national: tuple[NationalRef, ...]
    needs_review: bool
    review_reasons: tuple[Text, ...]
    questions: tuple[Question, ...]
    model: ModelView
    versions: dict[str, str]
    answers: dict[str, bool] = field(default_factory=dict)  # follow-up answers applied as facts
    decided_by: str = "rules"  # rules | model | rules+model | answers

    @property
    def tier_title(self) -> Text:
        return TIER_TITLES[self.tier]

    def verdict(self) -> Verdict:
        """The ids and flags of this assessment: what a batch's CSV row shows of it."""
        return Verdict(
            self.tier,
            self.confidence,
            tuple(h.id for h in self.criteria),
            tuple(h.id for h in self.red_flags),
            tuple(h.id for h in self.possible),
            self.needs_review,
            tuple(o.id for o in self.obligations),
            tuple(m.item for m in self.article50 if m.triggered),
            self.decided_by,
            self.questions,
        )

    def questioned(self, hit: CriterionHit) -> bool:
        """A criterion the rules found that the suggested tier does not follow: the model overruled it, so it is
        shown as evidence but asked about (an answer makes it count)."""
        implied = {"H": "high", "M": "medium"}.get(hit.id[:1], "low")
        return hit.source != "answer" and TIER_RANK[implied] > TIER_RANK[self.tier]

    def evidence_spans(self) -> list[tuple[int, int, str]]:
        """(start, end, criterion id) for every evidence span, for highlighting the description."""
        return sorted(
            (e.start, e.end, h.id) for h in (*self.criteria, *self.red_flags, *self.possible) for e in h.evidence
        )

    def to_dict(self, lang: str = "zh") -> dict:
        """The `classify --json` object (CONTRACT.md), plus explanation fields."""
        return {
            "tier": self.tier,
            "tier_title": self.tier_title.get(lang),
            "confidence": round(self.confidence, 4),
            "criteria": [h.to_dict(lang) for h in self.criteria],
            "possible_criteria": [h.to_dict(lang) for h in self.possible],
            "red_flags": [h.to_dict(lang) for h in self.red_flags],
            "exclusions": [x.to_dict() for x in self.exclusions],
            "obligations": [o.to_dict(lang) for o in self.obligations],
            "article50": [m.to_dict(lang) for m in self.article50 if m.triggered],
            "national": [n.to_dict(lang) for n in self.national],
            "needs_review": self.needs_review,
            "review_reasons": [r.get(lang) for r in self.review_reasons],
            "questions": [q.text.get(lang) for q in self.questions],
            "follow_up": [q.to_dict(lang) for q in self.questions],
            "answers": dict(self.answers),
            "decided_by": self.decided_by,
            "model": self.model.to_dict(),
            "versions": dict(self.versions),
        }


TIERS = tuple(TIER_TITLES)


def assessment_from_dict(data: dict, rulebook) -> Assessment:
    """An Assessment read back from its saved JSON (`classify --json`, `report --format json`), for reports and reviews.

    Titles and obligations come back in both languages from the rulebook by id; free texts saved in one language
    (reasons, questions, the 第五十条 "why") keep that language. Raises ValueError naming what does not fit: the
    caller turns it into a one-line error.
    """
    if not isinstance(data, dict):
        raise ValueError("it is not a JSON object")
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ValueError('it has no "description" (save it with `riskclass classify --json` or `riskclass report`)')
    if data.get("tier") not in TIERS:
        raise ValueError(f'its "tier" is {data.get("tier")!r}, not one of {", ".join(TIERS)}')

    def evidence(e: dict) -> Evidence:
        ev = Evidence(str(e["text"]), int(e["start"]), int(e["end"]))
        if description[ev.start : ev.end] != ev.text:
            raise ValueError(f"its evidence “{ev.text}” is not at {ev.start}–{ev.end} of the description")
        return ev

    def citations(h: dict, crit) -> tuple[Citation, ...]:
        """The quotes saved with a hit, else (an older file) those the rulebook gives the cited articles now."""
        if h.get("citations"):
            return tuple(Citation(str(c["article"]), str(c["quote"])) for c in h["citations"])
        known: dict[str, list[Citation]] = {}
        for r in rulebook.rules:
            if r.id in (h.get("rules") or ()):
                for c in r.articles:
                    known.setdefault(c.article, []).append(c)
        for c in crit.articles:
            known.setdefault(c.article, []).append(c)
        return tuple(dict.fromkeys(c for a in h.get("articles") or () for c in known.get(a, ())[:1]))

    def hits(key: str) -> tuple[CriterionHit, ...]:
        out = []
        for h in data.get(key) or ():
            crit = rulebook.criteria.get(h.get("id"))
            if crit is None:
                raise ValueError(f"{key} names an unknown criterion {h.get('id')!r}")
            out.append(
                CriterionHit(
                    crit.id,
                    crit.title,
                    tuple(evidence(e) for e in h.get("evidence") or ()),
                    tuple(h.get("articles") or ()),
                    tuple(h.get("rules") or ()),
                    h.get("source", "rules"),
                    citations(h, crit),
                )
            )
        return tuple(out)

    def because(saved: dict) -> Because:
        b = saved.get("because") or {}
        words = tuple((w.get("criterion"), str(w.get("text", ""))) for w in b.get("words") or ())
        return Because(b.get("tier"), tuple(b.get("criteria") or ()), words)

    def same(s: object) -> Text:
        return Text(str(s), str(s))

    known = {o.id: o for o in rulebook.obligations}
    obligations = []
    for o in data.get("obligations") or ():
        ob = known.get(o.get("id"))
        if ob is None:
            raise ValueError(f"it names an unknown obligation {o.get('id')!r}")
        obligations.append(
            ObligationItem(ob.id, ob.title, ob.detail, tuple(dict.fromkeys(c.article for c in ob.articles)), because(o))
        )
    saved50 = {int(m["item"]): m for m in data.get("article50") or ()}
    marks = tuple(
        Article50Mark(
            i.item,
            i.title,
            i.quote,
            i.item in saved50,
            same(saved50[i.item].get("why", "")) if i.item in saved50 else None,
            because(saved50[i.item]) if i.item in saved50 else Because(),
        )
        for i in rulebook.article50
    )
    national_by_key = {(n.law, n.article): n for n in rulebook.national}
    national = tuple(
        NationalRef(
            n["law"],
            n.get("article"),
            national_by_key[(n["law"], n.get("article"))].topic
            if (n["law"], n.get("article")) in national_by_key
            else same(n.get("topic", "")),
            because(n),
        )
        for n in data.get("national") or ()
    )
    model = data.get("model") or {}
    return Assessment(
        description=description,
        tier=data["tier"],
        confidence=float(data.get("confidence", 0.0)),
        criteria=hits("criteria"),
        possible=hits("possible_criteria"),
        red_flags=hits("red_flags"),
        exclusions=(),
        obligations=tuple(obligations),
        article50=marks,
        national=national,
        needs_review=bool(data.get("needs_review", False)),
        review_reasons=tuple(same(r) for r in data.get("review_reasons") or ()),
        questions=tuple(
            Question(str(q.get("criterion", "")), same(q.get("question", ""))) for q in data.get("follow_up") or ()
        ),
        model=ModelView(
            bool(model.get("used", bool(model.get("probabilities")))),
            model.get("probabilities"),
            tuple((str(t["term"]), float(t["weight"])) for t in model.get("top_terms") or ()),
            str(model.get("note", "")),
        ),
        versions={str(k): str(v) for k, v in (data.get("versions") or {}).items()},
        answers={str(k): bool(v) for k, v in (data.get("answers") or {}).items()},
        decided_by=str(data.get("decided_by", "rules")),
    )
