"""The Assess screen: type or paste a description on the left, the assessment appears on the right as you pause."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Footer, Header, RadioSet, Static, TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from riskclass.errors import RiskclassError
from riskclass.tui.i18n import error_title, localize_tree, t
from riskclass.tui.messages import ProductRef
from riskclass.tui.widgets.assessment_view import AssessmentView
from riskclass.tui.widgets.checklist import Checklist
from riskclass.tui.widgets.description_area import DescriptionArea
from riskclass.tui.widgets.questions import QuestionsPanel

if TYPE_CHECKING:
    from riskclass.audit.log import Lookup  # the engine and the audit log come after the first frame (worker)
    from riskclass.engine.assessment import Assessment, Question
    from riskclass.tui.saved import SavedAssessment  # imported on Ctrl+O: it loads the report reader

# Pause after the last keystroke before assessing: long enough not to assess every character of a word being typed
# through an input method, short enough to feel live (a rules-only assessment takes ~5 ms, with the model ~10 ms).
DEBOUNCE_SECONDS = 0.35


class AssessScreen(Screen):
    """The first screen. Holds the description, the follow-up answers and the last assessment."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "assess_now", "Assess now"),
        Binding("f2", "focus_questions", "Answer questions"),
        Binding("f3", "review", "Review"),  # ctrl+r is "assess now" here
        Binding("ctrl+n", "new", "New"),
        Binding("ctrl+o", "open", "Open"),
        Binding("f4", "clear", "Clear"),  # the text area keeps ctrl+k and ctrl+u for editing lines
        Binding("f8", "save_description", "Save to register"),  # the text area binds F6 and F7 (select)
    ]

    class Assessed(Message):
        """A background assessment finished: `result` is an Assessment, or the RiskclassError that explains why not.
        `prior` is the latest review decision about the same description (riskclass.audit.Lookup) if there is one,
        and `audit_problem` a one-line reason when the audit log could not be read."""

        def __init__(
            self,
            generation: int,
            result: Assessment | RiskclassError,
            forced: bool,
            prior: Lookup | None = None,
            audit_problem: str = "",
        ) -> None:
            super().__init__()
            self.generation = generation
            self.result = result
            self.forced = forced
            self.prior = prior
            self.audit_problem = audit_problem

    class Opened(Message):
        """A saved assessment was read (`saved`), or could not be (`error`, the one-line reason)."""

        def __init__(self, path: Path, saved: SavedAssessment | None, error: RiskclassError | None = None) -> None:
            super().__init__()
            self.path = path
            self.saved = saved
            self.error = error

    def __init__(self, lang: str) -> None:
        super().__init__(id="assess")
        self.lang = lang
        self.assessment: Assessment | None = None
        self.answers: dict[str, bool] = {}
        self._asked: dict[str, Question] = {}  # every question asked about the current product, in first-asked order
        self._generation = 0  # bumped by every edit or answer: results of older requests are dropped
        self._debounce: Timer | None = None
        self._bindings_state = (False, False, False)  # what the footer last showed: see _sync_bindings
        self.prior: Lookup | None = None  # the latest review decision about the current description, if any
        self._audit_problem_shown = ""  # said once, not after every keystroke
        self.saved_as: Path | None = None  # the file this assessment was opened from: Ctrl+S proposes it again
        self.product: ProductRef | None = None  # the register's product shown here, if any

    def compose(self) -> ComposeResult:
        yield Header(icon="⚖")
        with Horizontal(id="assess-body"):
            with Vertical(id="editor-pane"):
                yield DescriptionArea(id="description", soft_wrap=True, tab_behavior="focus")
                with Horizontal(id="editor-actions"):
                    yield Button("", id="assess-now", variant="primary", compact=True)
                    yield Button("", id="export", compact=True)
                    yield Static("", id="char-count", markup=False)
                yield Static("", id="hint", markup=False)
            yield AssessmentView(id="result")
        yield Footer()

    def on_mount(self) -> None:
        self.apply_language(self.lang)
        self.query_one("#description", TextArea).focus()

    # ---- language -----------------------------------------------------------------------------------------------

    def apply_language(self, lang: str) -> None:
        self.lang = lang
        localize_tree(self, lang)
        area = self.query_one("#description", TextArea)
        area.placeholder = t("assess.placeholder", lang)
        self._show_product()
        self.query_one("#result").border_title = t("assess.result_title", lang)
        self.query_one("#assess-now", Button).label = f"{t('assess.button', lang)} ^r"
        self.query_one("#export", Button).label = f"{t('assess.export_button', lang)} ^s"
        self._update_count(area.text)
        if self.assessment is None and not area.text.strip():
            self._hint(t("assess.hint_empty", lang))
        elif self.assessment is not None and not self.query_one("#hint").has_class("-error"):
            self._hint_done(self.assessment)
        self._show(self.assessment)
        self.refresh_bindings()

    # ---- input --------------------------------------------------------------------------------------------------

    @on(TextArea.Changed, "#description")
    def _text_changed(self, event: TextArea.Changed) -> None:
        self._generation += 1
        text = event.text_area.text
        self._update_count(text)
        self._sync_bindings()  # F8 appears once a register product's description is edited
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE_SECONDS, self.start_assessment)

    @on(DescriptionArea.PasteRefused)
    def _paste_refused(self, message: DescriptionArea.PasteRefused) -> None:
        # The text already in the editor is kept as it was; the paste stays on the clipboard.
        self._hint(message.message, error=True)
        self.app.notify(message.message, severity="warning")

    def _update_count(self, text: str) -> None:
        self.query_one("#char-count", Static).update(t("assess.chars", self.lang, chars=f"{len(text):,}"))

    def set_description(
        self,
        text: str,
        answers: dict[str, bool] | None = None,
        ticked: Iterable[str] = (),
        saved_as: Path | None = None,
        product: ProductRef | None = None,
    ) -> None:
        """Replace the description (another product: the answers and ticks given, or none) and assess it at once."""
        self.answers = dict(answers or {})
        self._asked.clear()
        self.saved_as = saved_as
        self.product = product
        self._show_product()
        self.query_one(AssessmentView).obligations.done = set(ticked)
        area = self.query_one("#description", DescriptionArea)
        area.load_description(text)
        self._generation += 1
        self._update_count(text)
        self.start_assessment(forced=True)

    # ---- new, open, clear ---------------------------------------------------------------------------------------

    def action_new(self) -> None:
        """Start on another product: the description, its answers, ticks and the file it came from are forgotten."""
        self.set_description("")
        self.query_one("#description", TextArea).focus()
        self.app.notify(t("assess.new_done", self.lang), timeout=2)

    def action_clear(self) -> None:
        """Empty the description to write it again: answers and ticks went with the text, the file name stays."""
        self.set_description("", saved_as=self.saved_as, product=self.product)
        self.query_one("#description", TextArea).focus()

    def action_open(self) -> None:
        from riskclass.tui.screens.open import OpenScreen

        self.app.push_screen(OpenScreen(self.app.start_dir, self.lang), self._open_chosen)

    def _open_chosen(self, path: Path | None) -> None:
        if path is not None:
            self.read_saved(path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def read_saved(self, path: Path) -> None:
        """Read and check the file off the UI thread (up to 20 MB of JSON, and the rulebook on first use)."""
        from riskclass.tui.saved import load_saved

        try:
            saved = load_saved(path)
        except RiskclassError as exc:
            self.post_message(self.Opened(path, None, exc))
            return
        self.post_message(self.Opened(path, saved))

    @on(Opened)
    def _opened(self, message: Opened) -> None:
        if message.saved is None:
            error = message.error
            text = error.text(self.lang) if error is not None else ""
            self.app.notify(t("open.failed", self.lang, path=message.path, error=text), severity="error", timeout=8)
            return
        saved = message.saved
        self.set_description(saved.description, saved.answers, saved.ticked, saved_as=message.path)
        self.app.notify(t("open.done", self.lang, path=message.path), timeout=4)

    @property
    def text(self) -> str:
        return self.query_one("#description", TextArea).text

    # ---- assessing ----------------------------------------------------------------------------------------------

    def action_assess_now(self) -> None:
        self._generation += 1
        self.start_assessment(forced=True)

    @on(Button.Pressed, "#assess-now")
    def _assess_pressed(self) -> None:
        self.action_assess_now()

    @on(Button.Pressed, "#export")
    def _export_pressed(self) -> None:
        self.app.action_export()

    def start_assessment(self, forced: bool = False) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        text = self.text
        if not text.strip():
            # Empty is the starting state, not a mistake: a hint, no error, no notification.
            self.workers.cancel_group(self, "assess")
            self.assessment = None
            self._show(None)
            self._sync_bindings()
            self._hint(t("assess.hint_empty", self.lang))
            return
        self._hint(t("assess.hint_working", self.lang), working=True)
        self.assess_in_background(text, dict(self.answers), self._generation, forced)

    @work(thread=True, exclusive=True, exit_on_error=False, group="assess")
    def assess_in_background(self, text: str, answers: dict[str, bool], generation: int, forced: bool) -> None:
        worker = get_current_worker()
        engine = self.app.wait_for_engine()
        try:
            result: Assessment | RiskclassError = engine.assess(text, answers=answers)
        except RiskclassError as exc:
            result = exc
        prior, problem = self.app.review_lookup(text) if not isinstance(result, RiskclassError) else (None, "")
        if not worker.is_cancelled:
            self.post_message(self.Assessed(generation, result, forced, prior, problem))

    @on(Assessed)
    def _assessed(self, message: Assessed) -> None:
        if message.generation != self._generation:
            return  # the text or the answers changed since: a newer assessment is on its way
        result = message.result
        self.prior = message.prior if message.prior is not None and message.prior.entry is not None else None
        if message.audit_problem and message.audit_problem != self._audit_problem_shown:
            self._audit_problem_shown = message.audit_problem
            self.app.notify(t("review.log_problem", self.lang, error=message.audit_problem), severity="warning")
        if isinstance(result, RiskclassError):
            self.assessment = None
            self._show(None)
            self._sync_bindings()
            self._hint(result.text(self.lang), error=True)
            if message.forced:
                self.app.notify(result.text(self.lang), title=error_title(result, self.lang), severity="warning")
            return
        self.assessment = result
        for q in result.questions:
            self._asked.setdefault(q.criterion, q)
        self._show(result)
        self._sync_bindings()
        self._hint_done(result)

    def _sync_bindings(self) -> None:
        """F2 (answer questions) is in the footer only while there are questions, F3 (review) while there is an
        assessment, F8 (save to the register) while a register product's text is edited; refresh only on a change."""
        state = (
            bool(self.assessment and self._shown_questions(self.assessment)),
            self.assessment is not None,
            self._description_edited(),
        )
        if state != self._bindings_state:
            self._bindings_state = state
            self.refresh_bindings()

    def _description_edited(self) -> bool:
        product = self.product
        return product is not None and bool(self.text.strip()) and self.text != product.description

    def action_save_description(self) -> None:
        """Keep the edited description as the product's next version in the register (assessed there, with the
        product's saved answers), so the next person who opens it sees this text."""
        if self._description_edited() and self.product is not None:
            self.app.save_description(self.product, self.text)

    def description_saved(self, text: str) -> None:
        """The register now holds `text` as the product's description: decisions about it are linked to it."""
        if self.product is not None:
            self.product = ProductRef(self.product.id, self.product.name, text)
        self._sync_bindings()

    def _hint_done(self, a: Assessment) -> None:
        self._hint(t("assess.hint_done", self.lang, chars=f"{len(a.description):,}", engine=self.app.engine_label))

    def _shown_questions(self, a: Assessment) -> tuple[Question, ...]:
        """The questions still open, and those already answered (so an answer can be changed or withdrawn)."""
        open_now = {q.criterion for q in a.questions}
        return tuple(q for cid, q in self._asked.items() if cid in open_now or cid in self.answers)

    def _show(self, a: Assessment | None) -> None:
        view = self.query_one(AssessmentView)
        with self.app.batch_update():  # one repaint for the whole result, not one per section
            view.show(a, self.lang, self.app.rulebook, self._shown_questions(a) if a else (), self.answers, self.prior)

    def _hint(self, text: str, error: bool = False, working: bool = False) -> None:
        hint = self.query_one("#hint", Static)
        hint.update(text)
        hint.set_class(error, "-error")
        hint.set_class(working, "-working")

    def engine_changed(self) -> None:
        """A better engine arrived (the model loaded): assess the current text again with it."""
        if not self.query("#description"):
            return  # not composed yet, or the app is closing
        if self.text.strip():
            self._generation += 1
            self.start_assessment()

    def reviews_changed(self) -> None:
        """A decision was recorded: assess again so the view shows it (the log is read in the assess worker)."""
        if self.query("#description") and self.text.strip():
            self._generation += 1
            self.start_assessment()

    def action_review(self) -> None:
        self.app.action_review()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "assess":
            # An unexpected failure: the description stays in the text area untouched; say what happened.
            error = event.worker.error
            self._hint(t("internal", self.lang, error=f"{type(error).__name__}: {error}"), error=True)
            self.app.notify(t("internal", self.lang, error=f"{type(error).__name__}: {error}"), severity="error")

    # ---- questions ----------------------------------------------------------------------------------------------

    @on(QuestionsPanel.Answered)
    def _answered(self, message: QuestionsPanel.Answered) -> None:
        if message.answer is None:
            self.answers.pop(message.criterion, None)
        else:
            self.answers[message.criterion] = message.answer
        self._generation += 1
        self.start_assessment(forced=True)
        self._save_answers()

    @on(QuestionsPanel.Cleared)
    def _cleared(self) -> None:
        self.answers.clear()
        self._generation += 1
        self.start_assessment(forced=True)
        self._save_answers()

    def _save_answers(self) -> None:
        """A register product keeps its answers: they are facts about it, for the next person who opens it."""
        if self.product is not None:
            self.app.save_answers(self.product.id, self.answers)

    def action_focus_questions(self) -> None:
        sets = self.query("#questions RadioSet")
        if sets:
            sets.first(RadioSet).focus()
            self.query_one(AssessmentView).scroll_to_widget(self.query_one("#questions"), top=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.app.screen is not self and action in {b.action for b in self.BINDINGS if isinstance(b, Binding)}:
            return False  # a dialog is open over the Assess screen: its keys do nothing, so its footer hides them
        if action == "save_description":
            return self._description_edited()  # a register product whose text differs from the register's
        if action == "focus_questions":
            return bool(self.assessment and self._shown_questions(self.assessment))  # hidden from the footer if none
        if action == "review":
            return self.assessment is not None
        return True

    # ---- checklist ------------------------------------------------------------------------------------------------

    @property
    def ticked(self) -> set[str]:
        return set(self.query_one(AssessmentView).obligations.done)

    @on(Checklist.Toggled, "#obligations")
    def _ticked(self) -> None:
        if self.product is not None:
            self.app.save_ticks(self.product.id, self.ticked)

    def _show_product(self) -> None:
        """The editor's title names the register product being assessed (its answers and ticks are saved to it)."""
        title = t("assess.input_title", self.lang)
        if self.product is not None:
            title += f" · {self.product.id} {self.product.name}".rstrip()
        self.query_one("#editor-pane").border_title = title
