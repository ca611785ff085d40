"""`riskclass register import`: an inventory file (CSV, TSV, .xlsx, read exactly as `batch` reads it) into the register.

Products are keyed by the team's own id. A new id is added; a known one whose description, name or other columns
differ is updated, its new description kept as a new version beside the old ones and assessed; an identical row
changes nothing. The whole file is checked before anything is written (a missing id column, an empty id, the same id
on two lines: one-line error, exit 2, register untouched), then assessed outside the write lock, then written in one
transaction: an import interrupted at any point — an exception, Ctrl+C, SIGKILL — leaves the register as it was, and
two imports running at once both land whole.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from riskclass.errors import InputError
from riskclass.register.assessing import Answers, Stored, stored
from riskclass.register.records import MAX_ID_CHARS, AssessmentRecord, ImportResult
from riskclass.tables.read import _UNDECODABLE, Table

# Column names that hold a product's name (case-insensitive), when --name-column does not say.
NAME_COLUMNS = ("name", "名称", "名稱", "产品名称", "產品名稱", "product", "product_name", "产品", "系统名称", "title")

UNDECODABLE_ERROR = "the description has bytes that are not valid"
ProgressFn = Callable[[str, int, int], None]
"""progress(phase, done, total): phase "read", "assess" (descriptions assessed) or "write" (rows stored)."""


@dataclass(frozen=True)
class Incoming:
    """One product as a file (or a face of riskclass) gives it."""

    id: str
    name: str
    description: str
    columns: dict[str, str]
    line: int  # first physical line in the file (0 when not from a file)
    undecodable: bool = False  # the description held bytes valid in no encoding (kept as \\xNN, not assessed)


def _escape(cell: str) -> str:
    """Bytes valid in no encoding (lone surrogates while reading) as `\\xNN`, as a batch output writes them: SQLite
    stores UTF-8 and a lone surrogate is none, and the bytes stay recoverable."""
    return _UNDECODABLE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", cell)


def _column(names: list[str], wanted: str | None, candidates: tuple[str, ...], option: str, path: str) -> int | None:
    """The column `wanted` names (name, any case, or 1-based position), else the first whose name is a candidate."""
    folded = [n.strip().casefold() for n in names]
    if wanted:
        w = wanted.strip().casefold()
        if w in folded:
            return folded.index(w)
        if w.isdigit() and 1 <= int(w) <= len(names):
            return int(w) - 1
        raise InputError(
            f"{path}: no column {wanted!r} for {option}; the columns are: {', '.join(names)}",
            zh=f"{path}：没有 {option} 指定的列 {wanted!r}；现有的列：{'、'.join(names)}",
        )
    for candidate in candidates:
        if candidate.casefold() in folded:
            return folded.index(candidate.casefold())
    return None


def id_column(names: list[str], wanted: str | None, path: str) -> int:
    """The column of product ids: `--id-column`, else one called id, 编号, 序号, 产品编号 … (reports name their files
    by the same list); none found is an error naming the columns seen."""
    from riskclass.reports.report import ID_COLUMNS

    found = _column(names, wanted, ID_COLUMNS, "--id-column", path)
    if found is None:
        raise InputError(
            f"{path}: no id column (looked for {', '.join(ID_COLUMNS)}); the columns are: {', '.join(names)}; "
            "name it with --id-column NAME",
            zh=f"{path}：没有编号列（查找了 {'、'.join(ID_COLUMNS)}）；现有的列：{'、'.join(names)}；"
            "请用 --id-column 列名 指定",
        )
    return found


def read_inventory(
    path: str,
    id_col: str | None = None,
    column: str | None = None,
    name_col: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> tuple[list[Incoming], list[str]]:
    """Every row of an inventory file as Incoming products, and the reading notes (renamed headers, padded rows …).

    Raises InputError, naming lines, for an empty or duplicate id: the file is refused whole, never half imported."""
    with Table(path, encoding, delimiter, sheet) as table:
        label = table.label
        names = list(table.names)
        desc_at = table.find_column(column)
        id_at = id_column(names, id_col, label)
        if id_at == desc_at:
            raise InputError(
                f"{label}: the id column and the description column are both {names[id_at]!r}; "
                "name them with --id-column and --column",
                zh=f"{label}：编号列和描述列都是 {names[id_at]!r}；请用 --id-column 和 --column 分别指定",
            )
        name_at = _column(names, name_col, NAME_COLUMNS, "--name-column", label)
        if name_at in (id_at, desc_at):
            name_at = None
        own = {id_at, desc_at} | ({name_at} if name_at is not None else set())
        rows: list[Incoming] = []
        first_line: dict[str, int] = {}
        for line, cells in table.records():
            pid = _escape(cells[id_at]).strip()
            if not pid:
                raise InputError(
                    f"{label}, line {line}: no id in column {names[id_at]!r}; every product needs one "
                    "(nothing was imported)",
                    zh=f"{label} 第 {line} 行：{names[id_at]!r} 列没有编号；每个产品都需要编号（未导入任何内容）",
                )
            if len(pid) > MAX_ID_CHARS or "\n" in pid or "\r" in pid:
                raise InputError(
                    f"{label}, line {line}: {pid[:40]!r}… is not an id (one line, at most {MAX_ID_CHARS} "
                    f"characters); is {names[id_at]!r} the id column? (nothing was imported)",
                    zh=f"{label} 第 {line} 行：{pid[:40]!r}… 不是编号（应为一行，最多 {MAX_ID_CHARS} 个字符）；"
                    f"{names[id_at]!r} 是编号列吗？（未导入任何内容）",
                )
            if pid in first_line:
                raise InputError(
                    f"{label}: id {pid!r} is on line {first_line[pid]} and on line {line}; ids must be unique "
                    "(nothing was imported)",
                    zh=f"{label}：编号 {pid!r} 同时出现在第 {first_line[pid]} 行和第 {line} 行；"
                    "编号必须唯一（未导入任何内容）",
                )
            first_line[pid] = line
            description = cells[desc_at]
            rows.append(
                Incoming(
                    id=pid,
                    name=_escape(cells[name_at]).strip() if name_at is not None else "",
                    description=_escape(description),
                    columns={names[i]: _escape(c) for i, c in enumerate(cells) if i not in own and i < len(names)},
                    line=line,
                    undecodable=bool(_UNDECODABLE.search(description)),
                )
            )
        return rows, list(table.notes)


def import_file(
    register,
    path: str,
    id_col: str | None = None,
    column: str | None = None,
    name_col: str | None = None,
    progress: ProgressFn | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> ImportResult:
    """Import an inventory file into `register` (a riskclass.register.api.Register); see the module docstring."""
    rows, notes = read_inventory(path, id_col, column, name_col, encoding, delimiter, sheet)
    return import_rows(register, rows, notes, path, progress)


def import_rows(
    register, rows: list[Incoming], notes: list[str], path: str, progress: ProgressFn | None = None
) -> ImportResult:
    """`import_file` for rows already read (`read_inventory`): the CLI reads the file before it creates a register,
    so a file refused whole leaves no empty register behind."""
    result = apply_rows(register, rows, "standard input" if path == "-" else os.path.basename(path), progress)
    result.notes = notes + result.notes
    listed = {r.id for r in rows}
    result.absent = sum(1 for pid in register.ids() if pid not in listed)
    return result


@dataclass
class _State:
    name: str
    columns: str
    version: int
    text: str
    latest: AssessmentRecord | None


def _states(db: sqlite3.Connection) -> dict[str, _State]:
    """Every product's name, columns, current description and latest assessment, in one query."""
    from riskclass.register.api import _assessment

    out: dict[str, _State] = {}
    rows = db.execute(
        "SELECT p.id AS pid, p.name AS pname, p.columns AS pcolumns, coalesce(d.version, 0) AS dversion, "
        "coalesce(d.text, '') AS dtext, a.* FROM products p "
        "LEFT JOIN descriptions d ON d.product_id = p.id AND d.version = "
        "(SELECT max(version) FROM descriptions WHERE product_id = p.id) "
        "LEFT JOIN assessments a ON a.id = (SELECT max(id) FROM assessments WHERE product_id = p.id)"
    )
    for r in rows:
        latest = _assessment(r) if r["assessed_at"] is not None else None
        out[r["pid"]] = _State(r["pname"], r["pcolumns"], r["dversion"], r["dtext"], latest)
    return out


def _answers(db: sqlite3.Connection) -> dict[str, Answers]:
    out: dict[str, Answers] = {}
    for pid, criterion, value in db.execute("SELECT product_id, criterion, value FROM answers"):
        out.setdefault(pid, {})[criterion] = None if value is None else bool(value)
    return out


def _undecodable_result(register) -> Stored:
    from riskclass.errors import RiskclassError

    return stored(
        RiskclassError(
            UNDECODABLE_ERROR + " in the file's encoding (kept as \\xNN, not assessed): "
            "fix them, or pass --encoding if the whole file is in another encoding",
            zh="描述中有不属于文件编码的字节（保留为 \\xNN，未评估）："
            "请修正，或在整个文件是另一种编码时使用 --encoding",
        ),
        register.rulebook_version,
    )


def apply_rows(register, rows: list[Incoming], source: str, progress: ProgressFn | None = None) -> ImportResult:
    """Add or update `rows` in `register` in one transaction, assessing new and changed descriptions."""
    from riskclass.register.api import columns_json, insert_assessment, now_utc, tier_change

    result = ImportResult()
    # 1. What looks new or changed now, assessed before the write lock is taken (the slow part: the lock is held
    #    only while rows are written, so another import waits for seconds at most).
    with register._lock:
        before = _states(register.db)
        saved = _answers(register.db)
    todo = [
        (r.description, saved.get(r.id))
        for r in rows
        if not r.undecodable and (r.id not in before or before[r.id].text != r.description or not before[r.id].latest)
    ]
    if todo:  # the model is loaded only when there is something to assess: a re-import of an unchanged file is quick
        register.assessor.assess(todo, (lambda d, t: progress("assess", d, t)) if progress else None)
    stamp = now_utc()
    # 2. One transaction: re-read under the lock (another process may have written meanwhile), then write.
    with register.transaction() as db:
        states = _states(db)
        saved = _answers(db)
        for n, r in enumerate(rows, start=1):
            state = states.get(r.id)
            columns = columns_json(r.columns)
            if state is None:
                result.added += 1
                db.execute(
                    "INSERT INTO products (id, name, columns, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    (r.id, r.name, columns, stamp, stamp),
                )
            elif (state.name, state.columns, state.text) == (r.name, columns, r.description) and state.latest:
                result.unchanged += 1
                if progress:
                    progress("write", n, len(rows))
                continue
            else:
                if (state.name, state.columns, state.text) != (r.name, columns, r.description):
                    result.changed += 1
                else:  # described but without an assessment (a register edited by other means): assessed now
                    result.unchanged += 1
                db.execute(
                    "UPDATE products SET name = ?, columns = ?, updated_at = ? WHERE id = ?",
                    (r.name, columns, stamp, r.id),
                )
            version = state.version if state else 0
            if state is None or state.text != r.description or version == 0:
                version += 1
                db.execute(
                    "INSERT INTO descriptions (product_id, version, text, added_at, source) VALUES (?, ?, ?, ?, ?)",
                    (r.id, version, r.description, stamp, source),
                )
                states[r.id] = _State(r.name, columns, version, r.description, state.latest if state else None)
            elif state.latest is not None:
                if progress:
                    progress("write", n, len(rows))
                continue  # only the name or columns changed: the assessment still holds
            answers = saved.get(r.id)
            if r.undecodable:
                outcome = _undecodable_result(register)
            else:
                outcome = register.assessor.assess([(r.description, answers)])[0]
            result.assessed += 1
            insert_assessment(db, r.id, version, outcome, stamp)
            if outcome.error:
                result.errors.append((r.id, outcome.error))
                if outcome.error_zh:
                    result.errors_zh[r.id] = outcome.error_zh
            change = tier_change(r.id, r.name, state.latest if state else None, outcome)
            if change is not None:
                result.tier_changes.append(change)
            if progress:
                progress("write", n, len(rows))
    return result
