"""`riskclass batch`: the command line over `riskclass.batch`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from riskclass.batch.compare import COMPARE_COLUMNS, COMPARE_ID_COLUMNS, compare_outputs
from riskclass.batch.run import TIERS, BatchCancelled, BatchOptions, BatchSummary, run_batch
from riskclass.cli.common import _out_lang
from riskclass.errors import ExitCode, InputError
from riskclass.tables.files import AtomicOutput, check_output_path
from riskclass.tables.read import check_input_file
from riskclass.tables.write import _CsvWriter

# ---- command line -------------------------------------------------------------------------------------------------

EPILOG = """\
output columns:
  every input column, then tier, confidence, criteria, red_flags, needs_review,
  obligations, error, possible_criteria, article50, decided_by, questions. A row that
  cannot be classified (empty, over 100,000 characters, undecodable bytes) gets an
  error and an empty tier; the run goes on.
reading:
  UTF-8 (with or without BOM), UTF-16, GB18030/GBK and Big5 are detected (--encoding
  forces one) and , tab ; delimiters sniffed. Lines in different encodings are named in
  the summary (exit 3); bytes valid in none are written as \\xNN, their row not classified.
  Blank lines are skipped; short rows are padded, extra fields kept as extra_1, extra_2,
  ...; blank or repeated header names are made unique, and an input column named like a
  result column becomes input_NAME.
formula guard:
  in CSV output a cell starting with = + - @ tab or CR gets a leading ' so that a
  spreadsheet shows it as text instead of running it (plain numbers are left alone).
  It is the only change made to an input cell; --no-formula-guard turns it off.
safety:
  written to a hidden .partial file beside OUTPUT and renamed when complete; never
  overwrites INPUT, nor OUTPUT without --force. An OUTPUT that cannot be written is
  refused before the run; a full disk stops it with nothing left behind (exit 2).
  --jobs above the usable cores is capped; workers end when the batch ends or dies.
exit status:
  0 every row classified; 3 finished, some rows carry an error; 2 unusable input or
  arguments.
compare:
  riskclass batch NEW_OUT.csv --compare PREVIOUS_OUT.csv lists the rows whose tier
  changed (CSV on standard output, or -o FILE). Rows are paired by id when both outputs
  have an id column (--id-column NAME, or one called id, 编号, 序号 ...): each product
  whose tier changed is named, "AI-0026: medium → high (gained H4; lost M2)", on
  standard error; otherwise by description text."""


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="INPUT", help="CSV, TSV or .xlsx file, or - for standard input")
    p.add_argument("-o", "--output", metavar="OUTPUT", help="output file (.csv or .jsonl), or - for standard output")
    p.add_argument("--column", metavar="NAME", help="the description column (default: found by name)")
    p.add_argument(
        "--format", choices=["csv", "jsonl"], help="output format (default: jsonl for a .jsonl OUTPUT, else csv)"
    )
    p.add_argument("--excel", action="store_true", help="CSV with a UTF-8 byte-order mark, for Excel")
    p.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="worker processes for big files (default 1; 0: all cores)"
    )
    p.add_argument("--encoding", metavar="ENC", help="force the input encoding (default: detected)")
    p.add_argument("--delimiter", metavar="CHAR", help="force the input delimiter: , ; or tab (default: sniffed)")
    p.add_argument("--sheet", metavar="NAME", help="worksheet of an .xlsx input (default: the active one)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.add_argument(
        "--lang", choices=["zh", "en"], help="language of questions and JSON texts (default: the top-level --lang, zh)"
    )
    p.add_argument("--rules-only", action="store_true", help="do not consult the model")
    p.add_argument("--no-formula-guard", action="store_true", help="write cells starting with = + - @ unchanged")
    p.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    p.add_argument(
        "--reports",
        metavar="DIR",
        help="also write one report per row into DIR (a new or empty directory; --force adds to a non-empty one)",
    )
    p.add_argument(
        "--report-format", choices=["html", "md", "json"], default="html", help="format of --reports (default html)"
    )
    p.add_argument(
        "--id-column",
        metavar="NAME",
        help="column naming each report file (default: a column called id, 编号, 序号 …, else row-N); with "
        "--compare, the column rows are paired by (default: such a column when both outputs have it, else the "
        "description)",
    )
    p.add_argument(
        "--compare",
        metavar="PREVIOUS",
        help="INPUT is a batch output: list its rows whose tier differs from the output PREVIOUS",
    )


def add_parser(subparsers: Any) -> None:
    """Register `riskclass batch` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "batch",
        help="classify every row of a CSV/TSV/xlsx file",
        description="Classify every row of a CSV, TSV or .xlsx file into a copy with the result columns added.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _configure(p)


class ProgressBar:
    """A one-line progress bar with rows/s and ETA, redrawn at most ten times a second (for a terminal)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.drawn = 0.0
        self.visible = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.drawn < 0.1 and done != total:
            return
        self.drawn = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        if total:
            share = done / total
            bar = "█" * int(share * 24) + "·" * (24 - int(share * 24))
            eta = (total - done) / rate if rate > 0 else 0
            line = f"{bar} {share:4.0%}  {done:,}/{total:,} rows  {rate:,.0f} rows/s  ETA {_clock(eta)}"
        else:
            line = f"{done:,} rows  {rate:,.0f} rows/s"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self.visible = True

    def clear(self) -> None:
        if self.visible:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.visible = False


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else (f"{seconds // 60}:{seconds % 60:02d}")
    )


def _print_summary(s: BatchSummary, out: Any) -> None:
    rate = s.rows_out / s.seconds if s.seconds > 0 else 0.0
    where = "standard output" if s.output == "-" else s.output
    delim = {"\t": "tab", None: "-"}.get(s.delimiter, repr(s.delimiter))
    read = f"{s.encoding}, delimiter {delim}, " if s.encoding else ""
    print(
        f"riskclass batch: {s.rows_in:,} rows in, {s.rows_out:,} rows out → {where} "
        f"({read}column {s.column!r}; {s.seconds:.1f} s, {rate:,.0f} rows/s)",
        file=out,
    )
    tiers = " · ".join(f"{t} {s.tiers.get(t, 0):,}" for t in TIERS)
    print(f"  {tiers} · needs_review {s.needs_review:,} · errors {s.errors:,}", file=out)
    if s.reports:
        print(f"  reports: {s.reports:,} written", file=out)
    for row, message in s.failed_rows:
        print(f"  row {row}: {message}", file=out)
    if s.errors > len(s.failed_rows):
        print(f"  … and {s.errors - len(s.failed_rows):,} more rows with an error (see the error column)", file=out)
    for note in s.notes:
        print(f"  note: {note}", file=out)


def _cmd_compare(args: argparse.Namespace) -> int:
    if args.output:
        check_output_path(args.output, args.force)
    comparison = compare_outputs(args.compare, args.input, args.column, args.id_column)
    by_id = comparison.id_column is not None
    output = AtomicOutput(args.output or "-")
    with output as stream:
        header = COMPARE_ID_COLUMNS if by_id else COMPARE_COLUMNS
        writer = _CsvWriter(stream, list(header), args.excel, not args.no_formula_guard)
        for c in comparison.changes:
            cells = {
                "id": c.id,
                "row": "" if c.row is None else str(c.row),
                "previous_row": "" if c.previous_row is None else str(c.previous_row),
                "previous_tier": c.previous_tier,
                "tier": c.tier,
                "gained": ";".join(c.gained),
                "lost": ";".join(c.lost),
                "previous_criteria": c.previous_criteria,
                "criteria": c.criteria,
                "description": c.description,
            }
            writer.writerow([cells[name] for name in header])
        writer.close()
        output.commit()
    if by_id:
        _print_id_changes(comparison, _out_lang(args))
    moves = ", ".join(f"{a}→{b} {n:,}" for (a, b), n in comparison.moves.most_common())
    only_new = sum(1 for c in comparison.changes if c.previous_row is None)
    only_old = sum(1 for c in comparison.changes if c.row is None)
    print(
        f"riskclass batch --compare: {comparison.rows:,} rows (previous {comparison.previous_rows:,}); "
        f"{sum(comparison.moves.values()):,} changed tier{': ' + moves if moves else ''}"
        + (f"; {only_new:,} only in {args.input}" if only_new else "")
        + (f"; {only_old:,} only in {args.compare}" if only_old else ""),
        file=sys.stderr,
    )
    return ExitCode.OK


ID_CHANGE_WORDS = {
    "zh": {
        "by": "按 {column} 列配对",
        "gained": "新触发 {ids}",
        "lost": "不再触发 {ids}",
        "only_new": "仅在新结果中",
        "only_old": "仅在旧结果中",
        "colon": "：",
        "sep": "、",
        "join": "；",
        "open": "（",
        "close": "）",
        "failed": "失败",
        "tiers": {"high": "高", "medium": "中", "low": "低"},
    },
    "en": {
        "by": "paired by column {column}",
        "gained": "gained {ids}",
        "lost": "lost {ids}",
        "only_new": "only in the new output",
        "only_old": "only in the previous output",
        "colon": ": ",
        "sep": ", ",
        "join": "; ",
        "open": " (",
        "close": ")",
        "failed": "failed",
        "tiers": {},
    },
}


def _print_id_changes(comparison: Any, lang: str) -> None:
    """Each product whose tier changed, by id — "AI-0026: medium → high (gained H4; lost M2)" — on standard error,
    beside the CSV: what a person reads first after a rulebook or model change."""
    from riskclass.audit.log import printable

    W = ID_CHANGE_WORDS[lang]
    T: dict[str, str] = W["tiers"]  # type: ignore[assignment]
    print("riskclass batch --compare: " + W["by"].format(column=comparison.id_column), file=sys.stderr)
    for c in comparison.changes:
        if c.previous_row is None or c.row is None:
            where = W["only_new"] if c.previous_row is None else W["only_old"]
            print(f"  {printable(c.id)}{W['colon']}{where}", file=sys.stderr)
            continue
        what = [W["gained"].format(ids=W["sep"].join(c.gained))] if c.gained else []
        what += [W["lost"].format(ids=W["sep"].join(c.lost))] if c.lost else []
        detail = W["open"] + W["join"].join(what) + W["close"] if what else ""
        print(
            f"  {printable(c.id)}{W['colon']}{T.get(c.previous_tier, c.previous_tier) or W['failed']} → "
            f"{T.get(c.tier, c.tier) or W['failed']}{detail}",
            file=sys.stderr,
        )


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def cmd_batch(args: argparse.Namespace) -> int:
    """Run `riskclass batch` from parsed arguments; returns the exit status (CONTRACT.md)."""
    if args.compare:
        return _cmd_compare(args)
    if not args.output:
        raise InputError("batch needs -o OUTPUT (the file to write the results to)")
    from riskclass.batch.run import effective_jobs, usable_cores

    if args.jobs > usable_cores():
        cores = usable_cores()
        print(f"riskclass: note: --jobs {args.jobs} capped to {cores}, the cores this process can use", file=sys.stderr)
        args.jobs = effective_jobs(args.jobs)
    fmt = args.format or ("jsonl" if args.output.lower().endswith((".jsonl", ".ndjson")) else "csv")
    options = BatchOptions(
        input=args.input,
        output=args.output,
        column=args.column,
        format=fmt,
        excel=args.excel,
        jobs=args.jobs,
        encoding=args.encoding,
        force=args.force,
        lang=_out_lang(args),
        rules_only=args.rules_only,
        delimiter=args.delimiter,
        sheet=args.sheet,
        formula_guard=not args.no_formula_guard,
        reports=args.reports,
        report_format=args.report_format,
        id_column=args.id_column,
    )
    check_input_file(args.input)  # before the model loads: a named pipe or a device is refused at once
    if not args.rules_only:
        from riskclass.model.classifier import load_shipped_model

        load_shipped_model()  # a model that cannot be used is reported here, before any row is read
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() and not args.no_progress else None
    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so the temporary file is removed on the way out.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        summary = run_batch(options, progress=bar)
    except (KeyboardInterrupt, BatchCancelled):
        if bar is not None:
            bar.clear()
        print("riskclass: interrupted: no output written", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.clear()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    _print_summary(summary, sys.stderr)
    return summary.exit_code


def main(argv: Iterable[str] | None = None) -> int:
    """`python -m riskclass.cli.batch …`: `riskclass batch`, with the CLI's error handling and exit codes."""
    from riskclass.cli.main import main as cli_main

    return cli_main(["batch", *(sys.argv[1:] if argv is None else list(argv))])


if __name__ == "__main__":
    sys.exit(main())
