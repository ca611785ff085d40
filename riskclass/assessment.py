"""What an assessment is: the typed result every face of riskclass (CLI, JSON, batch, TUI, reports) shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from riskclass.rulebook import Text

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

    def to_dict(self, lang: str) -> dict:
        return {
            "id": self.id,
            "title": self.title.get(lang),
            "evidence": [e.to_dict() for e in self.evidence],
            "articles": list(self.articles),
            "rules": list(self.rules),
            "source": self.source,
        }


@dataclass(frozen=True)
class Exclusion:
    """A rule whose patterns matched but which did not apply, and the words that ruled it out."""

    rule: str
    criterion: str
    matched: Evidence
    excluded_by: Evidence
    contested: bool = False  # the excluding words stand in another clause than the match: a conflict to ask about

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

    def to_dict(self, lang: str) -> dict:
        return {
            "id": self.id,
            "title": self.title.get(lang),
            "articles": list(self.articles),
            "detail": self.detail.get(lang),
        }


@dataclass(frozen=True)
class Article50Mark:
    item: int
    title: Text
    quote: str
    triggered: bool
    why: Text | None  # set when triggered

    def to_dict(self, lang: str) -> dict:
        return {"item": self.item, "title": self.title.get(lang), "why": self.why.get(lang) if self.why else ""}


@dataclass(frozen=True)
class NationalRef:
    law: str
    article: str | None
    topic: Text

    def to_dict(self, lang: str) -> dict:
        return {"law": self.law, "article": self.article, "topic": self.topic.get(lang)}


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
