"""The assessment engine: rules carry the law, an optional model generalises, answers to questions are facts.

Decision (RUBRIC.md "Decision order"): any H criterion → high; else any M → medium; else low. A strong rule hit sets
that floor. The model (when given) decides where the rules are silent and can raise a tier the rules left lower;
every disagreement between them sets `needs_review`. Answers to follow-up questions override what the text suggests.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from riskclass import __version__
from riskclass.assessment import (
    TIER_RANK,
    Article50Mark,
    Assessment,
    CriterionHit,
    Evidence,
    Exclusion,
    ModelView,
    NationalRef,
    ObligationItem,
    Question,
)
from riskclass.errors import RiskclassError
from riskclass.rulebook import (
    Requirement,
    Rulebook,
    Text,
    _weight,
    compile_pattern,
    load_rulebook,
    negation_before,
)
from riskclass.text import NormalizedText, check_description, content_chars, has_content_chars, normalise

# Confidence when the rules decide alone. These are not probabilities: they order how much evidence there is, and the
# cut-offs below are what the rubric case table and the corpus show a strong rule hit to be worth.
CONF_STRONG_HIGH = 0.85  # one strong H rule; each further independent H rule adds CONF_STEP
CONF_STRONG_MEDIUM = 0.75
CONF_LOW_SIGNALS = 0.65  # no H/M, but positive evidence the output concerns things, not people
CONF_NOTHING = 0.40  # nothing matched: low is only the default, so stay under 0.5
CONF_STEP = 0.04
CONF_WEAK_PENALTY = 0.10  # weak evidence of a higher tier makes the chosen tier less certain

# Where the model overrides or doubts the rules (used when a model is given). Chosen with training/tune.py on the
# development set training/data/dev2.csv, never on a held-out test set: the rules were written against the corpus, so
# cross-validation there would flatter them. With the 3,416-row corpus (model trained on it, replayed on dev2): raising
# at 0.5 keeps high recall at 0.973 (0.6 drops it to 0.925); letting a confident model (low ≥ 0.6) lower medium
# evidence and turning an H hit the model gives under 10% into a question took macro-F1 from 0.907 to 0.931.
MODEL_RAISE_HIGH = 0.50  # model probability of "high" that lifts a product the rules left medium or low
MODEL_RAISE_MEDIUM = 0.75  # where no rule found a criterion: medium when P(medium) + P(high) reaches this, else low
MODEL_LOWER_MEDIUM = 0.60  # model probability of "low" that lowers a product the rules found only medium evidence for
MODEL_VETO_HIGH = 0.10  # below this model probability of "high", rules' H evidence is asked about, not a floor
MODEL_DOUBT = 0.15  # below this model probability for the rules' tier, the result is flagged for review
MODEL_SURE = 0.60  # below this, a decision the model makes alone is "unsure": confidence ≤ 0.5 and review requested
ASK_WEAK_MIN = 0.15  # weak evidence of a higher tier is asked about only if the model gives that tier at least this

# Texts per NumPy pass of the batch screen (and of the model's features): enough to amortise the calls, few enough
# that the temporary arrays (a dozen int64 values per character) stay at a few MB whatever the chunk size.
SLICE_TEXTS = 256

THIN_RESIDUAL_CHARS = 4
CLAUSE_BREAK = re.compile(
    r"[。;!?,\n]"
)  # content characters left after generic words are removed, below which a text is too thin


@dataclass(frozen=True)
class ModelOpinion:
    probabilities: dict[str, float]  # tier → probability, summing to 1
    top_terms: tuple[tuple[str, float], ...] = ()


class TierModel(Protocol):
    """The seam for the classifier: anything that gives tier probabilities for a normalised description."""

    sha256: str

    def opinion(self, text: NormalizedText) -> ModelOpinion: ...

    def opinions(self, texts: list[NormalizedText]) -> list[ModelOpinion]: ...


def _evidence(norm: NormalizedText, span: tuple[int, int]) -> Evidence:
    start, end = norm.span_to_original(*span)
    return Evidence(norm.original[start:end], start, end)


def _weak_evidence(ids: list[str]) -> Text:
    return Text(
        "存在指向更高风险等级的弱证据：" + "、".join(ids), "weak evidence points to a higher tier: " + ", ".join(ids)
    )


def _outermost(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans without those nested inside another (给谁放款 inside 决定给谁放款 is one piece of evidence)."""
    return sorted(s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans))


@lru_cache(maxsize=4)
def _generic_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    parts = []
    for t in sorted(terms, key=len, reverse=True):
        esc = re.escape(t)
        parts.append(rf"\b{esc}\b" if t.isascii() else esc)
    return compile_pattern("|".join(parts))


@lru_cache(maxsize=4)
def _generic_characters(terms: tuple[str, ...]) -> dict[int, None]:
    """A `str.translate` table deleting every character of a generic term."""
    return dict.fromkeys(map(ord, "".join(terms)))


class Engine:
    """Holds a rulebook and an optional model; `assess` is safe to call from several threads."""

    def __init__(self, rulebook: Rulebook | None = None, model: TierModel | None = None) -> None:
        self.rulebook = rulebook or load_rulebook()
        self.model = model
        self._screen: Screen | None = None  # built for batches (assess_many)
        self._derived: dict[tuple[str, frozenset[str]], tuple[tuple, tuple]] = {}  # see _obligations

    def __getstate__(self) -> dict:
        # The screen holds the id()s of this process's compiled patterns: a copy elsewhere builds its own.
        return {**self.__dict__, "_screen": None}

    def _build_screen(self, sample: list[str] | None = None) -> Screen:
        """Which strings each pattern of the rulebook needs (see `required_literals`), indexed for `Screen.candidates`.

        `sample` (a batch's first texts) only chooses how strings are indexed: what a pattern needs does not depend
        on it.
        """
        return Screen.build(self.rulebook, sample)

    def is_thin(self, norm: NormalizedText) -> bool:
        # Only characters of generic terms can be removed: enough other letters and digits settle it without the
        # regular expression (most descriptions), and the answer is the same.
        kept = norm.text.translate(_generic_characters(self.rulebook.generic_terms))
        if has_content_chars(kept, THIN_RESIDUAL_CHARS):
            return False
        residual = _generic_pattern(self.rulebook.generic_terms).sub(" ", norm.text)
        return content_chars(residual) < THIN_RESIDUAL_CHARS

    def assess(self, description: str, answers: dict[str, bool | None] | None = None) -> Assessment:
        """Assess one description. Raises InputError (one line) when it cannot be assessed."""
        description = check_description(description)
        return self._assess(normalise(description), answers)

    def assess_many(self, descriptions: list[str]) -> list[Assessment | RiskclassError]:
        """Assess many descriptions with one vectorised model call; a row that fails gets its error, never dropped."""
        norms: list[NormalizedText | RiskclassError] = []
        for d in descriptions:
            try:
                norms.append(normalise(check_description(d)))
            except RiskclassError as exc:
                norms.append(exc)
        ok = [n for n in norms if isinstance(n, NormalizedText)]
        if self._screen is None and ok:
            self._screen = self._build_screen([n.text for n in ok])
        opinions = iter(self.model.opinions(ok)) if (self.model is not None and ok) else None
        screened = iter(self._screen.candidates_many([n.text for n in ok])) if ok else None
        out: list[Assessment | RiskclassError] = []
        for n in norms:
            if isinstance(n, RiskclassError):
                out.append(n)
                continue
            try:
                out.append(self._assess(n, None, next(opinions) if opinions is not None else None, next(screened)))
            except RiskclassError as exc:
                out.append(exc)
        return out

    def _assess(
        self, norm: NormalizedText, answers, opinion: ModelOpinion | None = None, candidates: Candidates | None = None
    ) -> Assessment:
        """`candidates` (from the batch screen) are the patterns that can match; None runs every pattern."""
        description = norm.original
        rb = self.rulebook
        text = norm.text
        answers = {k: v for k, v in (answers or {}).items() if v is not None}
        for cid in answers:
            rb.criterion(cid)  # unknown ids fail loudly with the valid ones listed

        strong: dict[str, list] = {}
        weak: dict[str, list] = {}
        exclusions: list[Exclusion] = []
        contested: set[str] = set()
        breaks = [m.start() for m in CLAUSE_BREAK.finditer(text)]

        def clause(pos: int) -> int:
            return sum(1 for b in breaks if b < pos)

        # Only rules one of whose patterns can match this text, in rulebook order.
        rules = rb.rules if candidates is None else [rb.rules[i] for i in candidates.rules]
        run = candidates.run if candidates is not None else None
        for rule in rules:
            found = rule.match(text, run)
            spans = found.spans
            if not spans:
                if found.negated:
                    matched, cue = found.negated[0]
                    negation = Exclusion(rule.id, rule.criterion, _evidence(norm, matched), _evidence(norm, cue))
                    exclusions.append(negation)
                continue
            if (by := rule.excluded_by(text, run)) is not None:
                # An exclusion in the same clause as the match is the rubric's "not this criterion"
                # (宠物医院的诊断助手). In another clause it only may apply (导购机器人，夜间在围栏内充电):
                # the rules disagree, so ask.
                disputed = rule.strength == "strong" and any(clause(s) != clause(by[0]) for s, _ in spans)
                exclusions.append(
                    Exclusion(rule.id, rule.criterion, _evidence(norm, spans[0]), _evidence(norm, by), disputed)
                )
                if disputed:
                    contested.add(rule.criterion)
                continue
            (strong if rule.strength == "strong" else weak).setdefault(rule.criterion, []).append((rule, spans))

        # Answers are facts: "no" removes a criterion whatever the text suggests; "yes" adds it.
        for cid, yes in answers.items():
            if not yes:
                strong.pop(cid, None)
                weak.pop(cid, None)

        def hit(cid: str, found: list, source: str = "rules") -> CriterionHit:
            crit = rb.criterion(cid)
            articles: list[str] = []
            for rule, _ in found:
                articles += [c.article for c in rule.articles if c.article not in articles]
            spans = _outermost({s for _, ss in found for s in ss})
            return CriterionHit(
                cid,
                crit.title,
                tuple(_evidence(norm, s) for s in spans),
                tuple(articles),
                tuple(r.id for r, _ in found),
                source,
            )

        hits = {cid: hit(cid, found) for cid, found in strong.items()}
        for cid, yes in answers.items():
            if yes and cid not in hits:
                crit = rb.criterion(cid)
                hits[cid] = CriterionHit(cid, crit.title, (), tuple(c.article for c in crit.articles), (), "answer")
        possible = {cid: hit(cid, found) for cid, found in weak.items() if cid not in hits}

        order = list(rb.criteria)
        criteria = tuple(
            sorted((h for h in hits.values() if not rb.criteria[h.id].is_red_flag), key=lambda h: order.index(h.id))
        )
        red_flags = tuple(
            sorted((h for h in hits.values() if rb.criteria[h.id].is_red_flag), key=lambda h: order.index(h.id))
        )
        possible_t = tuple(
            sorted((h for h in possible.values() if not rb.criteria[h.id].is_red_flag), key=lambda h: order.index(h.id))
        )

        rules_tier = "high" if any(h.id[0] == "H" for h in criteria) else "medium" if criteria else "low"
        low_signal = rules_tier == "low" and any(
            (p if run is None else run[id(p)]).search(text) for p in rb.low_signals if run is None or id(p) in run
        )
        thin = not criteria and not possible_t and self.is_thin(norm)
        silent = not criteria and not possible_t and not low_signal
        confirmed = frozenset(cid for cid, yes in answers.items() if yes)
        d = self._decide(norm, rules_tier, criteria, possible_t, low_signal, thin, silent, opinion, confirmed)
        tier, reasons, ask = d.tier, d.reasons, d.ask

        conflicts = sorted(c for c in contested if c not in answers)
        if conflicts:
            reasons.append(
                Text(
                    "规则冲突：同一标准既有命中也有排除：" + "、".join(conflicts),
                    "rules conflict: the same criterion both matched and was excluded: " + ", ".join(conflicts),
                )
            )
            ask += conflicts
        decided_by = d.decided_by
        if answers:
            if all(q in answers for q in ask) and (any(h.source == "answer" for h in criteria) or not criteria):
                decided_by = "answers"
            reasons.append(
                Text(
                    "已按你的回答修正：" + "、".join(f"{k}={'是' if v else '否'}" for k, v in answers.items()),
                    "adjusted by your answers: " + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in answers.items()),
                )
            )

        seen: set[str] = set()
        questions = []
        for cid in ask:
            if cid in seen or cid in answers:
                continue
            seen.add(cid)
            rule_q = next((r.question for r, _ in weak.get(cid, []) if r.question), None)
            questions.append(Question(cid, rule_q or rb.criteria[cid].question))
        needs_review = bool(questions or conflicts or d.doubt)
        confidence, model_view = d.confidence, d.model

        ids = {h.id for h in (*criteria, *red_flags)}
        obligations, national = self._obligations(tier, frozenset(ids))
        marks = []
        for item in rb.article50:
            by_criteria = [c for c in item.criteria if c in ids]
            by_words = [  # words right after a negation (不处理任何个人信息) do not trigger an item
                w
                for p in item.patterns
                if run is None or id(p) in run
                for w in [_first_affirmed(p if run is None else run[id(p)], text)]
                if w
            ]
            triggered = bool(by_criteria or by_words)
            why = None
            if triggered:
                detail = "、".join(by_criteria + [f"“{w}”" for w in by_words][:2])
                why = Text(f"{item.why.zh}（{detail}）", f"{item.why.en} ({detail.replace('、', ', ')})")
            marks.append(Article50Mark(item.item, item.title, item.quote, triggered, why))

        return Assessment(
            description=description,
            tier=tier,
            confidence=round(confidence, 4),
            criteria=criteria,
            possible=possible_t,
            red_flags=red_flags,
            exclusions=tuple(exclusions),
            obligations=obligations,
            article50=tuple(marks),
            national=national,
            needs_review=needs_review,
            review_reasons=tuple(reasons),
            questions=tuple(questions),
            model=model_view,
            versions={
                "riskclass": __version__,
                "rulebook": rb.version,
                "model_sha256": self.model.sha256 if self.model is not None else "",
            },
            answers={k: bool(v) for k, v in answers.items()},
            decided_by=decided_by,
        )

    def _obligations(self, tier: str, ids: frozenset[str]) -> tuple[tuple, tuple]:
        """Obligations and national pointers for a tier and the criteria that hold: the same few combinations recur
        in every batch, and the items are immutable, so each combination is built once."""
        known = self._derived.get((tier, ids))
        if known is None:
            rb = self.rulebook
            obligations = tuple(
                ObligationItem(o.id, o.title, o.detail, tuple(dict.fromkeys(c.article for c in o.articles)))
                for o in rb.obligations
                if tier in o.tiers and (not o.when_criteria or ids & set(o.when_criteria))
            )
            national = tuple(NationalRef(n.law, n.article, n.topic) for n in rb.national if ids & set(n.criteria))
            if len(self._derived) >= 4096:
                self._derived.clear()
            known = self._derived[(tier, ids)] = (obligations, national)
        return known

    def _decide(
        self, norm, rules_tier, criteria, possible, low_signal, thin, silent, opinion=None, confirmed=frozenset()
    ) -> Decision:
        """Tier, confidence and what to ask, from the rules' findings and (when given) the model's opinion."""
        rb = self.rulebook
        reasons: list[Text] = []
        ask: list[str] = []
        n_strong = len({h.id for h in criteria if h.id[0] == rules_tier[0].upper()})
        if rules_tier == "high":
            rule_conf = min(0.95, CONF_STRONG_HIGH + CONF_STEP * (n_strong - 1))
        elif rules_tier == "medium":
            rule_conf = min(0.9, CONF_STRONG_MEDIUM + CONF_STEP * (n_strong - 1))
        else:
            rule_conf = CONF_LOW_SIGNALS if low_signal else CONF_NOTHING
        higher = [h.id for h in possible if TIER_RANK[rb.criteria[h.id].tier] > TIER_RANK[rules_tier]]
        if higher:
            rule_conf -= CONF_WEAK_PENALTY
        thin_ask = list(rb.thin_questions)
        if thin:
            reasons.append(Text("描述过于简略，无法判断", "the description is too thin to judge"))
            ask += thin_ask

        if self.model is None:
            if higher:
                reasons.append(_weak_evidence(higher))
                ask += higher
            if silent and not thin:
                reasons.append(
                    Text(
                        "规则未找到任何依据，“低风险”只是默认结论",
                        "no rule found any evidence: 'low' is only the default",
                    )
                )
                ask += thin_ask
            return Decision(
                rules_tier,
                rule_conf,
                "rules",
                ModelView(False, note="no model loaded: rules only"),
                reasons,
                ask,
                False,
            )

        op = opinion if opinion is not None else self.model.opinion(norm)
        p = op.probabilities
        generic = set(rb.generic_terms)  # 一款, 系统, 模型… weigh in the model but explain nothing
        view = ModelView(
            True, {t: round(v, 4) for t, v in p.items()}, tuple(x for x in op.top_terms if x[0] not in generic)
        )
        # Weak evidence is worth a question only when the model finds that tier plausible too.
        plausible = [c for c in higher if p[rb.criteria[c].tier] >= ASK_WEAK_MIN]
        if plausible:
            reasons.append(_weak_evidence(plausible))
            ask += plausible
        fired = [h.id for h in criteria if h.source != "answer"]
        # The user's own facts (a criterion answered yes, found by the rules or not) are not second-guessed.
        answered = any(h.source == "answer" or h.id in confirmed for h in criteria)
        if rules_tier == "high" and p["high"] < MODEL_VETO_HIGH and not answered:
            # A rule's words can stand in a context that defeats them (人脸识别摄像头模组的代工厂,
            # 功率预测报送调度机构): when the model, reading the whole description, finds high this unlikely, the H
            # evidence is shown and asked about, and the tier follows the rest of the evidence. On wording the rules
            # were not written against, they were wrong here more often than the model.
            medium_found = any(h.id[0] == "M" for h in criteria)
            tier = "medium" if (medium_found and p["low"] < MODEL_LOWER_MEDIUM) or p["medium"] >= p["low"] else "low"
            high_ids = [c for c in fired if c[0] == "H"]
            reasons.append(
                Text(
                    f"规则发现高风险证据（{'、'.join(high_ids)}），但模型认为高风险的可能仅 {p['high']:.0%}：请确认",
                    f"the rules found high-risk evidence ({', '.join(high_ids)}), but the model gives high only "
                    f"{p['high']:.0%}: please confirm",
                )
            )
            ask += high_ids
            return Decision(tier, min(0.6, max(p[tier], 0.35)), "rules+model", view, reasons, ask, True)
        if rules_tier == "high":
            if p["high"] < MODEL_DOUBT:
                reasons.append(
                    Text(
                        f"模型与规则不一致：模型认为高风险的可能仅 {p['high']:.0%}",
                        f"the model disagrees with the rules: it gives high only {p['high']:.0%}",
                    )
                )
                ask += [c for c in fired if c[0] == "H"]
                return Decision("high", min(rule_conf, 0.6), "rules+model", view, reasons, ask, True)
            return Decision(
                "high",
                min(0.97, (rule_conf + max(p["high"], 0.5)) / 2 + 0.05),
                "rules+model",
                view,
                reasons,
                ask,
                False,
            )
        if p["high"] >= MODEL_RAISE_HIGH:
            reasons.append(
                Text(
                    f"规则未发现高风险标准，但模型认为高风险的可能为 {p['high']:.0%}",
                    f"no rule found a high-risk criterion, but the model gives high {p['high']:.0%}",
                )
            )
            ask += plausible or [c for c in thin_ask if c[0] == "H"]
            return Decision("high", p["high"] * 0.9, "rules+model" if criteria else "model", view, reasons, ask, True)
        if rules_tier == "medium" and p["low"] >= MODEL_LOWER_MEDIUM and not answered:
            # Medium evidence is often one word in a context that concerns things, not people (持卡人数据 in a card
            # factory's camera QC): when the model is confident of low, low is suggested and the criterion asked about.
            reasons.append(
                Text(
                    f"规则发现中风险证据，但模型认为低风险的可能为 {p['low']:.0%}：请确认",
                    f"the rules found medium-risk evidence, but the model gives low {p['low']:.0%}: please confirm",
                )
            )
            ask += fired
            return Decision("low", min(p["low"], 0.6), "rules+model", view, reasons, ask, True)
        if rules_tier == "medium":
            doubt = p["low"] > 1 - MODEL_DOUBT
            if doubt:
                reasons.append(
                    Text(
                        f"模型与规则不一致：模型倾向低风险（{p['low']:.0%}）",
                        f"the model disagrees with the rules: it leans low ({p['low']:.0%})",
                    )
                )
                ask += fired
            conf = min(rule_conf, 0.6) if doubt else min(0.95, (rule_conf + p["medium"] + p["high"]) / 2)
            return Decision("medium", conf, "rules+model", view, reasons, ask, doubt)
        tier = "medium" if p["medium"] + p["high"] >= MODEL_RAISE_MEDIUM else "low"
        conf = p["medium"] + p["high"] if tier == "medium" else p["low"]
        if conf < MODEL_SURE and not (low_signal and tier == "low"):
            reasons.append(
                Text(
                    f"规则未命中任何标准，模型也不确定（{conf:.0%}）",
                    f"no rule found a criterion and the model is unsure ({conf:.0%})",
                )
            )
            if not thin:
                ask += thin_ask
            return Decision(tier, min(conf, 0.5), "model", view, reasons, ask, True)
        if low_signal and tier == "low":
            conf = max(conf, (conf + CONF_LOW_SIGNALS) / 2)
        return Decision(tier, conf, "model" if silent else "rules+model", view, reasons, ask, thin)


class Candidates:
    """What can match one text: for each pattern that can, what to run in its place, and the rules they belong to.

    `run` maps the id() of a pattern (hashing a compiled pattern hashes its whole program: microseconds for the long
    ones) to the pattern itself, or, when only some of its top-level alternatives can match this text, to those
    alone (a compiled alternative, or `Alternatives`), which give exactly the pattern's matches, faster.
    """

    __slots__ = ("rules", "run")

    def __init__(self, run: dict[int, Any], rules: list[int]) -> None:
        self.run = run
        self.rules = rules  # indices of the rules with a pattern that can match, in rulebook order

    def __contains__(self, pattern: object) -> bool:
        return id(pattern) in self.run

    def __len__(self) -> int:
        return len(self.run)


def _first_affirmed(pattern, text: str) -> str | None:
    """The first match of `pattern` in `text` that no negation cue stands right before."""
    for m in pattern.finditer(text):
        if negation_before(text, m.start()) is None:
            return m.group(0)
    return None


class Alternatives:
    """Some top-level alternatives of a pattern, run as the pattern runs them: the match starting earliest, and
    among those starting at the same place the one of the first alternative (the others cannot match this text)."""

    __slots__ = ("patterns",)

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        self.patterns = patterns

    def finditer(self, text: str):
        patterns = self.patterns
        pending = [p.search(text) for p in patterns]  # the next match of each alternative
        pos = 0
        while True:
            best = None
            for k, m in enumerate(pending):
                if m is not None and m.start() < pos:  # overlapped by the last match: look again from its end
                    m = pending[k] = patterns[k].search(text, pos)
                if m is not None and (best is None or m.start() < best.start()):
                    best = m
            if best is None:
                return
            yield best
            pos = best.end()  # never empty: an alternative that can match nothing is never split off

    def search(self, text: str):
        return next(self.finditer(text), None)


class Screen:
    """For a batch: which patterns could match a text, from the strings each one needs (see required_literals).

    A pattern is screened as a whole, or, when it is an alternation (`top_level_alternatives`), alternative by
    alternative. Every string some of them needs is indexed by a code (`gram_code`): its own if it has one to three
    characters, else that of its rarest three characters in the sample. For a whole chunk at once, NumPy codes every
    character, pair and triple of the texts and looks them up (`CodeIndex`); `in` confirms the longer strings; a
    pattern (or alternative) is a candidate when one of its requirement's alternatives has a string of each of its
    sets present. What is not a candidate cannot match, so skipping it changes nothing; the screen costs some
    microseconds a text, against ~20 µs for each regular expression it spares.
    """

    def __init__(self) -> None:
        self.need: dict = {}  # pattern → required_literals(pattern) (None: always run)
        self.rule_of: dict[int, list[int]] = {}  # id of a rule's pattern → indices of the rules it is in
        self._rules = 0  # how many rules there are
        # Units (a whole pattern, or one top-level alternative of one), by number: the pattern's id, the pattern, the
        # alternative's source ("" for a whole pattern) and how many alternatives the pattern was split into (0).
        self._unit_pattern: list[int] = []
        self._unit_whole: list[re.Pattern[str]] = []
        self._unit_source: list[str] = []
        self._unit_parts: list[int] = []
        self._compiled: dict[int, re.Pattern[str]] = {}  # unit number → its alternative, compiled when first run
        self._always: list[int] = []  # units that always run
        self._rules_of_unit = None  # (starts, rule indices) by unit number
        self._always_rules: set[int] = set()
        self._sets = 0  # how many sets of strings there are
        # Alternatives of requirements by number: (starts, ids) of their sets, the unit each belongs to, and, for
        # each set, the alternatives for which it is the set least often present (looked at only when it is)
        self._sets_of_alternative = None
        self._unit_of_alternative = None
        self._alternatives_of_set = None
        self._index: CodeIndex | None = None  # codes of the keys → key number
        self._sets_of_key = None  # (starts, ids): the sets holding exactly key k are ids[starts[k]:starts[k + 1]]
        self._longer_of_key = None  # (starts, numbers): the longer strings indexed under key k
        self._longer: list[str] = []  # longer string by number
        self._sets_of_longer = None  # (starts, ids): the sets holding longer string n

    @classmethod
    def build(cls, rulebook: Rulebook, sample: list[str] | None = None) -> Screen:
        import numpy as np

        from riskclass.rulebook import screening_plan

        screen = cls()
        patterns = [p for r in rulebook.rules for p in (*r.patterns, *r.requires, *r.exclusions)]
        patterns += [*rulebook.low_signals, *(p for item in rulebook.article50 for p in item.patterns)]
        patterns = list({id(p): p for p in patterns}.values())
        for i, rule in enumerate(rulebook.rules):
            for p in rule.patterns:
                screen.rule_of.setdefault(id(p), []).append(i)
        needs: list[Requirement | None] = []
        for p, (parts, requirements) in zip(patterns, screening_plan(patterns), strict=True):
            screen.need[p] = None if None in requirements else tuple(alt for r in requirements for alt in r)
            for part, requirement in zip(parts or [""], requirements, strict=True):
                screen._unit_pattern.append(id(p))
                screen._unit_whole.append(p)
                screen._unit_source.append(part)
                screen._unit_parts.append(len(parts) if parts else 0)
                needs.append(requirement)
        ids: dict[frozenset[str], int] = {}
        holders: dict[str, list[int]] = {}
        alternatives: list[tuple[int, frozenset[int]]] = []  # (unit, ids of its sets)
        for unit, need in enumerate(needs):
            if need is None:
                screen._always.append(unit)
                continue
            for alt in need:
                for strings in alt:
                    if strings not in ids:
                        ids[strings] = len(ids)
                        for s in strings:
                            holders.setdefault(s, []).append(ids[strings])
                alternatives.append((unit, frozenset(ids[strings] for strings in alt)))

        exact: dict[int, list[int]] = {}
        for s, where in holders.items():
            if len(s) <= 3:
                exact.setdefault(gram_code(s), []).extend(where)
        screen._longer = [s for s in holders if len(s) > 3]
        longer: dict[int, list[int]] = {}
        for number, code in enumerate(_rarest_triples(screen._longer, sample, np)):
            longer.setdefault(code, []).append(number)
        codes = sorted({*exact, *longer})
        screen._index = CodeIndex(codes)
        screen._sets_of_key = _ragged([exact.get(c, []) for c in codes], np)
        screen._longer_of_key = _ragged([longer.get(c, []) for c in codes], np)
        screen._sets_of_longer = _ragged([holders[s] for s in screen._longer], np)
        screen._sets = len(ids)
        # Each alternative is looked at when its set least often present in the sample is (without a sample: the set
        # whose strings look rarest).
        if sample:
            weights = Counter((screen._present(sample) % screen._sets).tolist())
        else:
            weights = Counter({i: _weight(strings) for strings, i in ids.items()})
        keyed: list[list[int]] = [[] for _ in ids]
        for a, (_, alt) in enumerate(alternatives):
            keyed[min(alt, key=lambda i: (weights[i], i))].append(a)
        screen._rules = len(rulebook.rules)
        screen._rules_of_unit = _ragged([screen.rule_of.get(p, []) for p in screen._unit_pattern], np)
        screen._always_rules = {i for u in screen._always for i in screen.rule_of.get(screen._unit_pattern[u], [])}
        screen._sets_of_alternative = _ragged([sorted(alt) for _, alt in alternatives], np)
        screen._unit_of_alternative = np.array([unit for unit, _ in alternatives], dtype=np.int64)
        screen._alternatives_of_set = _ragged(keyed, np)
        return screen

    def candidates(self, text: str) -> Candidates:
        return self.candidates_many([text])[0]

    def candidates_many(self, texts: list[str]) -> list[Candidates]:
        """`candidates` of each text, for the whole list at once (in slices of SLICE_TEXTS)."""
        import numpy as np

        if not texts:
            return []
        if len(texts) > SLICE_TEXTS:
            step = SLICE_TEXTS
            return [c for i in range(0, len(texts), step) for c in self.candidates_many(texts[i : i + step])]
        sets = self._sets
        present = self._present(texts)  # row × sets + set, sorted
        # The alternatives keyed by a present set, then whether every set of each of them is present.
        rows, alternatives = _expand(present // sets, present % sets, self._alternatives_of_set, np)
        pair, needed = _expand(np.arange(len(rows)), alternatives, self._sets_of_alternative, np)
        wanted = rows[pair] * sets + needed
        there = present[np.minimum(np.searchsorted(present, wanted), len(present) - 1)] == wanted
        whole = np.ones(len(rows), dtype=bool)
        whole[pair[~there]] = False
        units = self._unit_of_alternative[alternatives[whole]]
        count = len(self._unit_pattern)
        chosen = sorted_unique(rows[whole] * count + units, np)
        chosen_rows, chosen = chosen // count, chosen % count
        rule_rows, rules = _expand(chosen_rows, chosen, self._rules_of_unit, np)
        ruled = sorted_unique(rule_rows * self._rules + rules, np)
        bounds = np.arange(len(texts) + 1)
        u_cuts = np.searchsorted(chosen_rows, bounds).tolist()
        r_cuts = np.searchsorted(ruled // self._rules, bounds).tolist()
        chosen = chosen.tolist()
        rules = (ruled % self._rules).tolist()
        always_rules = self._always_rules
        return [
            Candidates(
                self._runners(self._always + chosen[a:b] if self._always else chosen[a:b]),
                sorted(always_rules.union(rules[c:d])) if always_rules else rules[c:d],
            )
            for (a, b), (c, d) in zip(itertools.pairwise(u_cuts), itertools.pairwise(r_cuts), strict=True)
        ]

    def _runners(self, units: list[int]) -> dict[int, Any]:
        """Pattern id → what to run for it, from the units that can match (in order, a pattern's units together)."""
        run: dict[int, Any] = {}
        parts: list[int] = []
        unit_pattern, unit_parts = self._unit_pattern, self._unit_parts
        for i, unit in enumerate(units):
            if not unit_parts[unit]:
                run[unit_pattern[unit]] = self._unit_whole[unit]
                continue
            parts.append(unit)
            if i + 1 < len(units) and unit_pattern[units[i + 1]] == unit_pattern[unit]:
                continue  # more alternatives of the same pattern follow
            if len(parts) == unit_parts[unit]:
                run[unit_pattern[unit]] = self._unit_whole[unit]  # every alternative can match: the pattern itself
            elif len(parts) == 1:
                run[unit_pattern[unit]] = self._alternative(unit)
            else:
                run[unit_pattern[unit]] = Alternatives([self._alternative(u) for u in parts])
            parts = []
        return run

    def _alternative(self, unit: int) -> re.Pattern[str]:
        compiled = self._compiled.get(unit)
        if compiled is None:
            compiled = self._compiled[unit] = re.compile(self._unit_source[unit], self._unit_whole[unit].flags)
        return compiled

    def _present(self, texts: list[str]):
        """Which sets of strings each text holds a string of: sorted int64 codes row × (number of sets) + set."""
        import numpy as np

        # Every character, pair and triple of neighbours, for the whole chunk at once; "\0" between texts keeps them
        # from spanning two texts (no string a pattern needs holds one).
        codes = _code_points("\0".join(texts), np)
        grams = np.concatenate([_gram_codes(codes, n, np) for n in (1, 2, 3)])
        at = np.concatenate([np.arange(len(codes) - n + 1) for n in (1, 2, 3)])
        key = self._index.find(grams)
        hit = key >= 0
        row_of = np.repeat(np.arange(len(texts)), [len(t) + 1 for t in texts])
        width = len(self._index)
        pairs = sorted_unique(row_of[at[hit]] * width + key[hit], np)
        rows, keys = pairs // width, pairs % width
        set_rows, set_ids = _expand(rows, keys, self._sets_of_key, np)
        long_rows, numbers = _expand(rows, keys, self._longer_of_key, np)
        if len(numbers):
            strings = self._longer
            ok = [strings[n] in texts[r] for r, n in zip(long_rows.tolist(), numbers.tolist(), strict=True)]
            ok = np.array(ok, dtype=bool)
            more_rows, more_ids = _expand(long_rows[ok], numbers[ok], self._sets_of_longer, np)
            set_rows = np.concatenate((set_rows, more_rows))
            set_ids = np.concatenate((set_ids, more_ids))
        return sorted_unique(set_rows * self._sets + set_ids, np)


class CodeIndex:
    """Distinct non-negative int64 codes → their positions, looked up for whole NumPy arrays at once.

    An open-addressing hash table (Fibonacci hashing, linear probing) at most an eighth full: one gather finds almost
    every code, where a binary search (`np.searchsorted`) costs a cache miss per step.
    """

    def __init__(self, codes: list[int]) -> None:
        import numpy as np

        bits = max(4, (8 * len(codes)).bit_length())
        self._shift = np.uint64(64 - bits)
        self._mask = (1 << bits) - 1
        self._size = len(codes)
        keys = [-1] * (1 << bits)
        values = [0] * (1 << bits)
        slots = self._slots(np.array(codes, dtype=np.int64)).tolist()
        for position, (code, slot) in enumerate(zip(codes, slots, strict=True)):
            while keys[slot] != -1:
                slot = (slot + 1) & self._mask
            keys[slot], values[slot] = code, position
        self._keys = np.array(keys, dtype=np.int64)
        self._values = np.array(values, dtype=np.int64)

    def __len__(self) -> int:
        return self._size

    def _slots(self, codes):
        import numpy as np

        return ((codes.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> self._shift).view(np.int64)

    def find(self, codes):
        """The position of each code (an int64 array), or -1 where it is not in the index."""
        import numpy as np

        slot = self._slots(codes)
        stored = self._keys[slot]
        out = np.where(stored == codes, self._values[slot], -1)
        todo = np.flatnonzero((stored != codes) & (stored != -1))  # another code holds the slot: probe on
        slot = slot[todo]
        while len(todo):
            slot = (slot + 1) & self._mask
            stored = self._keys[slot]
            found = stored == codes[todo]
            out[todo[found]] = self._values[slot[found]]
            more = (stored != -1) & ~found
            todo, slot = todo[more], slot[more]
        return out


def gram_code(gram: str) -> int:
    """One int64 per string of one to three characters (21 bits a code point; lengths never share a code)."""
    if len(gram) == 1:
        return ord(gram)
    if len(gram) == 2:
        return ((ord(gram[0]) + 1) << 21) | ord(gram[1])
    return ((ord(gram[0]) + 1) << 42) | (ord(gram[1]) << 21) | ord(gram[2])


def sorted_unique(values, np):
    """`np.unique(values)` for an int64 array: sorted, each value once (a plain sort, much faster here)."""
    values = np.sort(values)
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _rarest_triples(strings: list[str], sample: list[str] | None, np) -> list[int]:
    """For each string (of four characters or more), the `gram_code` of its three neighbouring characters least
    often seen in the sample (the smallest code among equals)."""
    if not strings:
        return []
    triples = [len(s) - 2 for s in strings]
    owner = np.repeat(np.arange(len(strings)), triples)  # the string each triple is in
    starts = np.cumsum([0, *[len(s) + 1 for s in strings[:-1]]])  # where each string starts in the joined text
    at = np.repeat(starts - (np.cumsum(triples) - triples), triples) + np.arange(sum(triples))
    codes = _gram_codes(_code_points("\0".join(strings), np), 3, np)[at]
    seen = np.zeros(len(codes), dtype=np.int64)
    if sample:
        known, counts = np.unique(_gram_codes(_code_points("\0".join(sample), np), 3, np), return_counts=True)
        if len(known):
            at = np.minimum(np.searchsorted(known, codes), len(known) - 1)
            seen = np.where(known[at] == codes, counts[at], 0)
    order = np.lexsort((codes, seen, owner))  # by string, then how often seen, then code
    first = np.flatnonzero(np.concatenate(([True], owner[order][1:] != owner[order][:-1])))
    return codes[order][first].tolist()


def _code_points(text: str, np):
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


def _gram_codes(codes, n: int, np):
    """`gram_code` of every run of n neighbours in an array of code points (n = 1, 2, 3)."""
    if n == 1:
        return codes
    if n == 2:
        return ((codes[:-1] + 1) << 21) | codes[1:]
    return ((codes[:-2] + 1) << 42) | (codes[1:-1] << 21) | codes[2:]


def _ragged(lists: list[list[int]], np):
    """Lists of ints as (starts, flat): list k is flat[starts[k]:starts[k + 1]]."""
    starts = np.cumsum([0, *map(len, lists)]).astype(np.int64)
    return starts, np.array([x for xs in lists for x in xs], dtype=np.int64)


def _expand(rows, keys, ragged, np):
    """For (row, key) pairs, the (row, item) pairs of every item in the key's list (`_ragged`)."""
    starts, flat = ragged
    lo = starts[keys]
    counts = starts[keys + 1] - lo
    first = np.cumsum(counts) - counts
    at = np.repeat(lo - first, counts) + np.arange(int(counts.sum()))
    return np.repeat(rows, counts), flat[at]


@dataclass
class Decision:
    tier: str
    confidence: float
    decided_by: str
    model: ModelView
    reasons: list[Text]
    ask: list[str]
    doubt: bool  # the rules and the model disagree, or the model is unsure where the rules are silent


_default_engine: Engine | None = None


def assess(
    description: str, model: TierModel | None = None, answers: dict[str, bool | None] | None = None
) -> Assessment:
    """Assess one description with the shipped rulebook (and `model`, if given)."""
    global _default_engine
    if model is not None:
        return Engine(model=model).assess(description, answers)
    if _default_engine is None:
        _default_engine = Engine()
    return _default_engine.assess(description, answers)
