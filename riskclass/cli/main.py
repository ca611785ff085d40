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


def _add_assessment_options(p: argparse.ArgumentParser, answer_help: str) -> None:
    """--answer and --rules-only, the options of every command that assesses a description."""
    p.add_argument("--answer", action="append", type=_answer, default=[], metavar="CRITERION=yes|no", help=answer_help)
    p.add_argument("--rules-only", action="store_true", help="do not consult the model")


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
    parser.add_argument(
        "--audit-log", dest="app_audit_log", metavar="PATH", help="the audit log of review decisions (see `audit`)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("classify", help="assess one description", description="Assess one AI product description.")
    p.add_argument("description", help="the description, or - to read it from standard input")
    p.add_argument("--json", action="store_true", help="print one JSON object (CONTRACT.md)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the output (default zh)")
    _add_assessment_options(p, "answer a follow-up question as a fact, e.g. --answer H4=no (repeatable)")
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto", help="colour the output")
    p.add_argument("--audit-log", metavar="PATH", help="shows an earlier review decision from this log (see `audit`)")

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
    p.add_argument("--audit-log", metavar="PATH", help="show an earlier review decision from this log (see `audit`)")
    _add_assessment_options(p, "answer a follow-up question as a fact (repeatable)")

    from riskclass.cli.batch import add_parser as add_batch_parser  # standard library only at import: --help stays fast

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
    p.add_argument(
        "--with-reviews",
        action="store_true",
        help="also fit on the reviewed decisions in the audit log (latest per description, the decided tier as "
        "label; chain verified first; descriptions in the held-out or development data left out; recorded "
        "separately in the manifest, never written into the corpus)",
    )
    p.add_argument("--audit-log", metavar="PATH", help="the audit log for --with-reviews (see `audit`)")

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
    assessment = _assess_description(args)
    review = _earlier_review(args, assessment)  # issue 6: a decision already recorded for this description
    if args.json:
        data = {**assessment.to_dict(args.lang), "description": assessment.description}  # so it can be reported
        if review is not None:
            from riskclass.audit.log import review_json

            data["review"] = review_json(review, assessment.versions)
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        from riskclass.reports.terminal import print_rendered

        print_rendered(assessment, args.lang, args.color)
        if review is not None:
            _print_earlier_review(review, assessment, args.lang)
    return ExitCode.OK


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    import riskclass.reports.report as reports
    from riskclass.tables.files import write_text_atomic

    assessment = _assess_for(args)
    fmt = reports.format_for(args.output or "", args.format)
    lookup = _earlier_review(args, assessment)  # a decision already recorded for this description goes in the report
    review = None
    if lookup is not None:
        import riskclass.audit.log as audit

        review = audit.review_json(lookup, assessment.versions)
    text = reports.render_report(reports.build_report(assessment, args.lang, review=review), fmt)
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return ExitCode.OK
    out = Path(args.output)
    write_text_atomic(out, text, force=args.force)
    print(f"{out} ({fmt}, {assessment.tier_title.get(args.lang)})", file=sys.stderr)
    return ExitCode.OK


def _shipped_model():
    """The shipped classifier when one is installed; None means rules only (the result says so)."""
    from riskclass.training.shipped import shipped_model

    return shipped_model()


def cmd_article(args: argparse.Namespace) -> int:
    from riskclass.law.draft import load_draft

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
    from riskclass.rulebook.rules import load_rulebook

    rb = load_rulebook()
    if args.check:
        from riskclass.rulebook.examples import check_examples

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

    import riskclass.training.pipeline as training
    from riskclass.model.classifier import shipped_model_dir

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
    more = [] if args.test else training.more_held_out_sets()
    reviews = _review_rows_for_training(args, training, data, [test, *more]) if args.with_reviews else None
    fit_on = training.with_reviews(data, reviews) if reviews is not None else data
    print(f"train: fitting on {len(fit_on.examples)} descriptions", file=log)
    model = training.train(fit_on)
    dev = []
    for name in () if args.no_dev else training.DEV_FILES:
        if (path := training.training_data_dir() / name).is_file():
            print(f"evaluate: development set {name}", file=log)
            dev.append(training.evaluate(training.read_labelled_csv(path), model))
    evaluated = []
    for held_out in (test, *more):
        print(f"evaluate: held-out {Path(held_out.name).name} ({len(held_out.examples)} rows)", file=log)
        evaluated.append((held_out, training.evaluate(held_out, model)))
    (_, held), *more_held = evaluated
    manifest = training.export(
        model, data, out, held_out=held, development=dev, test_data=test, reviews=reviews, more_held_out=more_held
    )
    print(f"export: {out / manifest['model_file']} sha256 {manifest['model_sha256'][:12]}…", file=log)
    for n, (_, evaluation) in enumerate(evaluated):
        if n:
            print()
        _print_metrics(evaluation)
    return ExitCode.OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    import riskclass.training.pipeline as training

    default = training.training_data_dir() / training.TEST_FILE
    data = training.read_labelled_csv(args.data or default, records=args.records)
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
    from riskclass.training.pipeline import TIERS

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

    return run(lang=args.ui_lang, audit_log=args.app_audit_log)


def cmd_batch(args: argparse.Namespace) -> int:
    from riskclass.cli.batch import cmd_batch as run_batch_command

    return run_batch_command(args)


# ---- reviews and the audit log (issue 6) ---------------------------------------------------------------------------
# `riskclass review` records a reviewer's decision in the audit log, `riskclass audit verify|list` reads it, `classify`
# shows an earlier decision, `train --with-reviews` learns from them. The log itself lives in riskclass.audit.

AUDIT_LOG_HELP = (
    "the audit log, JSON Lines (default: $RISKCLASS_AUDIT_LOG, else $XDG_DATA_HOME/riskclass/audit.jsonl, "
    "else ~/.local/share/riskclass/audit.jsonl)"
)
AUDIT_EPILOG = (
    "Each entry carries the hash of the entry before it, so an edited, deleted, inserted or reordered entry breaks "
    "the chain and `audit verify` names the first broken one. A chain alone cannot show entries cut off at the end: "
    "verify prints the number of entries and the head hash — record them elsewhere (a ticket, a signed commit) and "
    "check later with --expect-head HASH."
)


def _add_review_parsers(sub) -> None:
    p = sub.add_parser(
        "review",
        help="record a reviewer's decision on a suggested tier in the audit log",
        description="Assess a description (or read a saved assessment), then record a named reviewer's decision — "
        "accept the suggested tier or change it, with a reason — in the tamper-evident audit log.",
        epilog=AUDIT_EPILOG,
    )
    p.add_argument("description", nargs="?", help="the description, or - to read it from standard input")
    p.add_argument("--from-json", metavar="FILE", help="review a saved assessment (classify --json or report JSON)")
    p.add_argument("--reviewer", required=True, metavar="NAME", help="who decides (required, one line)")
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--accept", action="store_true", help="accept the suggested tier")
    decision.add_argument("--tier", choices=["high", "medium", "low"], help="the tier the reviewer decides")
    p.add_argument(
        "--reason", default="", metavar="TEXT", help="why (required when --tier differs from the suggestion)"
    )
    _add_assessment_options(p, "answer a follow-up question as a fact before assessing (repeatable)")
    p.add_argument("--audit-log", metavar="PATH", help=AUDIT_LOG_HELP)
    p.add_argument("--json", action="store_true", help="print the recorded entry as one JSON object")
    p.add_argument("--lang", choices=["zh", "en"], help="language of the output (default: the top-level --lang, zh)")

    p = sub.add_parser(
        "audit",
        help="verify or list the audit log of review decisions",
        description="Check or list the audit log of review decisions.",
        epilog=AUDIT_EPILOG,
    )
    audit_sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = audit_sub.add_parser(
        "verify",
        help="check the hash chain; exit 0 intact, 1 broken (naming the first broken entry)",
        description="Check the audit log's hash chain. Exit 0 when intact, 1 when broken (the first broken entry is "
        "named: edited, deleted, inserted, reordered, not JSON), 2 when there is no usable log.",
        epilog=AUDIT_EPILOG,
    )
    v.add_argument("--audit-log", metavar="PATH", help=AUDIT_LOG_HELP)
    v.add_argument(
        "--expect-head",
        metavar="HASH",
        help="a head hash recorded earlier (12+ hex digits): fail unless that entry is still in the chain",
    )
    v.add_argument("--json", action="store_true", help="print the result as one JSON object")
    v.add_argument("--lang", choices=["zh", "en"], help="language of the output (default: the top-level --lang, zh)")
    li = audit_sub.add_parser("list", help="list the decisions, oldest first", description="List the decisions.")
    li.add_argument("--audit-log", metavar="PATH", help=AUDIT_LOG_HELP)
    li.add_argument("--json", action="store_true", help="print one JSON array of the entries")
    li.add_argument("--lang", choices=["zh", "en"], help="language of the output (default: the top-level --lang, zh)")


def _audit_log_arg(args: argparse.Namespace) -> str | None:
    """--audit-log on the command, else the top-level one; None lets riskclass.audit apply the env and the default."""
    return getattr(args, "audit_log", None) or getattr(args, "app_audit_log", None)


def _out_lang(args: argparse.Namespace) -> str:
    return getattr(args, "lang", None) or getattr(args, "ui_lang", "zh")


def _paren(text: str, lang: str) -> str:
    return f" ({text})" if lang == "en" else f"（{text}）"


def _warn(message: str) -> None:
    print(f"riskclass: warning: {message}", file=sys.stderr)


REVIEW_WORDS = {
    "zh": {
        "recorded": "已记录复核决定：{path} 第 {line} 条",
        "reviewer": "复核人",
        "time": "时间",
        "suggested": "建议",
        "decided": "决定",
        "accepted": "接受建议",
        "changed": "改判",
        "reason": "理由",
        "versions": "版本",
        "fingerprint": "指纹",
        "hash": "条目哈希",
        "rules_only": "仅规则",
        "confidence": "置信度",
        "rulebook": "规则库",
        "model": "模型",
        "intact": "审计日志完好：{n} 条决定（{path}）",
        "broken": "审计日志已损坏（{path}）：{problem}",
        "intact_part": "前 {n} 条完好",
        "head": "链头哈希",
        "truncation": "注意：从末尾截去的条目无法由链本身发现。请在别处记下条数和链头哈希，日后用 --expect-head 核对。",
        "expect_found": "记录的链头仍在链中（第 {line} 条），其后新增 {more} 条",
        "expect_missing": "链中没有哈希为 {head} 的条目：日志被截断、重写或换成了另一份",
        "none": "审计日志中还没有决定（{path}）",
        "colon": "：",
    },
    "en": {
        "recorded": "Decision recorded: {path}, entry {line}",
        "reviewer": "reviewer",
        "time": "time",
        "suggested": "suggested",
        "decided": "decided",
        "accepted": "accepted the suggestion",
        "changed": "changed",
        "reason": "reason",
        "versions": "versions",
        "fingerprint": "fingerprint",
        "hash": "entry hash",
        "rules_only": "rules only",
        "confidence": "confidence",
        "rulebook": "rulebook",
        "model": "model",
        "intact": "Audit log intact: {n} decisions ({path})",
        "broken": "Audit log broken ({path}): {problem}",
        "intact_part": "the first {n} entries are intact",
        "head": "head hash",
        "truncation": "Note: entries cut off at the end cannot be detected by the chain itself. Record the count and "
        "the head hash elsewhere and check later with --expect-head.",
        "expect_found": "the recorded head is still in the chain (entry {line}); {more} entries added since",
        "expect_missing": "no entry with hash {head} in the chain: the log was truncated, rewritten or replaced",
        "none": "no decisions in the audit log yet ({path})",
        "colon": ": ",
    },
}


def _assess_for(args: argparse.Namespace):
    """The assessment a command works on: a fresh one of the description, or a saved one (--from-json)."""
    if (args.description is None) == (args.from_json is None):
        raise InputError("give a description (or -) or --from-json FILE, not both and not neither")
    if args.from_json:
        if args.answer or args.rules_only:
            raise InputError("--answer and --rules-only re-assess: they do not apply to a saved assessment")
        from riskclass.reports.report import load_saved_assessment

        return load_saved_assessment(args.from_json)
    return _assess_description(args)


def _assess_description(args: argparse.Namespace):
    """A fresh assessment of the description argument (or standard input), with --answer and --rules-only."""
    from riskclass.engine.decide import Engine
    from riskclass.text.normalise import use_on_disk_dictionary

    description = _read_description(args.description)
    use_on_disk_dictionary()  # one description: a few hundred dictionary look-ups, not a second of loading
    engine = Engine(model=None if args.rules_only else _shipped_model())
    return engine.assess(description, answers=dict(args.answer))


def cmd_review(args: argparse.Namespace) -> int:
    import riskclass.audit.log as audit

    audit.check_reviewer(args.reviewer)  # before assessing: a missing name should not cost a model load
    assessment = _assess_for(args)
    log = audit.AuditLog(_audit_log_arg(args))
    recorded = log.record(assessment, args.reviewer, None if args.accept else args.tier, args.reason)
    d = recorded.decision
    if args.json:
        out = {**d.to_dict(), "entry": recorded.line, "audit_log": str(recorded.path)}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return ExitCode.OK
    lang = _out_lang(args)
    W, T, c = REVIEW_WORDS[lang], audit.TIER_NAMES[lang], REVIEW_WORDS[lang]["colon"]
    s = d.suggested
    model = d.versions.get("model_sha256", "")[:12] or W["rules_only"]
    lines = [
        W["recorded"].format(path=recorded.path, line=recorded.line),
        f"  {W['reviewer']}{c}{audit.printable(d.reviewer)}",
        f"  {W['time']}{c}{d.timestamp}",
        f"  {W['suggested']}{c}{T[s.tier]}"
        + _paren(f"{', '.join(s.criteria) or '-'}; {W['confidence']} {s.confidence:.2f}", lang),
        f"  {W['decided']}{c}{T[d.decided_tier]}" + _paren(W["accepted"] if d.accepted else W["changed"], lang),
    ]
    if d.reason:
        lines.append(f"  {W['reason']}{c}{audit.printable(d.reason)}")
    lines += [
        f"  {W['versions']}{c}riskclass {d.versions.get('riskclass', '?')} · {W['rulebook']} "
        f"{d.versions.get('rulebook', '?')} · {W['model']} {model}",
        f"  {W['fingerprint']}{c}{d.fingerprint}",
        f"  {W['hash']}{c}{d.hash}",
    ]
    print("\n".join(lines))
    return ExitCode.OK


def cmd_audit(args: argparse.Namespace) -> int:
    import riskclass.audit.log as audit

    log = audit.AuditLog(_audit_log_arg(args))
    lang = _out_lang(args)
    W, c = REVIEW_WORDS[lang], REVIEW_WORDS[lang]["colon"]
    contents = log.read()  # AuditError (exit 2) when there is no usable log
    check = contents.verification
    if args.audit_command == "list":
        if not check.ok:
            _warn(f"the audit log is broken at {audit.describe_break(check.problem, 'en')}: see `audit verify`")
        if args.json:
            rows = [{"entry": e.line, **e.decision.to_dict()} for e in contents.entries]
            sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
            return ExitCode.OK
        if not contents.entries:
            print(W["none"].format(path=log.path))
        T = audit.TIER_NAMES[lang]
        for e in contents.entries:
            d = e.decision
            verdict = (
                T.get(d.decided_tier, "?") + _paren(W["accepted"], lang)
                if d.accepted
                else f"{T.get(d.suggested.tier, '?')} → {T.get(d.decided_tier, '?')}" + _paren(W["changed"], lang)
            )
            desc = audit.printable(d.description)
            desc = desc if len(desc) <= 40 else desc[:39] + "…"
            reason = f"  {W['reason']}{c}{audit.printable(d.reason)}" if d.reason else ""
            print(f"{e.line:>4}  {d.timestamp}  {audit.printable(d.reviewer)}  {verdict}  “{desc}”{reason}")
        return ExitCode.OK

    # verify
    found = None
    if args.expect_head:
        want = args.expect_head.strip().lower()
        if len(want) < 12 or any(ch not in "0123456789abcdef" for ch in want):
            raise InputError("--expect-head takes a head hash printed by `riskclass audit verify` (12+ hex digits)")
        found = next((e.line for e in contents.entries if e.decision.hash.startswith(want)), None)
    if args.json:
        p = check.problem
        out = {
            "ok": check.ok and (not args.expect_head or found is not None),
            "path": check.path,
            "entries": check.entries,
            "intact": check.intact,
            "head": check.head,
            "problem": None if p is None else {**p.__dict__, "message": audit.describe_break(p, "en")},
        }
        if args.expect_head:
            out["expected_head_entry"] = found
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        return ExitCode.OK if out["ok"] else ExitCode.INTERNAL
    if check.problem is not None:
        print(W["broken"].format(path=log.path, problem=audit.describe_break(check.problem, lang)))
        print(f"  {W['intact_part'].format(n=check.intact)}; {W['head']}{c}{check.head}")
        return 1  # a finding, not a crash: "broken" is the one non-zero answer scripts test for
    print(W["intact"].format(n=check.entries, path=log.path))
    print(f"  {W['head']}{c}{check.head}")
    if args.expect_head:
        if found is None:
            print(W["expect_missing"].format(head=args.expect_head))
            return 1
        print(W["expect_found"].format(line=found, more=check.entries - found))
    print(W["truncation"])
    return ExitCode.OK


def _earlier_review(args: argparse.Namespace, assessment):
    """The latest decision about this description, or None. Never stops classify: no log means nothing to show; an
    unusable or broken log is a one-line warning on standard error (the decision is still shown, marked)."""
    import riskclass.audit.log as audit

    log = audit.AuditLog(_audit_log_arg(args))
    if not log.path.exists():
        return None
    try:
        lookup = log.lookup(audit.fingerprint(assessment.description))
    except RiskclassError as exc:
        _warn(f"{exc.message}; earlier reviews are not shown")
        return None
    if not lookup.verification.ok:
        _warn(
            f"the audit log {log.path} is broken at {audit.describe_break(lookup.verification.problem, 'en')}: "
            "run `riskclass audit verify`"
        )
    return lookup if lookup.entry is not None else None


def _print_earlier_review(lookup, assessment, lang: str) -> None:
    import riskclass.audit.log as audit

    w = audit.WORDS["en" if lang == "en" else "zh"]
    lines = audit.describe_decision(lookup.decision, assessment.versions, lang, current_tier=assessment.tier)
    head = w["heading"] + _paren(w["entry"].format(line=lookup.entry.line), lang)
    print("\n" + head + "\n" + "\n".join(f"  {line}" for line in lines))


def _review_rows_for_training(args: argparse.Namespace, training, data, held_out: list):
    """`train --with-reviews`: the reviewed rows, with those duplicating held-out or development rows left out."""
    held = list(held_out)
    for name in training.DEV_FILES:  # left out even with --no-dev: the engine's thresholds were chosen on them
        if (path := training.training_data_dir() / name).is_file():
            held.append(training.read_labelled_csv(path))
    reviews = training.review_rows(_audit_log_arg(args), held, corpus=data)
    print(
        f"reviews: {len(reviews.examples)} reviewed descriptions from {reviews.source} "
        f"(chain verified: {reviews.entries} entries, head {reviews.head[:12]}…; kept apart from the corpus)",
        file=sys.stderr,
    )
    print(
        f"reviews: {reviews.left_out} left out (the same description is in the held-out or development data); "
        f"{reviews.in_corpus} also in the corpus",
        file=sys.stderr,
    )
    return reviews


COMMANDS = {
    "classify": cmd_classify,
    "batch": cmd_batch,
    "report": cmd_report,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "article": cmd_article,
    "rules": cmd_rules,
    "review": cmd_review,
    "audit": cmd_audit,
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
