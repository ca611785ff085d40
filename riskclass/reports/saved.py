"""The shape of a saved assessment (`classify --json`, `report --format json`), checked before anything is read from it.

A saved assessment comes from another hand: a colleague's file, a ticket attachment, an edited copy. Everything it
holds ends up in a report, so it is checked against exactly the shape riskclass writes: an unknown field, a number
that is not a number or a key that is not one riskclass writes is refused with one line naming the field (exit 2),
before a single byte of a report is written. Rendering escapes every field as well; this check is the first wall,
not the only one.

The schema is written as small typed validators rather than a JSON Schema document: the shape is ours, fits on one
screen, and the messages can say "did you mean" (STYLE.md, validation that teaches) without a new dependency.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from riskclass.engine.assessment import TIERS


class SavedShapeError(ValueError):
    """A saved assessment that does not have the shape riskclass writes; `field` is where, as a path."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f'"{field}": {problem}' if field else problem)
        self.field = field


SHOWN_MAX = 40  # characters of a refused value or key shown in the message: enough to recognise it, one line


def shown(value: object) -> str:
    """A value as a message can show it: repr (control and bidi characters escaped, so it cannot act on the
    terminal), cut to SHOWN_MAX characters."""
    text = repr(value)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 1] + "…"


Check = Callable[[Any, str], None]


def _fail(path: str, problem: str) -> None:
    raise SavedShapeError(path, problem)


def text(pattern: str | None = None, choices: tuple[str, ...] = ()) -> Check:
    """A string; with `pattern`, one that matches it in full; with `choices`, one of them."""
    rx = re.compile(pattern) if pattern else None

    def check(value: Any, path: str) -> None:
        if not isinstance(value, str):
            _fail(path, f"expected text, found {type(value).__name__} {shown(value)}")
        if choices and value not in choices:
            _fail(path, f"{shown(value)} is not one of {', '.join(choices)}")
        if rx and not rx.fullmatch(value):
            _fail(path, f"{shown(value)} is not a value riskclass writes here")

    return check


def number(low: float | None = None, high: float | None = None, whole: bool = False) -> Check:
    """A finite JSON number (not a boolean, not text), optionally a whole one, within [low, high]."""

    def check(value: Any, path: str) -> None:
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
            _fail(path, f"expected a {'whole ' if whole else ''}number, found {shown(value)}")
        if (low is not None and value < low) or (high is not None and value > high):
            _fail(path, f"{shown(value)} is outside {low}–{high}")

    return check


def boolean(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        _fail(path, f"expected true or false, found {shown(value)}")


def anything(value: Any, path: str) -> None:
    """A part riskclass writes but never reads back (it is rebuilt): its content cannot reach a report."""


def nullable(inner: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if value is not None:
            inner(value, path)

    return check


def array(item: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list):
            _fail(path, f"expected a list, found {type(value).__name__}")
        for i, v in enumerate(value):
            item(v, f"{path}[{i}]")

    return check


def mapping(key: Check, value: Check) -> Check:
    """An object with free keys (each checked by `key`) and values checked by `value`."""

    def check(obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            _fail(path, f"expected an object, found {type(obj).__name__}")
        for k, v in obj.items():
            key(k, f"{path} (a key)")
            value(v, f"{path}.{k}")

    return check


@dataclass(frozen=True)
class Record:
    """An object with known fields only; `required` must be present."""

    fields: Mapping[str, Check]
    required: frozenset[str] = frozenset()

    def __call__(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            _fail(path, f"expected an object, found {type(obj).__name__}")
        for name in self.required - obj.keys():
            _fail(path, f"{name!r} is missing")
        for name, value in obj.items():
            where = f"{path}.{name}" if path else str(name)
            check = self.fields.get(name)
            if check is None:
                near = difflib.get_close_matches(str(name), list(self.fields), n=1)
                _fail(where, "unknown field" + (f" (did you mean {near[0]!r}?)" if near else ""))
            check(value, where)


# Ids as the rulebook writes them (H4, R2, pre_assessment, h4-credit): letters, digits, _ and -; the rulebook itself
# decides later whether the id exists.
ID = r"[A-Za-z][A-Za-z0-9_-]{0,63}"
CRITERION = r"[A-Z][0-9]{1,2}"  # H1…H7, M1…M5, R1…R4 in rulebook.yaml
VERSION_KEY = r"[A-Za-z][A-Za-z0-9_.-]{0,63}"  # riskclass, rulebook, model_sha256 …
DECIDED_BY = ("rules", "model", "rules+model", "answers")  # Assessment.decided_by
SOURCES = ("rules", "answer", "model")  # CriterionHit.source

EVIDENCE = Record({"text": text(), "start": number(0, whole=True), "end": number(0, whole=True)})
HIT = Record(
    {
        "id": text(CRITERION),
        "title": text(),
        "evidence": array(EVIDENCE),
        "articles": array(text()),
        "citations": array(Record({"article": text(), "quote": text()}, frozenset({"article", "quote"}))),
        "rules": array(text(ID)),
        "source": text(choices=SOURCES),
    },
    frozenset({"id"}),
)
# What brought an obligation, a national pointer or a 第五十条 item (Assessment's `Because`).
BECAUSE = Record(
    {
        "tier": nullable(text(choices=TIERS)),
        "criteria": array(text(CRITERION)),
        "words": array(Record({"criterion": nullable(text(CRITERION)), "text": text()}, frozenset({"text"}))),
    }
)
SAVED_ASSESSMENT = Record(
    {
        "description": text(),
        "tier": text(choices=TIERS),
        "tier_title": text(),
        "confidence": number(0, 1),
        "criteria": array(HIT),
        "possible_criteria": array(HIT),
        "red_flags": array(HIT),
        "exclusions": array(
            Record(
                {
                    "rule": text(ID),
                    "criterion": text(CRITERION),
                    "matched": EVIDENCE,
                    "excluded_by": EVIDENCE,
                    "contested": boolean,
                }
            )
        ),
        "obligations": array(
            Record(
                {"id": text(ID), "title": text(), "articles": array(text()), "detail": text(), "because": BECAUSE},
                frozenset({"id"}),
            )
        ),
        "article50": array(
            Record(
                {"item": number(1, 4, whole=True), "title": text(), "why": text(), "because": BECAUSE},
                frozenset({"item"}),
            )
        ),
        "national": array(
            Record(
                {"law": text(), "article": nullable(text()), "topic": text(), "because": BECAUSE}, frozenset({"law"})
            )
        ),
        "needs_review": boolean,
        "review_reasons": array(text()),
        "questions": array(text()),
        "follow_up": array(Record({"criterion": text(CRITERION), "question": text()})),
        "answers": mapping(text(CRITERION), nullable(boolean)),
        "decided_by": text(choices=DECIDED_BY),
        "model": Record(
            {
                "used": boolean,
                "probabilities": nullable(mapping(text(choices=TIERS), number(0, 1))),
                "top_terms": array(Record({"term": text(), "weight": number()}, frozenset({"term", "weight"}))),
                "note": text(),
            }
        ),
        "versions": mapping(text(VERSION_KEY), text()),
        # Written by `report --format json` and by `classify --json` beside an earlier decision; never read back (the
        # report is rebuilt, the decision is looked up in the audit log), so their content cannot reach a report.
        "steps_done": array(text(ID)),
        "report": anything,
        "review": anything,
    }
)


def check_saved_assessment(data: Any) -> None:
    """Raise SavedShapeError naming the first field that riskclass would not have written."""
    if not isinstance(data, dict):
        raise SavedShapeError("", "it is not a JSON object")
    SAVED_ASSESSMENT(data, "")
