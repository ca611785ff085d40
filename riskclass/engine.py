"""The assessment engine: rules carry the law, an optional model generalises, answers to questions are facts.

Decision (RUBRIC.md "Decision order"): any H criterion → high; else any M → medium; else low. A strong rule hit sets
that floor. The model (when given) decides where the rules are silent and can raise a tier the rules left lower;
every disagreement between them sets `needs_review`. Answers to follow-up questions override what the text suggests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from riskclass import __version__
from riskclass.assessment import (
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
from riskclass.rulebook import Rulebook, Text, compile_pattern, load_rulebook
from riskclass.text import NormalizedText, check_description, content_chars, normalise

TIER_RANK = {"low": 0, "medium": 1, "high": 2}

# Confidence when the rules decide alone. These are not probabilities: they order how much evidence there is, and the
# cut-offs below are what the rubric case table and the corpus show a strong rule hit to be worth.
CONF_STRONG_HIGH = 0.85  # one strong H rule; each further independent H rule adds CONF_STEP
CONF_STRONG_MEDIUM = 0.75
CONF_LOW_SIGNALS = 0.65  # no H/M, but positive evidence the output concerns things, not people
CONF_NOTHING = 0.40  # nothing matched: low is only the default, so stay under 0.5
CONF_STEP = 0.04
CONF_WEAK_PENALTY = 0.10  # weak evidence of a higher tier makes the chosen tier less certain

# Where the model overrides or doubts the rules (used when a model is given).
MODEL_RAISE = 0.60  # model probability for a higher tier needed to lift a tier the rules left lower
MODEL_DOUBT = 0.15  # model probability for the rules' tier below which the result is flagged for review
MODEL_SURE = 0.60  # below this, a model-only decision is "unsure": confidence capped at 0.5 and review requested

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


def _evidence(norm: NormalizedText, span: tuple[int, int]) -> Evidence:
    start, end = norm.span_to_original(*span)
    return Evidence(norm.original[start:end], start, end)


@lru_cache(maxsize=4)
def _generic_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    parts = []
    for t in sorted(terms, key=len, reverse=True):
        esc = re.escape(t)
        parts.append(rf"\b{esc}\b" if t.isascii() else esc)
    return compile_pattern("|".join(parts))


class Engine:
    """Holds a rulebook and an optional model; `assess` is safe to call from several threads."""

    def __init__(self, rulebook: Rulebook | None = None, model: TierModel | None = None) -> None:
        self.rulebook = rulebook or load_rulebook()
        self.model = model

    def is_thin(self, norm: NormalizedText) -> bool:
        residual = _generic_pattern(self.rulebook.generic_terms).sub(" ", norm.text)
        return content_chars(residual) < THIN_RESIDUAL_CHARS

    def assess(self, description: str, answers: dict[str, bool | None] | None = None) -> Assessment:
        description = check_description(description)
        rb = self.rulebook
        norm = normalise(description)
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

        for rule in rb.rules:
            spans = rule.spans(text)
            if not spans:
                continue
            if (by := rule.excluded_by(text)) is not None:
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
            spans = sorted({s for _, ss in found for s in ss})
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
        low_signal = rules_tier == "low" and any(p.search(text) for p in rb.low_signals)
        thin = not criteria and not possible_t and self.is_thin(norm)
        nothing = not criteria and not possible_t and not low_signal

        reasons: list[Text] = []
        ask: list[str] = []  # criteria to ask about, in order
        for h in possible_t:
            if TIER_RANK[rb.criteria[h.id].tier] > TIER_RANK[rules_tier]:
                ask.append(h.id)
        if ask:
            reasons.append(
                Text(
                    "存在指向更高风险等级的弱证据：" + "、".join(ask),
                    "weak evidence points to a higher tier: " + ", ".join(ask),
                )
            )
        conflicts = sorted(c for c in contested if c not in answers)
        if conflicts:
            reasons.append(
                Text(
                    "规则冲突：同一标准既有命中也有排除：" + "、".join(conflicts),
                    "rules conflict: the same criterion both matched and was excluded: " + ", ".join(conflicts),
                )
            )
            ask += conflicts
        if thin:
            reasons.append(Text("描述过于简略，无法判断", "the description is too thin to judge"))
            ask += list(rb.thin_questions)
        elif nothing:
            reasons.append(
                Text(
                    "规则未找到任何依据，“低风险”只是默认结论", "no rule found any evidence: 'low' is only the default"
                )
            )
            ask += list(rb.thin_questions)

        # ---- rules and model together
        confidence, tier, decided_by, model_view, model_doubt = self._decide(
            norm, rules_tier, criteria, possible_t, low_signal, nothing or thin, reasons, ask
        )
        if answers and all(q in answers for q in ask):
            decided_by = "answers" if any(h.source == "answer" for h in criteria) or not criteria else decided_by
        if answers:
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
        needs_review = bool(questions or conflicts or model_doubt)

        ids = {h.id for h in (*criteria, *red_flags)}
        obligations = tuple(
            ObligationItem(o.id, o.title, o.detail, tuple(dict.fromkeys(c.article for c in o.articles)))
            for o in rb.obligations
            if tier in o.tiers and (not o.when_criteria or ids & set(o.when_criteria))
        )
        marks = []
        for item in rb.article50:
            by_criteria = [c for c in item.criteria if c in ids]
            by_words = [m.group(0) for p in item.patterns for m in [p.search(text)] if m]
            triggered = bool(by_criteria or by_words)
            why = None
            if triggered:
                detail = "、".join(by_criteria + [f"“{w}”" for w in by_words][:2])
                why = Text(f"{item.why.zh}（{detail}）", f"{item.why.en} ({detail.replace('、', ', ')})")
            marks.append(Article50Mark(item.item, item.title, item.quote, triggered, why))
        national = tuple(NationalRef(n.law, n.article, n.topic) for n in rb.national if ids & set(n.criteria))

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

    def _decide(self, norm, rules_tier, criteria, possible, low_signal, silent, reasons, ask):
        n_strong = len({h.id for h in criteria if h.id[0] == rules_tier[0].upper()})
        if rules_tier == "high":
            conf = min(0.95, CONF_STRONG_HIGH + CONF_STEP * (n_strong - 1))
        elif rules_tier == "medium":
            conf = min(0.9, CONF_STRONG_MEDIUM + CONF_STEP * (n_strong - 1))
        else:
            conf = CONF_LOW_SIGNALS if low_signal else CONF_NOTHING
        if any(TIER_RANK[self.rulebook.criteria[h.id].tier] > TIER_RANK[rules_tier] for h in possible):
            conf -= CONF_WEAK_PENALTY

        if self.model is None:
            return conf, rules_tier, "rules", ModelView(False, note="no model loaded: rules only"), False

        op = self.model.opinion(norm)
        probs = op.probabilities
        view = ModelView(True, {t: round(p, 4) for t, p in probs.items()}, op.top_terms)
        model_tier = max(probs, key=probs.get)
        if silent:
            # The rules found nothing: the model decides, and says how sure it is.
            p = probs[model_tier]
            if p < MODEL_SURE:
                reasons.append(
                    Text(f"规则未命中，模型也不确定（{p:.0%}）", f"the model is unsure ({p:.0%}) and no rule matched")
                )
                return min(p, 0.5), model_tier, "model", view, True
            return p, model_tier, "model", view, False
        tier, decided_by, doubt = rules_tier, "rules+model", False
        if TIER_RANK[model_tier] > TIER_RANK[rules_tier] and probs[model_tier] >= MODEL_RAISE:
            reasons.append(
                Text(
                    f"模型认为应为更高等级（{model_tier}，{probs[model_tier]:.0%}），而规则仅支持 {rules_tier}",
                    f"the model puts it higher ({model_tier}, {probs[model_tier]:.0%}) than the rules ({rules_tier})",
                )
            )
            tier, conf, doubt = model_tier, probs[model_tier] * 0.9, True
            ask += [c for c in self.rulebook.thin_questions if self.rulebook.criteria[c].tier == model_tier]
        elif probs[rules_tier] < MODEL_DOUBT:
            reasons.append(
                Text(
                    f"模型与规则不一致：模型倾向 {model_tier}（{probs[model_tier]:.0%}）",
                    f"the model disagrees with the rules: it leans {model_tier} ({probs[model_tier]:.0%})",
                )
            )
            conf, doubt = min(conf, 0.6), True
        else:
            conf = min(0.97, (conf + probs[rules_tier]) / 2 + 0.1 * (probs[rules_tier] >= 0.5))
        return conf, tier, decided_by, view, doubt


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
