"""The Register screen (F5): the team's products with their tiers and decisions; Enter opens one in the Assess screen.

Reads through `riskclass.register.Register`, the API `riskclass register …` uses, so both faces show the same data.
Filters and search go to the register's own query (`Register.products`); sorting is the table's.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from riskclass.errors import RiskclassError
from riskclass.register import Product, ProductRow
from riskclass.tui.i18n import error_title, localize_tree, t
from riskclass.tui.messages import OpenProduct
from riskclass.tui.widgets.cells import tier_cell, tier_sort_key, tier_word, yes_no
from riskclass.tui.widgets.product_history import ProductHistory, when

ALL = "__all__"
TIER_FILTER = (ALL, "high", "medium", "low")
REVIEW_FILTER = (ALL, "yes", "no")
REVIEW_WORDS = {ALL: "batch.all", "yes": "batch.review_yes", "no": "batch.review_no"}
COLUMNS = ("id", "name", "tier", "review", "decided", "assessed")
# Pause after the last keystroke in the search field before querying: typing a word is one query, not one a key.
SEARCH_DEBOUNCE_SECONDS = 0.25
NAME_WIDTH = 24  # cells of the name column at most: the history pane shows the whole name


class RegisterScreen(Screen):
    """The table on the left, the highlighted product's history on the right."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search"),
        Binding("t", "cycle_tier", "Tier"),
        Binding("n", "cycle_review", "Needs review"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("r", "reverse_sort", "Reverse"),
        Binding("escape", "back", "Back"),
    ]

    class Loaded(Message):
        """The rows that pass the filters (`rows`), or why the register could not be read (`error`)."""

        def __init__(self, rows: list[ProductRow], error: RiskclassError | None = None) -> None:
            super().__init__()
            self.rows = rows
            self.error = error

    class DetailLoaded(Message):
        """One product with its history, for the detail pane (or None with `error`)."""

        def __init__(self, pid: str, product: Product | None, error: RiskclassError | None = None) -> None:
            super().__init__()
            self.pid = pid
            self.product = product
            self.error = error

    def __init__(self, lang: str) -> None:
        super().__init__(id="register")
        self.lang = lang
        self.rows: dict[str, ProductRow] = {}  # by id: what the table shows
        self.product: Product | None = None  # the highlighted product, as the detail pane shows it
        self.sort: tuple[str, bool] = ("id", False)  # column key, reversed
        self.error: RiskclassError | None = None
        self._ready = False
        self._debounce: Timer | None = None
        self._query: tuple[str | None, bool | None, str | None] | None = None  # the last query sent
        self._filled: tuple = ()  # what the table was last filled with: the same rows are not drawn again

    def compose(self) -> ComposeResult:
        yield Header(icon="⚖")
        with Horizontal(id="register-bar"):
            yield Input(id="register-search", compact=True)
            yield Label("", id="register-tier-label")
            yield Select([(t("batch.all", self.lang), ALL)], id="register-tier", allow_blank=False, compact=True)
            yield Label("", id="register-review-label")
            yield Select([(t("batch.all", self.lang), ALL)], id="register-review", allow_blank=False, compact=True)
            yield Static("", id="register-count", markup=False)
        with Horizontal(id="register-body"):
            yield DataTable(id="register-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="register-detail"):
                yield ProductHistory(id="register-history")
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        self.apply_language(self.lang)
        self.query_one("#register-table", DataTable).focus()
        self.reload()

    def on_screen_resume(self) -> None:
        if self._ready:
            self.reload(force=True)  # answers saved in the Assess screen may have changed a tier

    # ---- language -----------------------------------------------------------------------------------------------

    def apply_language(self, lang: str) -> None:
        self.lang = lang
        if not self._ready:
            return
        localize_tree(self, lang)
        self.query_one("#register-search", Input).placeholder = t("register.search_placeholder", lang)
        self.query_one("#register-tier-label", Label).update(t("batch.filter_tier", lang))
        self.query_one("#register-review-label", Label).update(t("batch.filter_review", lang))
        self.query_one("#register-detail").border_title = t("register.history", lang)
        tier = self.query_one("#register-tier", Select)
        keep = tier.value
        tier.set_options([(t("batch.all", lang), ALL), *((tier_word(k, lang), k) for k in TIER_FILTER[1:])])
        tier.value = keep if keep is not Select.NULL else ALL
        review = self.query_one("#register-review", Select)
        keep = review.value
        review.set_options([(t(REVIEW_WORDS[v], lang), v) for v in REVIEW_FILTER])
        review.value = keep if keep is not Select.NULL else ALL
        self._fill_table()
        self._show_history()
        self.refresh_bindings()

    # ---- reading the register -------------------------------------------------------------------------------------

    def reload(self, force: bool = False) -> None:
        """Query the register with the current search and filters (unless that very query is what is shown)."""
        tier = self.query_one("#register-tier", Select).value
        review = self.query_one("#register-review", Select).value
        search = self.query_one("#register-search", Input).value.strip()
        query = (
            None if tier in (ALL, Select.NULL) else str(tier),
            None if review in (ALL, Select.NULL) else review == "yes",
            search or None,
        )
        if query == self._query and not force:
            return  # e.g. a filter re-set to its own value when the language changes
        self._query = query
        self.load_rows(*query)

    @work(thread=True, exclusive=True, exit_on_error=False, group="register")
    def load_rows(self, tier: str | None, needs_review: bool | None, search: str | None) -> None:
        worker = get_current_worker()
        try:
            rows = self.app.open_register().products(tier=tier, needs_review=needs_review, search=search)
        except RiskclassError as exc:
            if not worker.is_cancelled:
                self.post_message(self.Loaded([], exc))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(rows))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.error = message.error
        self.rows = {r.id: r for r in message.rows}
        if message.error is not None:
            self.app.notify(
                message.error.text(self.lang), title=error_title(message.error, self.lang), severity="error", timeout=10
            )
        self._fill_table()

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-detail")
    def load_detail(self, pid: str) -> None:
        worker = get_current_worker()
        try:
            product = self.app.open_register().product(pid)
        except RiskclassError as exc:
            if not worker.is_cancelled:
                self.post_message(self.DetailLoaded(pid, None, exc))
            return
        if not worker.is_cancelled:
            self.post_message(self.DetailLoaded(pid, product))

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        if message.pid != self.highlighted_id:
            return  # the cursor moved on meanwhile
        if message.error is not None:
            self.app.notify(
                message.error.text(self.lang), title=error_title(message.error, self.lang), severity="error"
            )
        self.product = message.product
        self._show_history()

    def _show_history(self) -> None:
        rulebook = self.app.rulebook
        steps = {o.id: o.title.get(self.lang) for o in rulebook.obligations} if rulebook is not None else {}
        self.query_one(ProductHistory).show(self.product, self.lang, steps)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group in ("register", "register-detail"):
            error = event.worker.error
            self.app.notify(t("internal", self.lang, error=f"{type(error).__name__}: {error}"), severity="error")

    # ---- the table --------------------------------------------------------------------------------------------------

    @property
    def highlighted_id(self) -> str | None:
        table = self.query_one("#register-table", DataTable)
        if not table.row_count:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(key.value)

    def shown_ids(self) -> list[str]:
        """The ids in the table, top to bottom (after filtering and sorting)."""
        table = self.query_one("#register-table", DataTable)
        return [str(table.coordinate_to_cell_key((i, 0))[0].value) for i in range(table.row_count)]

    def _fill_table(self) -> None:
        if not self._ready:
            return
        lang = self.lang
        filled = (lang, tuple(self.rows.values()), self.error is None)
        if filled == self._filled:
            return
        self._filled = filled
        table = self.query_one("#register-table", DataTable)
        was = self.highlighted_id
        table.clear(columns=True)
        none = t("register.none", lang)
        cells = [
            (
                r.id,
                r.name,
                tier_cell(r.tier, lang) if r.tier else none,
                yes_no(r.needs_review, lang),
                tier_cell(r.decided_tier, lang) if r.decided_tier else "",
                when(r.assessed_at),
            )
            for r in self.rows.values()
        ]
        for i, key in enumerate(COLUMNS):
            label = t(f"register.col.{key}", lang)
            # Widths from the cells, not measured later by the table when idle: the table is right at first paint.
            width = max([cell_len(label), *(cell_len(str(getattr(row[i], "plain", row[i]))) for row in cells)])
            table.add_column(label, key=key, width=min(width, NAME_WIDTH) if key == "name" else width)
        for r, row in zip(self.rows.values(), cells, strict=True):
            table.add_row(*row, key=r.id)
        self._apply_sort()
        if was in self.rows:
            table.move_cursor(row=table.get_row_index(was))
        count = t("register.count", lang, shown=len(self.rows))
        if self.error is not None:
            count = self.error.text(lang)
        self.query_one("#register-count", Static).update(count)
        if not self.rows:
            self.product = None
            self._show_history()

    def _apply_sort(self) -> None:
        column, reverse = self.sort
        table = self.query_one("#register-table", DataTable)
        if table.row_count:
            table.sort(column, key=_sort_key(column), reverse=reverse)

    def sort_by(self, column: str, reverse: bool = False) -> None:
        self.sort = (column, reverse)
        self._apply_sort()
        self._say_sort()

    def _say_sort(self) -> None:
        column, reverse = self.sort
        name = t(f"register.col.{column}", self.lang)
        self.app.notify(t("register.sorted_desc" if reverse else "register.sorted", self.lang, column=name), timeout=2)

    @on(DataTable.HeaderSelected, "#register-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        self.sort_by(key, reverse=self.sort == (key, False))

    @on(DataTable.RowHighlighted, "#register-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.load_detail(str(event.row_key.value))

    @on(DataTable.RowSelected, "#register-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_product(str(event.row_key.value))

    @work(thread=True, exclusive=True, exit_on_error=False, group="register-open")
    def open_product(self, pid: str) -> None:
        """Read the product afresh (the pane may be older than another process's import) and open it in Assess."""
        try:
            product = self.app.open_register().product(pid)
        except RiskclassError as exc:
            self.post_message(self.DetailLoaded(pid, None, exc))
            return
        self.post_message(OpenProduct(product))

    # ---- keys -------------------------------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#register-search", Input).focus()

    @on(Input.Changed, "#register-search")
    def _search_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(SEARCH_DEBOUNCE_SECONDS, self._search_now)

    def _search_now(self) -> None:
        self._debounce = None
        self.reload()

    @on(Input.Submitted, "#register-search")
    def _search_submitted(self) -> None:
        if self._debounce is not None:
            self._search_now()
        self.query_one("#register-table", DataTable).focus()  # Enter: back to the results, to move and open

    @on(Select.Changed, "#register-tier, #register-review")
    def _filter_changed(self) -> None:
        self.reload()

    def _cycle(self, select_id: str, values: tuple[str, ...]) -> None:
        select = self.query_one(select_id, Select)
        at = values.index(str(select.value)) if select.value in values else 0
        select.value = values[(at + 1) % len(values)]

    def action_cycle_tier(self) -> None:
        """T: all → high → medium → low → all."""
        self._cycle("#register-tier", TIER_FILTER)

    def action_cycle_review(self) -> None:
        """N: all → needs review → does not → all."""
        self._cycle("#register-review", REVIEW_FILTER)

    def action_cycle_sort(self) -> None:
        """S: sort by the next column (id, name, tier, needs review, decided tier, last assessed)."""
        at = COLUMNS.index(self.sort[0]) if self.sort[0] in COLUMNS else -1
        self.sort_by(COLUMNS[(at + 1) % len(COLUMNS)], self.sort[1])

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort[0], not self.sort[1])

    def action_back(self) -> None:
        self.app.pop_screen()


def _sort_key(column: str):
    if column in ("tier", "decided"):
        return tier_sort_key  # high, medium, low, then none (failed, or no decision)
    return lambda cell: str(getattr(cell, "plain", cell)).casefold()
