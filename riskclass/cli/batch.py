"""`riskclass batch`: the command line over `riskclass.batch`."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from riskclass.cli.common import _out_lang
from riskclass.cli.progress import progress_bar
from riskclass.errors import ExitCode, InputError, Text

if TYPE_CHECKING:
    from riskclass.batch.run import BatchSummary

# The batch machinery (tables, encodings, workers) is imported by the functions that run a batch: every command
# builds this parser, and `classify` should not pay for reading CSV files.

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
byte-order mark:
  CSV output gets a UTF-8 BOM when the input came from Excel (.xlsx, GBK/GB18030,
  Big5, UTF-16, or UTF-8 with a BOM), so Excel shows Chinese right; --no-bom leaves it
  out, --excel adds it for any input. UTF-8 input without a BOM gives output without.
formula guard:
  in CSV output a cell starting with = + - @ tab or CR gets a leading ' so that a
  spreadsheet shows it as text instead of running it (plain numbers are left alone).
  It is the only change made to an input cell; --no-formula-guard turns it off.
safety:
  written to a hidden .partial file beside OUTPUT and renamed when complete; never
  overwrites INPUT, nor OUTPUT without --force. An OUTPUT that cannot be written is
  refused before the run; a full disk stops it with nothing left behind (exit 2).
  --jobs above the usable cores is capped; workers end when the batch ends or dies.
jobs:
  more jobs help on files of more than 1,000 rows when cores are idle: on Linux the
  workers are forked after the first 1,000 rows and share the loaded model, so each
  adds about 70 MiB, not a copy of the model. Cores other programs keep busy do not
  help. The default uses the idle ones (usable cores minus the load average, at
  least 1); --jobs 1 classifies in one process.
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
    p.add_argument(
        "--excel",
        action="store_true",
        help="CSV with a UTF-8 byte-order mark, for Excel (the default when INPUT came from Excel: .xlsx, GBK/GB18030, "
        "Big5, UTF-16 or UTF-8 with a BOM)",
    )
    p.add_argument("--no-bom", action="store_true", help="never a byte-order mark, even for an input from Excel")
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="processes classifying a big file (default: the idle cores, see jobs below; 0: all cores)",
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
        nargs="?",
        const="",
        help="also write one report per row into DIR (a new or empty directory; --force adds to a non-empty one); "
        "--reports alone: the export_dir setting (riskclass config)",
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


SUMMARY = {
    "zh": {
        "stdout": "标准输出",
        "head": "riskclass batch：读入 {rows_in:,} 行，写出 {rows_out:,} 行 → {where}（{read}描述列 {column!r}；"
        "{seconds:.1f} 秒，每秒 {rate:,.0f} 行）",
        "read": "{encoding}，分隔符 {delim}，",
        "tab": "制表符",
        "tiers": "高 {high:,} · 中 {medium:,} · 低 {low:,} · 需复核 {review:,} · 出错 {errors:,}",
        "reports": "  报告：已写 {n:,} 份",
        "row": "  第 {row} 行：{message}",
        "more": "  ……另有 {n:,} 行出错（见 error 列）",
        "note": "  注意：{note}",
        "bom": "  输出带 UTF-8 BOM，便于 Excel 打开（输入来自 Excel；--no-bom 可去掉）",
        "capped": "riskclass：注意：--jobs {jobs} 已降为 {cores}，即本进程可用的核数",
        "interrupted": "riskclass：已中断：没有写出输出文件",
        "progress": "批量评估",
    },
    "en": {
        "stdout": "standard output",
        "head": "riskclass batch: {rows_in:,} rows in, {rows_out:,} rows out → {where} ({read}column {column!r}; "
        "{seconds:.1f} s, {rate:,.0f} rows/s)",
        "read": "{encoding}, delimiter {delim}, ",
        "tab": "tab",
        "tiers": "high {high:,} · medium {medium:,} · low {low:,} · needs_review {review:,} · errors {errors:,}",
        "reports": "  reports: {n:,} written",
        "row": "  row {row}: {message}",
        "more": "  … and {n:,} more rows with an error (see the error column)",
        "note": "  note: {note}",
        "bom": "  output has a UTF-8 BOM for Excel (the input came from Excel; --no-bom leaves it out)",
        "capped": "riskclass: note: --jobs {jobs} capped to {cores}, the cores this process can use",
        "interrupted": "riskclass: interrupted: no output written",
        "progress": "batch",
    },
}
PROGRESS = Text(SUMMARY["en"]["progress"], SUMMARY["zh"]["progress"])


def _print_summary(s: BatchSummary, out: Any, lang: str = "zh") -> None:
    W = SUMMARY[lang]
    from riskclass.batch.run import TIERS

    rate = s.rows_out / s.seconds if s.seconds > 0 else 0.0
    where = W["stdout"] if s.output == "-" else s.output
    delim = {"\t": W["tab"], None: "-"}.get(s.delimiter, repr(s.delimiter))
    read = W["read"].format(encoding=s.encoding, delim=delim) if s.encoding else ""
    print(
        W["head"].format(
            rows_in=s.rows_in,
            rows_out=s.rows_out,
            where=where,
            read=read,
            column=s.column,
            seconds=s.seconds,
            rate=rate,
        ),
        file=out,
    )
    counts = {t: s.tiers.get(t, 0) for t in TIERS}
    print("  " + W["tiers"].format(**counts, review=s.needs_review, errors=s.errors), file=out)
    if s.reports:
        print(W["reports"].format(n=s.reports), file=out)
    for row, message in s.failed_rows:
        print(W["row"].format(row=row, message=message.text(lang) if isinstance(message, Text) else message), file=out)
    if s.errors > len(s.failed_rows):
        print(W["more"].format(n=s.errors - len(s.failed_rows)), file=out)
    for note in s.notes:
        print(W["note"].format(note=note.text(lang) if isinstance(note, Text) else note), file=out)
    if s.bom == "input":
        print(W["bom"], file=out)


def _cmd_compare(args: argparse.Namespace) -> int:
    from riskclass.batch.compare import COMPARE_COLUMNS, COMPARE_ID_COLUMNS, compare_outputs
    from riskclass.tables.files import AtomicOutput, check_output_path
    from riskclass.tables.write import _CsvWriter

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
    changed = sum(comparison.moves.values())
    if _out_lang(args) == "zh":
        line = (
            f"riskclass batch --compare：{comparison.rows:,} 行（之前 {comparison.previous_rows:,} 行）；"
            f"{changed:,} 行等级有变{'：' + moves if moves else ''}"
            + (f"；{only_new:,} 行只在 {args.input} 中" if only_new else "")
            + (f"；{only_old:,} 行只在 {args.compare} 中" if only_old else "")
        )
    else:
        line = (
            f"riskclass batch --compare: {comparison.rows:,} rows (previous {comparison.previous_rows:,}); "
            f"{changed:,} changed tier{': ' + moves if moves else ''}"
            + (f"; {only_new:,} only in {args.input}" if only_new else "")
            + (f"; {only_old:,} only in {args.compare}" if only_old else "")
        )
    print(line, file=sys.stderr)
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
    from riskclass.batch.run import BatchCancelled, BatchOptions, run_batch
    from riskclass.tables.read import check_input_file

    if args.compare:
        return _cmd_compare(args)
    if not args.output:
        raise InputError(
            "batch needs -o OUTPUT (the file to write the results to)", zh="batch 需要 -o OUTPUT（写入结果的文件）"
        )
    from riskclass.batch.run import default_jobs, effective_jobs, usable_cores

    lang = _out_lang(args)
    if args.jobs is None:
        args.jobs = default_jobs()
    if args.jobs > usable_cores():
        print(SUMMARY[lang]["capped"].format(jobs=args.jobs, cores=usable_cores()), file=sys.stderr)
        args.jobs = effective_jobs(args.jobs)
    if args.reports == "":  # --reports without DIR: the export folder of the settings
        args.reports = _export_dir(args)
    fmt = args.format or ("jsonl" if args.output.lower().endswith((".jsonl", ".ndjson")) else "csv")
    options = BatchOptions(
        input=args.input,
        output=args.output,
        column=args.column,
        format=fmt,
        excel=args.excel,
        no_bom=args.no_bom,
        jobs=args.jobs,
        encoding=args.encoding,
        force=args.force,
        lang=lang,
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
    bar = progress_bar(PROGRESS, lang, enabled=not args.no_progress)
    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so the temporary file is removed on the way out.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        with bar or contextlib.nullcontext():
            summary = run_batch(options, progress=bar)
    except (KeyboardInterrupt, BatchCancelled):
        print(SUMMARY[lang]["interrupted"], file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    _print_summary(summary, sys.stderr, lang)
    return summary.exit_code


def _export_dir(args: argparse.Namespace) -> str:
    """The export_dir setting (RISKCLASS_EXPORT_DIR or config.toml), for `--reports` given without DIR."""
    folder = args.settings.export_dir if getattr(args, "settings", None) else None
    if folder is None:
        raise InputError(
            "--reports without DIR needs the export_dir setting (RISKCLASS_EXPORT_DIR or export_dir in config.toml; "
            "see riskclass config): give --reports DIR",
            zh="不带 DIR 的 --reports 需要 export_dir 设置（RISKCLASS_EXPORT_DIR 或 config.toml 中的 export_dir；"
            "见 riskclass config）：请给出 --reports DIR",
        )
    return str(folder)


def main(argv: Iterable[str] | None = None) -> int:
    """`python -m riskclass.cli.batch …`: `riskclass batch`, with the CLI's error handling and exit codes."""
    from riskclass.cli.main import main as cli_main

    return cli_main(["batch", *(sys.argv[1:] if argv is None else list(argv))])


if __name__ == "__main__":
    sys.exit(main())
