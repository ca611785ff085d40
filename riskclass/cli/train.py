"""`riskclass train` and `riskclass evaluate`: the training pipeline and its figures."""

from __future__ import annotations

import argparse
import json
import sys

from riskclass.cli.assess import _shipped_model
from riskclass.cli.common import _audit_log_arg, _keyring_arg, _out_lang
from riskclass.errors import ExitCode, InputError

# What `train` and `evaluate` print for a person; metric names (macro-F1, ECE) and tier ids stay as they are.
WORDS = {
    "zh": {
        "prepare": "准备：读取语料",
        "no_real": "注意：本目录旁没有共享的真实记录（../shared/data，或 --records DIR），只用语料训练；"
        "得到的模型与随附的不同",
        "fitting": "训练：用 {n} 条描述拟合",
        "dev": "评估：开发集 {name}",
        "held_out": "评估：留出集 {name}（{n} 行）",
        "export": "导出：{path} sha256 {sha}…",
        "data": "数据：{data}（{n} 行）",
        "headline": "准确率 {acc:.3f}   macro-F1 {f1:.3f}   需复核 {review:.1%}",
        "columns": ("等级", "精确率", "召回率", "F1", "样本数"),
        "confusion": "混淆矩阵（行：真实，列：预测）",
        "ablation": "消融",
        "parts": ("仅规则", "仅模型", "组合"),
        "part": "  {name} 准确率 {acc:.3f}  macro-F1 {f1:.3f}  高风险召回率 {recall:.3f}",
        "calibration": "置信度的校准：期望校准误差（ECE）{ece:.3f}",
        "calibration_columns": ("置信度", "行数", "平均", "准确率"),
    },
    "en": {
        "prepare": "prepare: reading the corpus",
        "no_real": "note: the shared real records are not beside this checkout (../shared/data, or --records DIR): "
        "fitting on the corpus alone; the model will differ from the shipped one",
        "fitting": "train: fitting on {n} descriptions",
        "dev": "evaluate: development set {name}",
        "held_out": "evaluate: held-out {name} ({n} rows)",
        "export": "export: {path} sha256 {sha}…",
        "data": "data: {data} ({n} rows)",
        "headline": "accuracy {acc:.3f}   macro-F1 {f1:.3f}   needs_review {review:.1%}",
        "columns": ("tier", "precision", "recall", "F1", "support"),
        "confusion": "confusion (rows: true, columns: predicted)",
        "ablation": "ablation",
        "parts": ("rules only", "model only", "combined"),
        "part": "  {name} accuracy {acc:.3f}  macro-F1 {f1:.3f}  high recall {recall:.3f}",
        "calibration": "calibration of the confidence: expected calibration error {ece:.3f}",
        "calibration_columns": ("confidence", "rows", "mean", "accuracy"),
    },
}


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
    W = WORDS[_out_lang(args)]
    print(W["prepare"], file=log)
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
    real = None
    if not (args.no_real or args.data):
        real = training.real_training_rows(args.records)
        if real is None:
            print(W["no_real"], file=log)
    print(W["fitting"].format(n=len(fit_on.examples) + (len(real.examples) if real else 0)), file=log)
    model = training.train(fit_on, real=real)
    dev = []
    for name in () if args.no_dev else training.DEV_FILES:
        if (path := training.training_data_dir() / name).is_file():
            print(W["dev"].format(name=name), file=log)
            dev.append(training.evaluate(training.read_labelled_csv(path), model))
    evaluated = []
    for held_out in (test, *more):
        print(W["held_out"].format(name=Path(held_out.name).name, n=len(held_out.examples)), file=log)
        evaluated.append((held_out, training.evaluate(held_out, model)))
    (_, held), *more_held = evaluated
    manifest = training.export(
        model,
        data,
        out,
        held_out=held,
        development=dev,
        test_data=test,
        reviews=reviews,
        more_held_out=more_held,
        real=real,
    )
    print(W["export"].format(path=out / manifest["model_file"], sha=manifest["model_sha256"][:12]), file=log)
    for n, (_, evaluation) in enumerate(evaluated):
        if n:
            print()
        _print_metrics(evaluation, _out_lang(args))
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
        _print_metrics(evaluation, _out_lang(args))
        for err in evaluation.errors[: args.errors]:
            print(
                f"  {err['id']}: {err['tier']} → {err['predicted']} ({','.join(err['criteria']) or '-'}) "
                f"{err['description'][:80]}"
            )
    return ExitCode.OK


def _print_metrics(ev, lang: str = "zh") -> None:
    from riskclass.training.pipeline import TIERS

    W = WORDS[lang]
    m = ev.combined
    print(W["data"].format(data=ev.data, n=m.n))
    print(W["headline"].format(acc=m.accuracy, f1=m.macro_f1, review=ev.needs_review_rate))
    tier, precision, recall, f1, support = W["columns"]
    print(_pad(tier, 8, "<") + _pad(precision, 10) + _pad(recall, 8) + _pad(f1, 7) + _pad(support, 9))
    for t in TIERS:
        pt = m.per_tier[t]
        print(f"{t:8}{pt.precision:10.3f}{pt.recall:8.3f}{pt.f1:7.3f}{pt.support:9}")
    print(W["confusion"])
    print(f"{'':8}" + "".join(f"{t:>8}" for t in TIERS))
    for t, row in zip(TIERS, m.confusion, strict=True):
        print(f"{t:8}" + "".join(f"{v:8}" for v in row))
    print(W["ablation"])
    for name, part in zip(W["parts"], (ev.rules_only, ev.model_only, ev.combined), strict=True):
        if part is not None:
            print(
                W["part"].format(
                    name=_pad(name, 11, "<"), acc=part.accuracy, f1=part.macro_f1, recall=part.per_tier["high"].recall
                )
            )
    if ev.confidences:
        table, ece = ev.calibration
        print(W["calibration"].format(ece=ece))
        confidence, rows, mean, accuracy = W["calibration_columns"]
        print("  " + _pad(confidence, 12, "<") + _pad(rows, 6) + _pad(mean, 8) + _pad(accuracy, 10))
        for lo, hi, n, conf, acc in table:
            print(f"  {lo:.1f}–{hi:.1f}     {n:6}{conf:8.3f}{acc:10.3f}")


def _pad(text: str, width: int, align: str = ">") -> str:
    """`text` padded to `width` terminal columns: a Chinese character takes two, so str.format's padding misaligns."""
    import unicodedata

    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    fill = " " * max(width - columns, 0)
    return text + fill if align == "<" else fill + text


def _review_rows_for_training(args: argparse.Namespace, training, data, held_out: list):
    """`train --with-reviews`: the reviewed rows, with those duplicating held-out or development rows left out."""
    held = list(held_out)
    for name in training.DEV_FILES:  # left out even with --no-dev: the engine's thresholds were chosen on them
        if (path := training.training_data_dir() / name).is_file():
            held.append(training.read_labelled_csv(path))
    reviews = training.review_rows(_audit_log_arg(args), held, corpus=data, keyring=_keyring_arg(args))
    zh = _out_lang(args) == "zh"
    n, head = len(reviews.examples), reviews.head[:12]
    print(
        f"复核：来自 {reviews.source} 的 {n} 条已复核描述"
        f"（链已验证：{reviews.entries} 条，链头 {head}…；与语料分开保存）"
        if zh
        else f"reviews: {n} reviewed descriptions from {reviews.source} "
        f"(chain verified: {reviews.entries} entries, head {head}…; kept apart from the corpus)",
        file=sys.stderr,
    )
    print(
        f"复核：{reviews.left_out} 条未用（同一描述在留出集或开发集中）；{reviews.in_corpus} 条也在语料中"
        if zh
        else f"reviews: {reviews.left_out} left out (the same description is in the held-out or development data); "
        f"{reviews.in_corpus} also in the corpus",
        file=sys.stderr,
    )
    if reviews.unverified:
        print(
            f"复核：{reviews.unverified} 条未验证的条目未用（签名与密钥环不符：请运行 `riskclass audit verify`）"
            if zh
            else f"reviews: {reviews.unverified} unverified entries left out (their signature does not verify against "
            "the keyring: run `riskclass audit verify`)",
            file=sys.stderr,
        )
    return reviews
