"""The review dialog: a named reviewer accepts the suggested tier or changes it, with a reason (issue 6).

The dialog only collects the decision; the app appends it to the audit log (riskclass.audit, the same log and the same
checks as `riskclass review`), so the terminal app and the command line can never record decisions differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from riskclass.audit.log import TIER_NAMES, TIERS, check_reason, check_reviewer
from riskclass.engine.assessment import Assessment
from riskclass.errors import InputError
from riskclass.tui.i18n import t


@dataclass(frozen=True)
class ReviewChoice:
    """What the reviewer decided: `decided_tier` None accepts the suggestion."""

    reviewer: str
    decided_tier: str | None
    reason: str


def tier_word(tier: str, lang: str) -> str:
    """高风险 / High risk: the words `riskclass review` and the assessment view use."""
    return TIER_NAMES["en" if lang == "en" else "zh"][tier]


class ReviewScreen(ModalScreen[ReviewChoice | None]):
    """Returns the decision, or None when cancelled. The reviewer name is kept by the app for the next review."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, assessment: Assessment, lang: str, reviewer: str = "", log_path: Path | None = None) -> None:
        super().__init__()
        self.assessment = assessment
        self.lang = lang
        self.reviewer = reviewer
        self.log_path = log_path
        # The radio buttons: accept, then every other tier (choosing the suggested tier again would just be accepting)
        self.choices: list[str | None] = [None, *(x for x in TIERS if x != assessment.tier)]

    def compose(self) -> ComposeResult:
        a, lang = self.assessment, self.lang
        criteria = "、".join(h.id for h in a.criteria) or "-"
        with Vertical(id="review-dialog"):
            yield Static(
                t("review.suggested", lang, tier=tier_word(a.tier, lang), criteria=criteria, confidence=a.confidence),
                id="review-suggested",
                markup=False,
            )
            yield Label(t("review.reviewer", lang), markup=False)
            yield Input(self.reviewer, id="review-reviewer", placeholder=t("review.reviewer_placeholder", lang))
            yield Label(t("review.decision", lang), markup=False)
            with RadioSet(id="review-decision"):
                for i, tier in enumerate(self.choices):
                    text = (
                        t("review.accept", lang, tier=tier_word(a.tier, lang))
                        if tier is None
                        else t("review.change", lang, tier=tier_word(tier, lang))
                    )
                    yield RadioButton(text, value=i == 0)
            yield Label(t("review.reason", lang), markup=False)
            yield Input(id="review-reason", placeholder=t("review.reason_placeholder", lang))
            yield Label("", id="review-error", markup=False)
            if self.log_path is not None:
                yield Label(t("review.log", lang, path=self.log_path), classes="dim-note", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(t("review.save", lang), id="review-save", variant="primary")
                yield Button(t("review.cancel", lang), id="review-cancel")

    def on_mount(self) -> None:
        self.query_one("#review-dialog").border_title = t("review.title", self.lang)
        self.query_one("#review-reviewer" if not self.reviewer else "#review-decision").focus()

    @property
    def decided_tier(self) -> str | None:
        index = self.query_one("#review-decision", RadioSet).pressed_index
        return self.choices[index] if 0 <= index < len(self.choices) else None

    def _error(self, text: str) -> None:
        self.query_one("#review-error", Label).update(text)

    @on(Input.Submitted)
    @on(Button.Pressed, "#review-save")
    def _save(self) -> None:
        name = self.query_one("#review-reviewer", Input).value
        reason = self.query_one("#review-reason", Input).value
        decided = self.decided_tier
        suggested = self.assessment.tier
        # The common mistakes in the dialog's language; anything else in riskclass.audit's own words (as the CLI).
        if not name.strip():
            self._error(t("review.need_reviewer", self.lang))
            self.query_one("#review-reviewer", Input).focus()
            return
        if decided is not None and decided != suggested and not reason.strip():
            self._error(t("review.need_reason", self.lang))
            self.query_one("#review-reason", Input).focus()
            return
        try:
            name = check_reviewer(name)
            reason = check_reason(reason, suggested, decided or suggested)
        except InputError as exc:
            self._error(exc.text(self.lang))
            return
        self.dismiss(ReviewChoice(name, decided, reason))

    @on(Button.Pressed, "#review-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
