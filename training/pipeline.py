"""The training pipeline, declared: prepare → train → evaluate → export.

    python training/pipeline.py            # all steps, writes models/ (same as `riskclass train`)
    python training/pipeline.py --no-cv    # skip the 5-fold cross-validation
    python training/pipeline.py --cv-only  # only the cross-validation on the corpus (for tuning)

Each step is a typed function in riskclass.training; this file only declares their order and inputs, so the shipped
model and its manifest can be rebuilt from the committed data with one command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from riskclass import training  # noqa: E402 - after the path tweak, so a checkout works without installing
from riskclass.cli import _print_metrics  # noqa: E402

STEPS = ("prepare", "train", "evaluate", "export")
CORPUS = HERE / "data" / training.CORPUS_FILE
TEST = HERE / "data" / training.TEST_FILE
OUT = HERE.parent / "models"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cv", action="store_true")
    parser.add_argument("--cv-only", action="store_true")
    args = parser.parse_args()
    data = training.prepare(CORPUS)  # 1. prepare
    cv = None if args.no_cv else training.cross_validate(data)
    if cv is not None:
        _print_metrics(cv)
    if args.cv_only:
        return 0
    model = training.train(data)  # 2. train
    test = training.read_labelled_csv(TEST)
    held = training.evaluate(test, model)  # 3. evaluate (held-out, never used for tuning)
    manifest = training.export(model, data, OUT, held_out=held, cross_validation=cv, test_data=test)  # 4. export
    _print_metrics(held)
    print(f"model {OUT / manifest['model_file']} sha256 {manifest['model_sha256']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
