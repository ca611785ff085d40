"""Where riskclass keeps what it derives on a user's machine, all of it safe to delete (it is rebuilt on demand):
the marshalled jieba dictionary batch workers load (jieba-dictionary-*.marshal); and, only where what the package
ships in riskclass/data was built from other inputs (another jieba, a changed rulebook), the SQLite copy of jieba's
dictionary used by one-off `classify` (jieba-dictionary-*.sqlite, with its sha256 in jieba-dictionary-*.sqlite.sha256)
and the rule-screening plan (rule-screen-*.marshal, keyed on the patterns and the analysis code, so a changed rulebook
never reads an old one).

Every cache file is checked before it is used: the marshalled files carry the sha256 of what follows them, the SQLite
file has it beside it. A file that is empty, truncated, garbled or from an older riskclass is treated as absent and
rebuilt; a cache directory that cannot be written (read-only, a regular file, a full disk) only costs time. Nothing a
cache holds is code: marshal and SQLite hold data only, and a file that fails its check is never parsed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

# Marks a sealed cache file and its layout (bump the digit when it changes): magic, 32-byte sha256, payload.
MAGIC = b"riskclass-cache-1\n"
_DIGEST = 32  # bytes of a sha256


def cache_dir() -> Path:
    """RISKCLASS_CACHE_DIR, else $XDG_CACHE_HOME/riskclass, else ~/.cache/riskclass."""
    if env := os.environ.get("RISKCLASS_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "riskclass"


def _forget(path: Path) -> None:
    """Remove a damaged cache file, if the directory lets us (else it is simply rebuilt in memory each time)."""
    with contextlib.suppress(OSError):
        path.unlink()


def read_sealed(path: Path) -> bytes | None:
    """The payload of a cache file written by `write_sealed`, or None when it is missing or fails its checksum."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + _DIGEST
    if raw[: len(MAGIC)] != MAGIC or hashlib.sha256(raw[head:]).digest() != raw[len(MAGIC) : head]:
        _forget(path)
        return None
    return raw[head:]


def write_file_atomic(path: Path, write: Callable[[Path], None]) -> bool:
    """Have `write` fill a temporary file beside `path`, then move it into place. False when the cache directory
    cannot take it (unwritable, not a directory, full): the caller goes on without the cache, and no temporary file
    is left behind either way."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        write(tmp)
        os.replace(tmp, path)
        tmp = None
        return True
    except OSError:
        return False
    finally:
        if tmp is not None:
            for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()


def write_sealed(path: Path, payload: bytes) -> bool:
    """Write `payload` atomically with its sha256 in front (see `read_sealed`); False when the cache is unwritable."""
    return write_file_atomic(path, lambda tmp: tmp.write_bytes(MAGIC + hashlib.sha256(payload).digest() + payload))


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in blocks (model files and caches are checked against one)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_is_intact(path: Path) -> bool:
    """Whether a cache file that must stay a plain file (an SQLite database) matches the sha256 kept beside it.

    A damaged file and its digest are removed so the next writer starts clean."""
    try:
        want = _digest_path(path).read_text(encoding="ascii").strip()
        if want and sha256_file(path) == want:
            return True
    except (OSError, UnicodeDecodeError):
        pass
    for stale in (path, _digest_path(path)):
        _forget(stale)
    return False


def write_file_with_digest(path: Path, write: Callable[[Path], None]) -> bool:
    """`write_file_atomic`, then the file's sha256 beside it (written last: a file without one is never trusted)."""
    if not write_file_atomic(path, write):
        return False
    try:
        digest = sha256_file(path)
    except OSError:
        return False
    return write_file_atomic(_digest_path(path), lambda tmp: tmp.write_text(digest + "\n", encoding="ascii"))
