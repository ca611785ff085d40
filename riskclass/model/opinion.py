"""What the model says about one description, and the seam any tier model fits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from riskclass.text.normalise import NormalizedText


@dataclass(frozen=True)
class ModelOpinion:
    probabilities: dict[str, float]  # tier → probability, summing to 1
    top_terms: tuple[tuple[str, float], ...] = ()


class TierModel(Protocol):
    """The seam for the classifier: anything that gives tier probabilities for a normalised description."""

    sha256: str

    def opinion(self, text: NormalizedText) -> ModelOpinion: ...

    def opinions(self, texts: list[NormalizedText]) -> list[ModelOpinion]: ...
