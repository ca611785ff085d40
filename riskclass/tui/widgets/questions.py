"""Follow-up questions as yes / no / unknown choices; an answer is a fact the engine applies over the text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Label, RadioButton, RadioSet, Static

from riskclass.tui.i18n import t

if TYPE_CHECKING:
    from riskclass.engine.assessment import Question

CHOICES: tuple[bool | None, ...] = (True, False, None)  # the order of the radio buttons: 是 / 否 / 不确定


class QuestionsPanel(Vertical):
    """One RadioSet per question. Rebuilt only when the questions or the language change, so focus survives answers."""

    class Answered(Message):
        """The user answered (or un-answered, with None) the question about `criterion`."""

        def __init__(self, criterion: str, answer: bool | None) -> None:
            super().__init__()
            self.criterion = criterion
            self.answer = answer

    class Cleared(Message):
        """The user asked to forget every answer."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lang = "zh"
        self.questions: tuple[Question, ...] = ()
        self.answers: dict[str, bool] = {}
        self._shown: tuple = ()

    def compose(self) -> ComposeResult:
        if not self.questions:
            return
        yield Static(t("questions.title", self.lang), classes="section-title", markup=False)
        for i, q in enumerate(self.questions, 1):
            answer = self.answers.get(q.criterion)
            with Vertical(classes="question"):
                with Horizontal(classes="question-head"):
                    # Number and id in their own column: the question wraps inside its column (Textual wraps at
                    # spaces, so a Chinese sentence after "1. [H4] " would leave an orphaned first line).
                    yield Label(f"{i}. {q.criterion}", markup=False, classes="question-id")
                    yield Static(q.text.get(self.lang), markup=False, classes="question-text")
                with RadioSet(id=f"q-{q.criterion}", classes="answer"):
                    for choice, key in zip(CHOICES, ("yes", "no", "unknown"), strict=True):
                        yield RadioButton(t(f"questions.{key}", self.lang), value=answer is choice)
        if self.answers:
            with Horizontal(classes="question-actions"):
                yield Button(t("questions.clear", self.lang), id="clear-answers", compact=True)

    def show(self, questions: tuple[Question, ...], answers: dict[str, bool], lang: str) -> None:
        key = (tuple(q.criterion for q in questions), tuple(sorted(answers.items())), lang)
        self.display = bool(questions)
        if key == self._shown:
            return
        same_questions = self._shown and key[0] == self._shown[0] and key[2] == self._shown[2]
        self._shown = key
        self.lang, self.questions, self.answers = lang, questions, dict(answers)
        if same_questions and bool(answers) == bool(self.query("#clear-answers")):
            return  # the radio buttons already show these answers: keep the widgets (and the focus)
        focused = self.screen.focused
        keep = focused.id if isinstance(focused, RadioSet) and focused in self.query(RadioSet) else None
        self.call_later(self._rebuild, keep)

    async def _rebuild(self, focus_id: str | None) -> None:
        await self.recompose()
        if focus_id and (same := self.query(f"#{focus_id}")):
            same.first().focus()  # the question just answered keeps the focus

    @on(RadioSet.Changed, ".answer")
    def _answered(self, event: RadioSet.Changed) -> None:
        event.stop()
        criterion = (event.radio_set.id or "").removeprefix("q-")
        answer = CHOICES[event.index] if event.index >= 0 else None
        if self.answers.get(criterion) is answer:
            return
        self.post_message(self.Answered(criterion, answer))

    @on(Button.Pressed, "#clear-answers")
    def _clear(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.Cleared())
