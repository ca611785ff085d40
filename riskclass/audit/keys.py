"""Reviewers' signing keys and the team keyring (issue 12: a review decision must not be forgeable).

The hash chain alone proves order and completeness, but anyone who can write the log can append an entry with a
recomputed hash. So each decision is also signed with its reviewer's own Ed25519 key (the `cryptography` package):

- **The private key** is created once per reviewer by `riskclass review --init-key --reviewer NAME` and kept in the
  user's config directory — `$RISKCLASS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/riskclass`, else `~/.config/riskclass` —
  as `review_key.pem` (PKCS#8 PEM, unencrypted, mode 600 in a directory of mode 700). It is never overwritten.
- **The keyring** is a text file the team controls, listing the public keys it trusts: `--keyring PATH`, else
  `$RISKCLASS_KEYRING`, else `keyring.txt` in the config directory. One key a line, `#` starts a comment:

      ed25519 <base64 of the 32-byte public key> <reviewer name, the rest of the line>

  A key may be listed under more than one name (e.g. 张三 and Zhang San); an entry verifies only when its `reviewer`
  is one of the names its key is listed under, so one reviewer's key cannot sign in another's name.

An entry's `key` is the key's fingerprint (sha256 of the raw public key, hex); its `signature` is the base64 Ed25519
signature of `SIGNATURE_DOMAIN` followed by the entry's canonical JSON without `hash` and `signature` (so it covers
`prev`: a signature cannot be moved to another place in the chain).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from riskclass.config import CONFIG_ENV, config_dir, settings
from riskclass.errors import AuditError, InputError, RiskclassError

__all__ = ["CONFIG_ENV", "config_dir"]  # where the key lives is the config directory `riskclass.config` defines
KEYRING_ENV = "RISKCLASS_KEYRING"
KEY_FILE = "review_key.pem"
KEYRING_FILE = "keyring.txt"
ALGORITHM = "ed25519"
SIGNATURE_DOMAIN = b"riskclass-audit-signature/1\n"  # so an entry signature never passes as one over anything else
MAX_KEYRING_BYTES = 1 << 20  # 1 MiB: ~10,000 keyring lines, far more than a team has reviewers; refuse anything larger


def key_path() -> Path:
    return config_dir() / KEY_FILE


def keyring_path(explicit: str | os.PathLike | None = None) -> Path:
    """`explicit` (the --keyring option), else $RISKCLASS_KEYRING, else `keyring` in config.toml, else keyring.txt in
    the config directory (`riskclass.config`)."""
    return settings(keyring=explicit).keyring


def key_fingerprint(raw_public: bytes) -> str:
    return hashlib.sha256(raw_public).hexdigest()


def _raw_public(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def keyring_line(raw_public: bytes, name: str) -> str:
    return f"{ALGORITHM} {base64.b64encode(raw_public).decode('ascii')} {name}"


_ZH_WHAT = {"signing key": "签名密钥", "keyring": "密钥环"}  # the `what` of read_regular, for the Chinese messages


def read_regular(path: Path, what: str, limit: int) -> bytes:
    """The bytes of a regular file, refusing a FIFO, device or socket before opening it (opening a FIFO for reading
    waits for a writer for ever) and anything over `limit` bytes."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise  # the caller says what a missing file means
    except OSError as exc:
        raise AuditError(
            f"cannot read the {what} {path}: {exc.strerror or exc}",
            zh=f"无法读取{_ZH_WHAT.get(what, what)} {path}：{exc.strerror or exc}",
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise AuditError(
            f"the {what} {path} is a directory, not a file", zh=f"{_ZH_WHAT.get(what, what)} {path} 是目录，不是文件"
        )
    if not stat.S_ISREG(st.st_mode):
        raise AuditError(
            f"the {what} {path} is not a regular file (a pipe, device or socket): give a file",
            zh=f"{_ZH_WHAT.get(what, what)} {path} 不是普通文件（是管道、设备或套接字）：请给出一个文件",
        )
    if st.st_size > limit:
        raise AuditError(
            f"the {what} {path} has {st.st_size:,} bytes; at most {limit:,}",
            zh=f"{_ZH_WHAT.get(what, what)} {path} 有 {st.st_size:,} 字节；最多 {limit:,}",
        )
    try:
        # O_NONBLOCK: should the path be swapped for a FIFO after the check, open still returns at once
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise AuditError(
            f"cannot read the {what} {path}: {exc.strerror or exc}",
            zh=f"无法读取{_ZH_WHAT.get(what, what)} {path}：{exc.strerror or exc}",
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise AuditError(
                f"the {what} {path} is not a regular file (a pipe, device or socket): give a file",
                zh=f"{_ZH_WHAT.get(what, what)} {path} 不是普通文件（是管道、设备或套接字）：请给出一个文件",
            )
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read(limit + 1)[:limit]
    finally:
        os.close(fd)


# ---- the reviewer's own key ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """A reviewer's private key, loaded: signs entries and names itself by fingerprint."""

    private_key: object = field(repr=False)
    raw_public: bytes
    path: Path

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.raw_public)

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self.private_key.sign(SIGNATURE_DOMAIN + payload)).decode("ascii")  # type: ignore[attr-defined]

    def line(self, name: str) -> str:
        return keyring_line(self.raw_public, name)


def init_key(name: str, path: Path | None = None) -> tuple[Path, str]:
    """Create the reviewer's key (once: an existing key is never overwritten); returns its path and the keyring line.

    The file is created with O_EXCL and mode 600 in one step, so it is never readable by others, not even briefly."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = path or key_path()
    if path.exists() or path.is_symlink():
        try:
            existing = load_signer(path).line(name)
        except (RiskclassError, ValueError):  # an unreadable existing key: still never overwritten
            existing = ""
        raise InputError(
            f"a signing key already exists at {path} (not overwritten)"
            + (f"; its keyring line: {existing}" if existing else ""),
            zh=f"{path} 已有签名密钥（不会覆盖）" + (f"；它在密钥环中的一行：{existing}" if existing else ""),
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(
            f"a signing key already exists at {path} (not overwritten)", zh=f"{path} 已有签名密钥（不会覆盖）"
        ) from None
    except OSError as exc:
        raise AuditError(
            f"cannot create the signing key {path}: {exc.strerror or exc}",
            zh=f"无法创建签名密钥 {path}：{exc.strerror or exc}",
        ) from None
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        view = memoryview(pem)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        raise AuditError(
            f"cannot write the signing key {path}: {exc.strerror or exc}",
            zh=f"无法写入签名密钥 {path}：{exc.strerror or exc}",
        ) from None
    os.close(fd)
    return path, keyring_line(_raw_public(key.public_key()), name)


def load_signer(path: Path | None = None) -> Signer:
    """The reviewer's key. Missing: one line saying how to create it. Readable by others: refused (as ssh does)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = path or key_path()
    try:
        data = read_regular(path, "signing key", 64 * 1024)  # an Ed25519 PEM is 119 bytes; 64 KiB is generous
    except FileNotFoundError:
        raise AuditError(
            f"no signing key at {path}: create yours once with `riskclass review --init-key --reviewer NAME` "
            "and add the line it prints to the team keyring",
            zh=f"{path} 处没有签名密钥：请先运行一次 `riskclass review --init-key --reviewer 姓名` 创建，"
            "并把它打印的一行加入团队密钥环",
        ) from None
    mode = os.stat(path).st_mode
    if os.name == "posix" and mode & 0o077:
        raise AuditError(
            f"the signing key {path} is readable by others (mode {stat.S_IMODE(mode):o}): chmod 600 it",
            zh=f"签名密钥 {path} 可被他人读取（权限 {stat.S_IMODE(mode):o}）：请 chmod 600",
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise AuditError(
            f"the signing key {path} is not an unencrypted PEM private key", zh=f"签名密钥 {path} 不是未加密的 PEM 私钥"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"the signing key {path} is not an Ed25519 key", zh=f"签名密钥 {path} 不是 Ed25519 密钥")
    return Signer(key, _raw_public(key.public_key()), path)


# ---- the team keyring ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyring:
    path: Path
    keys: dict[str, tuple[object, frozenset[str]]]  # fingerprint → (public key, the names it may sign as)
    missing: bool = False

    def names(self, fp: str) -> frozenset[str] | None:
        found = self.keys.get(fp)
        return None if found is None else found[1]

    def check(self, payload: bytes, fp: str, signature: str, reviewer: str) -> str | None:
        """None when `signature` over `payload` is by key `fp`, listed under `reviewer`; else what is wrong:
        "unknown_key", "bad_signature" or "wrong_reviewer"."""
        from cryptography.exceptions import InvalidSignature

        found = self.keys.get(fp)
        if found is None:
            return "unknown_key"
        public, names = found
        try:
            public.verify(base64.b64decode(signature, validate=True), SIGNATURE_DOMAIN + payload)  # type: ignore[attr-defined]
        except (InvalidSignature, binascii.Error, ValueError):
            return "bad_signature"
        return None if reviewer in names else "wrong_reviewer"


def load_keyring(path: Path) -> Keyring:
    """Parse the keyring (format in the module docstring); a missing file is an empty keyring marked missing.
    A line that is not `ed25519 BASE64 NAME` is refused naming the file and line: a typo must not drop a key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        data = read_regular(path, "keyring", MAX_KEYRING_BYTES)
    except FileNotFoundError:
        return Keyring(path, {}, missing=True)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AuditError(f"the keyring {path} is not UTF-8 text", zh=f"密钥环 {path} 不是 UTF-8 文本") from None
    names: dict[str, set[str]] = {}
    publics: dict[str, object] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or parts[0] != ALGORITHM:
            raise AuditError(
                f"{path}, line {n}: expected `{ALGORITHM} <base64 public key> <reviewer name>`",
                zh=f"{path} 第 {n} 行：应为 `{ALGORITHM} <base64 公钥> <复核人姓名>`",
            )
        try:
            raw = base64.b64decode(parts[1], validate=True)
            public = Ed25519PublicKey.from_public_bytes(raw)
        except (binascii.Error, ValueError):
            raise AuditError(
                f"{path}, line {n}: the public key is not 32 bytes of base64",
                zh=f"{path} 第 {n} 行：公钥不是 32 字节的 base64",
            ) from None
        fp = key_fingerprint(raw)
        publics[fp] = public
        names.setdefault(fp, set()).add(parts[2].strip())
    return Keyring(path, {fp: (publics[fp], frozenset(ns)) for fp, ns in names.items()})
