"""The `riskclass` command. Parsing is cheap; each subcommand imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from riskclass import __version__
from riskclass.cli.assess import cmd_classify, cmd_report
from riskclass.cli.common import OUTPUT_LANG_HELP, VERIFY_KEYRING_HELP, _add_assessment_options
from riskclass.cli.law import cmd_article, cmd_rules
from riskclass.cli.review import _add_review_parsers, cmd_audit, cmd_review
from riskclass.cli.train import cmd_evaluate, cmd_train
from riskclass.cli.usage import LANG_HELP, Parser, add_lang_everywhere, bi, fallback_lang
from riskclass.errors import ExitCode, InputError, RiskclassError


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, its help in `Parser.lang` (each text declared once in both languages)."""
    parser = Parser(
        prog="riskclass",
        description=bi(
            "Suggest the risk tier of an AI product under the Chengdu draft measures "
            "(成都市促进人工智能产业发展办法（征求意见稿）), and show why. "
            "Without a command, opens the terminal app.",
            "依据《成都市促进人工智能产业发展办法（征求意见稿）》建议人工智能产品的风险等级，并说明理由。"
            "不带命令时打开终端应用。",
        ),
        epilog=bi("A suggestion under a draft, not legal advice.", "依据征求意见稿给出的建议，不构成法律意见。"),
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"riskclass {__version__}",
        help=bi("show program's version number and exit", "显示版本号并退出"),
    )
    parser.add_argument(
        "--lang",
        dest="ui_lang",
        choices=["zh", "en"],
        default=None,
        help=bi(LANG_HELP.en + "; also after the command", LANG_HELP.zh + "；也可写在命令之后"),
    )
    parser.add_argument(
        "--audit-log",
        dest="app_audit_log",
        metavar="PATH",
        help=bi("the audit log of review decisions (see `audit`)", "复核决定的审计日志（见 `audit`）"),
    )
    parser.add_argument(
        "--register",
        dest="app_register",
        metavar="PATH",
        help=bi("the terminal app's product register (see `register`)", "终端应用的产品登记册（见 `register`）"),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "classify",
        help=bi("assess one description", "评估一条描述"),
        description=bi("Assess one AI product description.", "评估一条人工智能产品描述。"),
    )
    p.add_argument(
        "description", help=bi("the description, or - to read it from standard input", "描述，或用 - 从标准输入读取")
    )
    p.add_argument(
        "--json",
        action="store_true",
        help=bi("print one JSON object (CONTRACT.md)", "输出一个 JSON 对象（见 CONTRACT.md）"),
    )
    p.add_argument("--lang", choices=["zh", "en"], help=bi(OUTPUT_LANG_HELP))
    _add_assessment_options(
        p,
        bi(
            "answer a follow-up question as a fact, e.g. --answer H4=no (repeatable)",
            "把追问的回答作为事实，例如 --answer H4=no（可重复）",
        ),
    )
    p.add_argument(
        "--color", choices=["auto", "always", "never"], default="auto", help=bi("colour the output", "输出是否着色")
    )
    p.add_argument(
        "--audit-log",
        metavar="PATH",
        help=bi(
            "shows an earlier review decision from this log (see `audit`)", "显示此日志中较早的复核决定（见 `audit`）"
        ),
    )
    p.add_argument("--keyring", metavar="PATH", help=bi(VERIFY_KEYRING_HELP))

    p = sub.add_parser(
        "report",
        help=bi(
            "write a report: checklist or disclosure draft, as Markdown, HTML or JSON",
            "撰写报告：核查清单或披露草稿，Markdown、HTML 或 JSON 格式",
        ),
        description=bi(
            "Write a self-contained report of one assessment: the tier and why, with the articles quoted; "
            "for high risk a 事前评估 checklist, for medium and low a 事前披露 draft and a 事后控制 plan outline — of "
            "the tier a reviewer decided when the audit log holds a verified decision, shown beside the suggestion. "
            "The product's identity heads the report and a sign-off block ends it.",
            "为一次评估撰写一份独立完整的报告：风险等级及理由，并引用条文原文；高风险附事前评估核查清单，中、低风险附"
            "事前披露草稿和事后控制计划提纲——审计日志中有经验证的复核决定时，按复核人决定的等级撰写，并与建议并列显示。"
            "报告以产品信息开头，以签署栏结尾。",
        ),
    )
    p.add_argument(
        "description",
        nargs="?",
        help=bi("the product description, or - to read it from standard input", "产品描述，或用 - 从标准输入读取"),
    )
    p.add_argument(
        "--from-json",
        metavar="FILE",
        help=bi(
            "report a saved assessment (classify --json or report JSON)",
            "为保存的评估撰写报告（classify --json 或报告 JSON 的输出）",
        ),
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help=bi(
            "write here (default: standard output); the format follows the extension (.md, .html, .json) unless "
            "--format says",
            "写入此文件（默认：标准输出）；格式按扩展名（.md、.html、.json）确定，除非用 --format 指定",
        ),
    )
    p.add_argument("--format", choices=["md", "html", "json"], help=bi("report format", "报告格式"))
    p.add_argument(
        "--lang",
        choices=["zh", "en"],
        help=bi(
            "language of the report (default: the top-level --lang, zh)", "报告的语言（默认：顶层的 --lang，即 zh）"
        ),
    )
    p.add_argument("--force", action="store_true", help=bi("overwrite FILE if it exists", "FILE 已存在时覆盖"))
    p.add_argument(
        "--audit-log",
        metavar="PATH",
        help=bi(
            "show an earlier review decision from this log (see `audit`)", "显示此日志中较早的复核决定（见 `audit`）"
        ),
    )
    p.add_argument("--keyring", metavar="PATH", help=bi(VERIFY_KEYRING_HELP))
    _add_assessment_options(
        p, bi("answer a follow-up question as a fact (repeatable)", "把追问的回答作为事实（可重复）")
    )
    product = p.add_argument_group(
        bi(
            "the product (shown at the top of the report; empty fields are left to complete)",
            "产品（显示在报告开头；未给出的栏目留空待填）",
        )
    )
    product.add_argument(
        "--id",
        metavar="ID",
        help=bi("the product's id in your inventory, e.g. AI-0026", "产品在你们清单中的编号，例如 AI-0026"),
    )
    product.add_argument("--name", metavar="NAME", help=bi("the product's name", "产品名称"))
    product.add_argument("--provider", metavar="NAME", help=bi("who provides or runs it", "提供或运营它的一方"))
    product.add_argument("--owner", metavar="NAME", help=bi("who owns it in your organisation", "你们组织内的负责人"))

    from riskclass.cli.batch import add_parser as add_batch_parser  # standard library only at import: --help stays fast

    add_batch_parser(sub)

    from riskclass.cli.register import add_parser as add_register_parser

    add_register_parser(sub)

    p = sub.add_parser(
        "train",
        help=bi("train the classifier and write it with its manifest", "训练分类器，并连同其清单一起写出"),
        description=bi(
            "Train the classifier: prepare → train → evaluate → export.", "训练分类器：准备 → 训练 → 评估 → 导出。"
        ),
    )
    p.add_argument(
        "--data",
        help=bi(
            "labelled corpus CSV (default: the shipped training/data/corpus.csv)",
            "带标注的语料 CSV（默认：随附的 training/data/corpus.csv）",
        ),
    )
    p.add_argument(
        "--test",
        help=bi(
            "held-out CSV for the metrics (default: the shipped training/data/test.csv)",
            "计算指标用的留出集 CSV（默认：随附的 training/data/test.csv）",
        ),
    )
    p.add_argument(
        "--out",
        help=bi(
            "directory for the model, manifest and model card (default: models/ in a checkout)",
            "模型、清单和模型卡的目录（默认：源码检出中的 models/）",
        ),
    )
    p.add_argument(
        "--no-dev", action="store_true", help=bi("skip the evaluation on the development set", "跳过开发集上的评估")
    )
    p.add_argument(
        "--no-real",
        action="store_true",
        help=bi(
            "fit on the corpus alone, without the real development rows (with --data that is the default)",
            "只用语料训练，不用真实开发集的行（给出 --data 时这是默认）",
        ),
    )
    p.add_argument(
        "--records",
        metavar="DIR",
        help=bi(
            "folder of the shared real records the real development rows are read from (default: ../shared/data)",
            "读取真实开发集行的共享真实记录目录（默认：../shared/data）",
        ),
    )
    p.add_argument(
        "--with-reviews",
        action="store_true",
        help=bi(
            "also fit on the reviewed decisions in the audit log (latest verified one per description, the decided "
            "tier as label; chain verified first, entries whose signature does not verify left out; descriptions in "
            "the held-out or development data left out; recorded separately in the manifest, never written into the "
            "corpus)",
            "也用审计日志中的复核决定训练（每条描述取最近一条经验证的决定，以决定的等级为标签；先验证哈希链，签名验证"
            "不通过的条目不用；留出集或开发集中的描述不用；在清单中单独记录，从不写入语料）",
        ),
    )
    p.add_argument(
        "--audit-log",
        metavar="PATH",
        help=bi("the audit log for --with-reviews (see `audit`)", "--with-reviews 所用的审计日志（见 `audit`）"),
    )
    p.add_argument(
        "--keyring",
        metavar="PATH",
        help=bi(
            "the keyring its signatures are verified against (see `audit`)", "验证其签名所用的密钥环（见 `audit`）"
        ),
    )

    p = sub.add_parser(
        "evaluate",
        help=bi("measure the engine on a labelled CSV", "在带标注的 CSV 上衡量引擎"),
        description=bi(
            "Accuracy, macro-F1, per-tier precision/recall, confusion matrix and the ablation "
            "(rules only, model only, combined) on a labelled CSV.",
            "在带标注的 CSV 上计算准确率、宏平均 F1、各等级的精确率/召回率、混淆矩阵和消融对比"
            "（仅规则、仅模型、合并）。",
        ),
    )
    p.add_argument(
        "--data",
        help=bi(
            "CSV with a description column and a tier column (default: the held-out test.csv)",
            "含描述列和等级列的 CSV（默认：留出集 test.csv）",
        ),
    )
    p.add_argument("--json", action="store_true", help=bi("print one JSON object", "输出一个 JSON 对象"))
    p.add_argument("--rules-only", action="store_true", help=bi("evaluate the rules alone", "只评估规则"))
    p.add_argument(
        "--errors",
        type=int,
        default=0,
        metavar="N",
        help=bi("also list N misclassified rows", "另列出 N 个分错的行"),
    )
    p.add_argument(
        "--records",
        metavar="DIR",
        help=bi(
            "folder of the shared real records, for label files keyed by record id (default: ../shared/data)",
            "共享真实记录的目录，供按记录编号标注的文件使用（默认：../shared/data）",
        ),
    )

    p = sub.add_parser(
        "article",
        help=bi("print an article of the draft", "显示征求意见稿的一条条文"),
        description=bi("Print an article of the draft.", "显示征求意见稿的一条条文。"),
    )
    p.add_argument("number", help=bi("article number (46) or label (第四十六条)", "条号（46）或条名（第四十六条）"))
    p.add_argument("--json", action="store_true", help=bi("print it as JSON", "以 JSON 输出"))

    p = sub.add_parser(
        "rules",
        help=bi("list the rulebook, or --check it", "列出规则库，或用 --check 检查"),
        description=bi("List or check the rulebook.", "列出或检查规则库。"),
    )
    p.add_argument(
        "--check",
        action="store_true",
        help=bi("validate the rulebook and run every rule's examples", "校验规则库，并运行每条规则的示例"),
    )
    p.add_argument("--json", action="store_true", help=bi("print the list as JSON", "以 JSON 输出列表"))
    _add_review_parsers(sub)
    from riskclass.cli.config import add_parser as add_config_parser

    add_config_parser(sub)
    add_lang_everywhere(parser)  # last: every command, including those added above, takes --lang after its name
    return parser


def cmd_app(args: argparse.Namespace) -> int:
    """No command: the full-screen terminal app, which needs an interactive terminal."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InputError(
            "the terminal app needs an interactive terminal; for scripts use a command (riskclass --help)",
            zh="终端应用需要交互式终端；脚本中请使用命令（riskclass --help）",
        )
    from riskclass.tui import run

    return run(lang=args.lang, audit_log=args.app_audit_log, register=args.app_register)


def cmd_batch(args: argparse.Namespace) -> int:
    from riskclass.cli.batch import cmd_batch as run_batch_command

    return run_batch_command(args)


def cmd_config(args: argparse.Namespace) -> int:
    from riskclass.cli.config import cmd_config as show_config

    return show_config(args)


def cmd_register(args: argparse.Namespace) -> int:
    from riskclass.cli.register import cmd_register as run_register_command

    return run_register_command(args)


# ---- reviews and the audit log (issue 6) ---------------------------------------------------------------------------
# `riskclass review` records a reviewer's decision in the audit log, `riskclass audit verify|list` reads it, `classify`
# shows an earlier decision, `train --with-reviews` learns from them. The log itself lives in riskclass.audit.

COMMANDS = {
    "classify": cmd_classify,
    "batch": cmd_batch,
    "register": cmd_register,
    "report": cmd_report,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "article": cmd_article,
    "rules": cmd_rules,
    "review": cmd_review,
    "audit": cmd_audit,
    "config": cmd_config,
}


# Arguments that name files: undecodable bytes in them are a file name as the system spells it (POSIX names are
# bytes), used as they are. Found by metavar so a new PATH option is one too; train's --data/--test/--out have none.
PATH_METAVARS = frozenset({"FILE", "PATH", "DIR", "INPUT", "PREVIOUS"})
PATH_DESTS = frozenset({"data", "test", "out"})


def _path_dests(parser: argparse.ArgumentParser) -> set[str]:
    dests = set(PATH_DESTS)
    for action in parser._actions:  # argparse has no public walk over its actions
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                dests |= _path_dests(sub)
        elif action.metavar in PATH_METAVARS:
            dests.add(action.dest)
    return dests


def _undecodable(value: object) -> list[int]:
    """The bytes Python could not decode in a command-line argument (kept as U+DC80–U+DCFF by surrogateescape)."""
    if isinstance(value, str):
        return [ord(ch) - 0xDC00 for ch in value if 0xDC80 <= ord(ch) <= 0xDCFF]
    if isinstance(value, (list, tuple)):
        return [b for v in value for b in _undecodable(v)]
    return []


def check_text_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A text argument (a description, a reviewer's name, a reason, a column name) holding bytes that are not valid
    in the locale's encoding is refused before any work, naming the argument and the bytes (issue 12): it would
    otherwise fail when written, as an internal error, or be classified as something it is not."""
    paths = _path_dests(parser)
    for dest, value in vars(args).items():
        bad = [] if dest in paths else _undecodable(value)
        if bad:
            name = dest if dest in ("description", "number") else "--" + dest.replace("_", "-")
            shown = " ".join(f"0x{b:02x}" for b in bad[:4]) + (" …" if len(bad) > 4 else "")
            raise InputError(
                f"the {name} argument is not {sys.getfilesystemencoding()} text: it holds the bytes {shown}; "
                "convert it (e.g. iconv -f GBK -t UTF-8)"
                + (", or give the description on standard input with -" if dest == "description" else ""),
                zh=f"参数 {name} 不是 {sys.getfilesystemencoding()} 文本：含有字节 {shown}；请先转换（例如 "
                "iconv -f GBK -t UTF-8）" + ("，或用 - 从标准输入给出描述" if dest == "description" else ""),
            )


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    Parser.lang = fallback_lang(argv)  # usage errors come before the settings are read: in the language asked for
    parser = build_parser()
    args = parser.parse_args(argv)
    args.lang = getattr(args, "lang", None) or args.ui_lang  # after the command wins; None until the settings say
    try:
        from riskclass.cli.common import resolve_settings

        resolve_settings(args)  # option > environment > config.toml > default; a malformed file stops here (exit 2)
        check_text_arguments(parser, args)
        if args.command is None:
            return cmd_app(args)
        status = int(COMMANDS[args.command](args))
        sys.stdout.flush()  # a full disk behind standard output shows up here, inside the error handling
        return status
    except RiskclassError as exc:
        print(f"riskclass: {exc.text(_lang(args))}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("riskclass: " + ("已中断" if _lang(args) == "zh" else "interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return ExitCode.OK
    except OSError as exc:
        from riskclass.tables.files import NO_SPACE, STDOUT, write_failure

        if exc.errno not in NO_SPACE:
            return _internal(exc, _lang(args))
        _silence_stdout()
        failure = write_failure(exc, STDOUT)
        print(f"riskclass: {failure.text(_lang(args))}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except Exception as exc:
        return _internal(exc, _lang(args))


def _lang(args: argparse.Namespace) -> str:
    """The message language: the settings' once read, else what the command line or environment asked for."""
    return args.lang or Parser.lang


def _internal(exc: BaseException, lang: str) -> int:
    what = f"{type(exc).__name__}: {exc}"
    print(
        f"riskclass: 内部错误：{what}（请连同输入一起报告）"
        if lang == "zh"
        else f"riskclass: internal error: {what} (please report this with the input)",
        file=sys.stderr,
    )
    return ExitCode.INTERNAL


def _silence_stdout() -> None:
    """Point standard output at the null device, so the interpreter's own flush at exit does not fail again on the
    full disk and print a second message (the same remedy Python's documentation gives for SIGPIPE)."""
    import os

    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass
