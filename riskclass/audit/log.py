"""Reviewer decisions and the tamper-evident audit log that keeps them (issue 6).

A named reviewer accepts or changes the tier riskclass suggested, with a reason; each decision is one line of JSON
appended to a log (JSON Lines). Every entry carries `prev`, the hash of the entry before it ("0" * 64 for the first),
and `hash`, the sha256 of the entry's canonical JSON without `hash` (keys sorted, no spaces, UTF-8; see `canonical`).
Editing an entry, deleting one, inserting one or reordering them therefore breaks the chain at that entry, and
`AuditLog.verify` names the first broken one.

Signatures (issue 12): the chain proves order and completeness, not who. Anyone who can write the log could append an
entry with a recomputed hash, so every entry is also signed with its reviewer's own Ed25519 key (`key`: the key's
fingerprint, `signature`: over the entry's canonical JSON without `hash` and `signature`, `prev` included; see
riskclass.audit.keys for the key, the team keyring and its format). An entry whose signature is missing, wrong, by a
key the keyring does not list, or by a key listed under another name is *unverified*: `verify` names the first one,
and it is never shown as a decision, never looked up, never trained on. Logs written before signing: their entries
read as unsigned (unverified); appending after them is allowed, but not after an unverified entry that follows a
signed one (that is a forgery, not history), nor to a broken chain.

What a chain alone cannot show: entries cut off at the *end* (what is left is still a valid chain), or the whole log
replaced by another valid one. `riskclass audit verify` prints the number of entries and the head hash (the hash of the
last entry) so a team can record them somewhere else — a ticket, a signed commit — and later check that the recorded
head is still in the chain (`--expect-head`).

Where the log lives (it is data people own, not a cache; riskclass never deletes it): `--audit-log PATH` on a
command, else the environment variable RISKCLASS_AUDIT_LOG, else $XDG_DATA_HOME/riskclass/audit.jsonl, else
~/.local/share/riskclass/audit.jsonl.

Concurrency: `append` holds an exclusive lock (`fcntl.flock`) on the log while it reads the last entry's hash and
writes the new line, then flushes and fsyncs before releasing it, so several processes appending at once lose nothing
and keep one chain. Readers take a shared lock, so they never see half a line of a concurrent append.

Core module: standard library and `cryptography` (signatures) only; never imports a UI framework.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import stat
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from riskclass.audit import keys
from riskclass.config import settings
from riskclass.errors import AuditError, InputError, Text

SCHEMA = "riskclass-audit/1"  # in every entry: tells our lines from anyone else's, and lets the format evolve
GENESIS = "0" * 64  # `prev` of the first entry
TIERS = ("high", "medium", "low")
LOG_NAME = "audit.jsonl"
MAX_REVIEWER_CHARS = 200  # a name, not a paragraph
MAX_REASON_CHARS = 4_000  # a reason a colleague will read; longer texts belong in a linked document
READ_CHUNK = 1 << 16
VERSION_KEYS = ("riskclass", "rulebook", "model_sha256")


# ---- where ---------------------------------------------------------------------------------------------------------


def audit_log_path(explicit: str | os.PathLike | None = None) -> Path:
    """The log to use: `explicit` (the --audit-log option), else RISKCLASS_AUDIT_LOG, else `audit_log` in config.toml,
    else $XDG_DATA_HOME/riskclass/audit.jsonl, else ~/.local/share/riskclass/audit.jsonl (data, not cache)."""
    return settings(audit_log=explicit).audit_log


# ---- what ----------------------------------------------------------------------------------------------------------


def fingerprint(description: str) -> str:
    """sha256 of the normalised description (NFKC, lower case, whitespace collapsed, 繁體 → 简体: `text.normalise`), so
    the same product described with other spacing, width or script has the same fingerprint."""
    from riskclass.text.normalise import normalise

    return hashlib.sha256(normalise(description).text.encode("utf-8")).hexdigest()


def canonical(entry: dict) -> bytes:
    """The bytes an entry's hash is taken over: its JSON without `hash`, keys sorted, no spaces, UTF-8."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def signed_bytes(entry: dict) -> bytes:
    """The bytes an entry's signature is over: its canonical JSON without `hash` and `signature` (`key` included)."""
    return canonical({k: v for k, v in entry.items() if k != "signature"})


def entry_hash(entry: dict) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def now_utc() -> str:
    """ISO-8601 in UTC with a Z, to the second: e.g. 2025-11-22T14:33:05Z."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Suggestion:
    """What riskclass suggested, as the reviewer saw it (a fresh assessment, or a saved one read back)."""

    tier: str
    criteria: tuple[str, ...]
    confidence: float
    versions: dict[str, str]  # riskclass, rulebook, model_sha256 ("" when the rules alone decided)
    answers: dict[str, bool] = field(default_factory=dict)  # follow-up answers it was made with

    @classmethod
    def from_assessment(cls, a) -> Suggestion:
        return cls(a.tier, tuple(h.id for h in a.criteria), float(a.confidence), dict(a.versions), dict(a.answers))


@dataclass(frozen=True)
class Decision:
    """One line of the audit log."""

    timestamp: str  # ISO-8601 UTC, e.g. 2025-11-22T14:33:05Z
    reviewer: str
    fingerprint: str  # `fingerprint(description)`
    description: str  # as given: the fingerprint alone could not be learned from (train --with-reviews)
    suggested: Suggestion
    decided_tier: str
    accepted: bool  # decided_tier == suggested.tier
    reason: str  # required when the tier was changed
    prev: str  # hash of the previous entry, GENESIS for the first
    hash: str  # sha256 of `canonical(entry)`
    schema: str = SCHEMA
    key: str = ""  # fingerprint of the reviewer's public key ("" in entries written before signing)
    signature: str = ""  # base64 Ed25519 signature over `signed_bytes(entry)`

    @property
    def versions(self) -> dict[str, str]:
        return self.suggested.versions

    def to_dict(self) -> dict:
        """The entry as written (field order for people; the hash does not depend on it)."""
        s = self.suggested
        return {
            "schema": self.schema,
            "timestamp": self.timestamp,
            "reviewer": self.reviewer,
            "fingerprint": self.fingerprint,
            "description": self.description,
            "suggested": {
                "tier": s.tier,
                "criteria": list(s.criteria),
                "confidence": s.confidence,
                "answers": dict(s.answers),
            },
            "decided_tier": self.decided_tier,
            "accepted": self.accepted,
            "reason": self.reason,
            "versions": dict(s.versions),
            "prev": self.prev,
            **({"key": self.key, "signature": self.signature} if self.key or self.signature else {}),
            "hash": self.hash,
        }

    @classmethod
    def from_dict(cls, d: object) -> Decision:
        """Raises ValueError saying what is missing or wrong (verify reports it as a malformed entry)."""
        if not isinstance(d, dict):
            raise ValueError("not a JSON object")
        if d.get("schema") != SCHEMA:
            raise ValueError(f'not a riskclass audit entry (no "schema": "{SCHEMA}")')

        def need(key: str, kind: type | tuple[type, ...], where: dict = d, name: str = ""):
            value = where.get(key)
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise ValueError(f"field {name or key!r} is missing or has the wrong type")
            return value

        s = need("suggested", dict)
        versions = need("versions", dict)
        answers = s.get("answers") or {}
        criteria = need("criteria", list, s, "suggested.criteria")
        suggestion = Suggestion(
            need("tier", str, s, "suggested.tier"),
            tuple(str(c) for c in criteria),
            float(need("confidence", (int, float), s, "suggested.confidence")),
            {str(k): str(v) for k, v in versions.items()},
            dict(answers) if isinstance(answers, dict) else {},
        )
        return cls(
            timestamp=need("timestamp", str),
            reviewer=need("reviewer", str),
            fingerprint=need("fingerprint", str),
            description=need("description", str),
            suggested=suggestion,
            decided_tier=need("decided_tier", str),
            accepted=need("accepted", bool),
            reason=need("reason", str),
            prev=need("prev", str),
            hash=need("hash", str),
            key=need("key", str) if "key" in d else "",
            signature=need("signature", str) if "signature" in d else "",
        )


# ---- validation: the same messages for the CLI and the TUI ----------------------------------------------------------


def _controls(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in allowed for ch in text)


def check_reviewer(name: object) -> str:
    """A reviewer name: required, one line, no control characters (they could disguise it on a terminal)."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(
            "a reviewer name is required (--reviewer NAME): every decision must be owned by someone",
            zh="需要复核人姓名（--reviewer 姓名）：每个决定都必须有人负责",
        )
    name = name.strip()
    if len(name.splitlines()) > 1:
        raise InputError("the reviewer name must be one line", zh="复核人姓名必须是一行")
    if _controls(name):
        raise InputError("the reviewer name must not contain control characters", zh="复核人姓名不能含控制字符")
    if len(name) > MAX_REVIEWER_CHARS:
        raise InputError(
            f"the reviewer name has {len(name)} characters; at most {MAX_REVIEWER_CHARS}",
            zh=f"复核人姓名有 {len(name)} 个字符；最多 {MAX_REVIEWER_CHARS}",
        )
    return name


def check_tier(tier: object) -> str:
    if tier not in TIERS:
        raise InputError(
            f"the decided tier must be one of {', '.join(TIERS)}, not {tier!r}",
            zh=f"决定的等级只能是 {', '.join(TIERS)} 之一，而不是 {tier!r}",
        )
    return tier  # type: ignore[return-value]


def check_reason(reason: object, suggested: str, decided: str) -> str:
    """The reason: required when the decided tier differs from the suggestion; free text otherwise."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason and decided != suggested:
        raise InputError(
            f"a reason is required when the decided tier ({decided}) differs from the suggestion ({suggested}): "
            "add --reason TEXT",
            zh=f"决定的等级（{decided}）与建议（{suggested}）不同时必须说明理由：请加 --reason 文字",
        )
    if _controls(reason, allowed="\n\t"):
        raise InputError("the reason must not contain control characters", zh="理由不能含控制字符")
    if len(reason) > MAX_REASON_CHARS:
        raise InputError(
            f"the reason has {len(reason):,} characters; at most {MAX_REASON_CHARS:,}",
            zh=f"理由有 {len(reason):,} 个字符；最多 {MAX_REASON_CHARS:,}",
        )
    return reason


def _check_utf8(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            f"the {what} contains bytes that are not valid text (undecodable input)",
            zh=f"{what} 含有不是有效文本的字节（无法解码的输入）",
        ) from None


# ---- reading and verifying ------------------------------------------------------------------------------------------

BREAK_KINDS = ("not_json", "torn", "malformed", "edited", "duplicated", "deleted", "reordered", "inserted", "restarted")
TRUST_KINDS = ("unsigned", "bad_signature", "unknown_key", "wrong_reviewer", "edited")  # why an entry is unverified


@dataclass(frozen=True)
class Break:
    """The first entry where the chain does not hold."""

    line: int  # 1-based line number in the log
    kind: str  # one of BREAK_KINDS
    detail: str  # one line, English, says what does not match
    timestamp: str | None = None  # of the broken entry, when it can be read
    reviewer: str | None = None
    detail_zh: str = ""  # the same in Chinese (issue 13: audit messages in the chosen language)


@dataclass(frozen=True)
class Verification:
    path: str
    entries: int  # lines in the log
    intact: int  # entries before the first break
    head: str  # hash of the last entry of the intact part (GENESIS when there is none)
    problem: Break | None = None  # the first break in the chain
    unverified: Break | None = None  # the first entry whose signature does not verify against the keyring
    verified: int = 0  # entries whose signature verifies
    blocking: Break | None = None  # the first unverified entry that is not an unsigned one from before signing
    keyring: str = ""  # the keyring the signatures were checked against

    @property
    def chain_ok(self) -> bool:
        return self.problem is None

    @property
    def ok(self) -> bool:
        """The chain holds and every entry is signed by a key the keyring lists under the entry's reviewer."""
        return self.problem is None and self.unverified is None


@dataclass(frozen=True)
class Entry:
    line: int
    decision: Decision
    trust: str = "verified"  # or one of TRUST_KINDS: then it is not a decision anyone may rely on

    @property
    def trusted(self) -> bool:
        return self.trust == "verified"


@dataclass(frozen=True)
class Contents:
    """Every well-formed entry in file order (broken ones included when they can be read), and the verdict."""

    entries: tuple[Entry, ...]
    verification: Verification


@dataclass(frozen=True)
class Lookup:
    """The most recent *verified* decision about one fingerprint (None if there is none), what verify says of the
    log, and the newest unverified entry about it that is newer than that decision (`skipped`: never shown as one)."""

    entry: Entry | None
    verification: Verification
    skipped: Entry | None = None

    @property
    def decision(self) -> Decision | None:
        return self.entry.decision if self.entry else None


@dataclass(frozen=True)
class Recorded:
    decision: Decision
    line: int
    path: Path


@contextlib.contextmanager
def _locked(fd: int, exclusive: bool) -> Iterator[None]:
    """flock on the log itself (advisory: every riskclass process takes it). Not reliable on some network file systems;
    keep a shared log on a local disk or give each machine its own."""
    try:
        import fcntl
    except ImportError:  # Windows: lock the first byte instead (blocking, retried by msvcrt for ~10 s)
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_LOCK if exclusive else msvcrt.LK_RLCK, 1)
        try:
            yield
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _parse(lines: list[bytes], torn_last: bool) -> list[tuple[dict | None, Decision | None, str | None, Text]]:
    """Per line: (JSON object or None, Decision or None, the problem kind or None, its detail)."""
    out = []
    for i, raw in enumerate(lines, 1):
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            if i == len(lines) and torn_last:
                why = Text(
                    "the last line is incomplete (a write cut short) and is not JSON",
                    "最后一行不完整（写入被中断），不是 JSON",
                )
                out.append((None, None, "torn", why))
            else:
                why = (
                    Text("the line is not JSON", "这一行不是 JSON")
                    if raw.strip()
                    else Text("the line is empty", "这一行为空")
                )
                out.append((None, None, "not_json", why))
            continue
        try:
            decision = Decision.from_dict(obj)
        except ValueError as exc:
            out.append((obj if isinstance(obj, dict) else None, None, "malformed", Text(str(exc), str(exc))))
            continue
        try:
            mismatch = entry_hash(obj) != decision.hash
        except ValueError:  # NaN or Infinity: json reads them, canonical JSON (and riskclass) never writes them
            why = Text(
                "it holds a number JSON does not allow (NaN or Infinity)", "含有 JSON 不允许的数（NaN 或 Infinity）"
            )
            out.append((obj, None, "malformed", why))
            continue
        if mismatch:
            out.append((obj, decision, "edited", EDITED))
            continue
        out.append((obj, decision, None, NO_DETAIL))
    return out


EDITED = Text("its content does not match its hash: the entry was changed", "内容与其哈希不符：条目被改动过")
NO_DETAIL = Text("", "")


def _chain_break(i: int, prev: str, hashes: list[str | None], seen_before: set[str]) -> tuple[str, Text]:
    """Why entry i's `prev` is not the hash of entry i-1 (hashes: every line's stored hash, 0-based)."""
    later = prev in hashes[i:]
    if later:
        return "reordered", Text(
            "its prev is the hash of a later entry: entries were reordered", "其 prev 是后面某条的哈希：条目顺序被调换"
        )
    if prev == GENESIS:
        return "restarted", Text(
            "a new chain starts here: entries were inserted, or another log was appended",
            "此处开始了一条新链：有条目被插入，或接上了另一份日志",
        )
    if i == 1:
        return "deleted", Text(
            "the first entry does not start the chain: the entries before it were deleted",
            "第一条不是链的开头：它之前的条目被删除了",
        )
    if prev in seen_before:
        return "inserted", Text(
            f"its prev is the hash of an earlier entry, not of line {i - 1}: line {i - 1} was inserted",
            f"其 prev 是更早某条的哈希，而不是第 {i - 1} 行的：第 {i - 1} 行是插入的",
        )
    return "deleted", Text(
        f"its prev matches no entry: the entry before it was deleted (or line {i - 1} was edited and re-hashed)",
        f"其 prev 与任何条目都不符：前一条被删除了（或第 {i - 1} 行被改动后重算了哈希）",
    )


def _trust(obj: dict, decision: Decision, kind: str | None, keyring: keys.Keyring) -> tuple[str, Text]:
    """("verified", "") or (one of TRUST_KINDS, a one-line detail): does the entry's signature hold?"""
    if kind == "edited":
        return "edited", EDITED
    if not decision.key and not decision.signature:
        return "unsigned", Text(
            "it carries no signature, so anyone who can write the log could have written it "
            "(written before signing, or forged); it is not shown as a decision",
            "它没有签名，任何能写这份日志的人都可能写下它（签名功能之前写的，或伪造的）；不作为复核决定显示",
        )
    fp = decision.key
    problem = keyring.check(signed_bytes(obj), fp, decision.signature, decision.reviewer)
    if problem is None:
        return "verified", NO_DETAIL
    if problem == "unknown_key":
        if keyring.missing:
            where = f"there is no keyring at {keyring.path} (--keyring or {keys.KEYRING_ENV})"
            where_zh = f"{keyring.path} 处没有密钥环（--keyring 或 {keys.KEYRING_ENV}）"
        else:
            where, where_zh = f"not in the keyring {keyring.path}", f"不在密钥环 {keyring.path} 中"
        return problem, Text(f"it is signed by key {fp[:16]}…, {where}", f"签名密钥为 {fp[:16]}…，{where_zh}")
    if problem == "wrong_reviewer":
        names = ", ".join(sorted(keyring.names(fp) or ()))
        return problem, Text(
            f"it is signed with the key of {names}, not of {decision.reviewer}",
            f"签名用的是 {names} 的密钥，而不是 {decision.reviewer} 的",
        )
    return problem, Text(
        "its signature does not match its content: changed after signing, or forged",
        "签名与内容不符：签名后被改动，或是伪造的",
    )


def _break(i: int, obj: dict | None, kind: str, detail: Text) -> Break:
    return Break(
        i,
        kind,
        detail.en,
        obj.get("timestamp") if obj and isinstance(obj.get("timestamp"), str) else None,
        obj.get("reviewer") if obj and isinstance(obj.get("reviewer"), str) else None,
        detail.zh,
    )


LineCache = dict[bytes, tuple[dict, Decision, "str | None", Text, str, Text]]


def _verify(
    path: Path, lines: list[bytes], torn_last: bool, keyring: keys.Keyring, cache: LineCache | None = None
) -> tuple[list[Entry], Verification]:
    """Walk the chain and check every signature. `cache` maps a line's bytes to its parsed entry and signature verdict
    (for one keyring): an append re-verifies the whole log, and parsing and Ed25519 checks are the costly part."""
    parsed: list[tuple[dict | None, Decision | None, str | None, Text]] = []
    trusts: list[tuple[str, Text]] = []
    todo = [i for i, raw in enumerate(lines) if cache is None or raw not in cache]
    fresh = dict(zip(todo, _parse([lines[i] for i in todo], torn_last and todo[-1:] == [len(lines) - 1]), strict=True))
    for i, raw in enumerate(lines):
        if i in fresh:
            obj, decision, kind, detail = fresh[i]
            trust = (
                _trust(obj, decision, kind, keyring) if decision is not None and obj is not None else ("", NO_DETAIL)
            )
            if cache is not None and decision is not None and obj is not None:
                cache[raw] = (obj, decision, kind, detail, *trust)
        else:
            obj, decision, kind, detail, *rest = cache[raw]  # type: ignore[index]
            trust = (rest[0], rest[1])
        parsed.append((obj, decision, kind, detail))
        trusts.append(trust)
    hashes = [obj.get("hash") if obj else None for obj, _, _, _ in parsed]
    entries: list[Entry] = []
    problem: Break | None = None
    unverified: Break | None = None
    blocking: Break | None = None
    verified = 0
    signed_seen = False
    expected = GENESIS
    intact = 0
    seen: set[str] = set()
    for i, (obj, decision, kind, detail) in enumerate(parsed, 1):
        if decision is not None and obj is not None:
            trust, why = trusts[i - 1]
            entries.append(Entry(i, decision, trust))
            if trust == "verified":
                verified += 1
            elif unverified is None:
                unverified = _break(i, obj, trust, why)
            if trust != "verified" and blocking is None and (trust != "unsigned" or signed_seen):
                blocking = _break(i, obj, trust, why)
            signed_seen = signed_seen or bool(decision.key or decision.signature)
        if problem is not None:
            continue
        if kind is None and decision is not None:
            if decision.hash in seen:
                kind, detail = "duplicated", Text("it is a copy of an earlier entry", "它是前面某条的副本")
            elif decision.prev != expected:
                kind, detail = _chain_break(i, decision.prev, hashes, seen - {expected})
        if kind is not None:
            problem = _break(i, obj, kind, detail)
            continue
        seen.add(decision.hash)
        expected = decision.hash
        intact = i
    ours = any(obj is not None and obj.get("schema") == SCHEMA for obj, _, _, _ in parsed)
    if lines and not ours and problem is not None and problem.kind != "torn":
        raise AuditError(
            f"{path} is not a riskclass audit log (no line is a {SCHEMA} entry): "
            "choose the log with --audit-log PATH or RISKCLASS_AUDIT_LOG",
            zh=f"{path} 不是 riskclass 审计日志（没有一行是 {SCHEMA} 条目）：请用 --audit-log PATH 或 "
            "RISKCLASS_AUDIT_LOG 指定日志",
        )
    return entries, Verification(
        str(path), len(lines), intact, expected, problem, unverified, verified, blocking, str(keyring.path)
    )


def _check_regular(path: Path) -> None:
    """Refuse a FIFO, device or socket as the audit log before opening it: opening a FIFO waits for a writer for ever
    (issue 12). A missing path is fine here (the caller says what that means)."""
    try:
        st = os.stat(path)
    except OSError:  # missing, or a path through a file: opening it says so in the caller's words
        return
    from riskclass.tables.files import not_a_data_file  # here: `classify` reads the log but writes no table

    if (why := not_a_data_file(st.st_mode, path, Text("audit log", "审计日志"), "--audit-log")) is not None:
        raise AuditError(why.en, zh=why.zh)


class AuditLog:
    """The append-only decision log at `path` (see the module docstring for the format and the location)."""

    def __init__(self, path: str | os.PathLike | None = None, keyring: str | os.PathLike | None = None) -> None:
        self.path = audit_log_path(path)
        self.keyring_path = keys.keyring_path(keyring)  # the team's trusted public keys (riskclass.audit.keys)
        self._cache: tuple[tuple, Contents] | None = None
        self._cache_lock = threading.Lock()
        self._lines: tuple[tuple, LineCache] = ((), {})  # (keyring version, parsed and checked lines): see _verify

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"

    # ---- reading --------------------------------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.is_file()

    def check_usable(self) -> None:
        """Refuse, before any work, a log path that is a directory, FIFO, device or socket (a missing one is fine)."""
        _check_regular(self.path)

    def _line_cache(self, ring_version: tuple) -> LineCache:
        with self._cache_lock:
            if self._lines[0] != ring_version or not ring_version:
                self._lines = (ring_version, {})
            return self._lines[1]

    def _keyring(self) -> tuple[keys.Keyring, tuple]:
        """The keyring and what identifies its version (a changed keyring means re-verifying, even from the cache)."""
        ring = keys.load_keyring(self.keyring_path)
        try:
            st = os.stat(self.keyring_path)
            version: tuple = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            version = ()
        return ring, version

    def read(self) -> Contents:
        """Every entry and the verdict on the chain. Raises AuditError when the log is missing or unreadable.

        Re-read only when the file changed (size, mtime, inode): the terminal app looks a fingerprint up after every
        assessment."""
        _check_regular(self.path)
        ring, ring_version = self._keyring()
        try:
            # O_NONBLOCK: should the path become a FIFO after the check above, open returns instead of waiting
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            raise AuditError(
                f"no audit log at {self.path} (nothing reviewed yet, or it is elsewhere: --audit-log)",
                zh=f"{self.path} 处没有审计日志（还没有复核记录，或日志在别处：--audit-log）",
            ) from None
        except IsADirectoryError:
            raise AuditError(
                f"the audit log {self.path} is a directory: give a file path with --audit-log",
                zh=f"审计日志 {self.path} 是目录：请用 --audit-log 给出文件路径",
            ) from None
        except OSError as exc:
            raise AuditError(
                f"cannot read the audit log {self.path}: {exc.strerror or exc}",
                zh=f"无法读取审计日志 {self.path}：{exc.strerror or exc}",
            ) from None
        try:
            with _locked(fd, exclusive=False):
                st = os.fstat(fd)
                if stat.S_ISDIR(st.st_mode):
                    raise AuditError(
                        f"the audit log {self.path} is a directory: give a file path with --audit-log",
                        zh=f"审计日志 {self.path} 是目录：请用 --audit-log 给出文件路径",
                    )
                if not stat.S_ISREG(st.st_mode):
                    raise AuditError(
                        f"the audit log {self.path} is not a regular file", zh=f"审计日志 {self.path} 不是普通文件"
                    )
                key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, ring_version)
                with self._cache_lock:
                    if self._cache is not None and self._cache[0] == key:
                        return self._cache[1]
                data = _read_all(fd)
        except OSError as exc:
            raise AuditError(
                f"cannot read the audit log {self.path}: {exc.strerror or exc}",
                zh=f"无法读取审计日志 {self.path}：{exc.strerror or exc}",
            ) from None
        finally:
            os.close(fd)
        lines = data.split(b"\n")
        torn = not data.endswith(b"\n")
        if not torn or not data:
            lines.pop()
        entries, verification = _verify(self.path, lines, torn and bool(data), ring, self._line_cache(ring_version))
        contents = Contents(tuple(entries), verification)
        with self._cache_lock:
            self._cache = (key, contents)
        return contents

    def entries(self) -> list[Decision]:
        """Every readable entry, oldest first, verified or not (`read()` says which are; entries that cannot be read
        are left out: `verify` names them). Not for showing decisions: use `lookup` or `read()`."""
        return [e.decision for e in self.read().entries]

    def verify(self) -> Verification:
        """Check the whole chain; the result names the first broken entry. A missing log raises AuditError."""
        return self.read().verification

    def lookup(self, fingerprint: str) -> Lookup:
        """The most recent decision about `fingerprint` and the log's verdict (a missing log raises AuditError)."""
        contents = self.read()
        skipped: Entry | None = None
        for e in reversed(contents.entries):
            if e.decision.fingerprint == fingerprint:
                if e.trusted:
                    return Lookup(e, contents.verification, skipped)
                skipped = skipped or e
        return Lookup(None, contents.verification, skipped)

    def latest_for(self, fingerprint: str) -> Decision | None:
        """The most recent verified decision about `fingerprint`, or None (also None when there is no log yet)."""
        if not self.path.exists():
            return None
        return self.lookup(fingerprint).decision

    # ---- writing ----------------------------------------------------------------------------------------------------

    def append(
        self,
        description: str,
        suggestion: Suggestion,
        reviewer: str,
        decided_tier: str | None = None,
        reason: str = "",
        timestamp: str | None = None,
        signer: keys.Signer | None = None,
    ) -> Recorded:
        """Record a decision: `decided_tier` None (or the suggested tier) accepts the suggestion.

        Signed with `signer`, by default the reviewer's own key (riskclass.audit.keys), which the keyring must list
        under `reviewer`. Under an exclusive lock: read the log, check the chain and the signatures, write one line
        chained to the last entry and signed, flush and fsync. Raises InputError for an unusable name, tier or reason,
        and AuditError when there is no usable key, the log cannot be written, or it is broken or holds a forged entry
        (nothing is written then)."""
        from riskclass.text.normalise import check_description

        description = check_description(description)
        _check_utf8(description, "description")
        reviewer = check_reviewer(reviewer)
        check_tier(suggestion.tier)
        decided = suggestion.tier if decided_tier is None else check_tier(decided_tier)
        reason = check_reason(reason, suggestion.tier, decided)
        body = {
            "schema": SCHEMA,
            "timestamp": timestamp or now_utc(),
            "reviewer": reviewer,
            "fingerprint": fingerprint(description),
            "description": description,
            "suggested": {
                "tier": suggestion.tier,
                "criteria": list(suggestion.criteria),
                "confidence": round(float(suggestion.confidence), 4),
                "answers": {str(k): bool(v) for k, v in suggestion.answers.items()},
            },
            "decided_tier": decided,
            "accepted": decided == suggestion.tier,
            "reason": reason,
            "versions": {**dict.fromkeys(VERSION_KEYS, ""), **{str(k): str(v) for k, v in suggestion.versions.items()}},
        }
        signer = signer or keys.load_signer()
        ring, ring_version = self.check_signer(signer, reviewer)
        _check_regular(self.path)  # a FIFO opened read-write would swallow the entry
        created = not self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o666)
        except IsADirectoryError:
            raise AuditError(
                f"the audit log {self.path} is a directory: give a file path with --audit-log",
                zh=f"审计日志 {self.path} 是目录：请用 --audit-log 给出文件路径",
            ) from None
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log {self.path}: {exc.strerror or exc} "
                "(choose another with --audit-log PATH or RISKCLASS_AUDIT_LOG)",
                zh=f"无法写入审计日志 {self.path}：{exc.strerror or exc}（可用 --audit-log PATH 或 RISKCLASS_AUDIT_LOG "
                "另选）",
            ) from None
        try:
            with _locked(fd, exclusive=True):
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise AuditError(
                        f"the audit log {self.path} is not a regular file: give a file with --audit-log",
                        zh=f"审计日志 {self.path} 不是普通文件：请用 --audit-log 给出文件",
                    )
                count, last, newline_needed = _tail(fd)
                prev = GENESIS if last is None else self._intact_last(last, count)
                if last is not None:
                    self._refuse_if_forged(fd, ring, ring_version)
                entry = {**body, "prev": prev, "key": signer.fingerprint}
                entry["signature"] = signer.sign(signed_bytes(entry))
                entry["hash"] = entry_hash(entry)
                line = json.dumps(entry, ensure_ascii=False) + "\n"
                _write_all(fd, (b"\n" if newline_needed else b"") + line.encode("utf-8"))
                os.fsync(fd)
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log {self.path}: {exc.strerror or exc}",
                zh=f"无法写入审计日志 {self.path}：{exc.strerror or exc}",
            ) from None
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)  # the new file's name survives a crash too
        return Recorded(Decision.from_dict(entry), count + 1, self.path)

    def record(
        self,
        assessment,
        reviewer: str,
        decided_tier: str | None = None,
        reason: str = "",
        signer: keys.Signer | None = None,
    ) -> Recorded:
        """`append` for an Assessment just made."""
        return self.append(
            assessment.description, Suggestion.from_assessment(assessment), reviewer, decided_tier, reason, None, signer
        )

    def check_signer(self, signer: keys.Signer, reviewer: str) -> tuple[keys.Keyring, tuple]:
        """The keyring (and its version), if it lists the signer's key under `reviewer`: an entry nobody could verify
        is not recorded."""
        ring, version = self._keyring()
        line = signer.line(reviewer)
        if ring.missing:
            raise AuditError(
                f"no keyring at {ring.path} (--keyring or {keys.KEYRING_ENV}): the team keeps its reviewers' public "
                f"keys there; add yours: {line}",
                zh=f"{ring.path} 处没有密钥环（--keyring 或 {keys.KEYRING_ENV}）：团队在那里保存复核人的公钥；"
                f"请加入你的：{line}",
            )
        names = ring.names(signer.fingerprint)
        if names is None:
            raise AuditError(
                f"your signing key is not in the keyring {ring.path}: add this line to it: {line}",
                zh=f"你的签名密钥不在密钥环 {ring.path} 中：请把这一行加进去：{line}",
            )
        if reviewer not in names:
            raise AuditError(
                f"your signing key is in the keyring {ring.path} as {', '.join(sorted(names))}, not as {reviewer}: "
                "review under that name, or have the keyring list you under this one",
                zh=f"你的签名密钥在密钥环 {ring.path} 中登记为 {'、'.join(sorted(names))}，而不是 {reviewer}："
                "请以该姓名复核，或让密钥环把你登记为此姓名",
            )
        return ring, version

    def _refuse_if_forged(self, fd: int, ring: keys.Keyring, ring_version: tuple) -> None:
        """Refuse to append to a broken chain or after a forged entry (see the module docstring on unsigned logs)."""
        data = _read_all(fd)
        lines = data.split(b"\n")
        torn = not data.endswith(b"\n")
        if not torn:
            lines.pop()
        check = _verify(self.path, lines, torn, ring, self._line_cache(ring_version))[1]
        bad = check.problem or check.blocking
        if bad is not None:
            raise AuditError(
                f"{self.path} is broken at {describe_break(bad, 'en')}; nothing was appended: "
                f"run `riskclass audit verify --audit-log {self.path}`",
                zh=f"{self.path} 在{describe_break(bad, 'zh')}处损坏；未追加任何内容：请运行 `riskclass "
                f"audit verify --audit-log {self.path}`",
            )

    def _intact_last(self, raw: bytes, line: int) -> str:
        """The hash to chain to, if the last line is an intact riskclass entry; otherwise refuse to append."""
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise AuditError(
                f"{self.path}: line {line} (the last) is not JSON — a torn write, or not a riskclass audit log; "
                f"nothing was appended: run `riskclass audit verify --audit-log {self.path}`",
                zh=f"{self.path}：第 {line} 行（最后一行）不是 JSON——写入被中断，或不是 riskclass 审计日志；"
                f"未追加任何内容：请运行 `riskclass audit verify --audit-log {self.path}`",
            ) from None
        if not isinstance(obj, dict) or obj.get("schema") != SCHEMA:
            raise AuditError(
                f"{self.path} is not a riskclass audit log (line {line} is not a {SCHEMA} entry): "
                "choose another file with --audit-log PATH",
                zh=f"{self.path} 不是 riskclass 审计日志（第 {line} 行不是 {SCHEMA} 条目）：请用 --audit-log "
                "PATH 另选文件",
            )
        try:
            intact = isinstance(obj.get("hash"), str) and entry_hash(obj) == obj["hash"]
        except ValueError:  # NaN or Infinity in a changed entry
            intact = False
        if not intact:
            raise AuditError(
                f"{self.path}: the last entry (line {line}) does not match its hash — it was changed; nothing was "
                f"appended: run `riskclass audit verify --audit-log {self.path}`",
                zh=f"{self.path}：最后一条（第 {line} 行）与其哈希不符——已被改动；未追加任何内容：请运行 "
                f"`riskclass audit verify --audit-log {self.path}`",
            )
        return obj["hash"]


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, READ_CHUNK * 16, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _tail(fd: int) -> tuple[int, bytes | None, bool]:
    """(lines in the file, the last line or None when empty, whether a newline must precede the next line).

    Counts newlines forward in chunks and finds the last line backwards, so an append never holds a whole large log
    in memory."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0, None, False
    newlines = 0
    offset = 0
    while offset < size:
        chunk = os.pread(fd, READ_CHUNK, offset)
        if not chunk:
            break
        newlines += chunk.count(b"\n")
        offset += len(chunk)
    ends_with_newline = os.pread(fd, 1, size - 1) == b"\n"
    end = size - 1 if ends_with_newline else size
    pieces: list[bytes] = []
    pos = end
    while pos > 0:
        start = max(0, pos - READ_CHUNK)
        chunk = os.pread(fd, pos - start, start)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            pieces.append(chunk[cut + 1 :])
            break
        pieces.append(chunk)
        pos = start
    last = b"".join(reversed(pieces))
    lines = newlines if ends_with_newline else newlines + 1
    return lines, last, not ends_with_newline


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory (Windows); the data is synced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---- describing a decision (the CLI and the TUI say it the same way) ------------------------------------------------

TIER_NAMES = {
    "zh": {"high": "高风险", "medium": "中风险", "low": "低风险"},
    "en": {"high": "High risk", "medium": "Medium risk", "low": "Low risk"},
}

WORDS = {
    "zh": {
        "heading": "复核记录",
        "accepted": "{who} 于 {when} 接受建议：{tier}",
        "changed": "{who} 于 {when} 改判为 {tier}（建议为 {suggested}）",
        "reason": "理由：{reason}",
        "same_versions": "复核时的 riskclass、规则库和模型版本与现在相同",
        "versions_changed": "复核之后版本有变：{changes}",
        "now_differs": "注意：本次建议（{now}）与复核决定（{tier}）不同",
        "riskclass": "riskclass",
        "rulebook": "规则库",
        "model_sha256": "模型",
        "rules_only": "仅规则",
        "sep": "；",
        "entry": "审计日志第 {line} 条",
        "skipped": "审计日志第 {line} 条关于此描述的记录未通过验证（{why}），不作为复核决定显示",
    },
    "en": {
        "heading": "Earlier review",
        "accepted": "{who} accepted the suggestion on {when}: {tier}",
        "changed": "{who} changed the tier to {tier} on {when} (suggested: {suggested})",
        "reason": "Reason: {reason}",
        "same_versions": "riskclass, rulebook and model are the same versions as at the review",
        "versions_changed": "changed since the review: {changes}",
        "now_differs": "Note: this suggestion ({now}) differs from the reviewed tier ({tier})",
        "riskclass": "riskclass",
        "rulebook": "rulebook",
        "model_sha256": "model",
        "rules_only": "rules only",
        "sep": "; ",
        "entry": "audit log entry {line}",
        "skipped": "audit log entry {line} about this description is unverified ({why}) and not shown as a decision",
    },
}


def printable(text: str) -> str:
    """Text safe to print on a terminal: control characters (escape sequences) shown as �, lines joined."""
    return "".join("�" if unicodedata.category(ch) in ("Cc", "Cf") and ch != "\n" else ch for ch in text).replace(
        "\n", " ⏎ "
    )


def changed_versions(decision: Decision, current: dict[str, str]) -> list[str]:
    """Which of riskclass, rulebook and model_sha256 differ between the review and now."""
    return [k for k in VERSION_KEYS if decision.versions.get(k, "") != current.get(k, "")]


def describe_decision(
    decision: Decision, current_versions: dict[str, str], lang: str = "zh", current_tier: str | None = None
) -> list[str]:
    """Lines saying who decided what, when, why, and whether the versions (or the suggestion) changed since."""
    lang = "en" if lang == "en" else "zh"
    W, T = WORDS[lang], TIER_NAMES[lang]
    who, when = printable(decision.reviewer), decision.timestamp
    if decision.accepted:
        lines = [W["accepted"].format(who=who, when=when, tier=T.get(decision.decided_tier, decision.decided_tier))]
    else:
        lines = [
            W["changed"].format(
                who=who,
                when=when,
                tier=T.get(decision.decided_tier, decision.decided_tier),
                suggested=T.get(decision.suggested.tier, decision.suggested.tier),
            )
        ]
    if decision.reason:
        lines.append(W["reason"].format(reason=printable(decision.reason)))
    changes = []
    for key in changed_versions(decision, current_versions):
        old, new = decision.versions.get(key, ""), current_versions.get(key, "")
        if key == "model_sha256":
            old, new = old[:12] or W["rules_only"], new[:12] or W["rules_only"]
        changes.append(f"{W[key]} {old or '?'} → {new or '?'}")
    lines.append(W["versions_changed"].format(changes=W["sep"].join(changes)) if changes else W["same_versions"])
    if current_tier is not None and current_tier != decision.decided_tier:
        lines.append(W["now_differs"].format(now=T[current_tier], tier=T.get(decision.decided_tier, "?")))
    return lines


def review_json(lookup: Lookup, current_versions: dict[str, str]) -> dict:
    """The "review" object `classify --json` adds when the description has a decision in the log."""
    e = lookup.entry
    assert e is not None
    d = e.decision
    return {
        "reviewer": d.reviewer,
        "timestamp": d.timestamp,
        "decided_tier": d.decided_tier,
        "accepted": d.accepted,
        "reason": d.reason,
        "suggested_tier": d.suggested.tier,
        "suggested_criteria": list(d.suggested.criteria),
        "versions": dict(d.versions),
        "versions_changed": changed_versions(d, current_versions),
        "fingerprint": d.fingerprint,
        "entry": e.line,
        "hash": d.hash,
        "chain_intact": lookup.verification.chain_ok,
        "signed_by": d.key,  # the fingerprint of the key whose signature verified against the keyring
        "verified": e.trusted,  # always true: an unverified entry is never looked up as a decision
    }


BREAK_WORDS = {
    "zh": {
        "not_json": "不是 JSON",
        "torn": "最后一行不完整（写入被中断）",
        "malformed": "不是有效的 riskclass 复核记录",
        "edited": "内容被修改（哈希不符）",
        "duplicated": "重复的条目",
        "deleted": "之前的条目被删除（prev 不符）",
        "reordered": "条目顺序被调换（prev 指向后面的条目）",
        "inserted": "前一条是插入的条目（prev 不符）",
        "restarted": "此处开始了另一条链（插入或拼接）",
        "unsigned": "没有签名（未验证）",
        "bad_signature": "签名与内容不符（未验证）",
        "unknown_key": "签名密钥不在密钥环中（未验证）",
        "wrong_reviewer": "签名密钥不属于该复核人（未验证）",
    },
    "en": {
        "not_json": "not JSON",
        "torn": "incomplete last line (a write cut short)",
        "malformed": "not a valid riskclass decision",
        "edited": "edited (its hash does not match)",
        "duplicated": "a duplicated entry",
        "deleted": "an entry before it was deleted (prev does not match)",
        "reordered": "reordered (prev points at a later entry)",
        "inserted": "the entry before it was inserted (prev does not match)",
        "restarted": "another chain starts here (inserted or concatenated)",
        "unsigned": "unsigned (unverified)",
        "bad_signature": "bad signature (unverified)",
        "unknown_key": "signed by an unknown key (unverified)",
        "wrong_reviewer": "signed with another reviewer's key (unverified)",
    },
}


def describe_skipped(entry: Entry, lang: str = "zh") -> str:
    """One line: a newer entry about this description exists but is unverified, so it is not shown as a decision."""
    lang = "en" if lang == "en" else "zh"
    return WORDS[lang]["skipped"].format(line=entry.line, why=BREAK_WORDS[lang].get(entry.trust, entry.trust))


def describe_break(b: Break, lang: str = "zh") -> str:
    """One line naming the first broken entry: its line, its timestamp and reviewer if readable, what is wrong."""
    lang = "en" if lang == "en" else "zh"
    who = ", ".join(printable(x) for x in (b.timestamp, b.reviewer) if x)
    if lang == "en":
        return f"entry {b.line}{f' ({who})' if who else ''}: {BREAK_WORDS['en'][b.kind]} — {b.detail}"
    return f"第 {b.line} 条{f'（{who}）' if who else ''}：{BREAK_WORDS['zh'][b.kind]} — {b.detail_zh or b.detail}"
