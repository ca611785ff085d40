"""Real descriptions of real AI systems, read from the shared records (never copied into the project).

The project commits labels keyed by a record's own id (`recordNumber` of a filing, `use_case_id` of an inventory
entry); the text is read here, from the folder that holds `cac-filings.csv` and `us-ai-inventory-2025.csv`
(`../shared/data/` beside a checkout, or `RISKCLASS_RECORDS_DIR`).
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from functools import lru_cache
from pathlib import Path

from riskclass.errors import InputError

SOURCES = {"cac-filings": "cac-filings.csv", "us-ai-inventory-2025": "us-ai-inventory-2025.csv"}


def cac_text(row: dict[str, str]) -> str:
    """A filing as a user would paste it: the algorithm's name, then its stated purpose."""
    return f"{row['algorithmName']}：{row['purpose']}"


def us_text(row: dict[str, str]) -> str:
    """An inventory entry as a user would paste it: name, the problem it solves, its outputs."""
    return f"{row['name']}: {row['problem']} {row['outputs']}".strip()


def records_dir(given: str | Path | None = None) -> Path:
    """Where the shared records are: `given`, else RISKCLASS_RECORDS_DIR, else `../shared/data` beside the checkout."""
    if given:
        return Path(given)
    if env := os.environ.get("RISKCLASS_RECORDS_DIR"):
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


@lru_cache(maxsize=4)
def unique_records(directory: Path, source: str) -> dict[str, dict[str, str]]:
    """id → row for one source, in file order; ids that occur twice are left out (a label could not say which is
    meant), and so are inventory entries that state no problem (they describe nothing)."""
    path = directory / SOURCES[source]
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise InputError(
            f"cannot read the shared records {path} ({exc.strerror or exc}): pass --records DIR or set "
            "RISKCLASS_RECORDS_DIR to the folder holding cac-filings.csv and us-ai-inventory-2025.csv",
            zh=f"无法读取共享记录 {path}（{exc.strerror or exc}）：请给出 --records DIR，或把 RISKCLASS_RECORDS_DIR "
            "设为存放 cac-filings.csv 和 us-ai-inventory-2025.csv 的目录",
        ) from None
    key = "recordNumber" if source == "cac-filings" else "use_case_id"
    if source == "us-ai-inventory-2025":
        rows = [r for r in rows if r["problem"].strip()]
    seen = Counter(r[key] for r in rows)
    return {r[key]: r for r in rows if seen[r[key]] == 1}


def record_texts(directory: Path, source: str) -> dict[str, str]:
    """id → description as a user would paste it, for the records of `unique_records`."""
    text = cac_text if source == "cac-filings" else us_text
    return {rid: text(row) for rid, row in unique_records(directory, source).items()}
