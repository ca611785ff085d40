"""`riskclass classify` and `riskclass report`: one description assessed, as text, JSON or paperwork."""

from __future__ import annotations

import argparse
import json
import sys

from riskclass.cli.common import _audit_log_arg, _keyring_arg, _out_lang, _paren, _warn
from riskclass.errors import ExitCode, InputError, RiskclassError


def _read_description(arg: str) -> str:
    if arg != "-":
        return arg
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"standard input is not UTF-8 text (byte {exc.start}); convert it, e.g. iconv -f GBK -t UTF-8",
            zh=f"标准输入不是 UTF-8 文本（第 {exc.start} 字节）；请先转换，例如 iconv -f GBK -t UTF-8",
        ) from None


def _audit_log(args: argparse.Namespace):
    """The audit log a command shows decisions from, refused before any work if it is a FIFO, device or socket
    (reading one would wait for ever)."""
    import riskclass.audit.log as audit

    log = audit.AuditLog(_audit_log_arg(args), _keyring_arg(args))
    log.check_usable()
    return log


def _audit_log_if_any(args: argparse.Namespace):
    """The audit log as `_audit_log` gives it when something is at its path, else None: most users have never
    recorded a review, and the audit module (signatures, its records) costs `classify` a twentieth of its start-up."""
    import os

    from riskclass.config import settings

    if not os.path.lexists(settings(audit_log=_audit_log_arg(args)).audit_log):
        return None
    return _audit_log(args)


def cmd_classify(args: argparse.Namespace) -> int:
    log = _audit_log_if_any(args)
    assessment = _assess_description(args)
    review = _earlier_review(
        log, assessment, _out_lang(args)
    )  # issue 6: a decision already recorded for this description
    if args.json:
        data = {**assessment.to_dict(_out_lang(args)), "description": assessment.description}  # so it can be reported
        if review is not None and review.entry is not None:
            from riskclass.audit.log import review_json

            data["review"] = review_json(review, assessment.versions)
        if review is not None and review.skipped is not None:  # issue 12: there, but not a decision
            data["unverified_review"] = {"entry": review.skipped.line, "why": review.skipped.trust}
        from riskclass.text.inert import inert_json

        # json escapes C0 controls but writes DEL, C1, bidi controls and undecodable bytes as they are: escaped too
        sys.stdout.write(inert_json(json.dumps(data, ensure_ascii=False)) + "\n")
    else:
        from riskclass.reports.terminal import print_rendered

        print_rendered(assessment, _out_lang(args), args.color)
        if review is not None and review.entry is not None:
            _print_earlier_review(review, assessment, _out_lang(args))
    return ExitCode.OK


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    import riskclass.reports.report as reports
    from riskclass.tables.files import check_output_path, write_text_atomic

    log = _audit_log(args)
    if args.output:
        check_output_path(args.output, args.force)  # before the assessment: `-o newdir/` is refused, not a file
    assessment = _assess_for(args)
    fmt = reports.format_for(args.output or "", args.format)
    lookup = _earlier_review(
        log, assessment, _out_lang(args)
    )  # a decision already recorded for this description goes in the report
    review = None
    if lookup is not None and lookup.entry is not None:
        import riskclass.audit.log as audit

        review = audit.review_json(lookup, assessment.versions)
    identity = reports.ProductIdentity(
        id=args.id or "", name=args.name or "", provider=args.provider or "", owner=args.owner or ""
    )
    report = reports.build_report(assessment, _out_lang(args), review=review, identity=identity)
    text = reports.render_report(report, fmt)
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return ExitCode.OK
    out = Path(args.output)
    write_text_atomic(args.output, text, force=args.force)
    from riskclass.engine.assessment import TIER_TITLES

    print(f"{out} ({fmt}, {TIER_TITLES[report.tier].get(_out_lang(args))})", file=sys.stderr)  # the paperwork's
    return ExitCode.OK


def _shipped_model():
    """The shipped classifier when one is installed; None means rules only (the result says so)."""
    from riskclass.model.classifier import load_shipped_model

    return load_shipped_model()


def _assess_for(args: argparse.Namespace):
    """The assessment a command works on: a fresh one of the description, or a saved one (--from-json)."""
    if (args.description is None) == (args.from_json is None):
        raise InputError(
            "give a description (or -) or --from-json FILE, not both and not neither",
            zh="请给出描述（或 -）或 --from-json FILE，二者选一",
        )
    if args.from_json:
        if args.answer or args.rules_only:
            raise InputError(
                "--answer and --rules-only re-assess: they do not apply to a saved assessment",
                zh="--answer 和 --rules-only 会重新评估：不适用于已保存的评估",
            )
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


def _earlier_review(log, assessment, lang: str):
    """The latest verified decision about this description (in a Lookup), or None. Never stops classify: no log means
    nothing to show; an unusable or broken log is a one-line warning on standard error (a verified decision is still
    shown, marked); a newer entry about it that is unverified is never shown as a decision, only warned about."""
    if log is None or not log.path.exists():
        return None
    import riskclass.audit.log as audit

    try:
        lookup = log.lookup(audit.fingerprint(assessment.description))
    except RiskclassError as exc:
        _warn(f"{exc.text(lang)}; " + ("earlier reviews are not shown" if lang == "en" else "不显示以往的复核"), lang)
        return None
    notes = []  # one warning line, however many things are wrong
    if not lookup.verification.chain_ok:
        where = audit.describe_break(lookup.verification.problem, lang)
        notes.append(
            f"the audit log {log.path} is broken at {where}" if lang == "en" else f"审计日志 {log.path} 在{where}处损坏"
        )
    if lookup.skipped is not None:
        notes.append(audit.describe_skipped(lookup.skipped, lang))
    if notes:
        run = ": run `riskclass audit verify`" if lang == "en" else "：请运行 `riskclass audit verify`"
        _warn(("; " if lang == "en" else "；").join(notes) + run, lang)
    return lookup if lookup.entry is not None or lookup.skipped is not None else None


def _print_earlier_review(lookup, assessment, lang: str) -> None:
    import riskclass.audit.log as audit

    w = audit.WORDS["en" if lang == "en" else "zh"]
    lines = audit.describe_decision(lookup.decision, assessment.versions, lang, current_tier=assessment.tier)
    head = w["heading"] + _paren(w["entry"].format(line=lookup.entry.line), lang)
    print("\n" + head + "\n" + "\n".join(f"  {line}" for line in lines))
