"""What Ctrl+O reads back: the description, the answers and the ticked steps of a saved assessment.

The file is checked by `riskclass.reports.report.load_saved_assessment`, the reader of `report --from-json`, so the
app opens exactly what the command line accepts. The assessment itself is not reused: the product is assessed again
with the current rulebook and model, as any description typed in would be.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from riskclass.reports.report import load_saved_assessment


@dataclass(frozen=True)
class SavedAssessment:
    description: str
    answers: dict[str, bool]
    ticked: frozenset[str]  # obligation ids ticked off (the report's `steps_done`)


def load_saved(path: Path) -> SavedAssessment:
    """Raises InputError (one line, both languages where the reader gives them) for anything but a saved assessment."""
    a = load_saved_assessment(str(path))  # validates size, encoding, JSON and shape before anything is used
    data = json.loads(path.read_bytes().decode("utf-8-sig"))
    steps = data.get("steps_done") if isinstance(data, dict) else None
    ticked = frozenset(s for s in steps if isinstance(s, str)) if isinstance(steps, list) else frozenset()
    return SavedAssessment(a.description, dict(a.answers), ticked)
