"""The training pipeline, declared: prepare → train → evaluate → export.

    python training/pipeline.py          # all steps; writes models/ (same as `riskclass train`)
    python training/pipeline.py --cv     # also 5-fold cross-validation of the model alone on the corpus

Each step is a typed function in riskclass.training; this file only declares their order and inputs, so the shipped
model and its manifest can be rebuilt from the committed data with one command. Data: training/data/corpus.csv and the
real development labels real/dev*.csv, their text read from ../shared/data (training), dev2.csv (choosing how rules and
model combine, with training/combine.py), test.csv and test2.csv (held out, reported only).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import riskclass.training.pipeline as training  # noqa: E402 - after the path tweak, so a checkout works without installing
from riskclass.cli.train import _print_metrics  # noqa: E402

STEPS = ("prepare", "train", "evaluate", "export")
DATA = HERE / "data"
OUT = HERE.parent / "models"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", action="store_true", help="also cross-validate the model alone on the corpus")
    parser.add_argument("--records", help="folder of the shared records (default: ../shared/data)")
    args = parser.parse_args()
    corpus = training.prepare(DATA / training.CORPUS_FILE)  # 1. prepare
    real = training.real_training_rows(args.records)  # 1b. the real development rows, text from ../shared/data
    if real is None:
        print(training.NO_RECORDS, file=sys.stderr)
        return 2
    if args.cv:
        cv = training.cross_validate(corpus)
        m = cv.model_only
        print(f"model alone, 5-fold CV on the corpus: accuracy {m.accuracy:.3f} macro-F1 {m.macro_f1:.3f}")
    model = training.train(corpus, real=real)  # 2. train
    dev = [training.evaluate(training.read_labelled_csv(DATA / name), model) for name in training.DEV_FILES]  # 3.
    test = training.read_labelled_csv(DATA / training.TEST_FILE)
    held = training.evaluate(test, model)
    more = [(d, training.evaluate(d, model)) for d in training.more_held_out_sets()]
    manifest = training.export(  # 4. export
        model, corpus, OUT, held_out=held, development=dev, test_data=test, more_held_out=more, real=real
    )
    for evaluation in (held, *(e for _, e in more)):
        _print_metrics(evaluation)
    print(f"model {OUT / manifest['model_file']} sha256 {manifest['model_sha256']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
