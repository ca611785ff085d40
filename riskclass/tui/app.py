"""The riskclass terminal app: a thin face over the same Engine the CLI uses."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from riskclass.audit.log import AuditLog, Lookup, fingerprint
from riskclass.errors import RiskclassError
from riskclass.tui.i18n import localize_bindings, other_language, t
from riskclass.tui.messages import EngineReady, OpenArticles, OpenDescription, ReviewRecorded
from riskclass.tui.screens.assess import AssessScreen

EngineFactory = Callable[[], object]

DARK, LIGHT = "textual-dark", "textual-light"


def shipped_engine():
    """The default engine: rules and the shipped model (the CLI's `classify` without --rules-only)."""
    from riskclass.engine.decide import Engine
    from riskclass.model.classifier import load_shipped_model

    engine = Engine(model=load_shipped_model())
    engine.assess("一款为银行筛选贷款申请人的评分模型")  # warm the tokenizer now, not on the user's first keystroke
    return engine


def rules_only_engine():
    from riskclass.engine.decide import Engine

    return Engine(model=None)


class RiskclassApp(App[int]):
    """`engine_factory` builds the engine in a worker after the first paint; until it returns, assessments use a
    rules-only engine (tests pass `rules_only_engine` so their results never depend on the trained model).

    `audit_log` is where review decisions go; None resolves it as the CLI does (RISKCLASS_AUDIT_LOG, else
    $XDG_DATA_HOME/riskclass/audit.jsonl, else ~/.local/share/riskclass/audit.jsonl)."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere (benchmarks, tests) find it
    TITLE = "riskclass"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "export", "Export"),
        Binding("ctrl+b", "batch", "Batch"),
        Binding("ctrl+l", "toggle_language", "English"),
        Binding("ctrl+t", "toggle_theme", "Light/dark"),
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        lang: str = "zh",
        engine_factory: EngineFactory | None = None,
        start_dir: Path | None = None,
        audit_log: str | Path | None = None,
    ) -> None:
        super().__init__()
        self.lang = "en" if lang == "en" else "zh"
        self.audit = AuditLog(audit_log)
        self.reviewer = ""  # the last reviewer name used in this session: the next review starts with it
        self.engine_factory = engine_factory or shipped_engine
        self.start_dir = start_dir or Path.cwd()
        self.engine = None
        self.engine_state = "starting"
        self.engine_error = ""
        self._engine_ready = threading.Event()
        from riskclass.config import settings

        preferences = settings()  # config.toml: the theme to start in, where reports go (issue 13)
        self.theme = LIGHT if preferences.theme == "light" else DARK
        self.export_dir = preferences.export_dir or self.start_dir

    # ---- screens --------------------------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        self.assess_screen = AssessScreen(self.lang)
        return self.assess_screen

    def on_mount(self) -> None:
        self.title = t("app.title", self.lang)
        localize_bindings(self, self.lang)
        self._update_status()

    def on_ready(self) -> None:
        # Started once the first frame is on screen: parsing the rulebook and loading the model in a thread would
        # otherwise compete with the first paint for the interpreter.
        self.load_engine()

    # ---- the engine -----------------------------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="engine")
    def load_engine(self) -> None:
        """First a rules-only engine (ready in ~0.2 s), then whatever the factory builds (the model: ~1–2 s)."""
        from riskclass.engine.decide import Engine

        rules = Engine(model=None)
        self.post_message(EngineReady(rules, "rules"))
        try:
            engine = self.engine_factory()
        except RiskclassError as exc:
            self.post_message(EngineReady(rules, "failed", exc.message))
            return
        except Exception as exc:  # a broken model must not take the rules down with it
            self.post_message(EngineReady(rules, "failed", f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(EngineReady(engine, "model" if getattr(engine, "model", None) else "rules-final"))

    @on(EngineReady)
    def _engine_ready_message(self, message: EngineReady) -> None:
        first = self.engine is None
        self.engine = message.engine
        self.engine_state = message.state
        self.engine_error = message.error
        self._engine_ready.set()
        self._update_status()
        if message.state == "failed":
            self.notify(t("engine.failed", self.lang, error=message.error), severity="warning", timeout=8)
        if not first and message.state in ("model", "rules-final"):
            self.assess_screen.engine_changed()

    def wait_for_engine(self):
        """The current engine; from a worker thread, waits until the first one exists."""
        self._engine_ready.wait()
        return self.engine

    @property
    def rulebook(self):
        return getattr(self.engine, "rulebook", None)

    @property
    def engine_label(self) -> str:
        return {
            "starting": t("engine.starting", self.lang),
            "rules": t("engine.loading", self.lang),
            "model": t("engine.model", self.lang),
            "rules-final": t("engine.rules", self.lang),
            "failed": t("engine.rules", self.lang),
        }[self.engine_state]

    def _update_status(self) -> None:
        self.sub_title = self.engine_label
        self.title = t("app.title", self.lang)

    # ---- actions ----------------------------------------------------------------------------------------------------

    def action_toggle_language(self) -> None:
        self.set_language(other_language(self.lang))

    def set_language(self, lang: str) -> None:
        self.lang = lang
        localize_bindings(self, lang)
        self._update_status()
        for screen in self.screen_stack:
            if hasattr(screen, "apply_language"):
                screen.apply_language(lang)
        batch = self._batch_screen
        if batch is not None and batch not in self.screen_stack:
            batch.apply_language(lang)
        self.refresh_bindings()
        self.notify(t("lang.switched", lang), timeout=2)

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.current_theme.dark else DARK

    def action_help(self) -> None:
        from riskclass.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.help_sections(), self.lang))

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        from riskclass.tui.screens.batch import BatchScreen
        from riskclass.tui.screens.help import binding_rows
        from riskclass.tui.widgets.checklist import Checklist

        lang = self.lang
        everywhere = [
            *binding_rows(self.BINDINGS, lang),
            ("Ctrl+P", t("help.palette", lang)),
            ("Tab / Shift+Tab", t("help.tab", lang)),
        ]
        lists = [
            ("Enter", t("help.enter_citation", lang)),
            *[(k, t("help.space_check", lang)) for k, _ in binding_rows(Checklist.BINDINGS, lang)],
            ("← →", t("help.radio", lang)),
        ]
        batch = [
            *binding_rows(BatchScreen.BINDINGS, lang),
            ("→", t("help.complete", lang)),
            ("Enter", t("help.open_row", lang)),
            (t("help.mouse", lang), t("help.sort", lang)),
        ]
        return [
            (t("help.everywhere", lang), everywhere),
            (t("help.assess", lang), binding_rows(AssessScreen.BINDINGS, lang)),
            (t("help.lists", lang), lists),
            (t("help.batch", lang), batch),
        ]

    def action_export(self) -> None:
        from riskclass.tui.screens.export import ExportScreen

        assessment = self.assess_screen.assessment
        if assessment is None:
            self.notify(t("assess.nothing_to_export", self.lang), severity="warning")
            return
        default = str(self.export_dir / "riskclass-report")
        self.push_screen(ExportScreen(default, self.lang), self._export_to)

    def _export_to(self, base: Path | None) -> None:
        if base is None:
            return
        written = self.export(base)
        if written:
            md, page, js = written
            self.notify(t("export.written", self.lang, md=md, html=page, json=js), timeout=8)

    def export(self, base: Path) -> tuple[Path, Path, Path] | None:
        """Write base.md, base.html and base.json (one report, three formats) for the current assessment, with the
        steps ticked so far; a failure is a notification, never a crash."""
        from riskclass.reports.report import build_report, to_html, to_json, to_markdown
        from riskclass.tables.files import write_text_atomic

        a = self.assess_screen.assessment
        if a is None:
            self.notify(t("assess.nothing_to_export", self.lang), severity="warning")
            return None
        report = build_report(a, self.lang, done=self.assess_screen.ticked)
        paths = Path(f"{base}.md"), Path(f"{base}.html"), Path(f"{base}.json")
        try:
            for path, render in zip(paths, (to_markdown, to_html, to_json), strict=True):
                write_text_atomic(path, render(report), force=True)  # the dialog asked for this path
        except RiskclassError as exc:
            self.notify(t("export.failed", self.lang, path=base, error=exc.message), severity="error")
            return None
        return paths

    # ---- reviews (issue 6) -------------------------------------------------------------------------------------------

    def review_lookup(self, description: str) -> tuple[Lookup | None, str]:
        """The latest decision about `description` and a one-line problem with the log ("" if none). Called from the
        assess worker after every assessment: the log is re-read only when it changed. A missing log is no problem."""
        if not self.audit.path.exists():
            return None, ""
        try:
            return self.audit.lookup(fingerprint(description)), ""
        except RiskclassError as exc:
            return None, exc.message

    def action_review(self) -> None:
        from riskclass.tui.screens.review import ReviewScreen

        self._back_to_assess()
        assessment = self.assess_screen.assessment
        if assessment is None:
            self.notify(t("review.nothing", self.lang), severity="warning")
            return
        screen = ReviewScreen(assessment, self.lang, reviewer=self.reviewer, log_path=self.audit.path)
        self.push_screen(screen, lambda choice: self._review_chosen(assessment, choice))

    def _review_chosen(self, assessment, choice) -> None:
        if choice is None:
            return
        self.reviewer = choice.reviewer
        self.record_review(assessment, choice)

    @work(thread=True, exit_on_error=False, group="review")
    def record_review(self, assessment, choice) -> None:
        """Append the decision (file lock and fsync: off the UI thread); a failure is a notification, never a crash."""
        try:
            recorded = self.audit.record(assessment, choice.reviewer, choice.decided_tier, choice.reason)
        except RiskclassError as exc:
            self.post_message(ReviewRecorded(None, exc.message))
            return
        except Exception as exc:  # an unexpected failure must not lose the dialog's answer silently
            self.post_message(ReviewRecorded(None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ReviewRecorded(recorded))

    @on(ReviewRecorded)
    def _review_recorded(self, message: ReviewRecorded) -> None:
        if message.recorded is None:
            self.notify(t("review.failed", self.lang, error=message.error), severity="error", timeout=10)
            return
        r = message.recorded
        self.notify(t("review.recorded", self.lang, line=r.line, path=r.path), timeout=8)
        self.assess_screen.reviews_changed()

    @property
    def _batch_screen(self):
        return self.get_screen("batch") if self.is_screen_installed("batch") else None

    def action_batch(self) -> None:
        """Open the batch screen. It is installed, so its file, results and filters are still there next time."""
        from riskclass.tui.screens.batch import BatchScreen

        if isinstance(self.screen, BatchScreen):
            return
        if self._batch_screen is None:
            self.install_screen(BatchScreen(self.lang, self.start_dir), "batch")
        else:
            self._batch_screen.apply_language(self.lang)
        self.push_screen("batch")

    @on(OpenArticles)
    def _open_articles(self, message: OpenArticles) -> None:
        from riskclass.tui.screens.article import ArticleScreen

        try:
            screen = ArticleScreen(message.citations, self.lang)
        except RiskclassError as exc:
            self.notify(exc.message, title=exc.title, severity="error")
            return
        self.push_screen(screen)

    @on(OpenDescription)
    def _open_description(self, message: OpenDescription) -> None:
        self._back_to_assess()
        self.assess_screen.set_description(message.description)

    def open_article(self, number: int) -> None:
        from riskclass.law.draft import load_draft
        from riskclass.tui.messages import Citation

        self.post_message(OpenArticles((Citation(load_draft().article(number).label),)))

    # ---- command palette ------------------------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        lang = self.lang
        yield SystemCommand(
            t("binding.assess_now", lang), t("cmd.assess_now", lang), self.assess_screen.action_assess_now
        )
        yield SystemCommand(t("binding.export", lang), t("cmd.export", lang), self.action_export)
        yield SystemCommand(t("binding.review", lang), t("cmd.review", lang), self.action_review)
        yield SystemCommand(t("binding.batch", lang), t("cmd.batch", lang), self.action_batch)
        yield SystemCommand(t("binding.focus_questions", lang), t("cmd.focus_questions", lang), self._focus_questions)
        yield SystemCommand(t("cmd.language_title", lang), t("cmd.toggle_language", lang), self.action_toggle_language)
        yield SystemCommand(t("binding.toggle_theme", lang), t("cmd.toggle_theme", lang), self.action_toggle_theme)
        yield SystemCommand(t("binding.help", lang), t("cmd.help", lang), self.action_help)
        from riskclass.tui.screens.batch import BatchScreen

        if isinstance(screen, BatchScreen):
            yield SystemCommand(t("binding.run_batch", lang), t("cmd.run_batch", lang), screen.action_run_batch)
            yield SystemCommand(t("binding.cancel_batch", lang), t("cmd.cancel_batch", lang), screen.cancel_run)
            yield SystemCommand(t("binding.browse", lang), t("cmd.browse", lang), screen.action_browse)
        yield from super().get_system_commands(screen)
        from riskclass.law.draft import load_draft

        for number, article in load_draft().articles.items():
            yield SystemCommand(
                f"{article.label} {article.title}",
                t("cmd.article", lang, label=article.label, title=article.title),
                lambda n=number: self.open_article(n),
                discover=False,  # 70-odd articles: found by searching (e.g. 分类监管 or 第四十六条), not listed
            )

    def _focus_questions(self) -> None:
        self._back_to_assess()
        self.assess_screen.action_focus_questions()

    def _back_to_assess(self) -> None:
        while self.screen is not self.assess_screen and len(self.screen_stack) > 1:
            self.pop_screen()


def run(lang: str = "zh", engine_factory: EngineFactory | None = None, audit_log: str | Path | None = None) -> int:
    """Run the app full-screen; the exit code is 0, or 1 when Textual stopped it on an unhandled error."""
    app = RiskclassApp(lang=lang, engine_factory=engine_factory, audit_log=audit_log)
    app.run()
    return app.return_code or 0
