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
    parser.add_argument(
        "--lang", dest="ui_lang", choices=["zh", "en"], default="zh", help="language of the terminal app (default zh)"
    )
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

    p = sub.add_parser(
        "report",
        help="write a report: checklist or disclosure draft, as Markdown, HTML or JSON",
        description="Write a self-contained report of one assessment: the tier and why, with the articles quoted; "
        "for high risk a 事前评估 checklist, for medium and low a 事前披露 draft and a 事后控制 plan outline.",
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
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the report (default zh)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.add_argument(
        "--answer",
        action="append",
        default=[],
        type=_answer,
        metavar="CRITERION=yes|no",
        help="answer a follow-up question as a fact (repeatable)",
    )
    p.add_argument("--rules-only", action="store_true", help="do not consult the model")

    from riskclass.batch import add_parser as add_batch_parser  # standard library only at import: --help stays fast

    add_batch_parser(sub)

    p = sub.add_parser(
        "train",
        help="train the classifier and write it with its manifest",
        description="Train the classifier: prepare → train → evaluate → export.",
    )
    p.add_argument("--data", help="labelled corpus CSV (default: the shipped training/data/corpus.csv)")
    p.add_argument("--test", help="held-out CSV for the metrics (default: the shipped training/data/test.csv)")
    p.add_argument("--out", help="directory for the model, manifest and model card (default: models/ in a checkout)")
    p.add_argument("--no-dev", action="store_true", help="skip the evaluation on the development set")

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
    from riskclass.text import use_on_disk_dictionary

    description = _read_description(args.description)
    use_on_disk_dictionary()  # one description: a few hundred dictionary look-ups, not a second of loading
    engine = Engine(model=None if args.rules_only else _shipped_model())
    assessment = engine.assess(description, answers=dict(args.answer))
    if args.json:
        data = {**assessment.to_dict(args.lang), "description": assessment.description}  # so it can be reported
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        from riskclass.render import print_rendered

        print_rendered(assessment, args.lang, args.color)
    return ExitCode.OK


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from riskclass import reports

    if (args.description is None) == (args.from_json is None):
        raise InputError("give a description (or -) or --from-json FILE, not both and not neither")
    if args.from_json:
        if args.answer or args.rules_only:
            raise InputError("--answer and --rules-only re-assess: they do not apply to a saved assessment")
        assessment = reports.load_saved_assessment(args.from_json)
    else:
        from riskclass.engine import Engine
        from riskclass.text import use_on_disk_dictionary

        description = _read_description(args.description)
        use_on_disk_dictionary()
        engine = Engine(model=None if args.rules_only else _shipped_model())
        assessment = engine.assess(description, answers=dict(args.answer))
    fmt = reports.format_for(args.output or "", args.format)
    text = reports.render_report(reports.build_report(assessment, args.lang), fmt)
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return ExitCode.OK
    out = Path(args.output)
    reports.write_text_atomic(out, text, force=args.force)
    print(f"{out} ({fmt}, {assessment.tier_title.get(args.lang)})", file=sys.stderr)
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


def cmd_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from riskclass import training
    from riskclass.model import shipped_model_dir

    out = Path(args.out) if args.out else shipped_model_dir()
    if not args.out and "site-packages" in str(out):
        raise InputError(
            "riskclass is installed, not run from a checkout: pass --out DIR for the new model "
            "(then RISKCLASS_MODEL_DIR=DIR riskclass classify …)"
        )
    log = sys.stderr
    print("prepare: reading the corpus", file=log)
    data = training.prepare(args.data)
    test = training.read_labelled_csv(args.test or training.training_data_dir() / training.TEST_FILE)
    if data.sha256 == test.sha256:
        raise InputError("the training data and the held-out data are the same file: pass a different --test")
    print(f"train: fitting on {len(data.examples)} descriptions", file=log)
    model = training.train(data)
    dev = []
    for name in () if args.no_dev else training.DEV_FILES:
        if (path := training.training_data_dir() / name).is_file():
            print(f"evaluate: development set {name}", file=log)
            dev.append(training.evaluate(training.read_labelled_csv(path), model))
    print(f"evaluate: held-out {Path(test.name).name} ({len(test.examples)} rows)", file=log)
    held = training.evaluate(test, model)
    manifest = training.export(model, data, out, held_out=held, development=dev, test_data=test)
    print(f"export: {out / manifest['model_file']} sha256 {manifest['model_sha256'][:12]}…", file=log)
    _print_metrics(held)
    return ExitCode.OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from riskclass import training

    data = training.read_labelled_csv(args.data or training.training_data_dir() / training.TEST_FILE)
    model = None if args.rules_only else _shipped_model()
    evaluation = training.evaluate(data, model)
    if args.json:
        print(json.dumps(evaluation.to_dict(), ensure_ascii=False))
    else:
        _print_metrics(evaluation)
        for err in evaluation.errors[: args.errors]:
            print(
                f"  {err['id']}: {err['tier']} → {err['predicted']} ({','.join(err['criteria']) or '-'}) "
                f"{err['description'][:80]}"
            )
    return ExitCode.OK


def _print_metrics(ev) -> None:
    from riskclass.training import TIERS

    m = ev.combined
    print(f"data: {ev.data} ({m.n} rows)")
    print(f"accuracy {m.accuracy:.3f}   macro-F1 {m.macro_f1:.3f}   needs_review {ev.needs_review_rate:.1%}")
    print(f"{'tier':8}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}")
    for t in TIERS:
        pt = m.per_tier[t]
        print(f"{t:8}{pt.precision:10.3f}{pt.recall:8.3f}{pt.f1:7.3f}{pt.support:9}")
    print("confusion (rows: true, columns: predicted)")
    print(f"{'':8}" + "".join(f"{t:>8}" for t in TIERS))
    for t, row in zip(TIERS, m.confusion, strict=True):
        print(f"{t:8}" + "".join(f"{v:8}" for v in row))
    print("ablation")
    for name, part in (("rules only", ev.rules_only), ("model only", ev.model_only), ("combined", ev.combined)):
        if part is not None:
            print(
                f"  {name:11} accuracy {part.accuracy:.3f}  macro-F1 {part.macro_f1:.3f}  "
                f"high recall {part.per_tier['high'].recall:.3f}"
            )


def cmd_app(args: argparse.Namespace) -> int:
    """No command: the full-screen terminal app, which needs an interactive terminal."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InputError("the terminal app needs an interactive terminal; for scripts use a command (riskclass --help)")
    from riskclass.tui import run

    return run(lang=args.ui_lang)


def cmd_batch(args: argparse.Namespace) -> int:
    from riskclass.batch import cmd_batch as run_batch_command

    return run_batch_command(args)


COMMANDS = {
    "classify": cmd_classify,
    "batch": cmd_batch,
    "report": cmd_report,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "article": cmd_article,
    "rules": cmd_rules,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return cmd_app(args)
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
