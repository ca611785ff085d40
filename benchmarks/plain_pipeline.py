"""The plain pipeline riskclass is measured against: what a data scientist writes in ten lines.

jieba.lcut as the TfidfVectorizer tokenizer, LogisticRegression, fitted on the labelled corpus and saved with joblib
(as anyone would keep a model between runs). Each use is its own process, so its start-up is timed like riskclass's:

    python benchmarks/plain_pipeline.py train MODEL                      # fit on training/data/corpus.csv, save
    python benchmarks/plain_pipeline.py classify MODEL "description"     # one description
    python benchmarks/plain_pipeline.py batch MODEL IN.csv OUT.csv       # the whole file in one vectorised call
    python benchmarks/plain_pipeline.py rows MODEL IN.csv OUT.csv        # row by row

jieba keeps its own dictionary cache in the temporary directory after its first run: warm, as a user's second run.
"""

from __future__ import annotations

import csv
import logging
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "training" / "data" / "corpus.csv"
TIERS = ("high", "medium", "low")


def tokenize(text: str) -> list[str]:
    """jieba.lcut (a module-level function, so the fitted pipeline pickles: jieba's own holds a lock)."""
    import jieba

    return jieba.lcut(text)


def train(model_path: str) -> None:
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    with CORPUS.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    model = make_pipeline(
        TfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False),
        LogisticRegression(max_iter=2000),
    )
    model.fit([r["description"] for r in rows], [r["tier"] for r in rows])
    joblib.dump(model, model_path)


def _load(model_path: str):
    import jieba
    import joblib

    jieba.setLogLevel(logging.WARNING)
    return joblib.load(model_path)


def classify(model_path: str, description: str) -> None:
    model = _load(model_path)
    p = model.predict_proba([description])[0]
    classes = list(model.classes_)
    print(classes[int(p.argmax())], *(round(float(p[classes.index(t)]), 4) for t in TIERS))


def batch(model_path: str, src: str, dst: str, vectorised: bool) -> None:
    model = _load(model_path)
    classes = list(model.classes_)
    with open(src, encoding="utf-8", newline="") as fin, open(dst, "w", encoding="utf-8", newline="") as fout:
        reader = csv.DictReader(fin)
        writer = csv.writer(fout)
        writer.writerow([*reader.fieldnames, "tier", "p_high", "p_medium", "p_low"])
        rows = list(reader) if vectorised else reader
        if vectorised:
            probabilities = model.predict_proba([r["description"] for r in rows])
        for i, row in enumerate(rows):
            p = probabilities[i] if vectorised else model.predict_proba([row["description"]])[0]
            probs = [round(float(p[classes.index(t)]), 4) for t in TIERS]
            writer.writerow([*row.values(), classes[int(p.argmax())], *probs])


def main(argv: list[str]) -> None:
    command, model_path, *rest = argv
    if command == "train":
        train(model_path)
    elif command == "classify":
        classify(model_path, rest[0])
    elif command in ("batch", "rows"):
        batch(model_path, rest[0], rest[1], vectorised=command == "batch")
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
