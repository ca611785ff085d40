"""The `riskclass` command. Parsing is cheap; each subcommand imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from riskclass import __version__
from riskclass.cli.assess import cmd_classify, cmd_report
from riskclass.cli.common import _add_assessment_options
from riskclass.cli.law import cmd_article, cmd_rules
from riskclass.cli.review import _add_review_parsers, cmd_audit, cmd_review
from riskclass.cli.train import cmd_evaluate, cmd_train
from riskclass.cli.usage import LANG_HELP, Parser, add_lang_everywhere, fallback_lang
from riskclass.errors import ExitCode, InputError, RiskclassError


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="riskclass",
        description="Suggest the risk tier of an AI product under the Chengdu draft measures "
        "(成都市促进人工智能产业发展办法（征求意见稿）), and show why. "
        "Without a command, opens the terminal app.",
        epilog="A suggestion under a draft, not legal advice.",
    )
    parser.add_argument("--version", action="version", version=f"riskclass {__version__}")
    parser.add_argument(
        "--lang", dest="ui_lang", choices=["zh", "en"], default=None, help=LANG_HELP + "; also after the command"
    )
    parser.add_argument(
        "--audit-log", dest="app_audit_log", metavar="PATH", help="the audit log of review decisions (see `audit`)"
    )
    parser.add_argument(
        "--register", dest="app_register", metavar="PATH", help="the terminal app's product register (see `register`)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("classify", help="assess one description", description="Assess one AI product description.")
    p.add_argument("description", help="the description, or - to read it from standard input")
    p.add_argument("--json", action="store_true", help="print one JSON object (CONTRACT.md)")
    p.add_argument("--lang", choices=["zh", "en"], help="language of the output (default: the top-level --lang, zh)")
    _add_assessment_options(p, "answer a follow-up question as a fact, e.g. --answer H4=no (repeatable)")
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto", help="colour the output")
    p.add_argument("--audit-log", metavar="PATH", help="shows an earlier review decision from this log (see `audit`)")
    p.add_argument("--keyring", metavar="PATH", help="verify that decision's signature against this keyring (`audit`)")

    p = sub.add_parser(
        "report",
        help="write a report: checklist or disclosure draft, as Markdown, HTML or JSON",
        description="Write a self-contained report of one assessment: the tier and why, with the articles quoted; "
        "for high risk a 事前评估 checklist, for medium and low a 事前披露 draft and a 事后控制 plan outline — of the "
        "tier a reviewer decided when the audit log holds a verified decision, shown beside the suggestion. "
        "The product's identity heads the report and a sign-off block ends it.",
    )
    p.add_argument("description", nargs="?", help="the product description, or - to read it from standard input")
    p.add_argument("--from-json", metavar="FILE", help="report a saved assessment (classify --json or report JSON)")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write here (default: standard output); the format follows "
        "the extension (.md, .html, .json) unless --format says",
    )
    p.add_argument("--format", choices=["md", "html", "json"], help="report format")
    p.add_argument("--lang", choices=["zh", "en"], help="language of the report (default: the top-level --lang, zh)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument("--audit-log", metavar="PATH", help="show an earlier review decision from this log (see `audit`)")
    p.add_argument("--keyring", metavar="PATH", help="verify that decision's signature against this keyring (`audit`)")
    _add_assessment_options(p, "answer a follow-up question as a fact (repeatable)")
    product = p.add_argument_group("the product (shown at the top of the report; empty fields are left to complete)")
    product.add_argument("--id", metavar="ID", help="the product's id in your inventory, e.g. AI-0026")
    product.add_argument("--name", metavar="NAME", help="the product's name")
    product.add_argument("--provider", metavar="NAME", help="who provides or runs it")
    product.add_argument("--owner", metavar="NAME", help="who owns it in your organisation")

    from riskclass.cli.batch import add_parser as add_batch_parser  # standard library only at import: --help stays fast

    add_batch_parser(sub)

    from riskclass.cli.register import add_parser as add_register_parser

    add_register_parser(sub)

    p = sub.add_parser(
        "train",
        help="train the classifier and write it with its manifest",
        description="Train the classifier: prepare → train → evaluate → export.",
    )
    p.add_argument("--data", help="labelled corpus CSV (default: the shipped training/data/corpus.csv)")
    p.add_argument("--test", help="held-out CSV for the metrics (default: the shipped training/data/test.csv)")
    p.add_argument("--out", help="directory for the model, manifest and model card (default: models/ in a checkout)")
    p.add_argument("--no-dev", action="store_true", help="skip the evaluation on the development set")
    p.add_argument(
        "--no-real",
        action="store_true",
        help="fit on the corpus alone, without the real development rows (with --data that is the default)",
    )
    p.add_argument(
        "--records",
        metavar="DIR",
        help="folder of the shared real records the real development rows are read from (default: ../shared/data)",
    )
    p.add_argument(
        "--with-reviews",
        action="store_true",
        help="also fit on the reviewed decisions in the audit log (latest verified one per description, the decided "
        "tier as label; chain verified first, entries whose signature does not verify left out; descriptions in the "
        "held-out or development data left out; recorded separately in the manifest, never written into the corpus)",
    )
    p.add_argument("--audit-log", metavar="PATH", help="the audit log for --with-reviews (see `audit`)")
    p.add_argument("--keyring", metavar="PATH", help="the keyring its signatures are verified against (see `audit`)")

    p = sub.add_parser(
        "evaluate",
        help="measure the engine on a labelled CSV",
        description="Accuracy, macro-F1, per-tier precision/recall, confusion matrix and the ablation "
        "(rules only, model only, combined) on a labelled CSV.",
    )
    p.add_argument("--data", help="CSV with a description column and a tier column (default: the held-out test.csv)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--rules-only", action="store_true", help="evaluate the rules alone")
    p.add_argument("--errors", type=int, default=0, metavar="N", help="also list N misclassified rows")
    p.add_argument(
        "--records",
        metavar="DIR",
        help="folder of the shared real records, for label files keyed by record id (default: ../shared/data)",
    )

    p = sub.add_parser("article", help="print an article of the draft", description="Print an article of the draft.")
    p.add_argument("number", help="article number (46) or label (第四十六条)")
    p.add_argument("--json", action="store_true", help="print it as JSON")

    p = sub.add_parser("rules", help="list the rulebook, or --check it", description="List or check the rulebook.")
    p.add_argument("--check", action="store_true", help="validate the rulebook and run every rule's examples")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
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
