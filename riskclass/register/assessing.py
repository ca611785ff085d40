"""Assessing many products at once, the way `riskclass batch` does, and turning the results into stored rows.

Descriptions without saved answers go through `Engine.assess_many` in chunks (one vectorised model call per chunk,
identical texts assessed once) with the batch's probabilities-only view of the model: the register stores ids and
tiers, not the model's per-row top terms, and the tiers are the same (`riskclass.batch.run.ProbabilitiesOnly`). A
product with saved answers is assessed on its own with them, since the answers are facts that change its tier.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from riskclass import __version__
from riskclass.batch.run import CHUNK_ROWS, _for_format, assess_each
from riskclass.errors import RiskclassError, Text

if TYPE_CHECKING:
    from riskclass.engine.decide import Engine

Answers = dict[str, bool | None]


@dataclass(frozen=True)
class Stored:
    """An assessment as the `assessments` table holds it (see `riskclass.register.store`)."""

    tier: str | None
    confidence: float | None
    needs_review: bool
    criteria: str
    red_flags: str
    obligations: str
    possible_criteria: str
    article50: str
    decided_by: str
    questions: str
    answers: str
    error: str
    riskclass_version: str
    rulebook_version: str
    model_sha256: str
    error_zh: str = ""

    @property
    def criteria_ids(self) -> set[str]:
        return {c for c in self.criteria.split(";") if c}


def stored(result: Any, rulebook_version: str = "", model_sha256: str = "") -> Stored:
    """The stored form of one `Engine.assess`/`assess_many` result: an Assessment, or the RiskclassError of a
    description that could not be assessed (kept, with its reason, so nothing is silently left out)."""
    if isinstance(result, RiskclassError):
        return Stored(
            None, None, True, "", "", "", "", "", "", "[]", "{}", result.message,
            __version__, rulebook_version, model_sha256, result.zh or "",
        )  # fmt: skip
    a = result
    questions = [{"criterion": q.criterion, "zh": q.text.zh, "en": q.text.en} for q in a.questions]
    return Stored(
        tier=a.tier,
        confidence=round(float(a.confidence), 4),
        needs_review=bool(a.needs_review),
        criteria=";".join(h.id for h in a.criteria),
        red_flags=";".join(h.id for h in a.red_flags),
        obligations=";".join(o.id for o in a.obligations),
        possible_criteria=";".join(h.id for h in a.possible),
        article50=";".join(str(m.item) for m in a.article50 if m.triggered),
        decided_by=a.decided_by,
        questions=json.dumps(questions, ensure_ascii=False),
        answers=json.dumps(dict(a.answers), ensure_ascii=False, sort_keys=True),
        error="",
        riskclass_version=a.versions.get("riskclass", __version__),
        rulebook_version=a.versions.get("rulebook", ""),
        model_sha256=a.versions.get("model_sha256", ""),
    )


class Assessor:
    """Assesses (description, answers) pairs for the register with one engine, remembering what it has assessed, so
    that a write transaction that finds a description changed by another process meanwhile assesses only that one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.fast = _for_format(engine, "csv")  # probabilities only: see the module docstring
        self.done: dict[tuple[str, str], Stored] = {}
        self.count = 0  # descriptions sent to the engine

    @staticmethod
    def key(description: str, answers: Answers | None) -> tuple[str, str]:
        facts = {k: v for k, v in (answers or {}).items() if v is not None}
        return description, json.dumps(facts, sort_keys=True)

    def _versions(self) -> tuple[str, str]:
        model = self.engine.model
        return self.engine.rulebook.version, getattr(model, "sha256", "") if model is not None else ""

    def assess(
        self,
        items: list[tuple[str, Answers | None]],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Stored]:
        """The stored assessment of each (description, answers), in order; a description that fails gets its error."""
        todo_plain: list[str] = []
        todo_answered: list[tuple[str, Answers]] = []
        seen: set[tuple[str, str]] = set()
        for description, answers in items:
            k = self.key(description, answers)
            if k in self.done or k in seen:
                continue
            seen.add(k)
            if k[1] == "{}":
                todo_plain.append(description)
            else:
                todo_answered.append((description, answers or {}))
        total, finished = len(seen), 0
        if progress is not None:
            progress(0, total)
        rulebook, model = self._versions()
        for start in range(0, len(todo_plain), CHUNK_ROWS):
            chunk = todo_plain[start : start + CHUNK_ROWS]
            for description, result in zip(chunk, self._many(chunk), strict=True):
                self.done[self.key(description, None)] = stored(result, rulebook, model)
            finished += len(chunk)
            if progress is not None:
                progress(finished, total)
        for description, answers in todo_answered:
            try:
                result: Any = self.fast.assess(description, answers)
            except RiskclassError as exc:
                result = exc
            self.done[self.key(description, answers)] = stored(result, rulebook, model)
            finished += 1
            if progress is not None:
                progress(finished, total)
        self.count += total
        return [self.done[self.key(d, a)] for d, a in items]

    def _many(self, descriptions: list[str]) -> list[Any]:
        return assess_each(
            self.fast, descriptions, Text("internal error on this description", "评估此描述时出现内部错误")
        )
