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
    id: str = ""  # the row's id when the outputs were paired by an id column

    @property
    def gained(self) -> tuple[str, ...]:
        """Criteria that hold now and did not before."""
        before = set(self.previous_criteria.split(";"))
        return tuple(c for c in self.criteria.split(";") if c and c not in before)

    @property
    def lost(self) -> tuple[str, ...]:
        """Criteria that held before and no longer do."""
        now = set(self.criteria.split(";"))
        return tuple(c for c in self.previous_criteria.split(";") if c and c not in now)


@dataclass
class Comparison:
    rows: int
    previous_rows: int
    changes: list[TierChange]
    id_column: str | None = None  # the column rows were paired by; None: paired by description

    @property
    def moves(self) -> Counter[tuple[str, str]]:
        """(previous tier, tier) → rows, among rows present in both."""
        return Counter(
            (c.previous_tier or "error", c.tier or "error")
            for c in self.changes
            if c.row is not None and c.previous_row is not None
        )


COMPARE_COLUMNS = ("row", "previous_row", "previous_tier", "tier", "previous_criteria", "criteria", "description")
# Paired by id (--id-column, or an id column found by name in both outputs): the same columns, so scripts reading
# them by position keep working, then the id and the criteria that came and went.
COMPARE_ID_COLUMNS = (*COMPARE_COLUMNS, "id", "gained", "lost")

Row = tuple[int, str, str, str, str]  # (row, description, tier, criteria, id)


def _header(path: str) -> list[str]:
    """The column names of a batch output (CSV: its header; JSONL: the `input` keys of its first line)."""
    if _is_jsonl(path):
        with open(path, encoding="utf-8-sig") as fh:
            for line in fh:
                if line.strip():
                    try:
                        inputs = json.loads(line)["input"]
                    except (ValueError, KeyError, TypeError):
                        return []
                    return [str(k) for k in inputs] if isinstance(inputs, dict) else []
        return []
    with Table(path) as table:
        return [h.strip() for h in table.raw_header]


def _is_jsonl(path: str) -> bool:
    with _open_binary(path) as fh:
        head = fh.read(4096).lstrip(codecs.BOM_UTF8).lstrip()
    return path.lower().endswith((".jsonl", ".ndjson")) or head.startswith(b"{")


def pairing_column(previous: str, new: str, wanted: str | None) -> str | None:
    """The id column to pair rows by: `wanted` (--id-column, which both outputs must have), else a column called id,
    编号, 序号 … (the names `register import` and report file names look for) present in both; None: by description."""
    from riskclass.reports.report import find_id_column

    headers = {path: _header(path) for path in (previous, new)}
    if wanted:
        for path, names in headers.items():
            if wanted.strip().casefold() not in [n.casefold() for n in names]:
                raise InputError(
                    f"{path}: no column {wanted!r} for --id-column; the columns are: {', '.join(names)}",
                    zh=f"{path}：没有 --id-column 指定的列 {wanted!r}；现有的列：{'、'.join(names)}",
                )
        return wanted.strip()
    found = [find_id_column(names, None) for names in headers.values()]
    if None in found:
        return None
    names = [headers[p][i] for p, i in zip(headers, found, strict=True)]  # type: ignore[index]
    return names[1] if names[0].casefold() == names[1].casefold() else None


def _id_at(names: list[str], id_column: str | None) -> int | None:
    if id_column is None:
        return None
    folded = [n.strip().casefold() for n in names]
    want = id_column.strip().casefold()
    return folded.index(want) if want in folded else None


def _output_rows(path: str, column: str | None, id_column: str | None = None) -> Iterator[Row]:
    """(row, description, tier, criteria, id) of each row of a `riskclass batch` output (CSV or JSONL)."""
    if _is_jsonl(path):
        yield from _jsonl_rows(path, column, id_column)
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
        id_at = _id_at(header, id_column)
        for row, (_, cells) in enumerate(table.records(), start=1):
            pid = cells[id_at].strip() if id_at is not None else ""
            yield row, cells[desc_at], cells[tier_at], cells[crit_at], pid


def _jsonl_rows(path: str, column: str | None, id_column: str | None = None) -> Iterator[Row]:
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
            keys = [str(k) for k in inputs]
            id_at = _id_at(keys, id_column)
            pid = str(inputs[keys[id_at]]).strip() if id_at is not None else ""
            yield obj.get("row", n), str(inputs[desc_key]), obj.get("tier") or "", criteria, pid


def compare_outputs(previous: str, new: str, column: str | None = None, id_column: str | None = None) -> Comparison:
    """Rows whose tier changed between two batch outputs of the same input.

    Rows are paired by id when both outputs have an id column (`id_column`, or one found by name: see
    `pairing_column`), so an edited description is the same product whose tier moved; otherwise by their description
    (the k-th occurrence of a text with the k-th), so rows inserted, removed or moved between the runs are still
    paired. Rows in only one output are listed as changes with the other side empty.
    """
    by = pairing_column(previous, new, id_column)
    earlier: dict[str, deque[tuple[int, str, str, str]]] = {}
    previous_rows = 0
    for row, desc, tier, crit, pid in _output_rows(previous, column, by):
        previous_rows += 1
        earlier.setdefault(pid if by else desc, deque()).append((row, tier, crit, desc))
    changes: list[TierChange] = []
    rows = 0
    for row, desc, tier, crit, pid in _output_rows(new, column, by):
        rows += 1
        queue = earlier.get(pid if by else desc)
        if not queue:
            changes.append(TierChange(row, None, desc, "", tier, "", crit, pid))
            continue
        prev_row, prev_tier, prev_crit, _ = queue.popleft()
        if prev_tier != tier:
            changes.append(TierChange(row, prev_row, desc, prev_tier, tier, prev_crit, crit, pid))
    gone = [(r, d, t, c, k if by else "") for k, q in earlier.items() for r, t, c, d in q]
    changes += [TierChange(None, r, d, t, "", c, "", k) for r, d, t, c, k in sorted(gone)]
    return Comparison(rows, previous_rows, changes, by)
