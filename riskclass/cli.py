"""The `riskclass` command. Parsing is cheap; each subcommand imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from riskclass import __version__
from riskclass.errors import ExitCode, InputError, RiskclassError

ANSWER_WORDS = {
    "yes": True,
    "y": True,
    "true": True,
    "是": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "否": False,
    "0": False,
    "unknown": None,
    "?": None,
    "不确定": None,
}


def _answer(value: str) -> tuple[str, bool | None]:
    cid, sep, word = value.partition("=")
    if not sep or word.strip().lower() not in ANSWER_WORDS:
        raise argparse.ArgumentTypeError(f"expected CRITERION=yes|no|unknown (e.g. H4=yes), got {value!r}")
    return cid.strip().upper(), ANSWER_WORDS[word.strip().lower()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="riskclass",
        description="Suggest the risk tier of an AI product under the Chengdu draft measures "
        "(成都市促进人工智能产业发展办法（征求意见稿）), and show why. "
        "Without a command, opens the terminal app.",
        epilog="A suggestion under a draft, not legal advice.",
    )
    parser.add_argument("--version", action="version", version=f"riskclass {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("classify", help="assess one description", description="Assess one AI product description.")
    p.add_argument("description", help="the description, or - to read it from standard input")
    p.add_argument("--json", action="store_true", help="print one JSON object (CONTRACT.md)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the output (default zh)")
    p.add_argument(
        "--answer",
        action="append",
        type=_answer,
        default=[],
        metavar="CRITERION=yes|no",
        help="answer a follow-up question as a fact, e.g. --answer H4=no (repeatable)",
    )
    p.add_argument("--rules-only", action="store_true", help="do not consult the model")
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto", help="colour the output")

    p = sub.add_parser("article", help="print an article of the draft", description="Print an article of the draft.")
    p.add_argument("number", help="article number (46) or label (第四十六条)")
    p.add_argument("--json", action="store_true", help="print it as JSON")

    p = sub.add_parser("rules", help="list the rulebook, or --check it", description="List or check the rulebook.")
    p.add_argument("--check", action="store_true", help="validate the rulebook and run every rule's examples")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    return parser


def _read_description(arg: str) -> str:
    if arg != "-":
        return arg
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"standard input is not UTF-8 text (byte {exc.start}); convert it, e.g. iconv -f GBK -t UTF-8"
        ) from None


def cmd_classify(args: argparse.Namespace) -> int:
    from riskclass.engine import Engine

    description = _read_description(args.description)
    engine = Engine(model=None if args.rules_only else _shipped_model())
    assessment = engine.assess(description, answers=dict(args.answer))
    if args.json:
        sys.stdout.write(json.dumps(assessment.to_dict(args.lang), ensure_ascii=False) + "\n")
    else:
        from riskclass.render import print_rendered

        print_rendered(assessment, args.lang, args.color)
    return ExitCode.OK


def _shipped_model():
    """The shipped classifier when one is installed; None means rules only (the result says so)."""
    try:
        from riskclass.model import load_shipped_model
    except ImportError:
        return None
    return load_shipped_model()


def cmd_article(args: argparse.Namespace) -> int:
    from riskclass.law import load_draft

    article = load_draft().article(args.number)
    if args.json:
        print(
            json.dumps(
                {
                    "number": article.number,
                    "label": article.label,
                    "title": article.title,
                    "chapter": article.chapter,
                    "text": article.text,
                },
                ensure_ascii=False,
            )
        )
    else:
        print(f"{article.label}（{article.title}）  {article.chapter}\n{article.text}")
    return ExitCode.OK


def cmd_rules(args: argparse.Namespace) -> int:
    from riskclass.rulebook import load_rulebook

    rb = load_rulebook()
    if args.check:
        from riskclass.examples import check_examples

        failures = check_examples(rb)
        for f in failures:
            print(f, file=sys.stderr)
        n = sum(len(r.positive) + len(r.negative) for r in rb.rules)
        print(
            f"rulebook {rb.version}: {len(rb.rules)} rules valid; {n - len(failures)}/{n} examples behave as declared"
        )
        return ExitCode.OK if not failures else ExitCode.INTERNAL
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "criterion": r.criterion,
                        "tier": r.tier,
                        "strength": r.strength,
                        "title": r.title.zh,
                        "title_en": r.title.en,
                        "articles": [c.article for c in r.articles],
                    }
                    for r in rb.rules
                ],
                ensure_ascii=False,
            )
        )
        return ExitCode.OK
    print(f"rulebook {rb.version}: {len(rb.rules)} rules")
    for r in rb.rules:
        print(
            f"  {r.criterion:3} {r.id:32} {r.strength:6} {r.title.zh} / {r.title.en}  "
            f"[{' '.join(dict.fromkeys(c.article for c in r.articles))}]"
        )
    return ExitCode.OK


COMMANDS = {"classify": cmd_classify, "article": cmd_article, "rules": cmd_rules}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return ExitCode.OK
    try:
        return int(COMMANDS[args.command](args))
    except RiskclassError as exc:
        print(f"riskclass: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("riskclass: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:
        print(
            f"riskclass: internal error: {type(exc).__name__}: {exc} (please report this with the input)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL
