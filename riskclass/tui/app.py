"""The riskclass terminal app: a thin face over the same Engine the CLI uses."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from riskclass.errors import RiskclassError
from riskclass.tui.i18n import error_title, localize_bindings, other_language, t
from riskclass.tui.messages import (
    EngineReady,
    OpenArticles,
    OpenDescription,
    OpenProduct,
    ProductRef,
    RegisterSaved,
    ReviewRecorded,
)
from riskclass.tui.screens.assess import AssessScreen
from riskclass.tui.widgets.assessment_view import AssessmentView

if TYPE_CHECKING:
    from riskclass.audit.log import AuditLog, Lookup  # imported on first use, after the first frame
    from riskclass.register import Register  # imported when the register is first opened: it pulls in batch

EngineFactory = Callable[[], object]

DARK, LIGHT = "textual-dark", "textual-light"


def report_paths(base: Path) -> tuple[Path, Path, Path]:
    """The three files one export writes: base.md, base.html and base.json."""
    return Path(f"{base}.md"), Path(f"{base}.html"), Path(f"{base}.json")


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
        # Not in the footer, which has no room for every key: the Assess screen's button shows Ctrl+S, the theme is in
        # the palette, and F1 lists both.
        Binding("ctrl+s", "export", "Export", show=False),
        Binding("ctrl+b", "batch", "Batch"),
        Binding("f5", "register", "Register"),
        Binding("ctrl+l", "toggle_language", "English"),
        Binding("ctrl+t", "toggle_theme", "Light/dark", show=False),
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
        register: str | Path | None = None,
        resume_gc: bool = False,
    ) -> None:
        super().__init__()
        self._resume_gc = resume_gc  # `riskclass.tui.run` paused the garbage collector for start-up
        self.lang = "en" if lang == "en" else "zh"
        self._audit_arg = audit_log
        self._audit: AuditLog | None = None
        self._audit_lock = threading.Lock()
        self.reviewer = ""  # the last reviewer name used in this session: the next review starts with it
        self.engine_factory = engine_factory or shipped_engine
        self.start_dir = start_dir or Path.cwd()
        self.engine = None
        self.engine_state = "starting"
        self.engine_error = ""
        self._engine_ready = threading.Event()
        self._engine_final = threading.Event()  # the factory's engine (or its failure) has arrived
        from riskclass.config import settings

        preferences = settings()  # config.toml: the theme to start in, where reports go (issue 13)
        self.theme = LIGHT if preferences.theme == "light" else DARK
        self.export_dir = preferences.export_dir or self.start_dir
        # The register: --register, else RISKCLASS_REGISTER, else the XDG default (riskclass.register.register_path,
        # as `riskclass register` resolves it); opened on first use, from a worker.
        self.register_arg = register
        self._products: Register | None = None
        self._products_lock = threading.Lock()
        self._save_lock = threading.Lock()  # one save to the register at a time, newest state last
        self._save_seq = {"answers": 0, "ticks": 0}

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
        # otherwise compete with the first paint for the interpreter. So are the assessment's sections (hidden until
        # there is an assessment), mounted now so the first result does not wait for them.
        self.assess_screen.query_one(AssessmentView).mount_sections()
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
            self.post_message(EngineReady(rules, "failed", exc.text(self.lang)))
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
        if message.state != "rules":
            self._engine_final.set()
            if self._resume_gc:
                self._resume_gc = False
                gc.freeze()  # what start-up made lives as long as the app: later full collections skip it
                gc.enable()
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
        from riskclass.tui.screens.register import RegisterScreen
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
            (
                t("help.register", lang),
                [*binding_rows(RegisterScreen.BINDINGS, lang), ("Enter", t("help.open_product", lang))],
            ),
        ]

    def action_export(self) -> None:
        from riskclass.tui.screens.export import ExportScreen

        assessment = self.assess_screen.assessment
        if assessment is None:
            self.notify(t("assess.nothing_to_export", self.lang), severity="warning")
            return
        self.push_screen(ExportScreen(str(self.proposed_export_base()), self.lang), self._export_to)

    def proposed_export_base(self) -> Path:
        """Where Ctrl+S proposes to write: the file the assessment was opened from, else a name made from the product
        (its id and name when the register knows them, else the first words of its description) in the export
        folder (config.toml's export_dir, else the start folder)."""
        from riskclass.tui.filenames import proposed_stem
        from riskclass.tui.screens.export import export_base

        screen = self.assess_screen
        if screen.saved_as is not None:
            return export_base(str(screen.saved_as))
        product = screen.product
        stem = proposed_stem(screen.text, product.id if product else "", product.name if product else "")
        return self.export_dir / stem

    def _export_to(self, base: Path | None) -> None:
        if base is None:
            return
        existing = [p for p in report_paths(base) if p.exists()]
        if not existing:
            self._write_export(base)
            return
        from riskclass.tui.screens.confirm import ConfirmScreen

        question = t("export.overwrite", self.lang, files="\n".join(f"  {p}" for p in existing))
        screen = ConfirmScreen(t("export.overwrite_title", self.lang), question, self.lang)
        self.push_screen(screen, lambda yes: self._overwrite_answered(base, yes))

    def _overwrite_answered(self, base: Path, yes: bool | None) -> None:
        """Yes writes over the files; no goes back to the export dialog with the same name, to choose another."""
        if yes:
            self._write_export(base)
            return
        from riskclass.tui.screens.export import ExportScreen

        self.push_screen(ExportScreen(str(base), self.lang), self._export_to)

    def _write_export(self, base: Path) -> None:
        written = self.export(base)
        if written:
            md, page, js = written
            self.notify(t("export.written", self.lang, md=md, html=page, json=js), timeout=8)

    def export(self, base: Path) -> tuple[Path, Path, Path] | None:
        """Write base.md, base.html and base.json (one report, three formats) for the current assessment, with the
        steps ticked so far; a failure is a notification, never a crash."""
        from riskclass.reports.report import ProductIdentity, build_report, to_html, to_json, to_markdown
        from riskclass.tables.files import write_text_atomic

        a = self.assess_screen.assessment
        if a is None:
            self.notify(t("assess.nothing_to_export", self.lang), severity="warning")
            return None
        # As `riskclass report` does: a verified decision about this description makes the report that tier's
        # paperwork, and a register product gives the report its id and name (issue 13).
        review = None
        prior = self.assess_screen.prior
        if prior is not None and prior.entry is not None:
            from riskclass.audit.log import review_json

            review = review_json(prior, a.versions)
        product = self.assess_screen.product
        identity = ProductIdentity(id=product.id, name=product.name) if product is not None else None
        report = build_report(a, self.lang, done=self.assess_screen.ticked, review=review, identity=identity)
        paths = report_paths(base)
        try:
            for path, render in zip(paths, (to_markdown, to_html, to_json), strict=True):
                write_text_atomic(path, render(report), force=True)  # the dialog asked for this path
        except RiskclassError as exc:
            self.notify(t("export.failed", self.lang, path=base, error=exc.text(self.lang)), severity="error")
            return None
        self.assess_screen.saved_as = paths[2]  # the next Ctrl+S proposes the same name (and asks before overwriting)
        return paths

    # ---- reviews (issue 6) -------------------------------------------------------------------------------------------

    @property
    def audit(self) -> AuditLog:
        """The audit log, opened on first use (from the assess worker, after the first frame): importing the audit
        module is a tenth of the app's start-up."""
        with self._audit_lock:
            if self._audit is None:
                from riskclass.audit.log import AuditLog

                self._audit = AuditLog(self._audit_arg)
            return self._audit

    def review_lookup(self, description: str) -> tuple[Lookup | None, str]:
        """The latest decision about `description` and a one-line problem with the log ("" if none). Called from the
        assess worker after every assessment: the log is re-read only when it changed. A missing log is no problem."""
        if not self.audit.path.exists():
            return None, ""
        from riskclass.audit.log import fingerprint

        try:
            return self.audit.lookup(fingerprint(description)), ""
        except RiskclassError as exc:
            return None, exc.text(self.lang)

    def action_review(self) -> None:
        from riskclass.tui.screens.review import ReviewScreen

        self._back_to_assess()
        assessment = self.assess_screen.assessment
        if assessment is None:
            self.notify(t("review.nothing", self.lang), severity="warning")
            return
        screen = ReviewScreen(assessment, self.lang, reviewer=self.reviewer, log_path=self.audit.path)
        product = self.assess_screen.product
        self.push_screen(screen, lambda choice: self._review_chosen(assessment, choice, product))

    def _review_chosen(self, assessment, choice, product: ProductRef | None = None) -> None:
        if choice is None:
            return
        self.reviewer = choice.reviewer
        self.record_review(assessment, choice, product)

    @work(thread=True, exit_on_error=False, group="review")
    def record_review(self, assessment, choice, product: ProductRef | None = None) -> None:
        """Append the decision (file lock and fsync: off the UI thread); a failure is a notification, never a crash.
        A decision about a register product's current description is linked to the product (as `review --id`)."""
        try:
            recorded = self.audit.record(assessment, choice.reviewer, choice.decided_tier, choice.reason)
            if product is not None and assessment.description == product.description:
                self.open_register().link_decision(product.id, recorded)
        except RiskclassError as exc:
            self.post_message(ReviewRecorded(None, exc.text(self.lang)))
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

    # ---- the register (issue 13) ---------------------------------------------------------------------------------

    def open_register(self) -> Register:
        """The open register (from worker threads: waits for the final engine, with which the register assesses
        answered products). Raises RegisterError when there is none at the path or it cannot be used; the next call
        tries again (the user may have run `riskclass register import` meanwhile)."""
        with self._products_lock:
            if self._products is None:
                self._engine_final.wait()
                from riskclass.register import Register

                self._products = Register.open(self.register_arg, engine=self.engine, audit_log=self.audit.path)
            return self._products

    def on_unmount(self) -> None:
        if self._products is not None:
            self._products.close()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from riskclass.tui.screens.register import RegisterScreen

        return not (action == "register" and isinstance(self.screen, RegisterScreen))  # already there: not offered

    @property
    def _register_screen(self):
        return self.get_screen("register") if self.is_screen_installed("register") else None

    def action_register(self) -> None:
        """Open the Register screen; installed, so its search, filters and sort are still there next time."""
        from riskclass.tui.screens.register import RegisterScreen

        if isinstance(self.screen, RegisterScreen):
            return
        self._back_to_assess()
        if self._register_screen is None:
            self.install_screen(RegisterScreen(self.lang), "register")
        else:
            self._register_screen.apply_language(self.lang)
        self.push_screen("register")

    @on(OpenProduct)
    def _open_product(self, message: OpenProduct) -> None:
        p = message.product
        self._back_to_assess()
        answers = {k: v for k, v in p.answers.items() if v is not None}  # "unknown" is no fact
        ref = ProductRef(p.id, p.row.name, p.description)
        self.assess_screen.set_description(p.description, answers, p.ticks, product=ref)
        self.notify(t("register.opened", self.lang, id=p.id, name=p.row.name), timeout=4)

    def save_answers(self, pid: str, answers: dict[str, bool]) -> None:
        """Save the product's answers to the register (which assesses it again with them), off the UI thread."""
        self._save_seq["answers"] += 1
        self._save_answers(pid, dict(answers), self._save_seq["answers"])

    def save_ticks(self, pid: str, ticks: set[str]) -> None:
        self._save_seq["ticks"] += 1
        self._save_ticks(pid, sorted(ticks), self._save_seq["ticks"])

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-answers")
    def _save_answers(self, pid: str, answers: dict[str, bool], seq: int) -> None:
        self._save(pid, "answers", seq, lambda reg: reg.save_answers(pid, answers))

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-ticks")
    def _save_ticks(self, pid: str, ticks: list[str], seq: int) -> None:
        self._save(pid, "ticks", seq, lambda reg: reg.save_ticks(pid, ticks))

    def _save(self, pid: str, what: str, seq: int, write: Callable[[Register], object]) -> None:
        """Each save carries the whole state: one that a newer save of the same kind follows is skipped, so the
        register always ends with what the screen shows, whatever order the threads run in."""
        with self._save_lock:
            if seq != self._save_seq[what]:
                return
            try:
                write(self.open_register())
            except RiskclassError as exc:
                self.post_message(RegisterSaved(pid, what, exc.text(self.lang)))
                return
        self.post_message(RegisterSaved(pid, what))

    def save_description(self, product: ProductRef, text: str) -> None:
        self._save_description(product, text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-description")
    def _save_description(self, product: ProductRef, text: str) -> None:
        """A new description version (columns kept: the app edits the description, not the inventory)."""
        with self._save_lock:
            try:
                reg = self.open_register()
                reg.add_or_update(product.id, product.name, text, None, source="riskclass app")
                version = reg.product(product.id).descriptions[-1].version
            except RiskclassError as exc:
                self.post_message(RegisterSaved(product.id, "description", exc.text(self.lang)))
                return
        self.post_message(RegisterSaved(product.id, "description", version=version, text=text))

    @on(RegisterSaved)
    def _register_saved(self, message: RegisterSaved) -> None:
        if message.error:
            self.notify(t("register.save_failed", self.lang, id=message.pid, error=message.error), severity="error")
            return
        if message.what == "description":
            product = self.assess_screen.product
            if product is not None and product.id == message.pid:
                self.assess_screen.description_saved(message.text)
            self.notify(t("register.description_saved", self.lang, id=message.pid, version=message.version))

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
            self.notify(exc.text(self.lang), title=error_title(exc, self.lang), severity="error")
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
        yield SystemCommand(t("binding.new", lang), t("cmd.new", lang), self._on_assess("action_new"))
        yield SystemCommand(t("binding.open", lang), t("cmd.open", lang), self._on_assess("action_open"))
        yield SystemCommand(t("binding.clear", lang), t("cmd.clear", lang), self._on_assess("action_clear"))
        if self.assess_screen.product is not None:
            yield SystemCommand(
                t("binding.save_description", lang),
                t("cmd.save_description", lang),
                self._on_assess("action_save_description"),
            )
        yield SystemCommand(t("binding.batch", lang), t("cmd.batch", lang), self.action_batch)
        yield SystemCommand(t("binding.register", lang), t("cmd.register", lang), self.action_register)
        yield SystemCommand(t("binding.focus_questions", lang), t("cmd.focus_questions", lang), self._focus_questions)
        yield SystemCommand(t("cmd.language_title", lang), t("cmd.toggle_language", lang), self.action_toggle_language)
        yield SystemCommand(t("binding.toggle_theme", lang), t("cmd.toggle_theme", lang), self.action_toggle_theme)
        yield SystemCommand(t("binding.help", lang), t("cmd.help", lang), self.action_help)
        from riskclass.tui.screens.batch import BatchScreen

        if isinstance(screen, BatchScreen):
            yield SystemCommand(t("binding.run_batch", lang), t("cmd.run_batch", lang), screen.action_run_batch)
            yield SystemCommand(t("binding.cancel_batch", lang), t("cmd.cancel_batch", lang), screen.cancel_run)
            yield SystemCommand(t("binding.browse", lang), t("cmd.browse", lang), screen.action_browse)
        yield from self.builtin_commands(screen)
        from riskclass.law.draft import load_draft

        for number, article in load_draft().articles.items():
            yield SystemCommand(
                f"{article.label} {article.title}",
                t("cmd.article", lang, label=article.label, title=article.title),
                lambda n=number: self.open_article(n),
                discover=False,  # 70-odd articles: found by searching (e.g. 分类监管 or 第四十六条), not listed
            )

    def builtin_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands (App.get_system_commands in Textual 8), in the interface language. Keys opens the
        app's help screen, which lists every key in that language, rather than Textual's English key panel."""
        lang = self.lang
        yield SystemCommand(t("sys.theme", lang), t("sys.theme_help", lang), self.action_change_theme)
        yield SystemCommand(t("sys.quit", lang), t("sys.quit_help", lang), self.action_quit)
        yield SystemCommand(t("sys.keys", lang), t("sys.keys_help", lang), self.action_help)
        if screen.maximized is not None:
            yield SystemCommand(t("sys.minimize", lang), t("sys.minimize_help", lang), screen.action_minimize)
        elif screen.focused is not None and screen.focused.allow_maximize:
            yield SystemCommand(t("sys.maximize", lang), t("sys.maximize_help", lang), screen.action_maximize)
        yield SystemCommand(
            t("sys.screenshot", lang),
            t("sys.screenshot_help", lang),
            lambda: self.set_timer(0.1, self.deliver_screenshot),  # as Textual does: after the palette has closed
        )

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        from riskclass.tui.screens.palette import LocalizedPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(LocalizedPalette(self.lang, id="--command-palette"))

    def search_themes(self) -> None:
        from textual.theme import ThemeProvider

        from riskclass.tui.screens.palette import LocalizedPalette

        self.push_screen(LocalizedPalette(self.lang, "palette.themes", providers=[ThemeProvider]))

    def action_help_quit(self) -> None:
        """Ctrl+C does not quit (it copies): say which key does, in the interface language."""
        from riskclass.tui.screens.help import key_name

        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(t("sys.how_to_quit", self.lang, keys=key_name(key)), title=t("sys.quit_title", self.lang))
                return

    @on(events.DeliveryComplete)
    def _screenshot_saved(self, event: events.DeliveryComplete) -> None:
        if event.name == "screenshot":
            event.prevent_default()  # Textual's own handler would say it again, in English
            self.notify(t("sys.screenshot_saved", self.lang, path=event.path or ""), markup=False)

    @on(events.DeliveryFailed)
    def _screenshot_failed(self, event: events.DeliveryFailed) -> None:
        if event.name == "screenshot":
            event.prevent_default()
            self.notify(t("sys.screenshot_failed", self.lang), severity="error")

    def _on_assess(self, action: str) -> Callable[[], None]:
        """A palette command that acts on the Assess screen, whichever screen the palette was opened on."""

        def run() -> None:
            self._back_to_assess()
            getattr(self.assess_screen, action)()

        return run

    def _focus_questions(self) -> None:
        self._back_to_assess()
        self.assess_screen.action_focus_questions()

    def _back_to_assess(self) -> None:
        while self.screen is not self.assess_screen and len(self.screen_stack) > 1:
            self.pop_screen()


def run(
    lang: str = "zh",
    engine_factory: EngineFactory | None = None,
    audit_log: str | Path | None = None,
    register: str | Path | None = None,
    resume_gc: bool = False,
) -> int:
    """Run the app full-screen; the exit code is 0, or 1 when Textual stopped it on an unhandled error. `resume_gc`:
    the caller paused the garbage collector, and the app is to resume it once its engine is final."""
    app = RiskclassApp(
        lang=lang, engine_factory=engine_factory, audit_log=audit_log, register=register, resume_gc=resume_gc
    )
    app.run()
    return app.return_code or 0
