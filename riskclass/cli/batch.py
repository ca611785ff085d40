"""`riskclass batch`: the command line over `riskclass.batch`."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from riskclass.cli.common import (
    DELIMITER_HELP,
    ENCODING_HELP,
    FORMULA_GUARD_HELP,
    NO_PROGRESS_HELP,
    RULES_ONLY_HELP,
    SHEET_HELP,
    _out_lang,
)
from riskclass.cli.progress import progress_bar
from riskclass.cli.usage import RawDescriptionHelpFormatter, bi
from riskclass.errors import ExitCode, InputError, Text

if TYPE_CHECKING:
    from riskclass.batch.run import BatchSummary

# The batch machinery (tables, encodings, workers) is imported by the functions that run a batch: every command
# builds this parser, and `classify` should not pay for reading CSV files.

# ---- command line -------------------------------------------------------------------------------------------------

EPILOG_EN = """\
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
  adds about 80 MiB (up to ~100 MiB on 200,000 rows), not a copy of the model. Cores
  other programs keep busy do not help. The default uses the idle ones (usable cores
  minus those other programs keep wholly busy, now and by the load average, at least
  1); --jobs 1 classifies in one process.
exit status:
  0 every row classified; 3 finished, some rows carry an error; 2 unusable input or
  arguments.
compare:
  riskclass batch NEW_OUT.csv --compare PREVIOUS_OUT.csv lists the rows whose tier
  changed (CSV on standard output, or -o FILE). Rows are paired by id when both outputs
  have an id column (--id-column NAME, or one called id, 编号, 序号 ...): each product
  whose tier changed is named, "AI-0026: medium → high (gained H4; lost M2)", on
  standard error; otherwise by description text."""
EPILOG_ZH = """\
输出列：
  全部输入列，其后是 tier、confidence、criteria、red_flags、needs_review、
  obligations、error、possible_criteria、article50、decided_by、questions。无法
  评估的行（空行、超过 100,000 个字符、含无法解码的字节）写出 error，tier 留空；
  运行继续。
读取：
  自动识别 UTF-8（带或不带 BOM）、UTF-16、GB18030/GBK 和 Big5（--encoding 可指定），
  并自动识别 , 制表符 ; 分隔符。不同编码的行会在汇总中列出（退出码 3）；任何编码
  都无效的字节写作 \\xNN，该行不评估。空行跳过；字段不足的行补齐，多出的字段保留
  为 extra_1、extra_2……；空白或重复的表头改为唯一的名称，与结果列同名的输入列
  改名为 input_列名。
字节序标记（BOM）：
  输入来自 Excel（.xlsx、GBK/GB18030、Big5、UTF-16 或带 BOM 的 UTF-8）时，CSV
  输出带 UTF-8 BOM，Excel 才能正确显示中文；--no-bom 不加，--excel 对任何输入都
  加。不带 BOM 的 UTF-8 输入，输出也不带。
公式防护：
  CSV 输出中以 = + - @ 制表符或回车开头的单元格前加 '，电子表格就把它当作文本显
  示，而不会执行（普通数字不变）。这是对输入单元格的唯一改动；
  --no-formula-guard 可关闭。
安全：
  先写入 OUTPUT 旁的隐藏 .partial 文件，完成后再改名；从不覆盖 INPUT，没有 --force
  也不覆盖 OUTPUT。无法写入的 OUTPUT 在运行前就被拒绝；磁盘写满时停止，不留下任何
  文件（退出码 2）。--jobs 超过可用核数时按可用核数；批处理结束或中断时，工作进程
  随之结束。
并行（jobs）：
  文件超过 1,000 行且有空闲核时，多个进程更快：在 Linux 上，工作进程在前 1,000 行
  之后派生，共享已加载的模型，每个约增加 80 MiB（20 万行时最多约 100 MiB），而不是
  模型的一份副本。被其他程序占用的核帮不上忙。默认使用空闲的核（可用核数减去此刻
  和平均负载都显示被其他程序完全占用的核，至少 1 个）；--jobs 1 在一个进程中评估。
退出码：
  0 每行都已评估；3 已完成，但有些行带有 error；2 输入或参数无法使用。
比较：
  riskclass batch 新输出.csv --compare 旧输出.csv 列出等级有变的行（CSV，写到标准
  输出，或用 -o FILE）。两个输出都有编号列时按编号配对（--id-column 列名，或名为
  id、编号、序号……的列）：每个等级有变的产品都在标准错误中列出，如“AI-0026：
  中 → 高（新触发 H4；不再触发 M2）”；否则按描述文本配对。"""
EPILOG = Text(EPILOG_EN, EPILOG_ZH)


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "input",
        metavar="INPUT",
        help=bi("CSV, TSV or .xlsx file, or - for standard input", "CSV、TSV 或 .xlsx 文件，或用 - 表示标准输入"),
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT",
        help=bi(
            "output file (.csv or .jsonl), or - for standard output", "输出文件（.csv 或 .jsonl），或用 - 表示标准输出"
        ),
    )
    p.add_argument(
        "--column",
        metavar="NAME",
        help=bi("the description column (default: found by name)", "描述所在的列（默认：按列名查找）"),
    )
    p.add_argument(
        "--format",
        choices=["csv", "jsonl"],
        help=bi(
            "output format (default: jsonl for a .jsonl OUTPUT, else csv)",
            "输出格式（默认：OUTPUT 为 .jsonl 时用 jsonl，否则 csv）",
        ),
    )
    p.add_argument(
        "--excel",
        action="store_true",
        help=bi(
            "CSV with a UTF-8 byte-order mark, for Excel (the default when INPUT came from Excel: .xlsx, GBK/GB18030, "
            "Big5, UTF-16 or UTF-8 with a BOM)",
            "CSV 带 UTF-8 字节序标记（BOM），供 Excel 打开（INPUT 来自 Excel 时的默认：.xlsx、GBK/GB18030、Big5、"
            "UTF-16 或带 BOM 的 UTF-8）",
        ),
    )
    p.add_argument(
        "--no-bom",
        action="store_true",
        help=bi("never a byte-order mark, even for an input from Excel", "从不加字节序标记，即使输入来自 Excel"),
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help=bi(
            "processes classifying a big file (default: the idle cores, see jobs below; 0: all cores)",
            "评估大文件的进程数（默认：空闲的核数，见下文“并行”；0：全部核）",
        ),
    )
    p.add_argument("--encoding", metavar="ENC", help=bi(ENCODING_HELP))
    p.add_argument("--delimiter", metavar="CHAR", help=bi(DELIMITER_HELP))
    p.add_argument("--sheet", metavar="NAME", help=bi(SHEET_HELP))
    p.add_argument("--force", action="store_true", help=bi("replace OUTPUT if it exists", "OUTPUT 已存在时替换"))
    p.add_argument(
        "--lang",
        choices=["zh", "en"],
        help=bi(
            "language of questions and JSON texts (default: the top-level --lang, zh)",
            "问题和 JSON 文本的语言（默认：顶层的 --lang，即 zh）",
        ),
    )
    p.add_argument("--rules-only", action="store_true", help=bi(RULES_ONLY_HELP))
    p.add_argument("--no-formula-guard", action="store_true", help=bi(FORMULA_GUARD_HELP))
    p.add_argument("--no-progress", action="store_true", help=bi(NO_PROGRESS_HELP))
    p.add_argument(
        "--reports",
        metavar="DIR",
        nargs="?",
        const="",
        help=bi(
            "also write one report per row into DIR (a new or empty directory; --force adds to a non-empty one); "
            "--reports alone: the export_dir setting (riskclass config)",
            "另为每行写一份报告到 DIR（新的或空的目录；加 --force 可写入非空目录）；只写 --reports：用 export_dir "
            "设置（riskclass config）",
        ),
    )
    p.add_argument(
        "--report-format",
        choices=["html", "md", "json"],
        default="html",
        help=bi("format of --reports (default html)", "--reports 的格式（默认 html）"),
    )
    p.add_argument(
        "--id-column",
        metavar="NAME",
        help=bi(
            "column naming each report file (default: a column called id, 编号, 序号 …, else row-N); with "
            "--compare, the column rows are paired by (default: such a column when both outputs have it, else the "
            "description)",
            "用于命名报告文件的列（默认：名为 id、编号、序号……的列，否则 row-N）；与 --compare 一起用时，按此列配对"
            "各行（默认：两个输出都有这样的列时用它，否则按描述）",
        ),
    )
    p.add_argument(
        "--compare",
        metavar="PREVIOUS",
        help=bi(
            "INPUT is a batch output: list its rows whose tier differs from the output PREVIOUS",
            "INPUT 是批处理的输出：列出其中等级与输出 PREVIOUS 不同的行",
        ),
    )


def add_parser(subparsers: Any) -> None:
    """Register `riskclass batch` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "batch",
        help=bi("classify every row of a CSV/TSV/xlsx file", "评估 CSV/TSV/xlsx 文件的每一行"),
        description=bi(
            "Classify every row of a CSV, TSV or .xlsx file into a copy with the result columns added.",
            "评估 CSV、TSV 或 .xlsx 文件的每一行，写出加上结果列的副本。",
        ),
        epilog=bi(EPILOG),
        formatter_class=RawDescriptionHelpFormatter,
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
