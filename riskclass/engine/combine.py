"""The learned combination of the rules' findings and the model's probabilities into calibrated tier probabilities.

Why learned: a hand-tuned cascade of thresholds (raise at 0.5, lower at 0.6, doubt under 0.15) was chosen on text our
own writers wrote, where a rule hit is nearly always right and the model is sure; on real descriptions neither holds,
and the cascade's "confidence" did not mean what it said. The combiner is a multinomial logistic regression over
per-criterion rule states (strong, weak, negated, excluded) and the model's log-probabilities, fitted by
`riskclass.training.combine` on out-of-fold model predictions, so its probabilities are calibrated on data like the
data it meets. It only weighs evidence: the engine still applies the law around it (a strong H hit is never lowered;
answers are facts).

The fitted numbers ship as JSON (`models/combiner.json`): a list of feature names and one weight row per tier, so
nothing in it can run code, and a feature the file does not name weighs nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from riskclass.errors import ModelError

TIERS = ("high", "medium", "low")
STATES = ("strong", "weak", "negated", "excluded")
REGISTERS = ("english", "filing")  # registers unlike the corpus's prose (see Findings)
COMBINER_FILE = "combiner.json"
COMBINER_FORMAT = 1
# Model probabilities are clipped before the log: the classifier never gives exactly 0, but a saved or foreign model
# might, and log(0) would make one feature decide alone.
PROB_FLOOR = 1e-4


@dataclass(frozen=True)
class Findings:
    """What the rules found in one description, per criterion (ids of H and M criteria; red flags play no part)."""

    strong: frozenset[str] = frozenset()
    weak: frozenset[str] = frozenset()
    negated: frozenset[str] = frozenset()  # matched, but inside a negation (不使用人脸识别)
    excluded: frozenset[str] = frozenset()  # matched, but an exclusion in the same phrase ruled it out
    low_signal: bool = False  # positive evidence the output concerns things, not people
    thin: bool = False  # too little text to judge
    # The register the text is written in: the model was trained mostly on Chinese prose, and is less sure (and less
    # often right) on English inventory entries and on the terse filing form; the combiner learns how much less.
    english: bool = False
    filing: bool = False


def features(findings: Findings, probabilities: dict[str, float]) -> dict[str, float]:
    """The combiner's input as named values; absent names are 0."""
    out: dict[str, float] = {}
    for state in STATES:
        for cid in getattr(findings, state):
            out[f"{cid}:{state}"] = 1.0
    registers = [r for r in REGISTERS if getattr(findings, r)]
    for tier in TIERS:
        value = math.log(max(probabilities.get(tier, 0.0), PROB_FLOOR))
        out[f"model:log_{tier}"] = value
        # How far the model is trusted depends on how like its training prose the text is: its own weight per register.
        for r in registers:
            out[f"model:log_{tier}:{r}"] = value
    if findings.low_signal:
        out["low_signal"] = 1.0
    if findings.thin:
        out["thin"] = 1.0
    if findings.english:
        out["english"] = 1.0
    if findings.filing:
        out["filing"] = 1.0
    return out


# The algorithm-filing form: "XX算法：应用于…场景，根据…" (the register of most filing entries).
FILING_FORM = re.compile(r"(应用于|用于)[^。；;]{0,20}场景")
ENGLISH_SHARE = 0.5  # a text whose letters are mostly Latin is read as English (as the normaliser's own split)


_LATIN = re.compile(r"[A-Za-z]")


def register_of(text: str) -> tuple[bool, bool]:
    """(english, filing) for a normalised text. Most texts have no Latin letter: they skip the count of all letters."""
    latin = len(_LATIN.findall(text))
    english = latin > 0 and latin / sum(map(str.isalpha, text)) > ENGLISH_SHARE
    return english, bool(FILING_FORM.search(text))


# Without a fitted choice, high is chosen only when it is the most probable tier (argmax).
HIGH_FROM_DEFAULT = 0.5


@dataclass(frozen=True)
class Combiner:
    names: tuple[str, ...]
    weights: dict[str, tuple[float, ...]]  # tier → one weight per name
    intercepts: dict[str, float]
    meta: dict

    def __post_init__(self) -> None:
        # Where each feature name stands in `names` (a name may stand more than once): a row has a dozen of the ~60
        # features, and the score sums only theirs.
        positions: dict[str, list[int]] = {}
        for i, n in enumerate(self.names):
            positions.setdefault(n, []).append(i)
        object.__setattr__(self, "_positions", positions)

    @property
    def high_from(self) -> float:
        """P(high) from which high is chosen even when another tier is more probable: missing a high-risk product
        skips the assessment before launch (第四十六条), a costlier error than reviewing one too many. Chosen by
        `riskclass.training.combine.choose_high_from` on the real development rows; such a result is always flagged
        for review."""
        return float(self.meta.get("high_from", HIGH_FROM_DEFAULT))

    def probabilities(self, findings: Findings, probabilities: dict[str, float]) -> dict[str, float]:
        """Calibrated P(tier | findings, model), a softmax over the fitted scores.

        Each score is `intercept + sum(w * x.get(n, 0.0) for n, w in zip(names, weights))` to the last bit: the
        features a row lacks add `w * 0.0`, a zero that leaves a sum starting at 0 unchanged, so only the present ones
        are summed, in the order of `names` (a test compares the two on the labelled data).
        """
        x = features(findings, probabilities)
        positions = self._positions  # type: ignore[attr-defined]
        present = sorted((i, v) for n, v in x.items() for i in positions.get(n, ()))
        scores = {t: self.intercepts[t] + sum(self.weights[t][i] * v for i, v in present) for t in TIERS}
        top = max(scores.values())
        exp = {t: math.exp(s - top) for t, s in scores.items()}
        total = sum(exp.values())
        return {t: exp[t] / total for t in TIERS}

    @classmethod
    def from_dict(cls, data: dict, source: str = COMBINER_FILE) -> Combiner:
        try:
            if data.get("format") != COMBINER_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {COMBINER_FORMAT}")
            names = tuple(str(n) for n in data["features"])
            weights = {t: tuple(float(w) for w in data["weights"][t]) for t in TIERS}
            intercepts = {t: float(data["intercepts"][t]) for t in TIERS}
            if any(len(w) != len(names) for w in weights.values()):
                raise ValueError("a weight row does not have one weight per feature")
            if not all(math.isfinite(v) for w in weights.values() for v in w) or not all(
                math.isfinite(v) for v in intercepts.values()
            ):
                raise ValueError("a weight is not a finite number")
            combiner = cls(names, weights, intercepts, dict(data.get("meta") or {}))
            if not 0.0 < combiner.high_from <= 0.5:
                raise ValueError(f"high_from {combiner.high_from} is not in (0, 0.5]")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(
                f"{source}: not a usable combiner ({exc}); reinstall riskclass or retrain it",
                zh=f"{source}：不是可用的组合器（{exc}）；请重新安装 riskclass 或重新训练",
            ) from None
        return combiner

    def to_dict(self) -> dict:
        return {
            "format": COMBINER_FORMAT,
            "features": list(self.names),
            "weights": {t: [round(w, 8) for w in self.weights[t]] for t in TIERS},
            "intercepts": {t: round(self.intercepts[t], 8) for t in TIERS},
            "meta": self.meta,
        }


def read_combiner(path: Path) -> Combiner:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{path}: the combiner is missing; reinstall riskclass or run training/combine.py",
            zh=f"{path}：缺少组合器；请重新安装 riskclass 或运行 training/combine.py",
        ) from None
    except (OSError, UnicodeError, ValueError) as exc:
        raise ModelError(f"{path}: cannot read the combiner ({exc})", zh=f"{path}：无法读取组合器（{exc}）") from None
    if not isinstance(data, dict):
        raise ModelError(
            f"{path}: not a usable combiner (not a JSON object)", zh=f"{path}：不是可用的组合器（不是 JSON 对象）"
        )
    return Combiner.from_dict(data, str(path))


_shipped: Combiner | None = None


def _combiner_path() -> Path:
    """combiner.json in RISKCLASS_MODEL_DIR (a team's own model may bring its own), else the shipped one: inside an
    installed wheel (`riskclass/models`) or beside the package in a checkout (`models/`)."""
    if env := os.environ.get("RISKCLASS_MODEL_DIR"):
        own = Path(env) / COMBINER_FILE
        if own.is_file():
            return own
    try:
        return Path(str(resources.files("riskclass.models"))) / COMBINER_FILE
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "models" / COMBINER_FILE


def shipped_combiner() -> Combiner:
    """The combiner that goes with the model (a missing or unusable file is a ModelError, as for the model)."""
    global _shipped
    if _shipped is None:
        _shipped = read_combiner(_combiner_path())
    return _shipped
