"""The Batch screen: pick a CSV, choose the description column, run `riskclass batch` with a progress bar, browse.

Runs exactly `riskclass.batch.run_batch` (same engine, same output file as the CLI); the table is read back from the
output file it wrote, so what the screen shows is what the file says.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    DirectoryTree,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)
from textual.worker import Worker, WorkerState, get_current_worker

from riskclass.errors import RiskclassError
from riskclass.tui.i18n import TIER_WORDS, localize_bindings, t
from riskclass.tui.messages import OpenDescription
from riskclass.tui.widgets.path_input import PathSuggester

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")  # what riskclass.batch reads
PROGRESS_INTERVAL = 0.1  # seconds between progress-bar updates: a 10,000-row file must not flood the message queue
DESCRIPTION_WIDTH = 40  # characters of the description shown in the table (the whole text opens in Assess)
SHOWN_RESULTS = ("tier", "confidence", "criteria", "red_flags", "needs_review", "error")
# Rows per engine call in the TUI: smaller than the CLI's chunks so the progress bar moves and Cancel takes effect
# within a fraction of a second; the output file is the same whatever the chunk size.
TUI_CHUNK_ROWS = 200
# Rows read back into the results table. Holding the whole output took about 1 GB at 200,000 rows (issue 12); nobody
# scrolls through more than a few thousand, filters and sorts stay instant at this size, and the full results are
# always in the output file (the screen says so). Each row kept holds only what the table shows.
SHOWN_ROWS_MAX = 10_000
ALL = "__all__"


class TableFiles(DirectoryTree):
    """A directory tree showing folders and table files only (hidden entries left out)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in TABLE_SUFFIXES)]


def default_output(path: str) -> str:
    p = Path(path)
    return str(p.with_name(f"{p.stem}.riskclass.csv"))


def read_results(
    path: str, result_columns: tuple[str, ...], keep: str | None = None, limit: int | None = None
) -> tuple[list[str], list[dict[str, str]], int]:
    """The batch output file as (input columns, the first `limit` rows, the number of rows in the file).

    The result columns are the last `len(result_columns)` of each row (batch renames an input column that would clash).
    Each row maps the result column names, and the input column `keep` (the description, cut to what the table
    shows), to its cells; the rest of the file is only counted, so memory stays flat however long the file is.
    `read_description` reads a whole description back when a row is opened.
    """
    n = len(result_columns)
    limit = SHOWN_ROWS_MAX if limit is None else limit
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        inputs = header[:-n]
        where = inputs.index(keep) if keep in inputs else None
        rows = []
        total = 0
        for cells in reader:
            total += 1
            if total > limit:
                continue
            row = dict(zip(result_columns, cells[-n:], strict=False))
            if where is not None and keep is not None and where < len(cells) - n:
                row[keep] = cells[where][: DESCRIPTION_WIDTH * 2]  # room for unguard and line breaks
            rows.append(row)
    return inputs, rows, total


def read_description(path: str, index: int, column: str, result_columns: tuple[str, ...]) -> str:
    """The whole `column` cell of data row `index` (0-based) of a batch output file, read again from the file."""
    n = len(result_columns)
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        where = header[:-n].index(column)
        for i, cells in enumerate(reader):
            if i == index:
                return cells[where]
    return ""


def unguard(cell: str, leaders: frozenset[str]) -> str:
    """The cell as it was in the input: batch writes a leading ' before a formula-like cell (CSV injection guard)."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in leaders else cell


class BatchScreen(Screen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run_batch", "Run"),
        Binding("escape", "back", "Back"),
        Binding("ctrl+o", "browse", "Browse"),
    ]

    class Progress(Message):
        def __init__(self, done: int, total: int | None) -> None:
            super().__init__()
            self.done = done
            self.total = total

    class Finished(Message):
        """The run ended: `summary` when it finished, `error` (one line) when it could not, `cancelled` when stopped."""

        def __init__(self, summary=None, error: RiskclassError | None = None, cancelled: bool = False) -> None:
            super().__init__()
            self.summary = summary
            self.error = error
            self.cancelled = cancelled

    class HeaderRead(Message):
        def __init__(self, path: str, columns: list[str], detected: str | None, error: RiskclassError | None) -> None:
            super().__init__()
            self.path = path
            self.columns = columns
            self.detected = detected
            self.error = error

    def __init__(self, lang: str, start_dir: Path) -> None:
        super().__init__(id="batch")
        self.lang = lang
        self.start_dir = start_dir
        self.cancel_event: threading.Event | None = None
        self.columns: list[str] = []
        self.output_columns: list[str] = []
        self.results: list[dict[str, str]] = []  # the first SHOWN_ROWS_MAX rows of the output file (see read_results)
        self.total_rows = 0  # rows in the output file
        self.results_file = ""
        self.description_column: str | None = None
        self._auto_output = ""
        self._header_for = ""
        self._sort: tuple[str, bool] | None = None
        self._last_progress = 0.0
        self._ready = False
        self._output_shown = ""
        self._leaders: frozenset[str] = frozenset()  # riskclass.batch.FORMULA_LEADERS once a run finished

    def compose(self) -> ComposeResult:
        yield Header(icon="⚖")
        with Vertical(id="batch-body"):
            with Vertical(id="batch-form"):
                with Horizontal(classes="form-row"):
                    yield Label("", id="batch-input-label")
                    yield Input(
                        id="batch-input", suggester=PathSuggester(TABLE_SUFFIXES, root=self.start_dir), compact=True
                    )
                    yield Button("", id="batch-browse", compact=True)
                with Horizontal(classes="form-row"):
                    yield Label("", id="batch-column-label")
                    yield Select([], id="batch-column", allow_blank=True, compact=True)
                with Horizontal(classes="form-row"):
                    yield Label("", id="batch-output-label")
                    yield Input(id="batch-output", compact=True)
                with Horizontal(id="batch-run-row"):
                    yield Button("", id="batch-run", variant="primary", compact=True)
                    yield Button("", id="batch-cancel", variant="error", disabled=True, compact=True)
                    yield Checkbox("", id="batch-force", compact=True)
                    yield ProgressBar(id="batch-progress", show_eta=False)  # the status line counts rows
            yield Static("", id="batch-status", markup=False)
            with Horizontal(id="batch-filters"):
                yield Label("", id="filter-tier-label")
                yield Select([(t("batch.all", self.lang), ALL)], id="filter-tier", allow_blank=False, compact=True)
                yield Label("", id="filter-review-label")
                yield Select([(t("batch.all", self.lang), ALL)], id="filter-review", allow_blank=False, compact=True)
                yield Label("", id="filter-criterion-label")
                yield Select([(t("batch.all", self.lang), ALL)], id="filter-criterion", allow_blank=False, compact=True)
                yield Static("", id="batch-shown", markup=False)
            yield DataTable(id="batch-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        self.apply_language(self.lang)
        self.query_one("#batch-input", Input).focus()

    # ---- language -----------------------------------------------------------------------------------------------

    def apply_language(self, lang: str) -> None:
        self.lang = lang
        if not self._ready:
            return  # not composed yet: on_mount applies the language
        localize_bindings(self, lang)
        self.query_one("#batch-form").border_title = t("batch.title", lang)
        for widget_id, key in (
            ("#batch-input-label", "batch.input"),
            ("#batch-column-label", "batch.column"),
            ("#batch-output-label", "batch.output"),
            ("#filter-tier-label", "batch.filter_tier"),
            ("#filter-review-label", "batch.filter_review"),
            ("#filter-criterion-label", "batch.filter_criterion"),
        ):
            self.query_one(widget_id, Label).update(t(key, lang))
        self.query_one("#batch-input", Input).placeholder = t("batch.input_placeholder", lang)
        self.query_one("#batch-browse", Button).label = t("batch.browse", lang)
        self.query_one("#batch-run", Button).label = f"{t('batch.run', lang)} ^r"
        self.query_one("#batch-cancel", Button).label = t("batch.cancel", lang)
        self.query_one("#batch-force", Checkbox).label = t("batch.overwrite", lang)
        self.query_one("#batch-column", Select).prompt = t("batch.column_none", lang)
        self._set_filter_options()
        self._fill_table()
        self.refresh_bindings()

    def _set_filter_options(self) -> None:
        lang = self.lang
        tier = self.query_one("#filter-tier", Select)
        tier_value = tier.value if tier.value is not Select.NULL else ALL
        words = {**TIER_WORDS, "error": (t("batch.failed_rows", "zh"), t("batch.failed_rows", "en"))}
        named = [(en if lang == "en" else zh, key) for key, (zh, en) in words.items()]
        tier.set_options([(t("batch.all", lang), ALL), *named])
        tier.value = tier_value
        review = self.query_one("#filter-review", Select)
        review_value = review.value if review.value is not Select.NULL else ALL
        review.set_options(
            [(t("batch.all", lang), ALL), (t("batch.review_yes", lang), "true"), (t("batch.review_no", lang), "false")]
        )
        review.value = review_value
        crit = self.query_one("#filter-criterion", Select)
        crit_value = crit.value if crit.value is not Select.NULL else ALL
        seen = sorted(
            {c for row in self.results for c in _ids(row.get("criteria", "")) + _ids(row.get("red_flags", ""))}
        )
        crit.set_options([(t("batch.all", lang), ALL)] + [(c, c) for c in seen])
        crit.value = crit_value if crit_value in (ALL, *seen) else ALL

    # ---- choosing the file --------------------------------------------------------------------------------------

    async def action_browse(self) -> None:
        """Show (or hide) a directory tree of table files. Mounted on first use: its loader keeps a worker alive."""
        trees = self.query(TableFiles)
        if not trees:
            tree = TableFiles(self.start_dir, id="batch-tree")
            await self.query_one("#batch-form").mount(tree, after=self.query_one("#batch-input").parent)
        else:
            tree = trees.first()
        tree.toggle_class("-shown")
        if tree.has_class("-shown"):
            tree.focus()

    @on(Button.Pressed, "#batch-browse")
    async def _browse_pressed(self) -> None:
        await self.action_browse()

    @on(DirectoryTree.FileSelected, "#batch-tree")
    def _file_chosen(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        field = self.query_one("#batch-input", Input)
        field.value = str(event.path)
        self.query_one("#batch-tree").remove_class("-shown")
        self.read_header(str(event.path), loud=True)
        self.query_one("#batch-column", Select).focus()

    @on(Input.Changed, "#batch-input")
    def _input_changed(self, event: Input.Changed) -> None:
        path = event.value.strip()
        if path and self.resolve(path).is_file() and path != self._header_for:
            self.read_header(path, loud=False)

    @on(Input.Submitted, "#batch-input")
    def _input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            self.app.notify(t("batch.no_input", self.lang), severity="warning")
            return
        self.read_header(path, loud=True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="header")
    def read_header(self, path: str, loud: bool) -> None:
        try:
            from riskclass.tables.read import read_table_header
        except ImportError as exc:
            error = RiskclassError(
                t("batch.unavailable", self.lang, error=exc), zh=t("batch.unavailable", "zh", error=exc)
            )
            self.post_message(self.HeaderRead(path, [], None, error))
            return
        try:
            columns, detected = read_table_header(str(self.resolve(path)))
        except RiskclassError as exc:
            self.post_message(
                self.HeaderRead(path, [], None, exc if loud else RiskclassError(exc.message, "quiet", zh=exc.zh))
            )
            return
        self.post_message(self.HeaderRead(path, list(columns), detected, None))

    @on(HeaderRead)
    def _header_read(self, message: HeaderRead) -> None:
        if message.path.strip() != self.query_one("#batch-input", Input).value.strip():
            return  # the path changed since
        select = self.query_one("#batch-column", Select)
        if message.error is not None:
            self._header_for = ""
            self.columns = []
            select.set_options([])
            self._status(message.error.message, error=True)
            if message.error.title != "quiet":
                self.app.notify(message.error.message, title=message.error.title, severity="error")
            return
        self._header_for = message.path.strip()
        self.columns = message.columns
        select.set_options([(c, c) for c in message.columns])
        if message.detected:
            select.value = message.detected
        output = self.query_one("#batch-output", Input)
        if not output.value or output.value == self._auto_output:
            self._auto_output = default_output(message.path.strip())
            output.value = self._auto_output
        shown = message.detected or t("batch.column_none", self.lang)
        self._status(t("batch.header", self.lang, n=len(message.columns), column=shown))

    # ---- running ------------------------------------------------------------------------------------------------

    @on(Button.Pressed, "#batch-run")
    def action_run_batch(self) -> None:
        if self.cancel_event is not None:
            return  # already running
        path = self.query_one("#batch-input", Input).value.strip()
        if not path:
            self.app.notify(t("batch.no_input", self.lang), severity="warning")
            return
        column = self.query_one("#batch-column", Select).value
        if column is Select.NULL:
            if self.columns:
                self.app.notify(t("batch.no_column", self.lang), severity="warning")
                return
            column = None  # not read yet: let run_batch find the column (or explain why it cannot)
        output = self.query_one("#batch-output", Input).value.strip() or default_output(path)
        try:
            from riskclass.batch.run import BatchOptions
        except ImportError as exc:
            self.app.notify(t("batch.unavailable", self.lang, error=exc), severity="error")
            return
        options = BatchOptions(
            input=str(self.resolve(path)),
            output=str(self.resolve(output)),
            column=column,
            force=self.query_one("#batch-force", Checkbox).value,
            lang=self.lang,
            chunk_rows=TUI_CHUNK_ROWS,
        )
        self.description_column = column
        self._output_shown = output
        self.cancel_event = threading.Event()
        self._set_running(True)
        bar = self.query_one("#batch-progress", ProgressBar)
        bar.update(total=None, progress=0)
        self._status(t("batch.running_unknown", self.lang, done=0))
        self.run_in_background(options, self.cancel_event)

    @work(thread=True, exclusive=True, exit_on_error=False, group="batch")
    def run_in_background(self, options, cancel: threading.Event) -> None:
        from riskclass.batch.run import BatchCancelled, run_batch

        worker = get_current_worker()
        engine = self.app.wait_for_engine()

        def progress(done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - self._last_progress >= PROGRESS_INTERVAL or (total is not None and done >= total):
                self._last_progress = now
                self.post_message(self.Progress(done, total))
            if worker.is_cancelled:
                cancel.set()

        try:
            summary = run_batch(options, engine=engine, progress=progress, cancel=cancel)
        except BatchCancelled:
            self.post_message(self.Finished(cancelled=True))
            return
        except RiskclassError as exc:
            self.post_message(self.Finished(error=exc))
            return
        self.post_message(self.Finished(summary=summary))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        bar = self.query_one("#batch-progress", ProgressBar)
        bar.update(total=message.total, progress=message.done)
        if message.total:
            self._status(t("batch.running", self.lang, done=message.done, total=message.total))
        else:
            self._status(t("batch.running_unknown", self.lang, done=message.done))

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.cancel_event = None
        self._set_running(False)
        if message.cancelled:
            self._status(t("batch.cancelled", self.lang))
            self.app.notify(t("batch.cancelled", self.lang), severity="warning")
            return
        if message.error is not None:
            self._status(message.error.message, error=True)
            self.app.notify(message.error.message, title=message.error.title, severity="error")
            return
        s = message.summary
        bar = self.query_one("#batch-progress", ProgressBar)
        bar.update(total=max(s.rows_out, 1), progress=max(s.rows_out, 1))
        self._status(
            t(
                "batch.finished",
                self.lang,
                rows=s.rows_out,
                high=s.tiers.get("high", 0),
                medium=s.tiers.get("medium", 0),
                low=s.tiers.get("low", 0),
                review=s.needs_review,
                errors=s.errors,
                output=self._output_shown,
            )
        )
        for note in s.notes:
            self.app.notify(note.text(self.lang), timeout=8)  # notes carry both languages
        from riskclass.tables.write import FORMULA_LEADERS, RESULT_COLUMNS

        self._leaders = FORMULA_LEADERS

        self.description_column = s.column or self.description_column  # the column batch actually read
        try:
            self.output_columns, self.results, self.total_rows = read_results(
                s.output, RESULT_COLUMNS, self.description_column
            )
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            self.app.notify(f"{s.output}: {exc}", severity="error")
            return
        self.results_file = s.output
        if self.total_rows > len(self.results):
            note = t("batch.capped", self.lang, shown=len(self.results), total=self.total_rows, output=s.output)
            self.app.notify(note, severity="warning", timeout=12)
        self._set_filter_options()
        self._fill_table()
        self.query_one("#batch-table", DataTable).focus()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR or event.worker.group not in ("batch", "header"):
            return
        if event.worker.group == "batch":
            self.cancel_event = None
            self._set_running(False)
        error = event.worker.error
        message = t("internal", self.lang, error=f"{type(error).__name__}: {error}")
        self._status(message, error=True)
        self.app.notify(message, severity="error")

    @on(Button.Pressed, "#batch-cancel")
    def cancel_run(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()

    def action_back(self) -> None:
        if self.cancel_event is not None:
            self.cancel_run()
            return
        self.app.pop_screen()

    def _set_running(self, running: bool) -> None:
        self.query_one("#batch-run", Button).disabled = running
        self.query_one("#batch-cancel", Button).disabled = not running

    def resolve(self, path: str) -> Path:
        """A typed path: ~ expanded, relative ones taken from the directory the app started in."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.start_dir / p

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#batch-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    # ---- the results table --------------------------------------------------------------------------------------

    @on(Select.Changed, "#filter-tier, #filter-review, #filter-criterion")
    def _filter_changed(self) -> None:
        self._fill_table()

    def visible_rows(self) -> list[int]:
        """Indices of the result rows that pass the tier, review and criterion filters."""
        tier = self.query_one("#filter-tier", Select).value
        review = self.query_one("#filter-review", Select).value
        crit = self.query_one("#filter-criterion", Select).value
        keep = []
        for i, row in enumerate(self.results):
            if tier not in (ALL, Select.NULL):
                if tier == "error" and not row.get("error"):
                    continue
                if tier != "error" and row.get("tier") != tier:
                    continue
            if review not in (ALL, Select.NULL) and row.get("needs_review", "").lower() != review:
                continue
            if crit not in (ALL, Select.NULL) and crit not in _ids(row.get("criteria", "")) + _ids(
                row.get("red_flags", "")
            ):
                continue
            keep.append(i)
        return keep

    def _fill_table(self) -> None:
        if not self._ready:
            return
        table = self.query_one("#batch-table", DataTable)
        table.clear(columns=True)
        if not self.results:
            return
        lang = self.lang
        table.add_column(t("batch.col.row", lang), key="row")
        table.add_column(t("batch.col.description", lang), key="description", width=DESCRIPTION_WIDTH)
        for col in SHOWN_RESULTS:
            table.add_column(t(f"batch.col.{col}", lang), key=col)
        rows = self.visible_rows()
        for i in rows:
            row = self.results[i]
            text = row.get(self.description_column or "", "")
            table.add_row(
                i + 1,
                _text(unguard(text, self._leaders).replace("\n", " ")[:DESCRIPTION_WIDTH]),
                _tier_cell(row.get("tier", "")),
                _number(row.get("confidence", "")),
                _text(row.get("criteria", "")),
                _text(row.get("red_flags", "")),
                _text(row.get("needs_review", "")),
                _text(row.get("error", "")),
                key=str(i),
            )
        if self._sort is not None and self._sort[0] in table.columns:
            self._apply_sort()
        shown = t("batch.shown", lang, shown=len(rows), total=self.total_rows or len(self.results))
        if self.total_rows > len(self.results):
            shown += " · " + t(
                "batch.capped", lang, shown=len(self.results), total=self.total_rows, output=self.results_file
            )
        self.query_one("#batch-shown", Static).update(shown)

    @on(DataTable.HeaderSelected, "#batch-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        reverse = bool(self._sort and self._sort[0] == key and not self._sort[1])
        self._sort = (key, reverse)
        self._apply_sort()

    def sort_by(self, column: str, reverse: bool = False) -> None:
        self._sort = (column, reverse)
        self._apply_sort()

    def _apply_sort(self) -> None:
        column, reverse = self._sort
        table = self.query_one("#batch-table", DataTable)
        key = _sort_key(column)
        table.sort(column, key=key, reverse=reverse)

    @on(DataTable.RowSelected, "#batch-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_row(int(event.row_key.value))

    def open_row(self, index: int) -> None:
        from riskclass.tables.write import RESULT_COLUMNS

        try:  # the table keeps only the start of each description: the whole one is in the output file
            text = read_description(self.results_file, index, self.description_column or "", RESULT_COLUMNS)
        except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
            self.app.notify(f"{self.results_file}: {exc}", severity="error")
            return
        self.post_message(OpenDescription(unguard(text, self._leaders)))


def _ids(value: str) -> list[str]:
    return [v for v in value.split(";") if v]


def _number(value: str) -> float | Text:
    try:
        return float(value)
    except ValueError:
        return Text(value)


TIER_ORDER = {"high": 0, "medium": 1, "low": 2, "": 3}
TIER_CELL_STYLE = {"high": "bold red", "medium": "bold yellow", "low": "bold green"}  # render.TIER_STYLE's colours


def _tier_cell(tier: str) -> Text:
    return Text(tier, style=TIER_CELL_STYLE.get(tier, ""))


def _text(value: str) -> Text:
    """A cell that is never parsed as markup (descriptions may contain brackets)."""
    return Text(value)


def _sort_key(column: str):
    if column == "tier":
        return lambda cell: TIER_ORDER.get(getattr(cell, "plain", str(cell)), 3)
    if column in ("row", "confidence"):
        return lambda cell: (0, cell) if isinstance(cell, int | float) else (1, 0)
    return lambda cell: str(getattr(cell, "plain", cell))
