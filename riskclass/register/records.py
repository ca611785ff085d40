"""What the register gives back: typed, immutable rows the CLI prints and the terminal app shows.

Plain dataclasses with the field names of `riskclass register list --json` (CONTRACT.md), so the JSON output is
`to_dict()` and nothing is renamed between the faces.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

TIERS = ("high", "medium", "low")
MAX_ID_CHARS = 200  # an inventory id (AI-0026, 2024-收-017 …), not a paragraph: a longer one is the wrong column


@dataclass(frozen=True)
class Versions:
    """What made an assessment: riskclass, the rulebook, the model (sha256, "" for rules only) and which version of
    the product's description it read."""

    riskclass: str
    rulebook: str
    model_sha256: str
    description: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Question:
    """A follow-up question of an assessment, in both languages (the register is read in either)."""

    criterion: str
    zh: str
    en: str

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class AssessmentRecord:
    """One assessment of one description version, as stored: enough to print, export and compare it without
    assessing again."""

    id: int
    description_version: int
    assessed_at: str  # ISO-8601 UTC
    tier: str | None  # None when the description could not be assessed (see `error`)
    confidence: float | None
    needs_review: bool
    criteria: tuple[str, ...]
    red_flags: tuple[str, ...]
    obligations: tuple[str, ...]
    possible_criteria: tuple[str, ...]
    article50: tuple[int, ...]  # items of 第五十条 triggered
    decided_by: str
    questions: tuple[Question, ...]
    answers: dict[str, bool]  # follow-up answers it was made with
    error: str
    versions: Versions
    error_zh: str = ""  # the error in Chinese, when it has one

    def error_text(self, lang: str) -> str:
        """The error in the reader's language (English when it has no Chinese text)."""
        return self.error_zh if lang == "zh" and self.error_zh else self.error

    def to_dict(self) -> dict:
        d = asdict(self)
        d["criteria"] = list(self.criteria)
        d["red_flags"] = list(self.red_flags)
        d["obligations"] = list(self.obligations)
        d["possible_criteria"] = list(self.possible_criteria)
        d["article50"] = list(self.article50)
        d["questions"] = [asdict(q) for q in self.questions]
        return d


@dataclass(frozen=True)
class DescriptionVersion:
    """One version of a product's description (versions count from 1; a changed description is a new version)."""

    version: int
    text: str
    added_at: str
    source: str  # the file it was imported from, or the face that saved it

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DecisionRecord:
    """A reviewer's decision about the product, as the audit log holds it. Only decisions whose entry is in the log
    and verified (chain and signature) are ever returned: the register keeps the link, the log is the evidence."""

    entry_hash: str
    decided_tier: str
    suggested_tier: str
    accepted: bool
    reviewer: str
    reason: str
    timestamp: str
    audit_log: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ProductRow:
    """One line of the register: a product and its latest assessment (`register list`, the terminal app's table)."""

    id: str
    name: str
    tier: str | None  # the latest assessment's tier; None when it failed or there is none
    confidence: float | None
    needs_review: bool
    decided_tier: str | None  # the latest verified reviewer decision, or None
    assessed_at: str | None
    versions: Versions | None  # of the latest assessment
    error: str = ""  # why the latest assessment failed ("" when it did not)
    error_zh: str = ""  # the same in Chinese, when it has one

    def error_text(self, lang: str) -> str:
        return self.error_zh if lang == "zh" and self.error_zh else self.error

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "tier": self.tier,
            "confidence": self.confidence,
            "needs_review": self.needs_review,
            "decided_tier": self.decided_tier,
            "assessed_at": self.assessed_at,
            "versions": self.versions.to_dict() if self.versions else None,
            "error": self.error,
        }


@dataclass(frozen=True)
class Product:
    """A product with its whole history (`register show`, the terminal app's detail pane), newest last."""

    row: ProductRow
    columns: dict[str, str]  # the inventory's other columns, as last imported
    created_at: str
    updated_at: str
    descriptions: tuple[DescriptionVersion, ...]
    assessments: tuple[AssessmentRecord, ...]
    answers: dict[str, bool | None]  # criterion → the answer saved for it
    ticks: tuple[str, ...]  # checklist steps ticked, by id
    decisions: tuple[DecisionRecord, ...]  # verified ones only, oldest first

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def description(self) -> str:
        """The current description (the latest version)."""
        return self.descriptions[-1].text if self.descriptions else ""

    @property
    def latest(self) -> AssessmentRecord | None:
        return self.assessments[-1] if self.assessments else None

    def to_dict(self) -> dict:
        return {
            **self.row.to_dict(),
            "columns": dict(self.columns),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "description": self.description,
            "descriptions": [d.to_dict() for d in self.descriptions],
            "assessments": [a.to_dict() for a in self.assessments],
            "answers": dict(self.answers),
            "ticks": list(self.ticks),
            "decisions": [d.to_dict() for d in self.decisions],
        }


@dataclass(frozen=True)
class TierChange:
    """A product whose tier differs from its previous assessment, with the criteria that came and went."""

    id: str
    name: str
    previous_tier: str | None  # None: the previous assessment failed
    tier: str | None
    gained: tuple[str, ...]
    lost: tuple[str, ...]

    def to_dict(self) -> dict:
        return {**asdict(self), "gained": list(self.gained), "lost": list(self.lost)}


@dataclass
class ImportResult:
    """What an import (or a rescore) did, for the summary a user reads."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    assessed: int = 0  # descriptions assessed (new and changed ones; all of them for a rescore)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (product id, why its assessment failed)
    errors_zh: dict[str, str] = field(default_factory=dict)  # product id → the same in Chinese, when it has one
    tier_changes: list[TierChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reading changed or skipped (as batch reports it)
    absent: int = 0  # products in the register that the imported file does not list (kept, never deleted)

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "assessed": self.assessed,
            "errors": [{"id": i, "error": e} for i, e in self.errors],
            "tier_changes": [c.to_dict() for c in self.tier_changes],
            "notes": list(self.notes),
            "absent": self.absent,
        }


def split_ids(text: str) -> tuple[str, ...]:
    return tuple(x for x in text.split(";") if x)


def load_json(text: str, default: object) -> object:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default
