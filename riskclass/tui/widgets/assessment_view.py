"""The whole assessment: badge, confidence, evidence, criteria, red flags, steps, 第五十条, model, national rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from riskclass.reports.terminal import CN_ITEM
from riskclass.tui.i18n import TIER_WORDS, label, localize_bindings, t
from riskclass.tui.messages import Citation
from riskclass.tui.widgets.checklist import Checklist
from riskclass.tui.widgets.citations import CitationList, CitedLine
from riskclass.tui.widgets.evidence import EvidenceView, criterion_style
from riskclass.tui.widgets.questions import QuestionsPanel
from riskclass.tui.widgets.tier_badge import TierBadge

if TYPE_CHECKING:  # the engine and the audit log are imported once there is something to show, after the first frame
    from riskclass.audit.log import Lookup
    from riskclass.engine.assessment import Assessment, CriterionHit
    from riskclass.rulebook.rules import Rulebook


def _quoted(labels: tuple[str, ...], known: tuple) -> tuple[Citation, ...]:
    """Citations for article labels, with the rulebook's verbatim quote where it has one for that article."""
    quotes = {c.article: c.quote for c in known}
    return tuple(Citation(a, quotes.get(a, "")) for a in dict.fromkeys(labels))


def _articles(labels) -> tuple[str, str]:
    return ("  " + " ".join(dict.fromkeys(labels)), "dim underline")


class AssessmentView(VerticalScroll):
    """Read-only view of one Assessment. `show(None, …)` returns it to its empty state."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.assessment: Assessment | None = None
        self._sections_mounted = False
        self._shown: tuple | None = None  # the last `show` arguments, replayed once the sections are mounted

    def compose(self) -> ComposeResult:
        # The first frame shows an empty view: the verdict row, the introduction and the disclaimer. The sections
        # (hidden while empty) are mounted after it by `mount_sections`: styling and composing their 16 widgets took
        # ~25 ms of the first paint (benchmarks/bench_tui_startup.py, with the lazy paste import: 0.304 → 0.275 s).
        with Horizontal(id="verdict"):
            yield TierBadge(id="tier")
            yield TierBadge(id="decided-tier")
            yield Static("", id="meta", markup=False)
        yield Static("", id="intro", markup=False)
        yield Static("", id="review", markup=False)
        yield Static("", id="prior-review", markup=False)
        yield QuestionsPanel(id="questions")
        yield Static("", id="disclaimer", markup=False)

    @staticmethod
    def _sections() -> list[Widget]:
        """The sections between the questions and the disclaimer, in their order on screen."""

        def title(widget_id: str) -> Static:
            return Static("", markup=False, id=widget_id, classes="section-title section")

        return [
            title("evidence-title"),
            EvidenceView("", id="evidence", classes="section"),
            title("criteria-title"),
            CitationList(id="criteria", classes="cited section", compact=True),
            title("possible-title"),
            CitationList(id="possible", classes="cited section", compact=True),
            title("red-flags-title"),
            CitationList(id="red-flags", classes="cited section", compact=True),
            title("obligations-title"),
            Checklist(id="obligations", classes="cited section", compact=True),
            title("article50-title"),
            CitationList(id="article50", classes="cited section", compact=True),
            title("model-title"),
            Static("", id="model", markup=False, classes="section"),
            title("national-title"),
            Static("", id="national", markup=False, classes="section"),
        ]

    def mount_sections(self) -> None:
        """Mount the sections (once): the app calls this after the first frame, `show` and `obligations` when they
        need them sooner. Mounting registers the widgets at once, so they can be queried and filled right after."""
        if self._sections_mounted:
            return
        sections = self._sections()
        self.mount_all(sections, before="#disclaimer")
        lang = self._shown[1] if self._shown is not None else getattr(self.screen, "lang", "zh")
        for widget in sections:  # the screen relabelled its tree's keys before these existed (the checklist's Space)
            localize_bindings(widget, lang)
        # Nothing mounts once the app is closing (e.g. it quits before its first frame): the view stays as it was.
        self._sections_mounted = bool(self.query("#evidence-title"))
        if self._sections_mounted and self._shown is not None:
            self.show(*self._shown)  # fill them as the last `show` asked

    @property
    def obligations(self) -> Checklist:
        self.mount_sections()
        return self.query_one("#obligations", Checklist)

    # ---- lines --------------------------------------------------------------------------------------------------

    def _hit_lines(
        self, hits: tuple[CriterionHit, ...], rulebook: Rulebook, lang: str, questioned=lambda h: False
    ) -> list[CitedLine]:
        from riskclass.engine.assessment import QUESTIONED

        lines = []
        for h in hits:
            words = "、".join(dict.fromkeys(f"“{e.text}”" for e in h.evidence))
            if questioned(h):
                words += "  " + QUESTIONED.get(lang)
            if h.source == "answer":
                words = f"（{label('decided_by', lang)['answers']}）" if lang != "en" else "(from your answer)"
            crit = rulebook.criteria.get(h.id)
            prompt = Content.assemble(
                (h.id, criterion_style(h.id)), " ", (h.title.get(lang), "bold"), "  ", words, _articles(h.articles)
            )
            lines.append(CitedLine(prompt, _quoted(h.articles, crit.articles if crit else ()), h.id))
        return lines

    def _obligation_lines(self, a: Assessment, rulebook: Rulebook, lang: str) -> list[CitedLine]:
        known = {o.id: o for o in rulebook.obligations}
        lines = []
        for o in a.obligations:
            # Title and articles on one line, the detail below it: Textual wraps at spaces, so a long Chinese run
            # after a space would leave a short orphan line; starting the detail on its own line avoids that.
            # Then what brought the duty, in the reports' words and place (`Because.shown`: "（由 H4 “贷款”触发）").
            because = o.because.shown(lang)
            prompt = Content.assemble(
                (o.title.get(lang), "bold"),
                _articles(o.articles),
                "\n",
                (o.detail.get(lang), "dim"),
                *([" ", (because, "italic")] if because else []),
            )
            cites = known[o.id].articles if o.id in known else ()
            lines.append(CitedLine(prompt, _quoted(o.articles, cites), o.id))
        return lines

    def _article50_lines(self, a: Assessment, lang: str) -> list[CitedLine]:
        lines = []
        for m in a.article50:
            prompt = Content.assemble(
                ("■ " if m.triggered else "□ ", "bold" if m.triggered else "dim"),
                (f"({CN_ITEM[m.item]}) {m.title.get(lang)}", "bold" if m.triggered else "dim"),
                _articles(("第五十条",)),
                (f"\n  {m.why.get(lang)}" if m.why else ""),
            )
            lines.append(CitedLine(prompt, (Citation("第五十条", m.quote),), f"a50-{m.item}"))
        return lines

    # ---- showing ------------------------------------------------------------------------------------------------

    def show(
        self,
        a: Assessment | None,
        lang: str,
        rulebook: Rulebook | None,
        questions: tuple = (),
        answers: dict[str, bool] | None = None,
        prior: Lookup | None = None,
    ) -> None:
        """`prior`: the latest review decision about this description (riskclass.audit), shown under the verdict."""
        self.assessment = a
        self._shown = (a, lang, rulebook, questions, answers, prior)
        self.set_class(a is None, "-empty")
        self.query_one("#tier", TierBadge).show(a.tier if a else None, lang)
        self.query_one("#disclaimer", Static).update(label("disclaimer", lang) + "\n" + t("view.open_hint", lang))
        self.query_one("#intro", Static).update(t("view.intro", lang))
        if not self._sections_mounted:
            if a is not None and rulebook is not None:
                self.mount_sections()  # it calls show again, with the sections there
            else:
                self._show_empty(lang)  # the sections are hidden while empty: they are filled once mounted
            return
        for title_id, key in (
            ("#evidence-title", "description"),
            ("#criteria-title", "criteria"),
            ("#possible-title", "possible"),
            ("#red-flags-title", "red_flags"),
            ("#article50-title", "a50"),
            ("#model-title", "model"),
            ("#national-title", "national"),
        ):
            self.query_one(title_id, Static).update(label(key, lang))
        steps = label("steps", lang)
        self.query_one("#obligations-title", Static).update(
            f"{steps}（第四十六条）· {t('view.steps_hint', lang)}"
            if lang != "en"
            else f"{steps} (第四十六条) · {t('view.steps_hint', lang)}"
        )
        if a is None or rulebook is None:
            self._show_empty(lang)
            self.query_one(EvidenceView).show(None, [], lang)
            for widget_id in ("#criteria", "#possible", "#red-flags", "#obligations", "#article50"):
                self.query_one(widget_id, CitationList).show([], label("none", lang))
            self.query_one("#model", Static).update("")
            self.query_one("#national", Static).update("")
            self._show_sections(possible=False, national=False)
            return

        answers = answers or {}
        decided = label("decided_by", lang).get(a.decided_by, a.decided_by)
        meta = f"{t('view.confidence', lang, value=a.confidence)} · {decided}"
        if a.answers:
            yes_no = {True: t("questions.yes", lang), False: t("questions.no", lang)}
            meta += "\n" + t(
                "view.answers_applied", lang, answers="、".join(f"{k}={yes_no[v]}" for k, v in a.answers.items())
            )
        self.query_one("#meta", Static).update(meta)

        review = self.query_one("#review", Static)
        review.display = a.needs_review or bool(a.review_reasons)
        colon = ": " if lang == "en" else "："
        head = f"{label('review', lang)}{colon}{label('yes', lang) if a.needs_review else label('no', lang)}"
        review.update(Content("\n".join([head, *(f"  - {r.get(lang)}" for r in a.review_reasons)])))
        review.set_class(a.needs_review, "-needs-review")

        self._show_prior(a, prior, lang)
        self.query_one(QuestionsPanel).show(questions, answers, lang)
        self.query_one(EvidenceView).show(a.description, a.evidence_spans(), lang)
        none = label("none", lang)
        self.query_one("#criteria", CitationList).show(self._hit_lines(a.criteria, rulebook, lang, a.questioned), none)
        self.query_one("#possible", CitationList).show(self._hit_lines(a.possible, rulebook, lang), none)
        self.query_one("#red-flags", CitationList).show(self._hit_lines(a.red_flags, rulebook, lang), none)
        self.query_one("#obligations", Checklist).show(self._obligation_lines(a, rulebook, lang), none)
        self.query_one("#article50", CitationList).show(self._article50_lines(a, lang), none)

        if a.model.used:
            words_of = {k: v[1] if lang == "en" else v[0] for k, v in TIER_WORDS.items()}
            probs = " ".join(f"{words_of.get(k, k)} {p:.0%}" for k, p in (a.model.probabilities or {}).items())
            words = "、".join(term for term, _ in a.model.top_terms)
            colon = ": " if lang == "en" else "："
            model = f"{t('view.probabilities', lang)}{colon}{probs}"
            if words:
                model += f"\n{label('model_words', lang)}{colon}{words}"
        else:
            model = label("model_absent", lang)
        self.query_one("#model", Static).update(model)
        self.query_one("#national", Static).update(
            "\n".join(f"· {n.law}{' ' + n.article if n.article else ''} — {n.topic.get(lang)}" for n in a.national)
        )
        self._show_sections(possible=bool(a.possible), national=bool(a.national))

    def _show_empty(self, lang: str) -> None:
        """The verdict row, review notes and questions of the empty view (its sections aside)."""
        self.query_one("#meta", Static).update("")
        self.query_one("#decided-tier", TierBadge).display = False
        self.query_one("#review", Static).display = False
        self.query_one("#prior-review", Static).display = False
        self.query_one(QuestionsPanel).show((), {}, lang)

    def _show_prior(self, a: Assessment, prior: Lookup | None, lang: str) -> None:
        """The earlier review decision, in the words the CLI uses (riskclass.audit.describe_decision). Only a verified
        one is a decision; a newer unverified entry about the description is a note, never shown as one (issue 12)."""
        from riskclass.audit.log import WORDS, describe_break, describe_decision, describe_skipped

        decided = prior.decision if prior is not None else None
        badge = self.query_one("#decided-tier", TierBadge)
        badge.display = decided is not None
        if decided is not None:
            badge.show(decided.decided_tier, lang, prefix=t("view.decided", lang))
        widget = self.query_one("#prior-review", Static)
        widget.display = prior is not None and (prior.entry is not None or prior.skipped is not None)
        if prior is None or not widget.display:
            return
        words = WORDS["en" if lang == "en" else "zh"]
        lines: list[str] = []
        heading = words["heading"]
        if prior.entry is not None:
            entry = words["entry"].format(line=prior.entry.line)
            heading = f"{heading} ({entry})" if lang == "en" else f"{heading}（{entry}）"
            lines = describe_decision(prior.decision, a.versions, lang, current_tier=a.tier)
        if prior.skipped is not None:
            lines.append(describe_skipped(prior.skipped, lang))
        if not prior.verification.chain_ok:
            lines.append(t("review.chain_broken", lang, problem=describe_break(prior.verification.problem, lang)))
        # No indent: a wrapped line would start at the left edge anyway, and the border marks the block.
        widget.update(Content.assemble((heading, "bold"), "\n", "\n".join(lines)))
        widget.set_class(not prior.verification.chain_ok or prior.skipped is not None, "-broken")

    def _show_sections(self, possible: bool, national: bool) -> None:
        for widget_id in ("#possible-title", "#possible"):
            self.query_one(widget_id).display = possible
        for widget_id in ("#national-title", "#national"):
            self.query_one(widget_id).display = national
