"""Training as a small declared pipeline: prepare → train → evaluate → export, each step a typed function.

The model file and its manifest (hashes, versions, metrics) are reproducible from the committed data: the same corpus
and library versions give the same model, byte for byte. Tuning uses cross-validation on the corpus only; the
held-out test set is read only by `evaluate`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from riskclass.errors import InputError
from riskclass.text.normalise import normalise

TIERS = ("high", "medium", "low")
CORPUS_FILE = "corpus.csv"
DEV_FILES = ("dev2.csv",)  # for choosing how rules and model combine (training/combine.py); never trained on
TEST_FILE = "test.csv"
# Held-out sets beyond test.csv: test2 written later by new writers from the rubric alone; test3 later still, in the
# registers users paste (vendor pages, tenders, app listings, one-liners), split from the rows that became dev3.
MORE_TEST_FILES = ("test2.csv", "test3.csv")
#: The real development sets (labels keyed by record id, text read from the shared records): they also teach the model
#: how real filings and inventory entries are written. Measured on them cross-validated, the model alone went from
#: macro-F1 0.54 (corpus only) to 0.70 with them (training/README.md). The real held-out set is never among them.
REAL_TRAIN_FILES = (
    "real/dev.csv",
    "real/dev-b.csv",
    "real/dev-c.csv",
    "real/dev-d.csv",
    "real/dev-e.csv",
    "real/dev-f.csv",
    "real/dev-g.csv",
    "real/dev-h.csv",
    "real/dev-i.csv",
    "real/dev-j.csv",
    "real/dev-k.csv",
    # The former test-d, test-e and test-f, read nine, seven and six times: retired into development when test-i
    # was drawn, as test-b and test-c were before them.
    "real/dev-l.csv",
    "real/dev-m.csv",
    "real/dev-n.csv",
    # The former test-g and test-h, read ten and nine times and used for no choice: retired into development when
    # test-j was drawn.
    "real/dev-o.csv",
    "real/dev-p.csv",
)
#: The real held-out sets, newest first: measured by training/real_figures.py for the model card and the README, never
#: trained or tuned on. Each run of that script is a reading of every set, counted in training/README.md.
REAL_HELD_OUT_FILES = (
    "real/test-j.csv",
    "real/test-i.csv",
)
#: Where those figures are kept beside the model, with the model, rulebook and combiner they were measured with.
REAL_FIGURES_FILE = "real-held-out.json"


@dataclass(frozen=True)
class Example:
    id: str
    description: str
    tier: str
    criteria: tuple[str, ...] = ()
    lang: str = ""
    difficulty: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str
    sha256: str
    examples: tuple[Example, ...]

    @property
    def texts(self) -> list[str]:
        return [normalise(e.description).text for e in self.examples]

    @property
    def tiers(self) -> list[str]:
        return [e.tier for e in self.examples]


@dataclass(frozen=True)
class TrainConfig:
    """Chosen by 5-fold cross-validation on the corpus (see training/README.md for the comparison)."""

    C: float = 10.0
    class_weight: str | None = "balanced"  # low-risk rows are the rarest; unweighted, the model under-calls them
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (1, 3)  # catches 繁體 leftovers, English subwords and unseen compounds
    char_min_df: int = 2
    # A word or word pair must occur in two descriptions to become a feature: a term only one description uses says
    # nothing general, and no record's own phrasing is kept in the model's vocabulary.
    word_min_df: int = 2
    # How much a real description weighs against one of ours when fitting (chosen on the real development rows,
    # cross-validated: training/README.md). Real rows are few and are the text users paste.
    real_weight: float = 3.0
    max_iter: int = 5000


@dataclass
class TierMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Metrics:
    n: int
    accuracy: float
    macro_f1: float
    per_tier: dict[str, TierMetrics]
    confusion: list[list[int]]  # rows: true tier, columns: predicted tier, in TIERS order

    @property
    def recall(self) -> dict[str, float]:
        return {t: m.recall for t, m in self.per_tier.items()}

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "recall": {t: round(r, 4) for t, r in self.recall.items()},
            "precision": {t: round(m.precision, 4) for t, m in self.per_tier.items()},
            "per_tier": {
                t: {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(m).items()}
                for t, m in self.per_tier.items()
            },
            "confusion": {"labels": list(TIERS), "matrix": self.confusion},
        }


@dataclass
class Evaluation:
    data: str
    combined: Metrics
    rules_only: Metrics
    model_only: Metrics | None
    needs_review_rate: float = 0.0
    errors: list[dict] = field(default_factory=list)  # misclassified rows of the combined engine
    rows: list[tuple[str, str, str, str, bool]] = field(default_factory=list)  # truth, rules, model, combined, review
    confidences: list[float] = field(default_factory=list)  # the combined engine's confidence, row by row

    @property
    def calibration(self) -> tuple[list[tuple[float, float, int, float, float]], float]:
        """The reliability table of the combined engine's confidence, and its expected calibration error."""
        return reliability(self.confidences, [r[0] == r[3] for r in self.rows])

    def to_dict(self) -> dict:
        d = {
            "data": self.data,
            **self.combined.to_dict(),
            "needs_review_rate": round(self.needs_review_rate, 4),
            "ablation": {"rules_only": self.rules_only.to_dict(), "combined": self.combined.to_dict()},
        }
        if self.model_only is not None:
            d["ablation"]["model_only"] = self.model_only.to_dict()
        if self.confidences:
            table, ece = self.calibration
            d["ece"] = round(ece, 4)
            d["reliability"] = [
                {"from": lo, "to": hi, "rows": n, "confidence": round(c, 4), "accuracy": round(a, 4)}
                for lo, hi, n, c, a in table
            ]
        return d


RELIABILITY_BINS = 10  # equal-width bins of confidence, the usual ten


def reliability(confidences: list[float], correct: list[bool], bins: int = RELIABILITY_BINS):
    """Rows per confidence bin (from, to, rows, mean confidence, accuracy) and the expected calibration error: the
    row-weighted gap between confidence and accuracy over the bins."""
    table = []
    ece = 0.0
    n = len(confidences)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, c in enumerate(confidences) if lo <= c < hi or (b == bins - 1 and c >= hi)]
        if not idx:
            continue
        conf = sum(confidences[i] for i in idx) / len(idx)
        acc = sum(correct[i] for i in idx) / len(idx)
        ece += len(idx) / n * abs(conf - acc)
        table.append((lo, hi, len(idx), conf, acc))
    return table, ece


# ---- data --------------------------------------------------------------------------------------------------------


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def training_data_dir() -> Path:
    """`riskclass/trainingdata` in an installed wheel, or `training/data/` in a checkout."""
    try:
        return Path(str(resources.files("riskclass.trainingdata")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "training" / "data"


def read_labelled_csv(path: Path | str, require_tier: bool = True, records: Path | str | None = None) -> Dataset:
    """A CSV with a description column (found by name) and a `tier` column; every row must be usable.

    A label file of real records has no description: its `source` and `id` name a shared record, whose text is read
    from `records` (see `riskclass.training.records`).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read {path}: {exc.strerror or exc}", zh=f"无法读取 {path}：{exc.strerror or exc}"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise InputError(
                f"{path} is neither UTF-8 nor GB18030 text", zh=f"{path} 既不是 UTF-8 也不是 GB18030 文本"
            ) from None
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    from riskclass.tables.read import DESCRIPTION_NAMES, description_column

    header = [h.strip() for h in (reader.fieldnames or [])]
    lower = {h.lower(): h for h in header}
    column = description_column(header)
    if column is None and "source" in lower and "id" in lower:
        return _read_record_labels(path, raw, reader, records)
    if column is None:
        raise InputError(
            f"{path}: no description column (looked for {', '.join(DESCRIPTION_NAMES)}); "
            f"columns seen: {', '.join(header) or 'none'}",
            zh=f"{path}：没有描述列（查找了 {', '.join(DESCRIPTION_NAMES)}）；现有的列：{', '.join(header) or '无'}",
        )
    if require_tier and "tier" not in lower:
        raise InputError(
            f"{path}: no `tier` column; columns seen: {', '.join(header)}",
            zh=f"{path}：没有 `tier` 列；现有的列：{', '.join(header)}",
        )
    tier_col = lower.get("tier")
    examples = []
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip(): v for k, v in row.items()}
        desc = (row.get(column) or "").strip()
        if not desc:
            raise InputError(f"{path}:{n}: empty description", zh=f"{path}:{n}：描述为空")
        tier = (row.get(tier_col) or "").strip().lower() if tier_col else ""
        examples.append(_example(path, n, row.get("id") or f"row{n}", desc, tier, row, require_tier))
    if not examples:
        raise InputError(f"{path}: no rows", zh=f"{path}：没有数据行")
    return Dataset(str(path), sha256_bytes(raw), tuple(examples))


def _example(path: Path, n: int, rid: str, text: str, tier: str, row: dict, require_tier: bool) -> Example:
    """One labelled row (line `n` of `path`), its tier checked when one is required."""
    if require_tier and tier not in TIERS:
        raise InputError(
            f"{path}:{n}: tier {tier!r} is not one of {', '.join(TIERS)}",
            zh=f"{path}:{n}：等级 {tier!r} 不是 {', '.join(TIERS)} 之一",
        )
    crit = tuple(c for c in (row.get("criteria") or "").split(";") if c)
    return Example(rid, text, tier, crit, row.get("lang", ""), row.get("difficulty", ""))


def _read_record_labels(path: Path, raw: bytes, reader: csv.DictReader, records: Path | str | None) -> Dataset:
    from riskclass.training.records import SOURCES, record_texts, records_dir

    directory = records_dir(records)
    examples = []
    for n, row in enumerate(reader, start=2):
        source, rid = row.get("source", ""), row.get("id", "")
        if source not in SOURCES:
            raise InputError(
                f"{path}:{n}: source {source!r} is not one of {', '.join(SOURCES)}",
                zh=f"{path}:{n}：来源 {source!r} 不是 {', '.join(SOURCES)} 之一",
            )
        text = record_texts(directory, source).get(rid)
        if text is None:
            raise InputError(
                f"{path}:{n}: no record {rid!r} in {directory / SOURCES[source]}",
                zh=f"{path}:{n}：{directory / SOURCES[source]} 中没有记录 {rid!r}",
            )
        row["lang"] = "en" if source == "us-ai-inventory-2025" else "zh-Hans"
        examples.append(_example(path, n, rid, text, (row.get("tier") or "").strip().lower(), row, True))
    if not examples:
        raise InputError(f"{path}: no rows", zh=f"{path}：没有数据行")
    return Dataset(str(path), sha256_bytes(raw), tuple(examples))


def more_held_out_sets() -> list[Dataset]:
    """The held-out sets beyond test.csv that exist in this checkout (reported beside it, never trained on)."""
    return [read_labelled_csv(p) for name in MORE_TEST_FILES if (p := training_data_dir() / name).is_file()]


def prepare(corpus: Path | str | None = None) -> Dataset:
    """Step 1: read and check the labelled corpus."""
    return read_labelled_csv(corpus or training_data_dir() / CORPUS_FILE)


@dataclass(frozen=True)
class ReviewRows:
    """Reviewed decisions from the audit log as training rows, kept apart from the curated corpus.

    Never written into corpus.csv: the manifest records them on their own (count, sha256 of the rows, the chain's
    head), so a model trained with reviews can be told from one trained on the corpus alone.
    """

    source: str  # the audit log they came from
    head: str  # the chain's head hash when they were read
    entries: int  # decisions in the log (several may concern one description)
    examples: tuple[Example, ...]  # the latest decision per fingerprint, its decided tier as the label
    left_out: int  # descriptions also in the held-out or development data: never trained on
    in_corpus: int  # descriptions also in the corpus: kept, the reviewed tier as a second example
    unverified: int = 0  # entries whose signature does not verify against the keyring: never trained on (issue 12)

    @property
    def sha256(self) -> str:
        """sha256 over the rows as canonical JSON lines {"description", "fingerprint", "tier"}, in log order."""
        from riskclass.audit.log import fingerprint

        lines = (
            json.dumps(
                {"description": e.description, "fingerprint": fingerprint(e.description), "tier": e.tier},
                ensure_ascii=False,
                sort_keys=True,
                separators=(",", ":"),
            )
            + "\n"
            for e in self.examples
        )
        return sha256_bytes("".join(lines).encode("utf-8"))

    def to_manifest(self) -> dict:
        return {
            "source": Path(self.source).name,
            "head": self.head,
            "log_entries": self.entries,
            "rows": len(self.examples),
            "sha256": self.sha256,
            "tiers": {t: sum(e.tier == t for e in self.examples) for t in TIERS},
            "left_out_held_out": self.left_out,
            "also_in_corpus": self.in_corpus,
            "unverified_left_out": self.unverified,
        }


def review_rows(
    log_path: Path | str | None,
    held_out: list[Dataset],
    corpus: Dataset | None = None,
    keyring: Path | str | None = None,
) -> ReviewRows:
    """Step 1b (`riskclass train --with-reviews`): the latest verified decision per fingerprint in an audit log.

    The chain is verified first: a broken log raises AuditError (a tampered decision must not teach the model). An
    entry whose signature does not verify against the keyring (unsigned, forged, an unknown key) is left out and
    counted: only decisions a listed reviewer signed are learned from.
    A reviewed description with the same fingerprint as a row of `held_out` (the test and development sets) is left
    out, so the evaluation stays on untouched data.
    """
    from riskclass.audit.log import AuditLog, describe_break, fingerprint
    from riskclass.errors import AuditError

    log = AuditLog(log_path, keyring)
    contents = log.read()
    check = contents.verification
    if not check.chain_ok:
        raise AuditError(
            f"the audit log {log.path} is broken at {describe_break(check.problem, 'en')}; "
            "not training on it (run `riskclass audit verify`)",
            zh=f"审计日志 {log.path} 在{describe_break(check.problem, 'zh')}处损坏；不用它训练（请运行 "
            "`riskclass audit verify`）",
        )
    latest: dict[str, object] = {}
    unverified = 0
    for entry in contents.entries:
        if not entry.trusted:
            unverified += 1
            continue
        latest.pop(entry.decision.fingerprint, None)  # re-insert: the order is that of the latest decision
        latest[entry.decision.fingerprint] = entry.decision
    excluded = {fingerprint(e.description) for d in held_out for e in d.examples}
    in_corpus = {fingerprint(e.description) for e in corpus.examples} if corpus else set()
    examples, left_out, dup = [], 0, 0
    for fp, d in latest.items():
        if fp in excluded:
            left_out += 1
            continue
        dup += fp in in_corpus
        examples.append(Example(f"review-{fp[:12]}", d.description, d.decided_tier, lang="review"))
    return ReviewRows(str(log.path), check.head, check.entries, tuple(examples), left_out, dup, unverified)


def with_reviews(data: Dataset, reviews: ReviewRows) -> Dataset:
    """The corpus followed by the review rows: what the model is fitted on (the manifest still names them apart)."""
    return Dataset(data.name, data.sha256, data.examples + reviews.examples)


# ---- model -------------------------------------------------------------------------------------------------------


def build_pipeline(config: TrainConfig):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    from riskclass.model.classifier import word_tokens

    words = TfidfVectorizer(
        tokenizer=word_tokens,
        lowercase=False,
        token_pattern=None,
        ngram_range=tuple(config.word_ngrams),
        min_df=config.word_min_df,
        sublinear_tf=True,
        dtype=_float32(),
    )
    chars = TfidfVectorizer(
        analyzer="char_wb",
        lowercase=False,
        ngram_range=tuple(config.char_ngrams),
        min_df=config.char_min_df,
        sublinear_tf=True,
        dtype=_float32(),
    )
    return Pipeline(
        [
            ("features", FeatureUnion([("word", words), ("char", chars)])),
            ("clf", LogisticRegression(C=config.C, class_weight=config.class_weight, max_iter=config.max_iter)),
        ]
    )


def _float32():
    import numpy

    return numpy.float32  # half the memory of float64, same decisions at this size


def fit_pipeline(data: Dataset, config: TrainConfig | None = None, real: Dataset | None = None):
    """The scikit-learn pipeline fitted on the data, and on `real` rows weighted by `config.real_weight`.
    Deterministic: lbfgs, no random state involved."""
    config = config or TrainConfig()
    pipeline = build_pipeline(config)
    if real is None or not real.examples:
        pipeline.fit(data.texts, data.tiers)
        return pipeline
    weights = [1.0] * len(data.examples) + [config.real_weight] * len(real.examples)
    pipeline.fit(data.texts + real.texts, data.tiers + real.tiers, clf__sample_weight=weights)
    return pipeline


def train(data: Dataset, config: TrainConfig | None = None, real: Dataset | None = None):
    """Step 2: fit the pipeline and keep its fitted numbers as the NumPy-only classifier that ships."""
    from riskclass.model.classifier import TierClassifier

    return TierClassifier.from_pipeline(fit_pipeline(data, config, real))


#: What the training scripts say when `real_training_rows` finds no shared records (they need them: exit 2).
NO_RECORDS = "the real development rows need the shared records: pass --records DIR"


def real_training_rows(records: Path | str | None = None, names: tuple[str, ...] = REAL_TRAIN_FILES) -> Dataset | None:
    """Step 1b: the real development rows that also teach the model (`REAL_TRAIN_FILES`), their text read from the
    shared records; None when those records are not beside this checkout (the model is then fitted on the corpus
    alone, and differs from the shipped one). Its `sha256` covers the label files, in order."""
    from riskclass.training.records import SOURCES, records_dir

    directory = records_dir(records)
    if not all((directory / f).is_file() for f in SOURCES.values()):
        return None
    if not all((training_data_dir() / name).is_file() for name in names):
        return None  # an installed wheel carries the corpus, not the real label files
    sets = [read_labelled_csv(training_data_dir() / name, records=directory) for name in names]
    examples = tuple(e for d in sets for e in d.examples)
    sha = _listed_sha256(zip(names, (d.sha256 for d in sets), strict=True))  # the files as read, not read again
    return Dataset("+".join(Path(d.name).name for d in sets), sha, examples)


def real_labels_sha256(names: tuple[str, ...] = REAL_TRAIN_FILES) -> str:
    """sha256 over the real label files' names and hashes, in order: what a model trained on them records."""
    return _listed_sha256((name, sha256_bytes((training_data_dir() / name).read_bytes())) for name in names)


def _listed_sha256(named: Iterable[tuple[str, str]]) -> str:
    return sha256_bytes("".join(f"{name} {sha}\n" for name, sha in named).encode())


def metrics(truth: list[str], predicted: list[str]) -> Metrics:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=list(TIERS), zero_division=0)
    per = {t: TierMetrics(float(p[i]), float(r[i]), float(f[i]), int(s[i])) for i, t in enumerate(TIERS)}
    return Metrics(
        len(truth),
        float(accuracy_score(truth, predicted)),
        float(f1_score(truth, predicted, labels=list(TIERS), average="macro", zero_division=0)),
        per,
        confusion_matrix(truth, predicted, labels=list(TIERS)).tolist(),
    )


def evaluate(data: Dataset, model=None) -> Evaluation:
    """Step 3: the engine on labelled data — combined, rules only and model only (the ablation)."""
    from riskclass.engine.decide import Engine

    rules = Engine(model=None)
    combined = Engine(rulebook=rules.rulebook, model=model) if model is not None else rules
    rows, errors, confidences = [], [], []
    for e in data.examples:
        r = rules.assess(e.description)
        a = combined.assess(e.description) if model is not None else r
        probs = a.model.probabilities or {}
        rows.append((e.tier, r.tier, max(probs, key=probs.get) if probs else "", a.tier, a.needs_review))
        confidences.append(a.confidence)
        if a.tier != e.tier:
            errors.append(
                {
                    "id": e.id,
                    "description": e.description[:200],
                    "tier": e.tier,
                    "predicted": a.tier,
                    "criteria": [h.id for h in a.criteria],
                    "decided_by": a.decided_by,
                }
            )
    return _evaluation(data.name, rows, errors, with_model=model is not None, confidences=confidences)


def _evaluation(name: str, rows: list, errors: list, with_model: bool, confidences=None) -> Evaluation:
    truth = [r[0] for r in rows]
    return Evaluation(
        name,
        metrics(truth, [r[3] for r in rows]),
        metrics(truth, [r[1] for r in rows]),
        metrics(truth, [r[2] for r in rows]) if with_model else None,
        sum(r[4] for r in rows) / len(rows),
        errors,
        rows,
        list(confidences or []),
    )


def cross_validate(data: Dataset, config: TrainConfig | None = None, folds: int = 5) -> Evaluation:
    """Tuning aid: k-fold predictions on the corpus (never the test set), combined with the rules as in production."""
    from sklearn.model_selection import StratifiedKFold

    config = config or TrainConfig()
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    rows: list = []
    errors: list = []
    for train_idx, test_idx in splitter.split(data.tiers, data.tiers):
        fold_train = Dataset("fold", "", tuple(data.examples[i] for i in train_idx))
        fold_test = Dataset("fold", "", tuple(data.examples[i] for i in test_idx))
        part = evaluate(fold_test, train(fold_train, config))
        rows += part.rows
        errors += part.errors
    return _evaluation(f"{folds}-fold cross-validation on {Path(data.name).name}", rows, errors, with_model=True)


def annotator_agreement(path: Path | str) -> tuple[float, int]:
    """Cohen's κ on the tier between a real label file's two independent annotators (the `annotator_1` and
    `annotator_2` columns, "tier:criteria"), and how many of its rows a third reading settled."""
    from sklearn.metrics import cohen_kappa_score

    with Path(path).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    first = [r["annotator_1"].split(":")[0] for r in rows]
    second = [r["annotator_2"].split(":")[0] for r in rows]
    return float(cohen_kappa_score(first, second)), sum(r["settled"] == "third reading" for r in rows)


def real_held_out_figures(model, models_dir: Path | str, records: Path | str | None = None) -> dict:
    """The shipped engine on every real held-out set (`REAL_HELD_OUT_FILES`), each with its annotators' κ, and the
    κ of every real development set: what the model card and the README report on real text. Keyed to the model,
    rulebook and combiner measured, so a later retraining cannot leave stale figures in the card."""
    from riskclass.rulebook.rules import load_rulebook

    sets = []
    for name in REAL_HELD_OUT_FILES:
        path = training_data_dir() / name
        ev = evaluate(read_labelled_csv(path, records=records), model)
        kappa, third = annotator_agreement(path)
        _, ece = ev.calibration
        # Six places, so the card's three-place figures round the measured value once (0.9055 is not 0.905).
        sets.append(
            {
                "file": name,
                "rows": ev.combined.n,
                "kappa": round(kappa, 3),
                "third_readings": third,
                "macro_f1": round(ev.combined.macro_f1, 6),
                "high_recall": round(ev.combined.per_tier["high"].recall, 6),
                "high_precision": round(ev.combined.per_tier["high"].precision, 6),
                "needs_review": round(ev.needs_review_rate, 6),
                "ece": round(ece, 6),
                "model_only": round(ev.model_only.macro_f1, 6) if ev.model_only else None,
                "rules_only": round(ev.rules_only.macro_f1, 6),
            }
        )
    from riskclass.engine.combine import COMBINER_FILE
    from riskclass.model.classifier import MANIFEST_FILE

    models_dir = Path(models_dir)
    manifest = json.loads((models_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    combiner = json.loads((models_dir / COMBINER_FILE).read_text(encoding="utf-8"))["meta"]
    return {
        "measured_with": _measured_with(models_dir, manifest, load_rulebook().version),
        "sets": sets,
        # The combiner's own cross-validated figures on the real development rows (training/combine.py).
        "development": {"rows": combiner["real_rows"], **combiner["cross_validated"]},
        "development_kappa": {
            name: round(annotator_agreement(training_data_dir() / name)[0], 3) for name in REAL_TRAIN_FILES
        },
    }


def _measured_with(models_dir: Path, manifest: dict, rulebook: str) -> dict:
    """What real held-out figures are keyed to: the model (from its manifest), the rulebook and the combiner's bytes."""
    from riskclass.engine.combine import COMBINER_FILE

    combiner = models_dir / COMBINER_FILE
    return {
        "model_sha256": manifest["model_sha256"],
        "rulebook": rulebook,
        "combiner_sha256": sha256_bytes(combiner.read_bytes()) if combiner.is_file() else None,
    }


def current_real_figures(models_dir: Path | str, manifest: dict) -> dict | None:
    """The real held-out figures kept beside the model, if they were measured with this model, rulebook and combiner
    (else None: the card then says they must be measured again)."""
    models_dir = Path(models_dir)
    path = models_dir / REAL_FIGURES_FILE
    if not path.is_file():
        return None
    figures = json.loads(path.read_text(encoding="utf-8"))
    if figures.get("measured_with") != _measured_with(models_dir, manifest, manifest["versions"]["rulebook"]):
        return None
    return figures


# ---- export ------------------------------------------------------------------------------------------------------


def export(
    model,
    data: Dataset,
    out_dir: Path | str,
    config: TrainConfig | None = None,
    held_out: Evaluation | None = None,
    development: list[Evaluation] | None = None,
    test_data: Dataset | None = None,
    reviews: ReviewRows | None = None,
    more_held_out: list[tuple[Dataset, Evaluation]] | None = None,
    real: Dataset | None = None,
) -> dict:
    """Step 4: write the model, its manifest (hashes, versions, metrics) and the model card.

    `data` is the curated corpus; `real`, the real development rows the model was also fitted on, and `reviews`, when
    it was also fitted on reviewed decisions, are each recorded under their own key.

    The model is written as JSON and flat float64 (`riskclass.model.files`), never a pickle: the same fitted numbers
    give the same bytes, so re-running training on the same data and library versions reproduces every file."""
    from riskclass.model.classifier import ARRAYS_FILE, MANIFEST_FILE, MODEL_FILE, MODEL_FORMAT, runtime_versions
    from riskclass.model.files import write_model

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hashes = write_model(model.arrays, out)
    (out / "tier_model.joblib").unlink(missing_ok=True)  # format 2's pickle: nothing reads it any more
    manifest = {
        "format": MODEL_FORMAT,
        "model_file": MODEL_FILE,
        "model_sha256": hashes[MODEL_FILE],
        "arrays_file": ARRAYS_FILE,
        "arrays_sha256": hashes[ARRAYS_FILE],
        "training_data": {
            "file": Path(data.name).name,
            "sha256": data.sha256,
            "rows": len(data.examples),
            "tiers": {t: data.tiers.count(t) for t in TIERS},
        },
        "real_training_data": (
            {
                "files": real.name.split("+"),
                "sha256": real.sha256,
                "rows": len(real.examples),
                "tiers": {t: real.tiers.count(t) for t in TIERS},
                "weight": (config or TrainConfig()).real_weight,
            }
            if real is not None
            else None
        ),
        "test_data": (
            {"file": Path(test_data.name).name, "sha256": test_data.sha256, "rows": len(test_data.examples)}
            if test_data
            else None
        ),
        "more_test_data": [
            {"file": Path(d.name).name, "sha256": d.sha256, "rows": len(d.examples)} for d, _ in more_held_out or []
        ],
        "versions": runtime_versions(),
        "trained_on": os.environ.get("RISKCLASS_TRAINED_ON") or dt.date.today().isoformat(),
        "config": asdict(config or TrainConfig()),
        "metrics": {
            "held_out": held_out.to_dict() if held_out else None,
            "development": {Path(d.data).name: d.to_dict() for d in development or []},
            "more_held_out": {Path(d.name).name: e.to_dict() for d, e in more_held_out or []},
        },
    }
    if reviews is not None:
        keys = list(manifest)
        at = keys.index("training_data") + 1
        manifest = (
            {k: manifest[k] for k in keys[:at]}
            | {"reviews": reviews.to_manifest()}
            | {k: manifest[k] for k in keys[at:]}
        )
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(model_card(manifest, current_real_figures(out, manifest)), encoding="utf-8")
    return manifest


# ---- model card --------------------------------------------------------------------------------------------------


def _table(m: dict) -> list[str]:
    rows = ["| tier | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for t in TIERS:
        p = m["per_tier"][t]
        rows.append(f"| {t} | {p['precision']:.3f} | {p['recall']:.3f} | {p['f1']:.3f} | {p['support']} |")
    return rows


def _held_out_section(name: str, held: dict) -> list[str]:
    ab = held["ablation"]
    lines = [
        f"On the held-out set{f' `{name}`' if name else ''} ({held['n']} rows):",
        "",
        "| engine | accuracy | macro-F1 | high recall |",
        "|---|---|---|---|",
    ]
    for label, key in (("rules only", "rules_only"), ("model only", "model_only"), ("combined", "combined")):
        if key in ab:
            m = ab[key]
            lines.append(f"| {label} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {m['recall']['high']:.3f} |")
    lines += ["", "Combined engine, per tier:", "", *_table(held)]
    lines += ["", f"Share of rows flagged `needs_review`: {held['needs_review_rate']:.1%}."]
    alone, both = ab.get("model_only"), ab.get("combined")
    if alone and both and alone["macro_f1"] > both["macro_f1"]:
        lines += [
            "",
            f"Here the model alone has the higher macro-F1 ({alone['macro_f1']:.3f} against {both['macro_f1']:.3f}):",
            "the rules' floor costs precision on wording they were not written against; in exchange the combined",
            f"engine's high recall is {both['recall']['high']:.3f} against the model's {alone['recall']['high']:.3f}.",
        ]
    return lines


def _real_section(real: dict | None) -> list[str]:
    lines = ["", "## On real descriptions", ""]
    if real is None:
        return [
            *lines,
            "Not measured with this model, rulebook and combiner: run `python training/real_figures.py` (it reads",
            "the shared records in `../shared/data/`).",
        ]
    dev_kappa = real["development_kappa"].values()
    d = real["development"]
    lines += [
        "Public algorithm-filing entries and government AI inventory entries, each labelled by two annotators",
        "working independently from `RUBRIC.md` alone (κ: their agreement on the tier), disagreements settled by a",
        "third reading; ids and labels in `training/data/real/`, the text read from `../shared/data/`. The held-out",
        "sets were never trained or tuned on; how often each was read is in `training/README.md`. Measured by",
        f"`training/real_figures.py` with this model, rulebook {real['measured_with']['rulebook']} and the shipped",
        "combiner; the development row is cross-validated (each row judged by a model and a combiner that never",
        "saw it).",
        "",
        "| set | rows | κ | third readings | macro-F1 | high recall | high precision | needs_review | ECE |"
        " model alone | rules alone |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| real development, cross-validated | {d['rows']} | {min(dev_kappa):.3f}–{max(dev_kappa):.3f}"
        f" ({len(dev_kappa)} sets) | | {d['macro_f1']:.3f} | {d['high_recall']:.3f} | | {d['needs_review']:.1%} |"
        f" {d['ece']:.3f} | | |",
    ]
    for r in real["sets"]:
        alone = f"{r['model_only']:.3f}" if r["model_only"] is not None else ""
        lines.append(
            f"| `{r['file']}` | {r['rows']} | {r['kappa']:.3f} | {r['third_readings']} | {r['macro_f1']:.3f} |"
            f" {r['high_recall']:.3f} | {r['high_precision']:.3f} | {r['needs_review']:.1%} | {r['ece']:.3f} |"
            f" {alone} | {r['rules_only']:.3f} |"
        )
    return lines


def model_card(manifest: dict, real: dict | None = None) -> str:
    """models/README.md, generated from the manifest and the real held-out figures measured with this model (a drift
    test keeps them in step)."""
    v = manifest["versions"]
    td = manifest["training_data"]
    lines = [
        "# riskclass tier model — model card",
        "",
        "Generated from `manifest.json` by `riskclass train`; do not edit by hand.",
        "",
        "## What it is",
        "",
        "A TF-IDF + logistic-regression classifier that suggests an AI product's risk tier (high / medium /",
        "low) from its description. Word uni- and bigrams come from jieba (with riskclass's domain dictionary)",
        "over normalised text (NFKC, lower case, 繁體 → 简体); character 1–3-grams cover wording the dictionary",
        "does not know. It is one half of riskclass: the rulebook carries the law and sets a floor whenever a",
        "rule finds solid evidence; a learned combiner (`combiner.json`, fitted by `training/combine.py`) weighs",
        "this model's probabilities with the rules' findings into calibrated tier probabilities, and any",
        "disagreement with the law's floor is flagged for human review. Figures on real descriptions are in the",
        "project README.",
        "",
        "## Intended use",
        "",
        "A second opinion beside the rules, for triaging descriptions of AI products under the Chengdu draft measures.",
        "Not a legal determination, and not meant to be used without the rules (`riskclass classify` combines both).",
        "",
        "## Data",
        "",
        f"- Training: `training/data/{td['file']}`, {td['rows']} descriptions written case by case and labelled by",
        f"  `RUBRIC.md` (high {td['tiers']['high']}, medium {td['tiers']['medium']}, low {td['tiers']['low']}),",
        f"  sha256 `{td['sha256']}`.",
    ]
    if manifest.get("real_training_data"):
        r = manifest["real_training_data"]
        import textwrap

        files = ", ".join(f"`training/data/real/{f}`" for f in r["files"])
        text = (
            f"- Real descriptions: {r['rows']} public filing and inventory entries ({files}; high"
            f" {r['tiers']['high']}, medium {r['tiers']['medium']}, low {r['tiers']['low']}), each labelled by two"
            f" annotators, weighted {r['weight']:g}× a corpus row. Only their ids and labels are committed; the text"
            " is read from `../shared/data/` at training time, and a word becomes a feature only if two"
            f" descriptions use it. Labels sha256 `{r['sha256']}`. The real held-out set is never among them."
        )
        lines += textwrap.wrap(text, 110, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False)
    if manifest.get("reviews"):
        r = manifest["reviews"]
        lines += [
            f"- Reviewed decisions: {r['rows']} descriptions from the audit log `{r['source']}`, labelled with the",
            "  reviewer's tier and never written into the corpus; {n} left out as duplicates of held-out or".format(
                n=r["left_out_held_out"]
            ),
            f"  development rows. Chain head `{r['head'][:16]}…`, rows sha256 `{r['sha256']}`.",
        ]
    if manifest.get("test_data"):
        t = manifest["test_data"]
        lines.append(f"- Held-out: `training/data/{t['file']}`, {t['rows']} descriptions written separately,")
        lines.append(f"  never used for training or tuning, sha256 `{t['sha256']}`.")
    for t in manifest.get("more_test_data") or []:
        lines.append(f"- Held-out, written later by other writers from the rubric alone: `training/data/{t['file']}`,")
        lines.append(f"  {t['rows']} descriptions, never used for training or tuning, sha256 `{t['sha256']}`.")
    lines += ["", "## Metrics", ""]
    held = manifest["metrics"].get("held_out")
    if held:
        lines += _held_out_section(manifest["test_data"]["file"] if manifest.get("test_data") else "", held)
    for name, more in (manifest["metrics"].get("more_held_out") or {}).items():
        lines += ["", *_held_out_section(name, more)]
    dev = manifest["metrics"].get("development") or {}
    if dev:
        lines += [
            "",
            "On the development set used in choosing how rules and model combine (training/combine.py):",
            "",
        ]
        lines += ["| set | rules only | model only | combined | combined high recall |", "|---|---|---|---|---|"]
        for name, d in dev.items():
            ab = d["ablation"]
            lines.append(
                f"| {name} | {ab['rules_only']['macro_f1']:.3f} | {ab['model_only']['macro_f1']:.3f} | "
                f"{d['macro_f1']:.3f} | {d['recall']['high']:.3f} |"
            )
        lines += ["", "(macro-F1)"]
    if not held and not dev:
        lines.append("Not measured for this build (exported without an evaluation).")
    lines += _real_section(real)
    lines += [
        "",
        "## Known weaknesses",
        "",
        "- On real descriptions it is not yet reliable (above): thin filing entries whose domain only a brand gives",
        "  are read differently by careful annotators, and by the model; the rules and the `needs_review` flag are",
        "  the safety net, and every suggestion on real text is a starting point for a reviewer.",
        "- Borderline products (L2 driver assistance, slow robots in public spaces, employee scores that do not decide",
        "  pay) are labelled by one reading of the rubric; another reader may place them differently.",
        "- The model's own probabilities come from a logistic regression trained with balanced class weights: they",
        "  rank cases well but are not calibrated frequencies. The `confidence` riskclass reports is the combiner's,",
        "  calibrated on the real development rows (its ECE is in the table above).",
        "- Negation: words that a negation the rules recognise rules out are blanked before the model reads them; a",
        "  negation worded in a way the rules do not know still reaches the model as evidence.",
        "",
        "## Build",
        "",
        f"- model sha256 `{manifest['model_sha256']}` (`{manifest['model_file']}`: classes, vocabularies, layout),",
        f"  arrays sha256 `{manifest['arrays_sha256']}` (`{manifest['arrays_file']}`: little-endian float64)",
        f"- riskclass {v['riskclass']}, rulebook {v['rulebook']}, scikit-learn {v['scikit-learn']},",
        f"  NumPy {v['numpy']}, jieba {v['jieba']}, Python {v['python']}; trained on {manifest['trained_on']}",
        f"- config: `{json.dumps(manifest['config'])}`",
        "",
    ]
    return "\n".join(lines)
