"""`riskclass batch`: classify every row of a CSV, TSV or .xlsx file and lose none of them.

Reading (what people really have):

- Encoding detected without flags: a UTF-8, UTF-16 or UTF-32 byte-order mark wins; UTF-16 without a mark is recognised
  by its zero bytes or its decoding into Chinese text; a file that is valid UTF-8 throughout is UTF-8. Otherwise
  charset-normalizer chooses GB18030 (the superset of GBK that Excel writes on Chinese Windows) or Big5 for the lines
  that are not UTF-8, and the file is read line by line (`riskclass.tables.read.LineDecoder` gives the rule): when
  lines disagree about the encoding (a file pasted together from a UTF-8 and a GBK export) the summary says which, and
  the run exits 3. `--encoding` forces one.
- Delimiter sniffed among `,` tab `;` (the one that splits the header into most columns and the first rows into the
  same number); `--delimiter` forces one. Quoted cells may hold delimiters, quotes and line breaks; cells of any size
  are read (Python's 128 KiB default field limit is lifted).
- Blank lines (no field at all) are not rows: they are skipped and counted in the summary. A row of empty fields
  (`,,,`) is a row, and fails with "the description is empty".
- Ragged rows: a row with fewer fields than the header is padded with empty cells; fields beyond the header are kept,
  in added columns `extra_1`, `extra_2`, … (so the output table is rectangular and nothing is dropped).
- Header names: a blank name becomes `column_N` (N its position), a repeated one `name_2`, `name_3`, … and an input
  column whose name is one of the result columns (e.g. the `tier` of a labelled file) becomes `input_tier`; only the
  header changes, never a cell. Names are compared case-insensitively.
- A byte that is not valid in the file's encoding (nor in any tried for its line) never stops the run, and is never
  guessed: it is written back as `\\xNN`; if it is in the description that row fails with an `error` and no tier.
- `-` reads standard input (spooled to a temporary file, so it can be read twice: once to count, once to classify).
- `.xlsx` (the active sheet, or `--sheet`) when openpyxl is installed: the values Excel cached, not formulas (the
  formula text only where a workbook holds no cached value, as in files written by scripts).

Output:

- Every input row, in order, with every input column, then the result columns `RESULT_COLUMNS`: tier (high|medium|low,
  empty when the row failed), confidence, criteria, red_flags, needs_review, obligations (ids joined by `;`), error
  (empty unless the row failed), then possible_criteria, article50 (items triggered), decided_by and questions
  (joined by ` | `). A failed row has needs_review `true`: a person has to look at it.
- CSV is UTF-8 with CRLF line ends (`--excel` adds a byte-order mark so Excel shows Chinese correctly). JSONL writes
  one object a line: the `classify --json` fields plus `row` (1-based data row), `input` (the row by column name) and
  `error`; a failed row has `"tier": null` and its `error`.
- Formula guard (CSV only): a cell starting with `=`, `+`, `-`, `@`, tab or carriage return is written with a leading
  `'` so that a spreadsheet shows it as text instead of running it (CSV injection). Plain numbers (`-12.5`, `+86`)
  cannot run anything and are left alone. This is the one change ever made to an input cell; `--no-formula-guard`
  turns it off for output that no spreadsheet will open.
- Safe writing: the output is written to a hidden temporary file beside it (`.NAME.*.partial`), flushed to disk and
  renamed over NAME only when complete, so an interrupted run never leaves a half file under the output name (a run
  killed with SIGKILL may leave the hidden `.partial` file behind). The input file is never overwritten, nor an
  existing output without `--force`.

Exit status (CONTRACT.md): 0 every row classified; 3 finished but some rows carry an `error`; 2 unusable input or
arguments. Memory stays flat as the file grows: rows are read, classified (`Engine.assess_many`, one vectorised model
call per chunk) and written `CHUNK_ROWS` at a time; `--jobs N` classifies chunks in N worker processes (joblib/loky,
each loading the model once) and writes them in input order.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from riskclass.errors import ExitCode, InputError, RiskclassError, Text
from riskclass.tables.files import AtomicOutput, check_output_path
from riskclass.tables.read import _UNDECODABLE, Table, _count, _count_zh, _undecodable_seen, check_input_file
from riskclass.tables.write import ERROR_INDEX, RESULT_COLUMNS, _CsvWriter, _JsonlWriter

if TYPE_CHECKING:
    from riskclass.engine.decide import Engine


TIERS = ("high", "medium", "low")


# Rows per chunk: large enough that the model's vectorised call and the per-chunk overhead (and, with --jobs, the
# pickling to a worker) are amortised, small enough that memory stays flat and progress moves every second or so.
CHUNK_ROWS = 1000
# Rows this process classifies before it forks its workers: enough to load everything a chunk needs and to sample
# the texts the batch screen is indexed for. The other cores wait for them: 1,000 rows left one idle for ~0.6 s (at
# ~0.6 ms a row). A screen indexed on 200 generated texts screened the next 6,000 as fast as one indexed on 1,000
# (70 µs a row each).
FIRST_FORKED_ROWS = 200
# Identical descriptions (an inventory lists the same product many times) are assessed once; the last this many
# distinct results are remembered across chunks. Descriptions longer than CACHE_MAX_CHARS are not remembered.
RESULT_CACHE_ROWS = 4096
CACHE_MAX_CHARS = 2000


class BatchCancelled(RiskclassError):
    """The run was cancelled (TUI) or interrupted: no output file was written."""

    title = "cancelled"


@dataclass
class BatchOptions:
    input: str
    """Path of the CSV/TSV/xlsx file, or "-" for standard input."""
    output: str
    """Path of the output file, or "-" for standard output (then written as it goes, not atomically)."""
    column: str | None = None
    """The description column (name, or 1-based position); found by name when None."""
    format: str = "csv"
    """csv | jsonl"""
    excel: bool = False
    """CSV with a UTF-8 byte-order mark, so Excel opens Chinese text correctly (also without it when the input came
    from Excel: `Table.from_excel`)."""
    no_bom: bool = False
    """Never a byte-order mark, even for an input that came from Excel (for tools that dislike one)."""
    jobs: int = 1
    """Worker processes (joblib/loky, each loading the model once); 1 classifies in this process, 0 uses every core."""
    encoding: str | None = None
    """Force the input encoding (detected when None)."""
    force: bool = False
    """Replace an existing output file."""
    lang: str = "zh"
    """Language of the questions column and of JSONL texts."""
    rules_only: bool = False
    """Do not consult the model (used only when run_batch builds the engine itself)."""
    delimiter: str | None = None
    """Force the CSV delimiter (sniffed among , tab ; when None)."""
    sheet: str | None = None
    """Worksheet of an .xlsx input (the active one when None)."""
    formula_guard: bool = True
    """Prefix spreadsheet-formula cells with ' in CSV output (see the module docstring)."""
    chunk_rows: int = CHUNK_ROWS
    """Rows read, classified and written at a time."""
    reports: str | None = None
    """Directory for one report per classified row (riskclass.reports), moved into place when the run succeeds."""
    report_format: str = "html"
    """md | html | json"""
    id_column: str | None = None
    """Column naming each row's report (name or 1-based position); an id-like column by name, else row-N."""


@dataclass
class BatchSummary:
    rows_in: int
    rows_out: int
    tiers: dict[str, int]
    needs_review: int
    errors: int
    output: str
    encoding: str | None = None
    delimiter: str | None = None
    column: str = ""
    blank_lines: int = 0
    seconds: float = 0.0
    notes: list[Text] = field(default_factory=list)  # in both languages: the face that prints them picks one
    reports: int = 0  # report files written (--reports)
    bom: str = ""  # why the CSV output starts with a UTF-8 byte-order mark: "excel" (--excel), "input" (from Excel)
    """What was changed or skipped on the way (renamed headers, padded rows, blank lines, replaced bytes)."""
    failed_rows: list[tuple[int, Text]] = field(default_factory=list)  # the first few, in both languages
    """The first few failed rows: (1-based data row, error)."""
    mixed_encodings: bool = False
    """Lines of the input were read in different encodings (see the notes): the run is partial, rows need a look."""

    @property
    def exit_code(self) -> int:
        return ExitCode.PARTIAL if self.errors or self.mixed_encodings else ExitCode.OK


# ---- reading ------------------------------------------------------------------------------------------------------


# ---- classifying --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """One row's result: what is counted (tier, needs_review, error) and what is written (cells or record)."""

    tier: str  # "" when the row failed
    needs_review: bool
    error: str  # English in the `error` column: the column is for scripts, like the tier ids
    cells: tuple[str, ...]  # CSV result columns, in RESULT_COLUMNS order
    record: dict | None = None  # JSONL: Assessment.to_dict(lang); None for CSV output or a failed row
    error_zh: str = ""  # the error in Chinese, for the run's summary (issue 13)


def _number(x: float) -> str:
    return repr(round(float(x), 4))


def failed(message: str, zh: str = "") -> Outcome:
    cells = [""] * len(RESULT_COLUMNS)
    cells[RESULT_COLUMNS.index("needs_review")] = "true"
    cells[ERROR_INDEX] = message
    return Outcome("", True, message, tuple(cells), error_zh=zh)


def outcome_of(result: Any, fmt: str, lang: str) -> Outcome:
    """The Outcome of one `Engine.assess_many` item (an Assessment, a Verdict for CSV output, or a RiskclassError)."""
    if isinstance(result, RiskclassError):
        return failed(result.message, result.zh or "")
    v = result.verdict() if hasattr(result, "verdict") else result  # an Assessment's cells are its Verdict's
    cells = (
        v.tier,
        _number(v.confidence),
        ";".join(v.criteria),
        ";".join(v.red_flags),
        "true" if v.needs_review else "false",
        ";".join(v.obligations),
        "",
        ";".join(v.possible),
        ";".join(map(str, v.article50)),
        v.decided_by,
        " | ".join(q.text.get(lang) for q in v.questions),
    )
    details = result.to_dict(lang) if fmt == "jsonl" and v is not result else None
    return Outcome(v.tier, v.needs_review, "", cells, details)


class ProbabilitiesOnly:
    """The model's probabilities without its per-row top terms.

    The CSV output shows no terms, and ranking them is a large share of the model's time per row; the probabilities
    (all the engine decides on) come from the model's own `predict_proba_normalised`, so tiers, confidence and review
    flags are identical (a test checks). JSONL output keeps the full model.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.sha256 = model.sha256

    def opinion(self, text: Any) -> Any:
        return self.opinions([text])[0]

    def opinions(self, texts: list) -> list:
        from riskclass.model.opinion import ModelOpinion

        rows = self.model.predict_proba_normalised([t.text for t in texts])
        return [ModelOpinion({t: row[t] for t in TIERS}) for row in rows]


def _for_format(engine: Engine, fmt: str) -> Engine:
    """The engine to run for `fmt`: for CSV, the same rules with a probabilities-only view of the model."""
    model = engine.model
    if fmt != "csv" or model is None or not hasattr(model, "predict_proba_normalised"):
        return engine
    from riskclass.engine.decide import Engine

    return Engine(rulebook=engine.rulebook, model=ProbabilitiesOnly(model))


class Classifier:
    """Classifies lists of descriptions into Outcomes; identical descriptions are assessed once (bounded cache)."""

    def __init__(self, engine: Engine, fmt: str, lang: str) -> None:
        self.engine = _for_format(engine, fmt)
        self.fmt = fmt
        self.lang = lang
        self.cache: OrderedDict[str, Outcome] = OrderedDict()
        self.assessed = 0  # distinct descriptions sent to the engine
        # CSV shows only a Verdict of each row; an engine with an assess_many of its own (a test's spy) gets the
        # usual call.
        from riskclass.engine.decide import Engine

        self.brief = fmt == "csv" and getattr(type(self.engine), "assess_many", None) is Engine.assess_many

    def __call__(self, descriptions: list[str]) -> list[Outcome]:
        known: dict[str, Outcome] = {}
        todo: list[str] = []
        for d in descriptions:
            if d in known:
                continue
            hit = self.cache.get(d)
            if hit is not None:
                self.cache.move_to_end(d)
                known[d] = hit
            else:
                known[d] = None  # type: ignore[assignment] - filled below
                todo.append(d)
        if todo:
            self.assessed += len(todo)
            for d, oc in zip(todo, self._assess(todo), strict=True):
                known[d] = oc
                if len(d) <= CACHE_MAX_CHARS:
                    self.cache[d] = oc
            while len(self.cache) > RESULT_CACHE_ROWS:
                self.cache.popitem(last=False)
        if not gc.isenabled():  # paused by the batch (`_collector_paused`): a chunk's cycles, if any, go here
            gc.collect(1)
        return [known[d] for d in descriptions]

    def _assess(self, descriptions: list[str]) -> list[Outcome]:
        failure = Text("internal error on this row", "此行出现内部错误")
        results = assess_each(self.engine, descriptions, failure, self.brief)
        return [outcome_of(r, self.fmt, self.lang) for r in results]


def assess_each(engine: Engine, descriptions: list[str], failure: Text, brief: bool = False) -> list[Any]:
    """`engine.assess_many(descriptions)` (with `brief`: its Verdicts), except that a bug hit by one description must
    not sink the others: the chunk is retried one by one, and a description that fails again gets a RiskclassError,
    `failure` naming what it was (a batch row, a register product's description), followed by the exception."""

    def assess(ds: list[str]) -> list[Any]:
        return engine.assess_many(ds, brief=True) if brief else engine.assess_many(ds)

    try:
        return assess(descriptions)
    except Exception:
        results: list[Any] = []
        for d in descriptions:
            try:
                results.extend(assess([d]))
            except Exception as exc:
                results.append(
                    RiskclassError(
                        f"{failure.en}: {type(exc).__name__}: {exc}", zh=f"{failure.zh}：{type(exc).__name__}: {exc}"
                    )
                )
        return results


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a batch runs (`run_batch`, from the main thread only: the
    terminal app runs batches in a thread beside its own work); each chunk collects the young generations once
    (`Classifier.__call__`), and forked workers inherit the pause.

    A chunk allocates millions of objects and leaves almost no cycles, but the collector, counting allocations,
    made ~2,600 passes over a 20,000-row batch, 21 of them over every live object (the model's and the tokeniser's
    caches included): 1.8 s of a 13 s run at --jobs 1, measured with `gc.callbacks`, against 0.2 s paused, with the
    same peak memory (166 and 168 MiB).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (a container or `taskset` allows fewer than exist)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def effective_jobs(jobs: int) -> int:
    """Worker processes for `--jobs`: 0 means every usable core, and more workers than usable cores are capped there.

    A worker holds its own copy of the model (~225 MiB measured, issue 12), and workers beyond the cores only wait
    for a turn: more of them cost memory and buy no speed.
    """
    cores = usable_cores()
    return cores if jobs == 0 else min(jobs, cores)


def default_jobs() -> int:
    """`batch`'s default --jobs: the usable cores other programs leave idle (cores minus the whole cores `busy_cores`
    says other programs keep busy), at least 1, and 1 where workers cannot be forked (each loky worker loads its own
    model: ~225 MiB).

    A worker on a busy core only waits its turn (measured: on this 2-core machine under a load of 8, --jobs 2 was no
    faster than --jobs 1), and a file of one chunk never starts one (see `_forked`). Only whole cores count as busy.
    """
    if not _can_fork():
        return 1
    cores = usable_cores()
    return max(1, min(cores, cores - int(busy_cores())))


def busy_cores() -> float:
    """The cores other programs keep busy: the 1-minute load average, but on Linux no more than the other processes
    the kernel counts as runnable right now.

    The average alone lags: it still counts a program that has just ended for most of a minute. Measured on this idle
    2-core machine, just after another command, a load of 0.95–1.02 made the default one job (1,253–1,385 rows/s on
    20,000 rows) where --jobs 2 gave 1,846–2,122; run in turn with another command, the default was always one job.
    The runnable count alone is one instant: the lower of the two is busy both now and over the last minute.
    """
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0
    others = _runnable_others()
    return busy if others is None else min(busy, float(others))


def _runnable_others() -> int | None:
    """Processes the kernel counts as runnable now, less this one (the fourth field of /proc/loadavg, "R/T"); None
    where there is no such file."""
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            runnable = int(fh.read().split()[3].split("/")[0])
    except (OSError, IndexError, ValueError):
        return None
    return max(0, runnable - 1)


# How often a worker checks that the batch that started it is still alive, when the kernel cannot tell it (not
# Linux). One second: a user who kills a batch sees its workers gone "at once", and one getppid() a second is free.
PARENT_POLL_SECONDS = 1.0
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _exit_with_parent(parent_pid: int, kernel_signal: bool) -> None:
    """Worker initializer: end this worker when the batch process that started it dies, even by SIGKILL.

    Without it, a killed `batch --jobs N` left its workers (and their models) in memory for good (issue 12). On Linux
    the kernel sends SIGKILL on the parent's death (PR_SET_PDEATHSIG), when the workers were started from the main
    thread (the signal follows the *thread* that forked, and the terminal app runs batches in short-lived threads);
    everywhere, a daemon thread also watches for the worker being re-parented and exits.
    """
    import signal

    if kernel_signal and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the line above: nobody will signal us
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="riskclass-parent-watch", daemon=True).start()


# Worker processes (--jobs N): one engine per process, built on the first chunk and kept for the next ones.
_worker_classifiers: dict[tuple, Classifier] = {}


def _classify_in_worker(spec: Any, descriptions: list[str], fmt: str, lang: str) -> list[Outcome]:
    if isinstance(spec, tuple):
        key = (*spec, fmt, lang)
        classifier = _worker_classifiers.get(key)
        if classifier is None:
            classifier = _worker_classifiers[key] = Classifier(_engine_from_spec(spec[0]), fmt, lang)
    else:  # an Engine the caller built (a custom model or rulebook): shipped with every chunk
        classifier = Classifier(spec, fmt, lang)
    return classifier(descriptions)


def _engine_from_spec(spec: str) -> Engine:
    from riskclass.engine.decide import Engine

    if spec == "rules":
        return Engine(model=None)
    from riskclass.model.classifier import load_shipped_model

    return Engine(model=load_shipped_model())


def _worker_spec(engine: Engine | None, options: BatchOptions) -> Any:
    """How a worker gets its engine: ("rules",), ("shipped",) (loaded once per worker), or the Engine itself."""
    if engine is None:
        return ("rules",) if options.rules_only else ("shipped",)
    from riskclass.rulebook.rules import load_rulebook

    if engine.rulebook is not load_rulebook():
        return engine
    if engine.model is None:
        return ("rules",)
    try:
        from riskclass.model.classifier import read_manifest, shipped_model_dir

        if engine.model.sha256 == read_manifest(shipped_model_dir())["model_sha256"]:
            return ("shipped",)
    except RiskclassError:
        pass
    loaded = getattr(sys.modules.get("riskclass.model.classifier"), "_loaded", None)
    return ("shipped",) if loaded is not None and engine.model is loaded else engine


def _default_engine(options: BatchOptions) -> Engine:
    return _engine_from_spec("rules" if options.rules_only else "shipped")


# ---- the run ------------------------------------------------------------------------------------------------------


def _check_paths(options: BatchOptions) -> None:
    if options.format not in ("csv", "jsonl"):
        raise InputError(
            f"--format must be csv or jsonl, not {options.format!r}",
            zh=f"--format 只能是 csv 或 jsonl，而不是 {options.format!r}",
        )
    if options.excel and options.format != "csv":
        raise InputError("--excel applies to CSV output only", zh="--excel 只适用于 CSV 输出")
    if options.excel and options.no_bom:
        raise InputError(
            "--excel adds a byte-order mark and --no-bom leaves it out: give one of them",
            zh="--excel 添加字节顺序标记（BOM），--no-bom 不加：二者只能选一个",
        )
    if options.jobs < 0:
        raise InputError(
            f"--jobs must be 1 or more (0: every core), not {options.jobs}",
            zh=f"--jobs 必须是 1 或更大（0：全部核心），而不是 {options.jobs}",
        )
    if options.chunk_rows < 1:
        raise InputError("chunk_rows must be at least 1", zh="chunk_rows 至少为 1")
    if options.lang not in ("zh", "en"):
        raise InputError(
            f"--lang must be zh or en, not {options.lang!r}", zh=f"--lang 只能是 zh 或 en，而不是 {options.lang!r}"
        )
    check_input_file(options.input)
    out = options.output
    if out == "-":
        return
    if out.lower().endswith((".xlsx", ".xls")):
        raise InputError(
            f"{out}: batch writes CSV or JSONL; name the output .csv (add --excel to open it in Excel)",
            zh=f"{out}：batch 只写 CSV 或 JSONL；请把输出命名为 .csv（加 --excel 以便在 Excel 中打开）",
        )
    if (
        options.input != "-"
        and os.path.exists(out)
        and os.path.exists(options.input)
        and os.path.samefile(options.input, out)
    ):
        raise InputError(
            f"{out} is the input file: write the results to another file",
            zh=f"{out} 就是输入文件：请把结果写到另一个文件",
        )
    check_output_path(out, options.force)  # a missing, unwritable or /-ended OUTPUT fails now, not after the run


def _chunks(
    records: Iterator[tuple[int, list[str]]], size: int, first: int | None = None
) -> Iterator[list[tuple[int, list[str]]]]:
    """Lists of `size` records (the first of `first`, when given)."""
    chunk: list[tuple[int, list[str]]] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) == (first or size):
            yield chunk
            chunk = []
            first = None
    if chunk:
        yield chunk


def _undecodable_error(encoding: str | None) -> Outcome:
    return failed(
        f"the description has bytes that are not valid {encoding or 'text'} (kept as \\xNN, not classified): "
        "fix them, or pass --encoding if the whole file is in another encoding",
        f"描述中有在 {encoding or '文本'} 中无效的字节（保留为 \\xNN，未评估）：请修正，"
        "或在整个文件是另一种编码时用 --encoding 指定",
    )


@dataclass
class _Chunk:
    rows: list[tuple[int, list[str]]]
    clean: bool  # no undecodable bytes in any of its cells
    todo: list[int]  # positions whose description goes to the engine
    descriptions: list[str]
    replaced: int = 0  # cells other than the description with undecodable bytes (written as \\xNN)


def _prepare(rows: list[tuple[int, list[str]]], column: int, watch_bytes: bool) -> _Chunk:
    chunk = _Chunk(rows, True, [], [])
    for i, (_, cells) in enumerate(rows):
        if watch_bytes:
            bad = [j for j, c in enumerate(cells) if _UNDECODABLE.search(c)]
            if bad:
                chunk.clean = False
                chunk.replaced += sum(1 for j in bad if j != column)
                if column in bad:
                    continue
        chunk.todo.append(i)
        chunk.descriptions.append(cells[column])
    return chunk


def _merge(chunk: _Chunk, outcomes: list[Outcome], encoding: str | None) -> list[Outcome]:
    """Outcomes for every row of the chunk: the engine's, and an error where the description did not decode."""
    if len(chunk.todo) == len(chunk.rows):
        return outcomes
    merged = [_undecodable_error(encoding)] * len(chunk.rows)
    for i, oc in zip(chunk.todo, outcomes, strict=True):
        merged[i] = oc
    return merged


def _classified(
    table: Table,
    column: int,
    engine: Engine | None,
    options: BatchOptions,
    cancel: threading.Event | None,
) -> Iterator[tuple[_Chunk, list[Outcome]]]:
    """Chunks of rows with their outcomes, in input order, classified here or in worker processes."""
    start_seen = _undecodable_seen[0]
    jobs = effective_jobs(options.jobs)
    forking = jobs > 1 and _can_fork()

    def prepared() -> Iterator[_Chunk]:
        # Forked workers start once this process has classified the first chunk (see `_forked`): the smaller it is,
        # the sooner they do.
        first = min(FIRST_FORKED_ROWS, options.chunk_rows) if forking else None
        for rows in _chunks(table.records(), options.chunk_rows, first):
            if cancel is not None and cancel.is_set():
                return
            yield _prepare(rows, column, _undecodable_seen[0] != start_seen)

    fmt = "jsonl" if options.reports else options.format  # a report needs the whole assessment, as JSONL does
    if jobs == 1:
        classify = Classifier(engine or _default_engine(options), fmt, options.lang)
        for chunk in prepared():
            yield chunk, _merge(chunk, classify(chunk.descriptions), table.encodings_tried)
        return

    if forking:
        yield from _forked(prepared(), engine or _default_engine(options), fmt, options.lang, jobs, table)
        return

    from joblib import Parallel, delayed, parallel_config

    spec = _worker_spec(engine, options)
    pending: deque[_Chunk] = deque()

    def tasks() -> Iterator[Any]:
        for chunk in prepared():
            pending.append(chunk)
            yield delayed(_classify_in_worker)(spec, chunk.descriptions, fmt, options.lang)

    from_main_thread = threading.current_thread() is threading.main_thread()
    with parallel_config(backend="loky", initializer=_exit_with_parent, initargs=(os.getpid(), from_main_thread)):
        results = Parallel(n_jobs=jobs, return_as="generator", pre_dispatch="2*n_jobs")(tasks())
    try:
        for outcomes in results:
            chunk = pending.popleft()
            yield chunk, _merge(chunk, outcomes, table.encodings_tried)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # stops dispatching and lets the workers go when the run ends early


# The classifier forked workers inherit (set before they are forked, read only by them).
_inherited: Classifier | None = None


def _can_fork() -> bool:
    """Whether workers can be forked from this process: on Linux, from the only thread there is (a fork copies only
    the thread that calls it, so a lock another thread held would stay held in the worker; the terminal app runs
    batches in threads and keeps loky's fresh workers)."""
    import multiprocessing

    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and threading.current_thread() is threading.main_thread()
    )


def _forked_worker_started(parent_pid: int) -> None:
    """A forked worker leaves Ctrl+C to the batch (which stops it and writes nothing) and dies with it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})  # held back while it was forked
    _exit_with_parent(parent_pid, True)


def _submit_forking(pool: Any, descriptions: list[str]) -> Any:
    """The pool's first submit, which forks its workers, with Ctrl+C and SIGTERM held until the pool can shut them
    down. Delivered during the fork, the interrupt was raised inside an at-fork hook, where Python only prints
    "Exception ignored" — the batch then ran to the end and wrote its file — or between the fork and the pool's
    manager thread, which left workers nothing would stop."""
    import signal

    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        return pool.submit(_classify_inherited, descriptions)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a signal that came meanwhile is raised now, as usual


def _classify_inherited(descriptions: list[str]) -> list[Outcome]:
    assert _inherited is not None, "a forked worker inherits the classifier"
    return _inherited(descriptions)


def _forked(
    chunks: Iterator[_Chunk], engine: Engine, fmt: str, lang: str, jobs: int, table: Table
) -> Iterator[tuple[_Chunk, list[Outcome]]]:
    """`jobs` processes classify the chunks — this one and `jobs - 1` forked workers; results come in input order.

    The first chunk is classified here, which loads everything a chunk needs (the model, jieba's dictionary, the
    rules' screen and compiled patterns); then the workers are forked and share all of it with this process,
    copy-on-write, instead of loading a copy each (a loky worker held ~225 MiB of its own). `gc.freeze` keeps the
    collector from writing into the shared objects' pages. This process classifies every `jobs`-th chunk itself
    between reading and writing, which are light: one process fewer, and its caches, for the same cores. At most two
    chunks per process wait, so memory stays flat. A worker that dies (killed, out of memory) stops the run with an
    error rather than hanging it.
    """
    import gc
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    global _inherited
    first = next(chunks, None)
    if first is None:
        return
    classifier = Classifier(engine, fmt, lang)
    yield first, _merge(first, classifier(first.descriptions), table.encodings_tried)
    _inherited = classifier
    gc.freeze()
    children_before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        jobs - 1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_forked_worker_started,
        initargs=(os.getpid(),),
    )
    from concurrent.futures.process import BrokenProcessPool

    pending: deque[tuple[_Chunk, Any]] = deque()
    try:
        for k, chunk in enumerate(chunks, start=1):
            if k % jobs == 0:  # this process's share
                here: Future = Future()
                here.set_result(classifier(chunk.descriptions))
                pending.append((chunk, here))
            elif k == 1:  # the first chunk a worker gets: this submit forks the workers
                pending.append((chunk, _submit_forking(pool, chunk.descriptions)))
            else:
                pending.append((chunk, pool.submit(_classify_inherited, chunk.descriptions)))
            while len(pending) > 2 * jobs or (pending and pending[0][1].done()):
                done, future = pending.popleft()
                yield done, _merge(done, future.result(), table.encodings_tried)
        while pending:
            done, future = pending.popleft()
            yield done, _merge(done, future.result(), table.encodings_tried)
    except BrokenProcessPool:
        raise RiskclassError(
            "a worker process of the batch died (killed, or out of memory); nothing was written: run it again, "
            "with fewer --jobs if memory is short",
            zh="批处理的一个工作进程意外终止（被结束或内存不足），未写入任何结果：请重新运行，内存紧张时减少 --jobs",
        ) from None
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        # A pool start that fails after the fork and before its manager thread runs (signals are held back there,
        # but a thread may fail to start) leaves workers the shutdown does not know; the interpreter's exit would
        # then wait for them forever.
        for worker in set(multiprocessing.active_children()) - children_before:
            worker.kill()
            worker.join()
        _inherited = None
        gc.unfreeze()


def run_batch(
    options: BatchOptions,
    engine: Engine | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    cancel: threading.Event | None = None,
) -> BatchSummary:
    """Classify every row of `options.input` into `options.output`.

    Raises InputError for unusable input or arguments; a cancelled run leaves no output file and raises
    BatchCancelled. `engine` defaults to the shipped model and rules (rules only with `options.rules_only`).
    `progress(rows_done, total)` is called after each chunk is written.
    """
    _check_paths(options)
    started = time.monotonic()
    tiers = dict.fromkeys(TIERS, 0)
    rows_out = needs_review = errors = replaced = 0
    failed_rows: list[tuple[int, Text]] = []
    with Table(options.input, options.encoding, options.delimiter, options.sheet) as table:
        column = table.find_column(options.column)
        reports = _report_directory(options)
        id_index = _report_id_column(table.names, options) if reports else None
        if progress is not None:
            progress(0, table.total)
        output = AtomicOutput(options.output)
        bom = "" if options.format != "csv" else "excel" if options.excel else "input" if table.from_excel else ""
        bom = "" if options.no_bom else bom
        with output as stream, reports or contextlib.nullcontext(), _collector_paused():
            writer: _CsvWriter | _JsonlWriter
            if options.format == "jsonl":
                writer = _JsonlWriter(stream, table.names)
            else:
                extra = ["report"] if reports else []
                writer = _CsvWriter(stream, [*table.names, *RESULT_COLUMNS, *extra], bool(bom), options.formula_guard)
            for chunk, outcomes in _classified(table, column, engine, options, cancel):
                replaced += chunk.replaced
                for (_, cells), oc in zip(chunk.rows, outcomes, strict=True):
                    rows_out += 1
                    if reports:
                        oc = _with_report(reports, oc, cells, id_index, column, rows_out, options.format)
                    writer.write(rows_out, cells, oc, chunk.clean)
                    if oc.error:
                        errors += 1
                        if len(failed_rows) < 5:
                            failed_rows.append((rows_out, Text(oc.error, oc.error_zh or oc.error)))
                    else:
                        tiers[oc.tier] += 1
                        needs_review += oc.needs_review
                if progress is not None:
                    progress(rows_out, table.total)
                if cancel is not None and cancel.is_set():
                    break
            if cancel is not None and cancel.is_set():
                raise BatchCancelled("cancelled: no output file was written", zh="已取消：没有写出输出文件")
            if rows_out != table.total:  # never expected: the promise of this command is that this cannot happen
                raise RiskclassError(
                    f"internal error: read {table.total} rows but wrote {rows_out}; output discarded",
                    zh=f"内部错误：读入 {table.total} 行却写出 {rows_out} 行；已丢弃输出",
                )
            writer.close()
            output.flush()  # a full disk shows up here, before the reports are moved into place
            if reports:
                reports.commit()
            output.commit()
        notes = list(table.notes)
        if replaced:
            notes.append(
                Text(
                    f"{_count(replaced, 'cell')} with bytes not valid in {table.encoding}: written as \\xNN",
                    f"{_count_zh(replaced, 'cell')}含有在 {table.encoding} 中无效的字节：写作 \\xNN",
                )
            )
        summary = BatchSummary(
            rows_in=table.total,
            rows_out=rows_out,
            tiers=tiers,
            needs_review=needs_review,
            errors=errors,
            output=options.output,
            encoding=table.encoding,
            delimiter=table.delimiter,
            column=table.names[column],
            blank_lines=table.blank_lines,
            seconds=time.monotonic() - started,
            notes=notes,
            failed_rows=failed_rows,
            reports=reports.written if reports else 0,
            mixed_encodings=table.mixed_encodings,
            bom=bom,
        )
        if reports and errors:
            summary.notes.append(
                Text(
                    f"{_count(errors, 'row')} with an error: no report (see the error column)",
                    f"{_count_zh(errors, 'row')}出错：没有报告（见 error 列）",
                )
            )
    return summary


def _report_directory(options: BatchOptions) -> Any:
    if not options.reports:
        return None
    from riskclass.reports.report import ReportDirectory

    return ReportDirectory(options.reports, options.report_format, options.lang, options.force)


def _report_id_column(names: list[str], options: BatchOptions) -> int | None:
    from riskclass.reports.report import find_id_column

    return find_id_column(names, options.id_column)


def _with_report(
    reports: Any, oc: Outcome, cells: list[str], id_index: int | None, column: int, row: int, fmt: str
) -> Outcome:
    """Write the row's report (none for a failed row) and name it in the row's output."""
    if oc.error or oc.record is None:
        return replace(oc, cells=(*oc.cells, ""), record=None)
    name = reports.write(cells[id_index] if id_index is not None else "", row, oc.record, cells[column])
    return replace(oc, cells=(*oc.cells, name), record={**oc.record, "report": name} if fmt == "jsonl" else None)
