"""The assessment engine: rules carry the law, an optional model generalises, answers to questions are facts.

Decision (RUBRIC.md "Decision order"): any H criterion → high; else any M → medium; else low. A strong rule hit sets
that floor. With a model, the combiner (riskclass.engine.combine) weighs the rules' findings and the model's opinion
into calibrated tier probabilities inside what the law allows (`_combined`); without one, the rules decide alone
(`_decide`). Answers to follow-up questions override what the text suggests.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from riskclass import __version__
from riskclass.engine.assessment import (
    TIER_RANK,
    Article50Mark,
    Assessment,
    Because,
    CriterionHit,
    Evidence,
    Exclusion,
    ModelView,
    NationalRef,
    ObligationItem,
    Question,
    Verdict,
)
from riskclass.engine.combine import Combiner, Findings, register_of, shipped_combiner
from riskclass.errors import InputError, RiskclassError
from riskclass.model.opinion import ModelOpinion, TierModel
from riskclass.rulebook.rules import (
    Citation,
    EvidenceKind,
    EvidenceNeed,
    Rulebook,
    Text,
    compile_pattern,
    load_rulebook,
    phrases,
)
from riskclass.rulebook.screen import Candidates, Screen, TextScreen, _first_affirmed
from riskclass.text.normalise import NormalizedText, check_description, content_chars, has_content_chars, normalise

# Confidence when the rules decide alone. These are not probabilities: they order how much evidence there is, and the
# cut-offs below are what the rubric case table and the corpus show a strong rule hit to be worth.
CONF_STRONG_HIGH = 0.85  # one strong H rule; each further independent H rule adds CONF_STEP
CONF_STRONG_MEDIUM = 0.75
CONF_LOW_SIGNALS = 0.65  # no H/M, but positive evidence the output concerns things, not people
CONF_NOTHING = 0.40  # nothing matched: low is only the default, so stay under 0.5
CONF_STEP = 0.04
CONF_WEAK_PENALTY = 0.10  # weak evidence of a higher tier makes the chosen tier less certain

# With the learned combiner (riskclass.engine.combine): below this calibrated probability of the chosen tier, a person
# should look. Chosen on the 960 real development descriptions, each judged by a combiner fitted without it
# (training/combine.py prints the trade-off), to keep review under one row in five: with an earlier fit, 0.45 flagged
# 19.2% of them (0.5: 21.4%, 0.6: 31.0%) with conflicts, raises and lowerings also reviewed. With the shipped fit, on
# the 6,157 real development rows cross-validated, 21.4% are flagged in all: under 9.0 points of it for a confidence
# under 0.45 (9.0% of rows are under 0.5), the rest for conflicts and lifts to high (training/README.md).
REVIEW_BELOW = 0.45
# Plans of `Engine._obligations` remembered before they are all forgotten: the combinations of tier, criteria and
# evidence kinds a batch meets. 30,000 generated rows made 3,187 (89% of rows found theirs); the plans share their
# built items (`Engine._items`), so a plan costs a tuple of pointers, not ~3 KB of items of its own.
DERIVED_PLANS = 4096
ASK_WEAK_MIN = 0.15  # weak evidence of a higher tier is asked about only if the model gives that tier at least this


THIN_RESIDUAL_CHARS = 4  # content characters left after generic words are removed, below which a text is too thin


def _blanked(norm: NormalizedText, spans: list[tuple[int, int]]) -> NormalizedText:
    """`norm` with the characters of `spans` replaced by spaces (same length, so offsets still map back)."""
    chars = list(norm.text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return NormalizedText(norm.original, "".join(chars), norm.starts, norm.ends)


def _evidence(norm: NormalizedText, span: tuple[int, int]) -> Evidence:
    start, end = norm.span_to_original(*span)
    return Evidence(norm.original[start:end], start, end)


def _weak_evidence(ids: list[str]) -> Text:
    return Text(
        "存在指向更高风险等级的弱证据：" + "、".join(ids), "weak evidence points to a higher tier: " + ", ".join(ids)
    )


def _outermost(spans: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans without those nested inside another (给谁放款 inside 决定给谁放款 is one piece of evidence).

    One sort and one sweep, O(n log n): comparing every span with every other took 15-45 s on a 90,000-character
    description dense with trigger words (issue 12). Ordered by start, the longest first among equal starts, a span
    lies inside another exactly when some span before it reaches at least as far as it does.
    """
    kept: list[tuple[int, int]] = []
    reach = -1  # the furthest end of the spans swept so far
    for span in sorted(spans, key=lambda s: (s[0], -s[1])):
        if span[1] > reach:
            kept.append(span)
            reach = span[1]
    return kept  # already in sorted order: outermost spans have distinct starts, and ends grow with them


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

    def __init__(
        self, rulebook: Rulebook | None = None, model: TierModel | None = None, combiner: Combiner | None = None
    ) -> None:
        """`combiner`: how rules and model are weighed (the shipped one when a model is given and none is); a model
        is never used without one."""
        self.rulebook = rulebook or load_rulebook()
        self.model = model
        self.combiner = combiner if combiner is not None or model is None else shipped_combiner()
        self._screen: Screen | None = None  # built for batches (assess_many)
        self._text_screen: TextScreen | None = None  # built for single descriptions (assess)
        self._derived: dict[tuple, tuple[tuple, tuple, bool]] = {}  # see _obligations
        self._items: dict[tuple, tuple] = {}  # the built items the plans of _derived share (see _obligations)
        self._kinds_asked = _kinds_asked(self.rulebook)  # see _evidence_shown

    def obligations_for(self, tier: str, a: Assessment) -> tuple[ObligationItem, ...]:
        """The obligations `tier` owes with the criteria and red flags of `a` holding and the evidence they show,
        selected as `assess` selects them: a report that follows a reviewer's decided tier asks for that tier's
        duties, not the suggested tier's. Works on a saved assessment too: the evidence is read from its hits."""
        hits = [*a.criteria, *a.red_flags]
        norm: NormalizedText | None = None  # the whole description, normalised only if a hit has no evidence
        shown: dict[tuple[str, str], str | None] = {}
        for h in hits:
            if h.evidence:  # the kinds are read off the hit's own words, shown as the description wrote them
                words = [(e.text, normalise(e.text).text) for e in h.evidence]
                for kind in self._kinds_asked.get(h.id, ()):
                    showing = [said for said, w in words if kind.shown_by(w)]
                    if showing or set(h.rules) & kind.rules:
                        shown[(h.id, kind.name)] = (showing or [words[0][0]])[0]
                    if not set(h.rules) <= kind.rules and len(showing) < len(words):
                        shown[(h.id, "not " + kind.name)] = None
            else:
                if norm is None:
                    norm = normalise(a.description)
                shown.update(self._evidence_shown(norm, [h.id], {}))
        return self._obligations(tier, frozenset(h.id for h in hits), shown)[0]

    def __getstate__(self) -> dict:
        # The screen holds the id()s of this process's compiled patterns: a copy elsewhere builds its own.
        return {**self.__dict__, "_screen": None, "_text_screen": None}

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
        norm = normalise(description)
        if self._text_screen is None:
            self._text_screen = TextScreen(self.rulebook)
        return self._assess(norm, answers, candidates=self._text_screen.candidates(norm.text))

    def assess_many(self, descriptions: list[str], brief: bool = False) -> list[Any]:
        """Assess many descriptions with one vectorised model call; a row that fails gets its error, never dropped.

        Each row gives an Assessment, or with `brief` only its `Verdict` (what a batch's CSV shows), or a
        RiskclassError."""
        norms: list[NormalizedText | RiskclassError] = []
        for d in descriptions:
            try:
                norms.append(normalise(check_description(d)))
            except RiskclassError as exc:
                norms.append(exc)
        ok = [n for n in norms if isinstance(n, NormalizedText)]
        if self._screen is None and ok:
            self._screen = self._build_screen([n.text for n in ok])
        screened = iter(self._screen.candidates_many([n.text for n in ok])) if ok else None
        # The rules run first for every row, then the model reads each row's text (negated words blanked) in one
        # vectorised call, then each row is decided: the model never reads a text twice.
        out: list[Any] = []
        waiting: list[tuple[int, Any, NormalizedText]] = []  # (position in out, the row's steps, the text to read)
        for n in norms:
            if isinstance(n, RiskclassError):
                out.append(n)
                continue
            steps = self._steps(n, None, next(screened), brief=brief)
            try:
                waiting.append((len(out), steps, next(steps)))
                out.append(None)
            except StopIteration as done:  # no model: the rules decided
                out.append(done.value)
            except RiskclassError as exc:
                out.append(exc)
        if waiting:
            opinions = self.model.opinions([text for _, _, text in waiting])
            for (at, steps, _), opinion in zip(waiting, opinions, strict=True):
                try:
                    out[at] = _finish(steps, opinion)
                except RiskclassError as exc:
                    out[at] = exc
        return out

    def findings(self, description: str) -> tuple[Findings, NormalizedText]:
        """What the rules alone find in a description, as the combiner sees it, and the text the model reads (negated
        words blanked): what `riskclass.training.combine` fits the combiner on."""
        return self._assess(normalise(check_description(description)), None, findings_only=True)

    def _assess(
        self, norm: NormalizedText, answers, candidates: Candidates | None = None, findings_only: bool = False
    ) -> Any:
        """`candidates` (from the batch screen) are the patterns that can match; None runs every pattern.
        `findings_only` stops once the rules have spoken and returns their `Findings` and the text the model reads."""
        steps = self._steps(norm, answers, candidates, findings_only)
        try:
            model_text = next(steps)  # only with a model: the rules alone finish here
        except StopIteration as done:
            return done.value
        return _finish(steps, self.model.opinion(model_text))

    def _steps(
        self,
        norm: NormalizedText,
        answers,
        candidates: Candidates | None = None,
        findings_only: bool = False,
        brief: bool = False,
    ) -> Generator[NormalizedText, ModelOpinion, Any]:
        """`_assess` in two steps: the rules, then (with a model) the decision. It yields the text the model is to
        read and is sent the model's opinion of it, so that a batch can have the model read every row's text in one
        vectorised call (`assess_many`); without a model it yields nothing. `brief` gives a `Verdict` instead of the
        Assessment: the same decision, without the evidence and texts only an Assessment shows."""
        description = norm.original
        rb = self.rulebook
        text = norm.text
        answers = {k: v for k, v in (answers or {}).items() if v is not None}
        for cid in answers:
            try:
                rb.criterion(cid)
            except RiskclassError as exc:  # an answer is the user's input: a usage error, with the valid ids listed
                raise InputError(f"answer to {exc}", zh=f"--answer 中有{exc.text('zh')}") from None

        strong: dict[str, list] = {}
        weak: dict[str, list] = {}
        exclusions: list[Exclusion] = []
        phrase_of = phrases(text)
        negated_spans: list[tuple[int, int]] = []
        negated_ids: set[str] = set()  # criteria a rule of which matched only inside a negation
        excluded_ids: set[str] = set()  # criteria a rule of which matched but an exclusion in its phrase ruled out

        # Only rules one of whose patterns can match this text, in rulebook order.
        rules = rb.rules if candidates is None else [rb.rules[i] for i in candidates.rules]
        run = candidates.run if candidates is not None else None
        for rule in rules:
            found = rule.match(text, run)
            spans = found.spans
            negated_spans += [matched for matched, _ in found.negated]
            if not spans:
                if found.negated:
                    matched, cue = found.negated[0]
                    negation = Exclusion(rule.id, rule.criterion, _evidence(norm, matched), _evidence(norm, cue))
                    exclusions.append(negation)
                    negated_ids.add(rule.criterion)
                continue
            spans, by = rule.unexcluded(text, spans, run, phrase_of, found.own)
            if by is not None:
                matched = _evidence(norm, found.spans[0])
                exclusions.append(Exclusion(rule.id, rule.criterion, matched, _evidence(norm, by)))
                excluded_ids.add(rule.criterion)
                continue
            (strong if rule.strength == "strong" else weak).setdefault(rule.criterion, []).append((rule, spans))

        # Answers are facts: "no" removes a criterion whatever the text suggests; "yes" adds it.
        for cid, yes in answers.items():
            if not yes:
                strong.pop(cid, None)
                weak.pop(cid, None)

        # criterion → (rule id, its evidence in the normalised text) for each rule that fired for it
        evidence_by_rule: dict[str, list[tuple[str, list[tuple[int, int]]]]] = {}

        def hit(cid: str, found: list, source: str = "rules") -> CriterionHit:
            crit = rb.criterion(cid)
            if brief:  # only the ids count, and a held criterion's evidence words where a duty asks what they show
                if cid in strong and cid in self._kinds_asked:
                    evidence_by_rule[cid] = [(rule.id, rule.evidence(text, ss, phrase_of)) for rule, ss in found]
                return CriterionHit(cid, crit.title, (), (), tuple(r.id for r, _ in found), source)
            citations: list[Citation] = []
            for rule, _ in found:
                citations += [c for c in rule.articles if c not in citations]
            by_rule = evidence_by_rule[cid] = [(rule.id, rule.evidence(text, ss, phrase_of)) for rule, ss in found]
            spans = _outermost({s for _, ss in by_rule for s in ss})
            return CriterionHit(
                cid,
                crit.title,
                tuple(_evidence(norm, s) for s in spans),
                tuple(dict.fromkeys(c.article for c in citations)),
                tuple(r.id for r, _ in found),
                source,
                tuple(citations),
            )

        hits = {cid: hit(cid, found) for cid, found in strong.items()}
        for cid, yes in answers.items():
            if yes and cid not in hits:
                crit = rb.criterion(cid)
                hits[cid] = CriterionHit(
                    cid, crit.title, (), tuple(c.article for c in crit.articles), (), "answer", crit.articles
                )
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
        denied = frozenset(cid for cid, yes in answers.items() if not yes)
        if findings_only or self.model is not None:
            kept = {c for c in rb.criteria if not rb.criteria[c].is_red_flag} - denied
            findings = Findings(
                frozenset(h.id for h in criteria if h.source != "answer") & kept,
                frozenset(h.id for h in possible_t) & kept,
                frozenset(negated_ids & kept),
                frozenset(excluded_ids & kept),
                low_signal,
                thin,
                *register_of(text),
            )
            # Words a negation rules out (不使用人脸识别) are not evidence for the model either: it reads the text
            # with them blanked out (RUBRIC.md, Border decisions: negation).
            model_text = _blanked(norm, negated_spans) if negated_spans else norm
            if findings_only:
                return findings, model_text
            opinion = yield model_text
            d = self._combined(norm, rules_tier, criteria, possible_t, findings, silent, opinion, confirmed, denied)
        else:
            d = self._decide(rules_tier, criteria, possible_t, low_signal, thin, silent)
        tier, reasons, ask = d.tier, d.reasons, d.ask

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
        needs_review = bool(questions or d.doubt)
        confidence, model_view = d.confidence, d.model

        ids = [h.id for h in (*criteria, *red_flags)]
        shown = self._evidence_shown(norm, ids, evidence_by_rule)
        obligations, national = self._obligations(tier, frozenset(ids), shown)
        if brief:
            return Verdict(
                tier,
                round(confidence, 4),
                tuple(h.id for h in criteria),
                tuple(h.id for h in red_flags),
                tuple(h.id for h in possible_t),
                needs_review,
                tuple(o.id for o in obligations),
                tuple(
                    item.item
                    for item in rb.article50
                    if _brought(item.criteria, item.evidence, ids, shown) or any(_item_words(item, text, run))
                ),
                decided_by,
                tuple(questions),
            )
        marks = []
        for item in rb.article50:
            brought = _brought(item.criteria, item.evidence, ids, shown)
            by_words = list(_item_words(item, text, run))
            triggered = bool(brought or by_words)
            why = None
            because = Because()
            if triggered:
                words = [(c, shown[(c, k)]) for c, k in brought if k is not None and shown[(c, k)]]
                said = {w for _, w in words}  # the item's own words, unless a criterion's evidence already says them
                own = dict.fromkeys(_original(norm, text, w) for w in by_words)
                words += [(None, w) for w in own if w not in said][:2]
                because = Because(None, tuple(c for c, _ in brought), tuple(dict.fromkeys(words)))
                why = Text(f"{item.why.zh}（{because.text('zh')}）", f"{item.why.en} ({because.text('en')})")
            marks.append(Article50Mark(item.item, item.title, item.quote, triggered, why, because))

        return Assessment(
            description=description,
            tier=tier,
            confidence=round(confidence, 4),
            criteria=criteria,
            possible=possible_t,
            red_flags=red_flags,
            # An exclusion is shown where it ruled a criterion out; where another rule's evidence holds the
            # criterion anyway, "H7 fired" beside "H7 excluded" would only confuse (the combiner still sees it).
            exclusions=tuple(x for x in exclusions if x.criterion not in hits),
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

    def _evidence_shown(
        self, norm: NormalizedText, ids: list[str], by_rule: dict[str, list[tuple[str, list[tuple[int, int]]]]]
    ) -> dict[tuple[str, str], str | None]:
        """(criterion, evidence kind) → the words that show it, for each kind of evidence (obligations.yaml
        `evidence`) a duty asks of a criterion that holds and that the criterion shows, and (criterion, "not " + kind)
        → None when it shows something else too. A criterion's evidence is what its rules matched: a rule of the kind
        shows it, and so does a word of the kind; a rule of another kind with a word of another kind shows something
        else. A criterion the user answered "yes" to has no evidence, so the description's affirmed words speak
        for it."""
        text = norm.text
        out: dict[tuple[str, str], str | None] = {}
        for cid in ids:
            kinds = self._kinds_asked.get(cid)
            if not kinds:
                continue
            fired = [(rid, spans) for rid, spans in by_rule.get(cid, ()) if spans]
            for kind in kinds:
                if not fired:
                    word = next((w for p in kind.patterns if (w := _first_affirmed(p, text))), None)
                    if word:
                        out[(cid, kind.name)] = _original(norm, text, word)
                    else:
                        out[(cid, "not " + kind.name)] = None
                    continue
                for rid, spans in fired:
                    words = [text[a:b] for a, b in spans]
                    showing = [i for i, w in enumerate(words) if kind.shown_by(w)]
                    if (rid in kind.rules or showing) and (cid, kind.name) not in out:
                        out[(cid, kind.name)] = _evidence(norm, spans[showing[0] if showing else 0]).text
                    if rid not in kind.rules and len(showing) < len(words):
                        out[(cid, "not " + kind.name)] = None
        return out

    def _obligations(self, tier: str, ids: frozenset[str], shown: dict[tuple[str, str], str | None]) -> tuple:
        """Obligations and national pointers for a tier, the criteria that hold and the kinds of evidence they show,
        each with what brought it. Which ones apply depends only on the tier, the criteria and the kinds shown, and
        the same few combinations recur in every batch, so that choice is made once per combination; the words that
        showed a kind are then filled in (the items are immutable: without words, the built ones are reused). The
        plans share their items: a batch meets thousands of combinations but only a couple of hundred items, and a
        plan holding its own copies made this cache ~16 MiB a process over 30,000 rows instead of ~4.5."""
        key = (tier, ids, frozenset(shown))
        plan = self._derived.get(key)
        if plan is None:
            rb = self.rulebook
            order = list(rb.criteria)
            held = sorted(ids, key=order.index)
            chosen = []
            for o in rb.obligations:
                if tier not in o.tiers:
                    continue
                brought = tuple(_brought(o.when_criteria, o.evidence, held, shown)) if o.when_criteria else ()
                if o.when_criteria and not brought:
                    continue
                item = self._items.get(built := ("o", o.id, tier, brought))
                if item is None:
                    articles = tuple(dict.fromkeys(c.article for c in o.articles))
                    owed = Because(tier, tuple(c for c, _ in brought))
                    obligation = ObligationItem(o.id, o.title, o.detail, articles, owed)
                    item = self._items[built] = (obligation, _kinds(brought))
                chosen.append(item)
            pointers = []
            for i, n in enumerate(rb.national):
                if not (brought := tuple(_brought(n.criteria, n.evidence, held, shown))):
                    continue
                ref = self._items.get(built := ("n", i, brought))
                if ref is None:
                    because = Because(None, tuple(c for c, _ in brought))
                    ref = self._items[built] = (NationalRef(n.law, n.article, n.topic, because), _kinds(brought))
                pointers.append(ref)
            if len(self._derived) >= DERIVED_PLANS:
                self._derived.clear()
                self._items.clear()
            plan = self._derived[key] = (
                tuple(chosen),
                tuple(pointers),
                not any(k for _, k in chosen) and not any(k for _, k in pointers),
            )
        chosen, pointers, wordless = plan
        if wordless:  # the usual case: nothing to fill in, the built items serve as they are
            return tuple(item for item, _ in chosen), tuple(ref for ref, _ in pointers)

        def worded(item, kinds: tuple[tuple[str, str], ...]):
            words = tuple((c, w) for c, k in kinds if (w := shown[(c, k)]))
            return replace(item, because=replace(item.because, words=words)) if words else item

        return tuple(worded(*x) for x in chosen), tuple(worded(*x) for x in pointers)

    def _decide(self, rules_tier, criteria, possible, low_signal, thin, silent) -> Decision:
        """Tier, confidence and what to ask from the rules alone (no model loaded)."""
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
            rules_tier, rule_conf, "rules", ModelView(False, note="no model loaded: rules only"), reasons, ask, False
        )

    def _combined(
        self, norm, rules_tier, criteria, possible, findings: Findings, silent, opinion, confirmed, denied
    ) -> Decision:
        """Tier, calibrated confidence and questions from the combiner, inside what the law and the answers allow.

        The combiner weighs; the law bounds: a strong H hit (or an H answered yes) keeps the product high whatever the
        weights say, and a disagreement is a reason for review and a question, never a lower tier. A tier whose
        criteria the user has all answered "no" to cannot be reached, and a medium criterion answered yes cannot be
        outweighed.
        """
        rb = self.rulebook
        reasons: list[Text] = []
        ask: list[str] = []
        p = opinion.probabilities
        generic = set(rb.generic_terms)  # 一款, 系统, 模型… weigh in the model but explain nothing
        view = ModelView(
            True, {t: round(v, 4) for t, v in p.items()}, tuple(x for x in opinion.top_terms if x[0] not in generic)
        )
        q = self.combiner.probabilities(findings, p)
        high_ids = [c for c in rb.criteria if c[0] == "H"]
        medium_ids = [c for c in rb.criteria if c[0] == "M"]
        allowed = ["low"]
        if not all(c in denied for c in medium_ids + high_ids):
            allowed.append("medium")
        if not all(c in denied for c in high_ids):
            allowed.append("high")
        floor = rules_tier if any(h.source == "answer" or h.id in confirmed for h in criteria) else "low"
        if rules_tier == "high":
            floor = "high"  # the law: strong H evidence, not excluded in its phrase nor answered "no"
        allowed = [t for t in allowed if TIER_RANK[t] >= TIER_RANK[floor]] or [floor]
        tier = max(allowed, key=lambda t: q[t])
        doubt = lifted = False
        if tier != "high" and "high" in allowed and q["high"] >= self.combiner.high_from:
            # Cost-sensitive: high, though not the most probable tier, is probable enough that missing it costs more.
            reasons.append(
                Text(
                    f"高风险的可能为 {q['high']:.0%}，不是最可能的等级，但漏判高风险代价更大：按高风险处理，请复核",
                    f"high is {q['high']:.0%} likely, not the most likely tier, but missing a high-risk product costs"
                    " more: treated as high, please review",
                )
            )
            tier = "high"
            doubt = lifted = True
        confidence = q[tier]
        fired = [h.id for h in criteria if h.source != "answer"]

        def weighed(ids):  # most plausible first: the criterion's tier as the combiner sees it, then rulebook order
            order = list(rb.criteria)
            return sorted(dict.fromkeys(ids), key=lambda c: (-q[rb.criteria[c].tier], order.index(c)))

        if tier == "high" and rules_tier == "high" and q["high"] < 0.5:
            # The rules found a high criterion the weighed evidence finds unlikely: ask, keep high.
            reasons.append(
                Text(
                    f"规则发现高风险标准，但综合判断认为高风险的可能仅 {q['high']:.0%}：请确认",
                    f"the rules found a high-risk criterion, but the weighed evidence gives high only {q['high']:.0%}:"
                    " please confirm",
                )
            )
            ask += weighed(c for c in fired if c[0] == "H")
            doubt = True
        elif TIER_RANK[tier] > TIER_RANK[rules_tier]:
            # A tier no criterion found cannot cite its article: a person decides which criterion holds, if any.
            if not lifted:  # a lifted result has said why already
                reasons.append(
                    Text(
                        f"规则未发现{'高' if tier == 'high' else '中'}风险标准，"
                        f"但综合判断认为该等级的可能为 {q[tier]:.0%}",
                        f"no rule found a {tier}-risk criterion, but the weighed evidence gives {tier} {q[tier]:.0%}",
                    )
                )
            doubt = True
            # Which criterion of that tier, if any, holds is the question; weak evidence of one is asked below.
            if not any(rb.criteria[h.id].tier == tier for h in possible):
                ask += [c for c in rb.thin_questions if rb.criteria[c].tier == tier and c not in denied]
        elif TIER_RANK[tier] < TIER_RANK[rules_tier]:
            reasons.append(
                Text(
                    f"规则发现中风险证据，但综合判断认为低风险的可能为 {q['low']:.0%}：请确认",
                    f"the rules found medium-risk evidence, but the weighed evidence gives low {q['low']:.0%}:"
                    " please confirm",
                )
            )
            ask += weighed(fired)
            doubt = True
        if confidence < REVIEW_BELOW:
            reasons.append(
                Text(f"综合判断不确定（{confidence:.0%}）", f"the weighed evidence is unsure ({confidence:.0%})")
            )
            doubt = True
        # Weak evidence of a tier above the one chosen is worth a question when the result is in doubt anyway and
        # that tier is plausible at all; a confident result is not padded with questions.
        higher = [h.id for h in possible if TIER_RANK[rb.criteria[h.id].tier] > TIER_RANK[tier] and h.id not in denied]
        plausible = [c for c in higher if q[rb.criteria[c].tier] >= ASK_WEAK_MIN]
        if plausible and (doubt or findings.thin):
            reasons.append(_weak_evidence(weighed(plausible)))
            ask += weighed(plausible)
        if findings.thin:
            reasons.append(Text("描述过于简略，无法判断", "the description is too thin to judge"))
            ask += weighed(c for c in rb.thin_questions if c not in denied)
            doubt = True
        # "answers": every criterion above low was answered "no".
        decided = "answers" if allowed == ["low"] and denied else "model" if silent else "rules+model"
        return Decision(tier, confidence, decided, view, reasons, ask, doubt)


def _kinds_asked(rb: Rulebook) -> dict[str, tuple[EvidenceKind, ...]]:
    """criterion → the kinds of evidence some duty asks of it: only these are looked for in its evidence."""
    asked: dict[str, dict[str, EvidenceKind]] = {}
    for record in (*rb.obligations, *rb.article50, *rb.national):
        for cid, need in record.evidence.items():
            asked.setdefault(cid, {}).update((k.name, k) for k in need.kinds)
    return {cid: tuple(kinds.values()) for cid, kinds in asked.items()}


def _brought(
    listed: tuple[str, ...],
    needs: dict[str, EvidenceNeed],
    held: list[str] | frozenset[str],
    shown: dict[tuple[str, str], str | None],
) -> list[tuple[str, str | None]]:
    """The criteria among `listed` that hold and show the evidence `needs` asks of them, in the order they hold,
    each with the kind it showed (a key of `shown`, whose value is the words), or None when the criterion alone is
    enough or the need is for evidence other than a kind."""
    out = []
    for cid in held:
        if cid not in listed:
            continue
        need = needs.get(cid)
        if need is None:
            out.append((cid, None))
            continue
        names = [("not " if need.negate else "") + k.name for k in need.kinds]
        found = [n for n in names if (cid, n) in shown]
        if found:
            out.append((cid, None if need.negate else found[0]))
    return out


def _kinds(brought: list[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
    """The (criterion, kind) pairs of `brought` whose words are to be shown."""
    return tuple((c, k) for c, k in brought if k is not None)


def _original(norm: NormalizedText, text: str, word: str | None) -> str | None:
    """`word`, found in the normalised text, as the description wrote it."""
    if not word:
        return word
    at = text.find(word)
    return _evidence(norm, (at, at + len(word))).text if at >= 0 else word


def _item_words(item, text: str, run: dict | None) -> Iterator[str]:
    """An article-50 item's own words in `text`, each pattern's first not right after a negation (不处理任何个人信息
    triggers nothing); `run`, from the batch screen, holds the patterns that can match (None: all)."""
    for p in item.patterns:
        if (run is None or id(p) in run) and (word := _first_affirmed(p if run is None else run[id(p)], text)):
            yield word


def _finish(steps: Generator[NormalizedText, ModelOpinion, Any], opinion: ModelOpinion) -> Any:
    """The rest of `Engine._steps` once the model has spoken: the Assessment (a RiskclassError it raises propagates)."""
    try:
        steps.send(opinion)
    except StopIteration as done:
        return done.value
    raise AssertionError("an assessment waits for the model once")  # pragma: no cover - _steps yields once


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
