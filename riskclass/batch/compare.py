"""Comparing two outputs of a batch: which rows changed tier, and which criteria came and went."""

from __future__ import annotations

import codecs
import json
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass

from riskclass.errors import InputError
from riskclass.tables.read import Table, _open_binary, description_column

# ---- comparing two runs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierChange:
    """A row whose tier differs between two outputs of the same input (or that is in only one of them)."""

    row: int | None  # 1-based data row in the new output; None when the row is only in the previous one
    previous_row: int | None  # None when the row is only in the new output
    description: str
    previous_tier: str  # "" when that row failed, or is absent
    tier: str
    previous_criteria: str
    criteria: str


@dataclass
class Comparison:
    rows: int
    previous_rows: int
    changes: list[TierChange]

    @property
    def moves(self) -> Counter[tuple[str, str]]:
        """(previous tier, tier) → rows, among rows present in both."""
        return Counter(
            (c.previous_tier or "error", c.tier or "error")
            for c in self.changes
            if c.row is not None and c.previous_row is not None
        )


COMPARE_COLUMNS = ("row", "previous_row", "previous_tier", "tier", "previous_criteria", "criteria", "description")


def _output_rows(path: str, column: str | None) -> Iterator[tuple[int, str, str, str]]:
    """(row, description, tier, criteria) of each row of a `riskclass batch` output (CSV or JSONL)."""
    with _open_binary(path) as fh:
        head = fh.read(4096).lstrip(codecs.BOM_UTF8).lstrip()
    if path.lower().endswith((".jsonl", ".ndjson")) or head.startswith(b"{"):
        yield from _jsonl_rows(path, column)
        return
    with Table(path) as table:
        header = [h.strip() for h in table.raw_header]
        missing = [c for c in ("tier", "criteria") if c not in header]
        if missing:
            raise InputError(
                f"{path} is not a riskclass batch output: no {' or '.join(missing)} column",
                zh=f"{path} 不是 riskclass batch 的输出：没有 {' 或 '.join(missing)} 列",
            )
        # The result columns come after the input's: take the last column of each name.
        tier_at = len(header) - 1 - header[::-1].index("tier")
        crit_at = len(header) - 1 - header[::-1].index("criteria")
        desc_at = table.find_column(column)
        for row, (_, cells) in enumerate(table.records(), start=1):
            yield row, cells[desc_at], cells[tier_at], cells[crit_at]


def _jsonl_rows(path: str, column: str | None) -> Iterator[tuple[int, str, str, str]]:
    with open(path, encoding="utf-8-sig") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                inputs = obj["input"]
            except (ValueError, KeyError, TypeError):
                raise InputError(
                    f"{path}:{n}: not a riskclass batch JSONL line", zh=f"{path}:{n}：不是 riskclass batch 的 JSONL 行"
                ) from None
            if column is not None and column in inputs:
                desc_key = column
            else:
                desc_key = description_column(inputs)
                if desc_key is None:
                    raise InputError(
                        f"{path}:{n}: no description column in `input`; pass --column NAME",
                        zh=f"{path}:{n}：`input` 中没有描述列；请给出 --column NAME",
                    )
            criteria = ";".join(c["id"] if isinstance(c, dict) else str(c) for c in obj.get("criteria") or [])
            yield obj.get("row", n), str(inputs[desc_key]), obj.get("tier") or "", criteria


def compare_outputs(previous: str, new: str, column: str | None = None) -> Comparison:
    """Rows whose tier changed between two batch outputs of the same input.

    Rows are matched by their description (the k-th occurrence of a text with the k-th), so rows inserted, removed or
    moved between the runs are still paired; rows in only one output are listed as changes with the other side empty.
    """
    earlier: dict[str, deque[tuple[int, str, str]]] = {}
    previous_rows = 0
    for row, desc, tier, crit in _output_rows(previous, column):
        previous_rows += 1
        earlier.setdefault(desc, deque()).append((row, tier, crit))
    changes: list[TierChange] = []
    rows = 0
    for row, desc, tier, crit in _output_rows(new, column):
        rows += 1
        queue = earlier.get(desc)
        if not queue:
            changes.append(TierChange(row, None, desc, "", tier, "", crit))
            continue
        prev_row, prev_tier, prev_crit = queue.popleft()
        if prev_tier != tier:
            changes.append(TierChange(row, prev_row, desc, prev_tier, tier, prev_crit, crit))
    gone = [(r, d, t, c) for d, q in earlier.items() for r, t, c in q]
    changes += [TierChange(None, r, d, t, "", c, "") for r, d, t, c in sorted(gone)]
    return Comparison(rows, previous_rows, changes)
