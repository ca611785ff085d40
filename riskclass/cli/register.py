"""`riskclass register import|list|show|rescore|export`: the command line over `riskclass.register` (CONTRACT.md)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from riskclass.cli.common import (
    AUDIT_LOG_HELP,
    DELIMITER_HELP,
    ENCODING_HELP,
    FORMULA_GUARD_HELP,
    JSON_HELP,
    KEYRING_HELP,
    NO_PROGRESS_HELP,
    OUTPUT_LANG_HELP,
    RULES_ONLY_HELP,
    SHEET_HELP,
    _audit_log_arg,
    _keyring_arg,
    _out_lang,
)
from riskclass.cli.progress import progress_bar
from riskclass.cli.usage import RawDescriptionHelpFormatter, bi
from riskclass.errors import ExitCode, Text

REGISTER_HELP = Text(
    "the register, a SQLite file (default: $RISKCLASS_REGISTER, else $XDG_DATA_HOME/riskclass/register.sqlite3, "
    "else ~/.local/share/riskclass/register.sqlite3)",
    "登记册，一个 SQLite 文件（默认：$RISKCLASS_REGISTER，其次 $XDG_DATA_HOME/riskclass/register.sqlite3，再次 "
    "~/.local/share/riskclass/register.sqlite3）",
)
SUMMARY_JSON_HELP = Text("print the summary as one JSON object", "以一个 JSON 对象输出汇总")
EPILOG_EN = """\
The register keeps a team's AI products keyed by their own ids: every version of each
description, every assessment with the rulebook, model and description versions that
made it, answers to follow-up questions, ticked checklist steps and the reviewers'
decisions (recorded with `riskclass review --id ID`, verified against the audit log).
Every write is one transaction: an interrupted command leaves the register as it was,
and two commands writing at once both land whole.
exit status:
  0 done; 3 done, but some descriptions could not be assessed (see their error);
  2 unusable input, arguments or register file."""
EPILOG_ZH = """\
登记册按团队自己的编号保存人工智能产品：每条描述的每个版本，每次评估及得出它的规则库、
模型和描述版本，对追问的回答，已勾选的核查步骤，以及复核人的决定（用
`riskclass review --id ID` 记录，并对照审计日志验证）。每次写入都是一个事务：被中断的
命令让登记册保持原样，两个命令同时写入时两者都完整保存。
退出码：
  0 完成；3 完成，但有些描述无法评估（见其 error）；
  2 输入、参数或登记册文件无法使用。"""
EPILOG = Text(EPILOG_EN, EPILOG_ZH)

WORDS = {
    "zh": {
        "imported": "已导入 {source} → {path}：新增 {added}，变更 {changed}，未变 {unchanged}"
        "（评估了 {assessed} 条描述）",
        "rescored": "已重新评估 {path}：{assessed} 个产品，{changed} 个结果有变，{unchanged} 个不变",
        "tier_changes": "等级变化：",
        "no_tier_changes": "没有产品的等级发生变化",
        "gained": "新触发 {ids}",
        "lost": "不再触发 {ids}",
        "failed": "未能评估：",
        "note": "注意：{note}",
        "absent": "登记册中另有 {n} 个产品不在此文件中（保留，未改动）",
        "exported": "已导出 {n} 个产品 → {path}",
        "empty": "登记册 {path} 中还没有产品",
        "header": ("编号", "名称", "等级", "置信度", "需复核", "复核决定", "评估时间"),
        "count": "共 {n} 个产品",
        "tier": "等级",
        "confidence": "置信度",
        "needs_review": "需复核",
        "decided": "复核决定",
        "assessed": "最近评估",
        "versions": "规则库 {rulebook} · 模型 {model} · 描述第 {description} 版",
        "rules_only": "仅规则",
        "criteria": "判断标准",
        "red_flags": "红线",
        "possible": "可能的判断标准",
        "obligations": "义务",
        "questions": "待回答的问题",
        "error": "错误",
        "description": "描述（第 {version} 版，{when}{source}）",
        "from": "，来自 {source}",
        "columns": "其他列",
        "answers": "已保存的回答",
        "ticks": "已勾选的步骤",
        "decisions": "复核决定（已在审计日志中验证）",
        "decision": "{when} {who}：{tier}（{how}）",
        "accepted": "接受建议",
        "changed": "建议为 {tier}，改判",
        "reason": "理由：{reason}",
        "history": "评估历史",
        "history_line": "{when}  描述第 {version} 版  {tier}  {criteria}",
        "earlier_descriptions": "较早的描述",
        "none": "—",
        "yes": "是",
        "no": "否",
        "unknown": "不确定",
        "colon": "：",
        "sep": "、",
        "interrupted": "已中断：登记册未改变",
    },
    "en": {
        "imported": "Imported {source} into {path}: {added} added, {changed} changed, {unchanged} unchanged "
        "({assessed} {descriptions} assessed)",
        "rescored": "Re-assessed {path}: {assessed} products, {changed} with a new result, {unchanged} unchanged",
        "tier_changes": "Tier changes:",
        "no_tier_changes": "No product changed tier",
        "gained": "gained {ids}",
        "lost": "lost {ids}",
        "failed": "Could not be assessed:",
        "note": "note: {note}",
        "absent": "products in the register but not in this file: {n} (kept, unchanged)",
        "exported": "Exported {n} products to {path}",
        "empty": "No products in the register {path} yet",
        "header": ("id", "name", "tier", "confidence", "review", "decided", "assessed"),
        "count": "{n} products",
        "tier": "tier",
        "confidence": "confidence",
        "needs_review": "needs review",
        "decided": "decided tier",
        "assessed": "last assessed",
        "versions": "rulebook {rulebook} · model {model} · description version {description}",
        "rules_only": "rules only",
        "criteria": "criteria",
        "red_flags": "red flags",
        "possible": "possible criteria",
        "obligations": "obligations",
        "questions": "questions to answer",
        "error": "error",
        "description": "description (version {version}, {when}{source})",
        "from": ", from {source}",
        "columns": "other columns",
        "answers": "saved answers",
        "ticks": "ticked steps",
        "decisions": "review decisions (verified in the audit log)",
        "decision": "{when} {who}: {tier} ({how})",
        "accepted": "accepted the suggestion",
        "changed": "suggested {tier}, changed",
        "reason": "reason: {reason}",
        "history": "assessments",
        "history_line": "{when}  description v{version}  {tier}  {criteria}",
        "earlier_descriptions": "earlier descriptions",
        "none": "-",
        "yes": "yes",
        "no": "no",
        "unknown": "unknown",
        "colon": ": ",
        "sep": ", ",
        "interrupted": "interrupted: the register is unchanged",
    },
}

TIER_WORDS = {
    "zh": {"high": "高", "medium": "中", "low": "低"},
    "en": {"high": "high", "medium": "medium", "low": "low"},
}


def _common(p: argparse.ArgumentParser, audit: bool = True) -> None:
    p.add_argument("--register", metavar="PATH", help=bi(REGISTER_HELP))
    p.add_argument("--lang", choices=["zh", "en"], help=bi(OUTPUT_LANG_HELP))
    if audit:
        p.add_argument(
            "--audit-log",
            metavar="PATH",
            help=bi(
                AUDIT_LOG_HELP.en + "; decisions are verified against it", AUDIT_LOG_HELP.zh + "；复核决定据此验证"
            ),
        )
        p.add_argument("--keyring", metavar="PATH", help=bi(KEYRING_HELP))


def add_parser(subparsers: Any) -> None:
    """Register `riskclass register …` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "register",
        help=bi(
            "the product register: import an inventory, list, show, rescore, export",
            "产品登记册：导入清单、列出、查看、重新评估、导出",
        ),
        description=bi(
            "A team's inventory of AI products, kept in a SQLite file with every description, assessment and decision.",
            "团队的人工智能产品清单，连同每条描述、每次评估和每个决定，保存在一个 SQLite 文件中。",
        ),
        epilog=bi(EPILOG),
        formatter_class=RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="register_command", metavar="ACTION", required=True)

    imp = sub.add_parser(
        "import",
        help=bi(
            "add or update products from a CSV, TSV or .xlsx inventory, assessing new and changed descriptions",
            "从 CSV、TSV 或 .xlsx 清单添加或更新产品，评估新的和有变的描述",
        ),
        description=bi(
            "Add or update products keyed by id from an inventory file (read as `batch` reads it); new and "
            "changed descriptions are assessed, and every product whose tier changed is listed with the criteria "
            "gained and lost. A missing id column, an empty id or an id on two lines refuses the file whole (exit 2).",
            "从清单文件（按 `batch` 的方式读取）按编号添加或更新产品；评估新的和有变的描述，列出每个等级有变的产品及其"
            "新触发和不再触发的判断标准。缺少编号列、编号为空或同一编号出现在两行时，整个文件被拒绝（退出码 2）。",
        ),
    )
    imp.add_argument(
        "input",
        metavar="FILE",
        help=bi("CSV, TSV or .xlsx inventory, or - for standard input", "CSV、TSV 或 .xlsx 清单，或用 - 表示标准输入"),
    )
    imp.add_argument(
        "--id-column",
        metavar="NAME",
        help=bi(
            "the id column (default: one called id, 编号, 序号, 产品编号 …)",
            "编号列（默认：名为 id、编号、序号、产品编号……的列）",
        ),
    )
    imp.add_argument(
        "--column",
        metavar="NAME",
        help=bi(
            "the description column (default: found by name, as batch)", "描述所在的列（默认：按列名查找，同 batch）"
        ),
    )
    imp.add_argument(
        "--name-column",
        metavar="NAME",
        help=bi(
            "the product name column (default: name, 名称, 产品名称 …)", "产品名称列（默认：name、名称、产品名称……）"
        ),
    )
    imp.add_argument("--encoding", metavar="ENC", help=bi(ENCODING_HELP))
    imp.add_argument("--delimiter", metavar="CHAR", help=bi(DELIMITER_HELP))
    imp.add_argument("--sheet", metavar="NAME", help=bi(SHEET_HELP))
    imp.add_argument("--rules-only", action="store_true", help=bi(RULES_ONLY_HELP))
    imp.add_argument("--json", action="store_true", help=bi(SUMMARY_JSON_HELP))
    imp.add_argument("--no-progress", action="store_true", help=bi(NO_PROGRESS_HELP))
    _common(imp, audit=False)

    li = sub.add_parser(
        "list",
        help=bi("one line per product", "每个产品一行"),
        description=bi("List the products, by id.", "按编号列出产品。"),
    )
    li.add_argument(
        "--tier", choices=["high", "medium", "low"], help=bi("only products of this tier", "只列此等级的产品")
    )
    li.add_argument(
        "--needs-review",
        action="store_true",
        help=bi("only products that need a person's look", "只列需要人工复核的产品"),
    )
    li.add_argument(
        "--search",
        metavar="TEXT",
        help=bi("only products whose id, name or description contains TEXT", "只列编号、名称或描述中含有 TEXT 的产品"),
    )
    li.add_argument(
        "--json",
        action="store_true",
        help=bi("print one JSON array (CONTRACT.md fields)", "输出一个 JSON 数组（字段见 CONTRACT.md）"),
    )
    _common(li)

    sh = sub.add_parser(
        "show",
        help=bi("one product with its history", "一个产品及其历史"),
        description=bi(
            "One product: its latest assessment, descriptions, answers, ticked steps, verified decisions "
            "and every assessment made of it.",
            "一个产品：最近一次评估、各版描述、回答、已勾选的步骤、经验证的复核决定，以及对它做过的每次评估。",
        ),
    )
    sh.add_argument("id", metavar="ID", help=bi("the product's id", "产品编号"))
    sh.add_argument("--json", action="store_true", help=bi(JSON_HELP))
    _common(sh)

    rs = sub.add_parser(
        "rescore",
        help=bi(
            "re-assess every product with the current rulebook and model; list tier changes",
            "用当前的规则库和模型重新评估每个产品；列出等级变化",
        ),
        description=bi(
            "Re-assess every product's current description (with its saved answers) and report, by id, "
            "every product whose tier changed, with the criteria gained and lost.",
            "重新评估每个产品的当前描述（连同保存的回答），按编号报告每个等级有变的产品，及其新触发和不再触发的判断标准。",
        ),
    )
    rs.add_argument("--rules-only", action="store_true", help=bi(RULES_ONLY_HELP))
    rs.add_argument("--json", action="store_true", help=bi(SUMMARY_JSON_HELP))
    rs.add_argument("--no-progress", action="store_true", help=bi(NO_PROGRESS_HELP))
    _common(rs, audit=False)

    ex = sub.add_parser(
        "export",
        help=bi(
            "write every product as a batch output (CSV) with id, name and decided_tier",
            "把每个产品写成批处理输出（CSV），带编号、名称和 decided_tier",
        ),
        description=bi(
            "Write every product as a batch output: id, name, description, the inventory's other columns, "
            "the batch result columns of the latest assessment, then decided_tier, assessed_at and "
            "description_version.",
            "把每个产品写成批处理输出：编号、名称、描述、清单的其他列、最近一次评估的批处理结果列，然后是 "
            "decided_tier、assessed_at 和 description_version。",
        ),
    )
    ex.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        required=True,
        help=bi("the CSV to write, or - for standard output", "要写的 CSV，或用 - 表示标准输出"),
    )
    ex.add_argument(
        "--excel",
        action="store_true",
        help=bi("CSV with a UTF-8 byte-order mark, for Excel", "CSV 带 UTF-8 字节序标记（BOM），供 Excel 打开"),
    )
    ex.add_argument("--force", action="store_true", help=bi("replace FILE if it exists", "FILE 已存在时替换"))
    ex.add_argument("--no-formula-guard", action="store_true", help=bi(FORMULA_GUARD_HELP))
    _common(ex)


# ---- running --------------------------------------------------------------------------------------------------------


def _open(args: argparse.Namespace, create: bool = False) -> Any:
    from riskclass.register import Register

    engine = None
    if getattr(args, "rules_only", False):
        from riskclass.engine.decide import Engine

        engine = Engine(model=None)
    return Register.open(
        args.register, create=create, engine=engine, audit_log=_audit_log_arg(args), keyring=_keyring_arg(args)
    )


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


ASSESSING = Text("assessing", "评估")


@contextmanager
def _progress(args: argparse.Namespace, lang: str) -> Iterator[Callable[[str, int, int], None] | None]:
    """The progress bar batch draws (riskclass.cli.progress: rich, on standard error, only on a terminal and without
    --no-progress), following the assessment: writing the rows afterwards takes a second or two."""
    bar = progress_bar(ASSESSING, lang, enabled=not args.no_progress)
    if bar is None:
        yield None
        return
    with bar:

        def update(phase: str, done: int, total: int) -> None:
            if phase == "assess":
                bar(done, total)

        yield update


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """SIGTERM (kill, a CI timeout) unwinds like Ctrl+C, so the open transaction is rolled back on the way out."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _ids(ids: tuple[str, ...], lang: str) -> str:
    return WORDS[lang]["sep"].join(ids)


def _tier(tier: str | None, lang: str) -> str:
    return TIER_WORDS[lang].get(tier or "", WORDS[lang]["none"])


def _print_result(result: Any, head: str, lang: str) -> int:
    from riskclass.audit.log import printable

    W = WORDS[lang]
    print(head)
    for note in result.notes:
        print("  " + W["note"].format(note=note))
    if result.absent:
        print("  " + W["absent"].format(n=result.absent))
    if result.tier_changes:
        print(W["tier_changes"])
        for c in result.tier_changes:
            what = [W["gained"].format(ids=_ids(c.gained, lang))] if c.gained else []
            what += [W["lost"].format(ids=_ids(c.lost, lang))] if c.lost else []
            detail = ("（" + "；".join(what) + "）" if lang == "zh" else " (" + "; ".join(what) + ")") if what else ""
            print(f"  {printable(c.id)}{W['colon']}{_tier(c.previous_tier, lang)} → {_tier(c.tier, lang)}{detail}")
    else:
        print(W["no_tier_changes"])
    if result.errors:
        print(W["failed"])
        for pid, error in result.errors:
            shown = result.errors_zh.get(pid, error) if lang == "zh" else error
            print(f"  {printable(pid)}{W['colon']}{shown}")
    return ExitCode.PARTIAL if result.errors else ExitCode.OK


def _cmd_import(args: argparse.Namespace) -> int:
    from riskclass.register.importing import import_rows, read_inventory
    from riskclass.tables.read import check_input_file

    lang = _out_lang(args)
    check_input_file(args.input)  # a FIFO or a directory is refused before the model loads
    from riskclass.register.store import check_register_path, register_path

    check_register_path(register_path(args.register))  # an unusable register is said before the file is read
    # The whole file is read and checked first: one refused (no id column, a duplicate id) creates no register.
    rows, notes = read_inventory(
        args.input, args.id_column, args.column, args.name_column, args.encoding, args.delimiter, args.sheet
    )
    reg = _open(args, create=True)
    with reg, _progress(args, lang) as progress, _sigterm_unwinds():
        try:
            result = import_rows(reg, rows, notes, args.input, progress)
        except KeyboardInterrupt:
            print(f"riskclass: {WORDS[lang]['interrupted']}", file=sys.stderr)
            return 130
    if args.json:
        sys.stdout.write(json.dumps({**result.to_dict(), "register": str(reg.path)}, ensure_ascii=False) + "\n")
        return ExitCode.PARTIAL if result.errors else ExitCode.OK
    source = "standard input" if args.input == "-" else args.input
    head = WORDS[lang]["imported"].format(
        source=source,
        path=reg.path,
        added=result.added,
        changed=result.changed,
        unchanged=result.unchanged,
        assessed=result.assessed,
        descriptions="description" if result.assessed == 1 else "descriptions",
    )
    return _print_result(result, head, lang)


def _cmd_rescore(args: argparse.Namespace) -> int:
    lang = _out_lang(args)
    reg = _open(args)
    with reg, _progress(args, lang) as progress, _sigterm_unwinds():
        try:
            result = reg.rescore(progress)
        except KeyboardInterrupt:
            print(f"riskclass: {WORDS[lang]['interrupted']}", file=sys.stderr)
            return 130
    if args.json:
        sys.stdout.write(json.dumps({**result.to_dict(), "register": str(reg.path)}, ensure_ascii=False) + "\n")
        return ExitCode.PARTIAL if result.errors else ExitCode.OK
    head = WORDS[lang]["rescored"].format(
        path=reg.path, assessed=result.assessed, changed=result.changed, unchanged=result.unchanged
    )
    return _print_result(result, head, lang)


def _cell(text: str, width: int) -> str:
    from rich.cells import cell_len

    return text + " " * max(0, width - cell_len(text))


def _clip(text: str, width: int) -> str:
    from rich.cells import cell_len, set_cell_size

    return text if cell_len(text) <= width else set_cell_size(text, width - 1) + "…"


def _cmd_list(args: argparse.Namespace) -> int:
    from rich.cells import cell_len

    from riskclass.audit.log import printable

    lang = _out_lang(args)
    W = WORDS[lang]
    with _open(args) as reg:
        rows = reg.products(tier=args.tier, needs_review=True if args.needs_review else None, search=args.search)
        path = reg.path
        _warn_unverifiable(reg, lang)
    if args.json:
        sys.stdout.write(json.dumps([r.to_dict() for r in rows], ensure_ascii=False) + "\n")
        return ExitCode.OK
    if not rows and not (args.tier or args.needs_review or args.search):
        print(W["empty"].format(path=path))
        return ExitCode.OK
    table = [list(W["header"])]
    for r in rows:
        table.append(
            [
                _clip(printable(r.id), 24),
                _clip(printable(r.name), 24),
                _tier(r.tier, lang),
                W["none"] if r.confidence is None else f"{r.confidence:.2f}",
                W["yes"] if r.needs_review else W["no"],
                _tier(r.decided_tier, lang),
                (r.assessed_at or W["none"])[:16].replace("T", " "),
            ]
        )
    widths = [max(cell_len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(_cell(c, w) for c, w in zip(row, widths, strict=True)).rstrip())
    print(W["count"].format(n=len(rows)))
    return ExitCode.OK


def _when(stamp: str | None) -> str:
    """An ISO-8601 UTC time as people read it: 2026-12-07 08:36:51 UTC (JSON keeps the full stamp)."""
    return f"{stamp[:19].replace('T', ' ')} UTC" if stamp else ""


def _titles(lang: str) -> dict[str, str]:
    """Criterion id → its title, and "obligation:" + id → the obligation's title, from the current rulebook: `show`
    names them as a reader needs them (an id an older rulebook had and this one lacks stays an id)."""
    from riskclass.rulebook.rules import load_rulebook

    rb = load_rulebook()
    titles = {cid: c.title.get(lang) for cid, c in rb.criteria.items()}
    titles.update({"obligation:" + o.id: o.title.get(lang) for o in rb.obligations})
    return titles


def _warn_unverifiable(reg: Any, lang: str) -> None:
    """Decisions are linked but the audit log cannot be read: none is shown, and the user is told why."""
    problem = reg.audit_problem
    if problem is not None:
        text = problem.text(lang) if hasattr(problem, "text") else str(problem)
        W = {
            "zh": "警告：{p}；复核决定无法验证，未显示",
            "en": "warning: {p}; review decisions cannot be verified and are not shown",
        }
        print("riskclass: " + W[lang].format(p=text), file=sys.stderr)


def _answer_word(value: bool | None, lang: str) -> str:
    W = WORDS[lang]
    return W["unknown"] if value is None else W["yes"] if value else W["no"]


def _cmd_show(args: argparse.Namespace) -> int:
    from riskclass.audit.log import printable

    lang = _out_lang(args)
    W, c = WORDS[lang], WORDS[lang]["colon"]
    with _open(args) as reg:
        product = reg.product(args.id)
        _warn_unverifiable(reg, lang)
    if args.json:
        sys.stdout.write(json.dumps(product.to_dict(), ensure_ascii=False) + "\n")
        return ExitCode.OK
    row, latest = product.row, product.latest
    none = W["none"]
    lines = [f"{printable(row.id)}  {printable(row.name)}".rstrip()]
    conf = none if row.confidence is None else f"{row.confidence:.2f}"
    lines.append(
        f"  {W['tier']}{c}{_tier(row.tier, lang)} · {W['confidence']} {conf} · "
        f"{W['needs_review']}{c}{W['yes'] if row.needs_review else W['no']} · {W['decided']}{c}"
        f"{_tier(row.decided_tier, lang)}"
    )
    if latest is not None:
        v = latest.versions
        model = v.model_sha256[:12] or W["rules_only"]
        lines.append(f"  {W['assessed']}{c}{_when(latest.assessed_at)} · " + W["versions"].format(
            rulebook=v.rulebook, model=model, description=v.description
        ))  # fmt: skip
        if latest.error:
            lines.append(f"  {W['error']}{c}{latest.error_text(lang)}")
        titles = _titles(lang)
        for key, ids in (
            ("criteria", latest.criteria),
            ("red_flags", latest.red_flags),
            ("possible", latest.possible_criteria),
        ):
            if ids:
                named = tuple(f"{i} {titles[i]}" if i in titles else i for i in ids)
                lines.append(f"  {W[key]}{c}{_ids(named, lang)}")
        if latest.obligations:
            named = tuple(titles.get("obligation:" + i, i) for i in latest.obligations)
            lines.append(f"  {W['obligations']}{c}{_ids(named, lang)}")
        if latest.questions:
            lines.append(f"  {W['questions']}{c}")
            lines += [f"    {q.criterion}{c}{q.text(lang)}" for q in latest.questions]
    if product.descriptions:
        d = product.descriptions[-1]
        source = W["from"].format(source=printable(d.source)) if d.source else ""
        lines.append(f"  {W['description'].format(version=d.version, when=_when(d.added_at), source=source)}{c}")
        lines.append(f"    {printable(d.text)}")
    if product.columns:
        cols = W["sep"].join(f"{printable(k)}={printable(v)}" for k, v in product.columns.items() if v)
        if cols:
            lines.append(f"  {W['columns']}{c}{cols}")
    if product.answers:
        answers = W["sep"].join(f"{k}={_answer_word(v, lang)}" for k, v in product.answers.items())
        lines.append(f"  {W['answers']}{c}{answers}")
    if product.ticks:
        lines.append(f"  {W['ticks']}{c}{_ids(product.ticks, lang)}")
    if product.decisions:
        lines.append(f"  {W['decisions']}{c}")
        for d in product.decisions:
            how = W["accepted"] if d.accepted else W["changed"].format(tier=_tier(d.suggested_tier, lang))
            lines.append(
                "    "
                + W["decision"].format(
                    when=_when(d.timestamp), who=printable(d.reviewer), tier=_tier(d.decided_tier, lang), how=how
                )
            )
            if d.reason:
                lines.append("      " + W["reason"].format(reason=printable(d.reason)))
    if len(product.assessments) > 1:
        lines.append(f"  {W['history']}{c}")
        for a in product.assessments:
            lines.append(
                "    "
                + W["history_line"].format(
                    when=_when(a.assessed_at),
                    version=a.description_version,
                    tier=_tier(a.tier, lang),
                    criteria=_ids(a.criteria, lang) or none,
                )
            )
    if len(product.descriptions) > 1:
        lines.append(f"  {W['earlier_descriptions']}{c}")
        for d in product.descriptions[-2::-1]:
            lines.append(f"    v{d.version} ({_when(d.added_at)}){c}{printable(d.text)}")
    print("\n".join(line.rstrip() for line in lines))
    return ExitCode.OK


def _cmd_export(args: argparse.Namespace) -> int:
    from riskclass.register.export import export_csv

    lang = _out_lang(args)
    with _open(args) as reg:
        n = export_csv(reg, args.output, lang, args.excel, args.force, not args.no_formula_guard)
        _warn_unverifiable(reg, lang)
    where = "standard output" if args.output == "-" else args.output
    print(WORDS[lang]["exported"].format(n=n, path=where), file=sys.stderr)
    return ExitCode.OK


def cmd_register(args: argparse.Namespace) -> int:
    """Run `riskclass register ACTION` from parsed arguments; returns the exit status (CONTRACT.md)."""
    actions = {
        "import": _cmd_import,
        "list": _cmd_list,
        "show": _cmd_show,
        "rescore": _cmd_rescore,
        "export": _cmd_export,
    }
    return int(actions[args.register_command](args))
