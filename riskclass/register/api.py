"""`Register`: the product register as the CLI and the terminal app use it.

    with Register.open() as reg:                      # --register / RISKCLASS_REGISTER / XDG default
        for row in reg.products(tier="high", needs_review=True, search="简历"):
            print(row.id, row.name, row.tier, row.decided_tier)
        product = reg.product("AI-0026")              # with its descriptions, assessments, answers, ticks, decisions
        reg.add_or_update("AI-0027", "门禁", "小区人脸识别门禁", {"owner": "物业"})
        reg.save_answers("AI-0027", {"H4": False})    # saved and the product re-assessed with them
        reg.save_ticks("AI-0027", ["pre_assessment.scope"])

Every write is one transaction (`riskclass.register.store.write`): it happens entirely or not at all, and other
processes writing the same register at the same time lose nothing.
"""

from __future__ import annotations

import difflib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskclass.errors import InputError
from riskclass.register import store
from riskclass.register.assessing import Answers, Assessor, Stored
from riskclass.register.records import (
    MAX_ID_CHARS,
    TIERS,
    AssessmentRecord,
    DecisionRecord,
    DescriptionVersion,
    ImportResult,
    Product,
    ProductRow,
    Question,
    TierChange,
    Versions,
    load_json,
    split_ids,
)

if TYPE_CHECKING:
    from riskclass.audit.log import AuditLog, Recorded
    from riskclass.engine.decide import Engine
    from riskclass.register.importing import ProgressFn
    from riskclass.rulebook.rules import Rulebook


def now_utc() -> str:
    """ISO-8601 UTC to the microsecond: assessments made in one second still sort in the order they were made."""
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_id(raw: object) -> str:
    """A product id as the team wrote it, trimmed; empty, multi-line or overlong ids are refused (InputError)."""
    pid = str(raw).strip() if raw is not None else ""
    if not pid:
        raise InputError("a product id cannot be empty", zh="产品编号不能为空")
    if len(pid) > MAX_ID_CHARS or any(ch in pid for ch in "\r\n\x00"):
        shown = pid[:40] + ("…" if len(pid) > 40 else "")
        raise InputError(
            f"{shown!r} is not a product id (one line, at most {MAX_ID_CHARS} characters)",
            zh=f"{shown!r} 不是产品编号（应为一行，最多 {MAX_ID_CHARS} 个字符）",
        )
    return pid


def _versions(row: sqlite3.Row | None) -> Versions | None:
    if row is None or row["assessed_at"] is None:
        return None
    return Versions(row["riskclass_version"], row["rulebook_version"], row["model_sha256"], row["description_version"])


def _assessment(row: sqlite3.Row) -> AssessmentRecord:
    questions = load_json(row["questions"], [])
    answers = load_json(row["answers"], {})
    return AssessmentRecord(
        id=row["id"],
        description_version=row["description_version"],
        assessed_at=row["assessed_at"],
        tier=row["tier"],
        confidence=row["confidence"],
        needs_review=bool(row["needs_review"]),
        criteria=split_ids(row["criteria"]),
        red_flags=split_ids(row["red_flags"]),
        obligations=split_ids(row["obligations"]),
        possible_criteria=split_ids(row["possible_criteria"]),
        article50=tuple(int(x) for x in split_ids(row["article50"]) if x.isdigit()),
        decided_by=row["decided_by"],
        questions=tuple(
            Question(str(q.get("criterion", "")), str(q.get("zh", "")), str(q.get("en", "")))
            for q in (questions if isinstance(questions, list) else [])
            if isinstance(q, dict)
        ),
        answers={str(k): bool(v) for k, v in answers.items()} if isinstance(answers, dict) else {},
        error=row["error"],
        versions=_versions(row),  # type: ignore[arg-type] - an assessment row always has assessed_at
        error_zh=row["error_zh"],
    )


def tier_change(pid: str, name: str, before: AssessmentRecord | Stored | None, after: Stored) -> TierChange | None:
    """The change from `before` (None: a new product, which has no tier to change from) to `after`."""
    if before is None or before.tier == after.tier:
        return None
    old = set(before.criteria) if isinstance(before, AssessmentRecord) else before.criteria_ids
    new = after.criteria_ids
    return TierChange(pid, name, before.tier, after.tier, tuple(sorted(new - old)), tuple(sorted(old - new)))


_LATEST = """
SELECT p.id, p.name, a.*
FROM products p
LEFT JOIN assessments a ON a.id = (SELECT max(id) FROM assessments WHERE product_id = p.id)
"""


class Register:
    """An open register. Use `Register.open(...)`, as a context manager or closed with `close()`.

    Safe to use from the terminal app's worker threads (one connection, calls serialised by a lock). The engine that
    assesses new and changed descriptions is the shipped one (loaded on first need) unless one is given.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        path: Path,
        engine: Engine | None = None,
        audit_log: str | os.PathLike | None = None,
        keyring: str | os.PathLike | None = None,
    ) -> None:
        self.db = db
        self.db.row_factory = sqlite3.Row
        self.path = path
        self._engine = engine
        self._assessor: Assessor | None = None
        self.audit_log_path = audit_log
        self.keyring_path = keyring
        self._audit: AuditLog | None = None
        self.audit_problem: Exception | None = None
        """Why the audit log could not be read the last time decisions were looked up (None: it could, or none are
        linked): the CLI warns, the terminal app can say so; the decisions are then not shown."""
        self._lock = threading.RLock()

    @classmethod
    def open(
        cls,
        path: str | os.PathLike | None = None,
        *,
        create: bool = False,
        engine: Engine | None = None,
        audit_log: str | os.PathLike | None = None,
        keyring: str | os.PathLike | None = None,
    ) -> Register:
        """Open the register at `path` (else RISKCLASS_REGISTER, else the XDG default), migrating an older one.

        `create`: make it when missing (import does; list and show say there is none). Raises RegisterError (exit 2)
        for a path that is not a usable register. `audit_log`/`keyring`: where review decisions are verified."""
        where = store.register_path(path)
        return cls(store.connect(where, create), where, engine, audit_log, keyring)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Register({str(self.path)!r})"

    # ---- the engine --------------------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The engine new assessments are made with (the shipped model and rulebook unless one was given)."""
        if self._engine is None:
            from riskclass.engine.decide import Engine
            from riskclass.model.classifier import load_shipped_model

            self._engine = Engine(model=load_shipped_model())
        return self._engine

    @property
    def rulebook(self) -> Rulebook:
        """The rulebook new assessments use, without loading the model to find out."""
        if self._engine is not None:
            return self._engine.rulebook
        from riskclass.rulebook.rules import load_rulebook

        return load_rulebook()

    @property
    def rulebook_version(self) -> str:
        return self.rulebook.version

    @property
    def assessor(self) -> Assessor:
        if self._assessor is None or self._assessor.engine is not self.engine:
            self._assessor = Assessor(self.engine)
        return self._assessor

    # ---- reading ----------------------------------------------------------------------------------------------

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self.db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise store.unusable(self.path, exc) from None

    def __len__(self) -> int:
        return int(self._read("SELECT count(*) FROM products")[0][0])

    def ids(self) -> list[str]:
        return [r[0] for r in self._read("SELECT id FROM products ORDER BY id")]

    def products(
        self, tier: str | None = None, needs_review: bool | None = None, search: str | None = None
    ) -> list[ProductRow]:
        """Every product with its latest assessment, ordered by id.

        `tier`: only that tier (the latest assessment's); `needs_review`: only products that do (True) or do not
        (False) need a person's look; `search`: case-insensitive text in the id, the name or the current
        description."""
        if tier is not None and tier not in TIERS:
            raise InputError(
                f"unknown tier {tier!r}: use one of {', '.join(TIERS)}",
                zh=f"未知等级 {tier!r}：请用 {'、'.join(TIERS)}",
            )
        where, params = [], []
        if tier is not None:
            where.append("a.tier = ?")
            params.append(tier)
        if needs_review is not None:
            where.append("coalesce(a.needs_review, 1) = ?")
            params.append(int(needs_review))
        if search:
            needle = search.casefold()
            where.append(
                "(instr(lower(p.id), ?) OR instr(lower(p.name), ?) OR instr(lower((SELECT text FROM descriptions d "
                "WHERE d.product_id = p.id ORDER BY version DESC LIMIT 1)), ?))"
            )
            params += [needle, needle, needle]
        sql = _LATEST + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY p.id"
        rows = self._read(sql, params)
        decided = self._decided_tiers()
        return [self._row(r, decided.get(r["id"])) for r in rows]

    def _row(self, r: sqlite3.Row, decided_tier: str | None) -> ProductRow:
        return ProductRow(
            id=r["id"],
            name=r["name"],
            tier=r["tier"],
            confidence=r["confidence"],
            needs_review=True if r["needs_review"] is None else bool(r["needs_review"]),
            decided_tier=decided_tier,
            assessed_at=r["assessed_at"],
            versions=_versions(r),
            error=r["error"] or "",
            error_zh=r["error_zh"] or "",
        )

    def product(self, pid: str) -> Product:
        """A product with its whole history. Raises InputError naming close ids when there is no such product."""
        pid = check_id(pid)
        with self._lock:
            head = self._read("SELECT * FROM products WHERE id = ?", (pid,))
            if not head:
                raise self._unknown(pid)
            latest = self._read(_LATEST + " WHERE p.id = ?", (pid,))[0]
            descriptions = self._read(
                "SELECT version, text, added_at, source FROM descriptions WHERE product_id = ? ORDER BY version", (pid,)
            )
            assessments = self._read("SELECT * FROM assessments WHERE product_id = ? ORDER BY id", (pid,))
            answers = self._read("SELECT criterion, value FROM answers WHERE product_id = ? ORDER BY criterion", (pid,))
            ticks = self._read("SELECT step FROM ticks WHERE product_id = ? ORDER BY step", (pid,))
        decisions = self._decisions(pid)
        columns = load_json(head[0]["columns"], {})
        return Product(
            row=self._row(latest, decisions[-1].decided_tier if decisions else None),
            columns={str(k): str(v) for k, v in columns.items()} if isinstance(columns, dict) else {},
            created_at=head[0]["created_at"],
            updated_at=head[0]["updated_at"],
            descriptions=tuple(DescriptionVersion(*r) for r in descriptions),
            assessments=tuple(_assessment(r) for r in assessments),
            answers={r["criterion"]: None if r["value"] is None else bool(r["value"]) for r in answers},
            ticks=tuple(r["step"] for r in ticks),
            decisions=tuple(decisions),
        )

    def _unknown(self, pid: str) -> InputError:
        close = difflib.get_close_matches(pid, self.ids(), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        hint_zh = f"（是否要找 {'、'.join(close)}？）" if close else ""
        return InputError(
            f"no product {pid!r} in the register {self.path}{hint}",
            zh=f"登记册 {self.path} 中没有产品 {pid!r}{hint_zh}",
        )

    # ---- review decisions (verified against the audit log) ----------------------------------------------------

    def audit(self) -> AuditLog:
        if self._audit is None:
            from riskclass.audit.log import AuditLog

            self._audit = AuditLog(self.audit_log_path, self.keyring_path)
        return self._audit

    def _verified(self) -> dict[str, Any]:
        """The audit log's verified entries by hash ({} when there is no log, or it cannot be read: then no decision
        can be shown, which is what an unverifiable decision deserves)."""
        from riskclass.errors import RiskclassError

        if not self._read("SELECT 1 FROM decisions LIMIT 1"):
            return {}
        try:
            contents = self.audit().read()
        except RiskclassError as exc:
            self.audit_problem = exc
            return {}
        self.audit_problem = None
        return {e.decision.hash: e for e in contents.entries if e.trusted}

    def _decisions(self, pid: str) -> list[DecisionRecord]:
        links = self._read("SELECT entry_hash FROM decisions WHERE product_id = ? ORDER BY recorded_at", (pid,))
        if not links:
            return []
        verified = self._verified()
        out = []
        for link in links:
            e = verified.get(link["entry_hash"])
            if e is None:
                continue
            d = e.decision
            out.append(
                DecisionRecord(
                    d.hash, d.decided_tier, d.suggested.tier, d.accepted, d.reviewer, d.reason, d.timestamp,
                    str(self.audit().path),
                )
            )  # fmt: skip
        out.sort(key=lambda d: d.timestamp)
        return out

    def _decided_tiers(self) -> dict[str, str]:
        """product id → the tier of its latest verified decision."""
        links = self._read("SELECT product_id, entry_hash FROM decisions ORDER BY recorded_at")
        if not links:
            return {}
        verified = self._verified()
        latest: dict[str, Any] = {}
        for link in links:
            e = verified.get(link["entry_hash"])
            if e is not None and (
                link["product_id"] not in latest or e.decision.timestamp >= latest[link["product_id"]].timestamp
            ):
                latest[link["product_id"]] = e.decision
        return {pid: d.decided_tier for pid, d in latest.items()}

    def link_decision(self, pid: str, recorded: Recorded) -> None:
        """Link a decision just appended to the audit log (`AuditLog.record`) to the product it is about."""
        pid = check_id(pid)
        d = recorded.decision
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM products WHERE id = ?", (pid,)).fetchone() is None:
                raise self._unknown(pid)
            db.execute(
                "INSERT OR REPLACE INTO decisions (entry_hash, product_id, audit_log, decided_tier, reviewer, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
                (d.hash, pid, str(recorded.path), d.decided_tier, d.reviewer, now_utc()),
            )

    # ---- writing ----------------------------------------------------------------------------------------------

    def transaction(self) -> Any:
        """One write transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on any exception); see riskclass.register.store."""
        return _Locked(self)

    def add_or_update(
        self,
        pid: str,
        name: str,
        description: str,
        columns: dict[str, str] | None = None,
        source: str = "",
    ) -> TierChange | None:
        """Add a product, or update its name, columns and description; a new or changed description is assessed
        (with the product's saved answers). `columns` None keeps a known product's columns (the terminal app edits
        the description, not the inventory). Returns the tier change, if its tier changed."""
        from riskclass.register.importing import Incoming, apply_rows

        pid = check_id(pid)
        if columns is None:
            known = self._read("SELECT columns FROM products WHERE id = ?", (pid,))
            kept = load_json(known[0][0], {}) if known else {}
            columns = {str(k): str(v) for k, v in kept.items()} if isinstance(kept, dict) else {}
        result = apply_rows(self, [Incoming(pid, name, description, dict(columns), 0)], source)
        return result.tier_changes[0] if result.tier_changes else None

    def save_answers(self, pid: str, answers: dict[str, bool | None], reassess: bool = True) -> TierChange | None:
        """Replace the product's saved follow-up answers (None: unknown, kept as such) and, unless `reassess` is
        false, assess its current description again with them. Returns the tier change, if any."""
        pid = check_id(pid)
        facts: Answers = {str(k).strip().upper(): v for k, v in answers.items()}
        known = set(self.rulebook.criteria)
        if unknown := sorted(set(facts) - known):
            raise InputError(
                f"unknown criterion {', '.join(unknown)}: the criteria are {', '.join(sorted(known))}",
                zh=f"未知判断标准 {'、'.join(unknown)}：判断标准为 {'、'.join(sorted(known))}",
            )
        stamp = now_utc()
        text = self._current_text(pid)
        result = self.assessor.assess([(text, facts)])[0] if reassess else None
        with self.transaction() as db:
            self._require(db, pid)
            db.execute("DELETE FROM answers WHERE product_id = ?", (pid,))
            db.executemany(
                "INSERT INTO answers (product_id, criterion, value, saved_at) VALUES (?, ?, ?, ?)",
                [(pid, c, None if v is None else int(bool(v)), stamp) for c, v in sorted(facts.items())],
            )
            if result is None:
                return None
            # Another process may have changed the description meanwhile: assess what is there now.
            version, now_text = self._latest_description(db, pid)
            if now_text != text:
                result = self.assessor.assess([(now_text, facts)])[0]
            before = self._latest_assessment(db, pid)
            insert_assessment(db, pid, version, result, stamp)
            name = db.execute("SELECT name FROM products WHERE id = ?", (pid,)).fetchone()[0]
            return tier_change(pid, name, before, result)

    def save_ticks(self, pid: str, ticks: Iterable[str]) -> None:
        """Replace the product's ticked checklist steps (by step id)."""
        pid = check_id(pid)
        steps = sorted({str(t).strip() for t in ticks if str(t).strip()})
        stamp = now_utc()
        with self.transaction() as db:
            self._require(db, pid)
            kept = {r[0] for r in db.execute("SELECT step FROM ticks WHERE product_id = ?", (pid,))}
            db.execute(
                f"DELETE FROM ticks WHERE product_id = ? AND step NOT IN ({','.join('?' * len(steps))})",
                (pid, *steps),
            )
            db.executemany(
                "INSERT INTO ticks (product_id, step, ticked_at) VALUES (?, ?, ?)",
                [(pid, s, stamp) for s in steps if s not in kept],
            )

    def import_file(
        self,
        path: str,
        id_column: str | None = None,
        column: str | None = None,
        name_column: str | None = None,
        progress: ProgressFn | None = None,
        **reading: Any,
    ) -> ImportResult:
        """Import an inventory file (CSV, TSV, .xlsx); see riskclass.register.importing. `reading`: encoding,
        delimiter, sheet, as for batch."""
        from riskclass.register.importing import import_file

        return import_file(self, path, id_column, column, name_column, progress, **reading)

    def rescore(self, progress: ProgressFn | None = None) -> ImportResult:
        """Assess every product again with the current engine; see riskclass.register.rescore."""
        from riskclass.register.rescore import rescore

        return rescore(self, progress)

    # ---- helpers shared by importing and rescoring -------------------------------------------------------------

    def _require(self, db: sqlite3.Connection, pid: str) -> None:
        if db.execute("SELECT 1 FROM products WHERE id = ?", (pid,)).fetchone() is None:
            raise self._unknown(pid)

    def _current_text(self, pid: str) -> str:
        rows = self._read("SELECT text FROM descriptions WHERE product_id = ? ORDER BY version DESC LIMIT 1", (pid,))
        if not rows:
            if not self._read("SELECT 1 FROM products WHERE id = ?", (pid,)):
                raise self._unknown(pid)
            return ""
        return rows[0][0]

    @staticmethod
    def _latest_description(db: sqlite3.Connection, pid: str) -> tuple[int, str]:
        row = db.execute(
            "SELECT version, text FROM descriptions WHERE product_id = ? ORDER BY version DESC LIMIT 1", (pid,)
        ).fetchone()
        return (row[0], row[1]) if row else (0, "")

    @staticmethod
    def _latest_assessment(db: sqlite3.Connection, pid: str) -> AssessmentRecord | None:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM assessments WHERE product_id = ? ORDER BY id DESC LIMIT 1", (pid,)).fetchone()
        return _assessment(row) if row else None


class _Locked:
    """`Register.transaction()`: the register's thread lock, then a store.write transaction."""

    def __init__(self, register: Register) -> None:
        self.register = register
        self._cm: Any = None

    def __enter__(self) -> sqlite3.Connection:
        self.register._lock.acquire()
        try:
            self._cm = store.write(self.register.db, self.register.path)
            return self._cm.__enter__()
        except BaseException:
            self.register._lock.release()
            raise

    def __exit__(self, *exc: Any) -> bool | None:
        try:
            return self._cm.__exit__(*exc)
        finally:
            self.register._lock.release()


def insert_assessment(db: sqlite3.Connection, pid: str, version: int, s: Stored, stamp: str) -> None:
    db.execute(
        "INSERT INTO assessments (product_id, description_version, assessed_at, tier, confidence, needs_review, "
        "criteria, red_flags, obligations, possible_criteria, article50, decided_by, questions, answers, error, "
        "riskclass_version, rulebook_version, model_sha256, error_zh) VALUES (" + ", ".join("?" * 19) + ")",
        (
            pid, version, stamp, s.tier, s.confidence, int(s.needs_review), s.criteria, s.red_flags, s.obligations,
            s.possible_criteria, s.article50, s.decided_by, s.questions, s.answers, s.error, s.riskclass_version,
            s.rulebook_version, s.model_sha256, s.error_zh,
        ),
    )  # fmt: skip


def columns_json(columns: dict[str, str]) -> str:
    return json.dumps(columns, ensure_ascii=False, sort_keys=True)
