"""`riskclass train` and `riskclass evaluate`: the training pipeline and its figures."""

from __future__ import annotations

import argparse
import json
import sys

from riskclass.cli.assess import _shipped_model
from riskclass.cli.common import _audit_log_arg, _keyring_arg
from riskclass.errors import ExitCode, InputError


def cmd_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    import riskclass.training.pipeline as training
    from riskclass.model.classifier import shipped_model_dir

    out = Path(args.out) if args.out else shipped_model_dir()
    if not args.out and "site-packages" in str(out):
        raise InputError(
            "riskclass is installed, not run from a checkout: pass --out DIR for the new model "
            "(then RISKCLASS_MODEL_DIR=DIR riskclass classify …)",
            zh="riskclass 是安装版，不是在源码目录中运行：请用 --out DIR 指定新模型的目录"
            "（之后 RISKCLASS_MODEL_DIR=DIR riskclass classify …）",
        )
    log = sys.stderr
    print("prepare: reading the corpus", file=log)
    data = training.prepare(args.data)
    test = training.read_labelled_csv(args.test or training.training_data_dir() / training.TEST_FILE)
    if data.sha256 == test.sha256:
        raise InputError(
            "the training data and the held-out data are the same file: pass a different --test",
            zh="训练数据与留出数据是同一个文件：请用 --test 另给一个",
        )
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
    if ev.confidences:
        table, ece = ev.calibration
        print(f"calibration of the confidence: expected calibration error {ece:.3f}")
        print(f"  {'confidence':12}{'rows':>6}{'mean':>8}{'accuracy':>10}")
        for lo, hi, n, conf, acc in table:
            print(f"  {lo:.1f}–{hi:.1f}     {n:6}{conf:8.3f}{acc:10.3f}")


def _review_rows_for_training(args: argparse.Namespace, training, data, held_out: list):
    """`train --with-reviews`: the reviewed rows, with those duplicating held-out or development rows left out."""
    held = list(held_out)
    for name in training.DEV_FILES:  # left out even with --no-dev: the engine's thresholds were chosen on them
        if (path := training.training_data_dir() / name).is_file():
            held.append(training.read_labelled_csv(path))
    reviews = training.review_rows(_audit_log_arg(args), held, corpus=data, keyring=_keyring_arg(args))
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
    if reviews.unverified:
        print(
            f"reviews: {reviews.unverified} unverified entries left out (their signature does not verify against "
            "the keyring: run `riskclass audit verify`)",
            file=sys.stderr,
        )
    return reviews
