"""The register's SQLite file: where it lives, how it is recognised, its schema and the migrations between versions.

One file, Python's own `sqlite3` (nothing to install or start). What makes it safe to share:

- **Recognised before use.** A riskclass register carries `PRAGMA application_id = APPLICATION_ID` and its schema
  version in `PRAGMA user_version`. A path that is a directory, a FIFO or a device, a file that is not SQLite, a SQLite
  database of another program, a corrupt file, or a register written by a newer riskclass is refused with one line
  (`RegisterError`, exit 2) before anything is written to it.
- **Migrated in one step.** `MIGRATIONS[n]` takes a register from version n to n + 1; opening an older file applies
  the missing ones inside one transaction, so a file is never left between two versions.
- **Shared between processes.** WAL journal (readers never wait for a writer), a busy timeout (a second writer waits
  for the first instead of failing), and every write in `BEGIN IMMEDIATE … COMMIT` (`Store.write`): the write lock is
  taken when the transaction starts, so two imports at once are serialised and lose nothing, and a transaction
  interrupted by an exception, Ctrl+C or SIGKILL leaves the register exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from riskclass.errors import InputError, Text
from riskclass.tables.files import not_a_data_file

REGISTER_ENV = "RISKCLASS_REGISTER"
# "rcRG" in ASCII: tells a riskclass register from any other SQLite file (sqlite.org/fileformat.html, offset 68).
APPLICATION_ID = 0x72635247
SQLITE_MAGIC = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite 3 database file
# How long a writer waits for another process's transaction before giving up. An import holds the write lock only
# while it inserts rows already assessed (well under a second for thousands of products), so a minute is far beyond
# any honest wait and still ends a wait on a process that hangs.
BUSY_TIMEOUT_MS = 60_000
# SQLite's primary result codes for "another connection holds the lock" (sqlite.org/rescode.html): 5 SQLITE_BUSY,
# 6 SQLITE_LOCKED. Extended codes (SQLITE_BUSY_RECOVERY …) carry them in their low byte.
_BUSY_CODES = (5, 6)
# Pause between two tries of a statement SQLite refused without waiting (see `_retry_busy`): short against an import's
# write (tens of milliseconds), long enough not to spin a core while the other process works.
_RETRY_PAUSE_S = 0.02


class RegisterError(InputError):
    """The register cannot be used: not a register, newer than this riskclass, damaged, or not a file (exit 2)."""

    title = "register"


def register_path(explicit: str | os.PathLike | None = None) -> Path:
    """The register to use: `explicit` (--register), else RISKCLASS_REGISTER, else `register` in config.toml, else
    $XDG_DATA_HOME/riskclass/register.sqlite3, else ~/.local/share/riskclass/register.sqlite3 (data a team owns, like
    the audit log: XDG_DATA_HOME, not a cache). `riskclass.config` applies that order."""
    from riskclass.config import settings

    return settings(register=explicit).register


# ---- the schema, one migration per version --------------------------------------------------------------------------

# Version 1: products keyed by the team's own id, every version of their description, every assessment with the
# versions (riskclass, rulebook, model, description) that made it.
_V1 = """
CREATE TABLE products (
    id          TEXT PRIMARY KEY,           -- the team's id (AI-0026, 编号 17 …), exactly as in its inventory
    name        TEXT NOT NULL DEFAULT '',
    columns     TEXT NOT NULL DEFAULT '{}', -- the inventory's other columns, a JSON object
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE descriptions (
    product_id  TEXT NOT NULL REFERENCES products(id),
    version     INTEGER NOT NULL,           -- 1, 2, 3 … per product
    text        TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT '',   -- the file it came from, or the face that saved it
    PRIMARY KEY (product_id, version)
);
CREATE TABLE assessments (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id           TEXT NOT NULL REFERENCES products(id),
    description_version  INTEGER NOT NULL,
    assessed_at          TEXT NOT NULL,
    tier                 TEXT,              -- NULL when the description could not be assessed (see error)
    confidence           REAL,
    needs_review         INTEGER NOT NULL,
    criteria             TEXT NOT NULL DEFAULT '',  -- ids joined by ';' as in a batch output
    red_flags            TEXT NOT NULL DEFAULT '',
    obligations          TEXT NOT NULL DEFAULT '',
    possible_criteria    TEXT NOT NULL DEFAULT '',
    article50            TEXT NOT NULL DEFAULT '',
    decided_by           TEXT NOT NULL DEFAULT '',
    questions            TEXT NOT NULL DEFAULT '[]', -- [{"criterion", "zh", "en"}]
    answers              TEXT NOT NULL DEFAULT '{}', -- the follow-up answers it was made with
    error                TEXT NOT NULL DEFAULT '',
    riskclass_version    TEXT NOT NULL DEFAULT '',
    rulebook_version     TEXT NOT NULL DEFAULT '',
    model_sha256         TEXT NOT NULL DEFAULT ''   -- '' when the rules alone decided
);
CREATE INDEX assessments_by_product ON assessments(product_id, id);
"""

# Version 2: what people add to a product: answers to the follow-up questions, ticked checklist steps, and the review
# decisions about it (each the hash of its audit-log entry: the log, not the register, is the evidence).
_V2 = """
CREATE TABLE answers (
    product_id  TEXT NOT NULL REFERENCES products(id),
    criterion   TEXT NOT NULL,
    value       INTEGER,                    -- 1 yes, 0 no
    saved_at    TEXT NOT NULL,
    PRIMARY KEY (product_id, criterion)
);
CREATE TABLE ticks (
    product_id  TEXT NOT NULL REFERENCES products(id),
    step        TEXT NOT NULL,              -- a checklist step's id, as the report names it
    ticked_at   TEXT NOT NULL,
    PRIMARY KEY (product_id, step)
);
CREATE TABLE decisions (
    entry_hash   TEXT PRIMARY KEY,          -- the audit-log entry's `hash`
    product_id   TEXT NOT NULL REFERENCES products(id),
    audit_log    TEXT NOT NULL,             -- the log the entry was appended to
    decided_tier TEXT NOT NULL,
    reviewer     TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
);
CREATE INDEX decisions_by_product ON decisions(product_id, recorded_at);
"""


# Version 3: an assessment's error in Chinese too (RiskclassError.zh), so `show` and `import` speak one language.
_V3 = """
ALTER TABLE assessments ADD COLUMN error_zh TEXT NOT NULL DEFAULT '';
"""


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    def migrate(db: sqlite3.Connection) -> None:
        # One statement at a time (executescript would COMMIT the transaction the migration runs in); SQLite itself
        # says where a statement ends, so a ';' inside a comment or a string does not split one.
        statement = ""
        for line in sql.splitlines(keepends=True):
            statement += line
            if sqlite3.complete_statement(statement):
                db.execute(statement)
                statement = ""
        if statement.strip():
            raise ValueError(f"incomplete statement in a migration: {statement.strip()[:60]}")

    return migrate


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_script(_V1), _script(_V2), _script(_V3))
"""MIGRATIONS[n] takes a register from schema version n to n + 1 (0: an empty file)."""
SCHEMA_VERSION = len(MIGRATIONS)


# ---- opening --------------------------------------------------------------------------------------------------------


def check_register_path(path: Path) -> None:
    """Refuse, before any other work, a register path that can never be used (a directory, a FIFO, a file that is not
    SQLite); a missing one is fine (import creates it)."""
    if path.exists():
        _check_path(path, create=False)


def _check_path(path: Path, create: bool) -> None:
    """Refuse what SQLite must never be pointed at: a directory, and a FIFO or device (opening one blocks or never
    ends). A missing file is created only when `create` (import), else it is an error naming the path."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not create:
            raise RegisterError(
                f"no register at {path}: import products first (riskclass register import FILE), or name it with "
                f"--register PATH or {REGISTER_ENV}",
                zh=f"{path} 处没有登记册：请先导入产品（riskclass register import 文件），或用 --register 路径或 "
                f"{REGISTER_ENV} 指定",
            ) from None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegisterError(
                f"cannot create the register {path}: {exc.strerror or exc}",
                zh=f"无法创建登记册 {path}：{exc.strerror or exc}",
            ) from None
        return
    except OSError as exc:
        raise RegisterError(
            f"cannot open the register {path}: {exc.strerror or exc}",
            zh=f"无法打开登记册 {path}：{exc.strerror or exc}",
        ) from None
    if (why := not_a_data_file(st.st_mode, path, Text("register", "登记册"), "--register")) is not None:
        raise RegisterError(why.en, zh=why.zh)
    if st.st_size:
        try:
            with open(path, "rb") as fh:
                head = fh.read(len(SQLITE_MAGIC))
        except OSError as exc:
            raise RegisterError(
                f"cannot read the register {path}: {exc.strerror or exc}",
                zh=f"无法读取登记册 {path}：{exc.strerror or exc}",
            ) from None
        if head != SQLITE_MAGIC:
            raise _not_a_register(path, "not a SQLite database", "不是 SQLite 数据库")


def _not_a_register(path: Path, why: str, why_zh: str) -> RegisterError:
    return RegisterError(
        f"{path} is not a riskclass register ({why}): name the register with --register PATH or {REGISTER_ENV}",
        zh=f"{path} 不是 riskclass 登记册（{why_zh}）：请用 --register 路径或 {REGISTER_ENV} 指定登记册",
    )


def _damaged(path: Path, exc: BaseException) -> RegisterError:
    return RegisterError(
        f"the register {path} is damaged or unreadable ({exc}): restore it from a backup",
        zh=f"登记册 {path} 已损坏或无法读取（{exc}）：请从备份恢复",
    )


def _is_busy(exc: sqlite3.Error) -> bool:
    """Whether `exc` says another connection holds the lock (not damage). `sqlite_errorcode` is Python 3.11+; before
    that SQLite's own message is all there is."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _retry_busy(db: sqlite3.Connection, sql: str) -> sqlite3.Cursor:
    """Run `sql`, trying again while another process holds the lock, up to BUSY_TIMEOUT_MS.

    The busy timeout does not cover every wait: a statement that reads and then writes (switching a new file to WAL
    does) is refused at once when another process is about to write, because waiting there could deadlock
    (sqlite.org/c3ref/busy_handler.html). The statement holds no lock once refused, so trying it again is safe; two
    imports creating one register at the same moment hit exactly this."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return db.execute(sql)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(_RETRY_PAUSE_S)


def _busy(path: Path, exc: BaseException) -> RegisterError:
    return RegisterError(
        f"the register {path} is busy or cannot be written ({exc}): try again when the other riskclass finishes",
        zh=f"登记册 {path} 正忙或无法写入（{exc}）：请在另一个 riskclass 结束后重试",
    )


def unusable(path: Path, exc: sqlite3.Error) -> RegisterError:
    """The one-line error for a failed read: busy when another process holds the lock (try again), else damaged."""
    return _busy(path, exc) if _is_busy(exc) else _damaged(path, exc)


def connect(path: Path, create: bool = False) -> sqlite3.Connection:
    """An open connection to the register at `path`, migrated to SCHEMA_VERSION (see the module docstring).

    Raises RegisterError for anything that is not a usable register; never writes to a file it did not recognise."""
    _check_path(path, create)
    try:
        # isolation_level=None: no implicit transactions; `write` issues BEGIN IMMEDIATE itself.
        db = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise _damaged(path, exc) from None
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id != APPLICATION_ID and (app_id != 0 or version != 0 or tables):
            raise _not_a_register(path, "a SQLite database of another program", "是其他程序的 SQLite 数据库")
        if version > SCHEMA_VERSION:
            raise RegisterError(
                f"the register {path} was written by a newer riskclass (schema {version}, this one reads up to "
                f"{SCHEMA_VERSION}): upgrade riskclass",
                zh=f"登记册 {path} 由更新版本的 riskclass 写入（结构版本 {version}，本版本最多读取 {SCHEMA_VERSION}）："
                "请升级 riskclass",
            )
        # Damage found now is one line and nothing written; found mid-import it would be a failed transaction. It
        # reads the whole file, but a register is small (about 1 KB a product: benchmarks/bench_register.py).
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise _damaged(path, sqlite3.DatabaseError(check))
        mode = _retry_busy(db, "PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":  # e.g. a file system without shared memory: still correct, only less concurrent
            _retry_busy(db, "PRAGMA journal_mode = DELETE")
        db.execute("PRAGMA foreign_keys = ON")
        if version < SCHEMA_VERSION:
            migrate(db, path)
    except RegisterError:
        db.close()
        raise
    except sqlite3.Error as exc:
        db.close()
        raise unusable(path, exc) from None
    return db


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Apply the missing migrations in one transaction (re-reading the version under the write lock: another process
    may have migrated the file meanwhile)."""
    with write(db, path):
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for step in MIGRATIONS[version:]:
            step(db)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextlib.contextmanager
def write(db: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction: `BEGIN IMMEDIATE` (the write lock now, so no other writer can slip in between what this
    one read and what it writes), COMMIT when the block ends, ROLLBACK on any exception, KeyboardInterrupt included."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        raise _busy(path, exc) from None
    try:
        yield db
        db.execute("COMMIT")  # a failed commit is rolled back and said like a failed write
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise RegisterError(
            f"cannot write the register {path}: {exc}; nothing was changed",
            zh=f"无法写入登记册 {path}：{exc}；没有做任何更改",
        ) from None
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
