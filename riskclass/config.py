"""The user's settings: command-line option > environment variable > config file > built-in default.

The config file is TOML, `config.toml` in the user's config directory (`$RISKCLASS_CONFIG_DIR`, else
`$XDG_CONFIG_HOME/riskclass`, else `~/.config/riskclass` — the directory that also holds the review signing key and
the team keyring). Every key is optional:

    lang = "en"                      # language of the command line and the terminal app (zh or en)
    theme = "light"                  # the terminal app's theme (dark or light)
    export_dir = "~/reports"         # where reports go by default (terminal app, `batch --reports`)
    register = "~/ai/register.sqlite3"
    audit_log = "~/ai/audit.jsonl"
    keyring = "~/ai/keyring.txt"

This module sits at the bottom of the layers (it imports only `riskclass.errors`), so every other layer asks it where
things are: `settings().register`, `settings().audit_log`. A key the file does not know is a warning with a "did you
mean" (the file still works); a file that is not TOML, or a value of the wrong kind, is an InputError naming the file
and line (exit 2), since guessing what a damaged file meant would act on settings the user did not choose.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from riskclass.errors import InputError, Text

CONFIG_ENV = "RISKCLASS_CONFIG_DIR"
CONFIG_FILE = "config.toml"
LANGS = ("zh", "en")
THEMES = ("dark", "light")
MAX_CONFIG_BYTES = 1 << 20  # 1 MiB: a settings file is a few hundred bytes; anything larger is not one

# Where each setting comes from, in the words `riskclass config` prints.
OPTION, ENV, FILE, DEFAULT = "option", "env", "file", "default"


def config_dir() -> Path:
    """$RISKCLASS_CONFIG_DIR, else $XDG_CONFIG_HOME/riskclass, else ~/.config/riskclass (the XDG place for settings)."""
    if env := os.environ.get(CONFIG_ENV):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or (Path.home() / ".config")
    return Path(base).expanduser() / "riskclass"


def config_path() -> Path:
    return config_dir() / CONFIG_FILE


def data_dir() -> Path:
    """$XDG_DATA_HOME/riskclass, else ~/.local/share/riskclass: data a team owns (the audit log, the register)."""
    base = os.environ.get("XDG_DATA_HOME") or (Path.home() / ".local" / "share")
    return Path(base).expanduser() / "riskclass"


@dataclass(frozen=True)
class Settings:
    """Every setting with its value; `sources` says where each came from (option, env, file or default)."""

    lang: str = "zh"
    """Language of every message, the command line's and the terminal app's: zh (the default) or en.
    `--lang`, `RISKCLASS_LANG`, `lang = "en"`."""

    theme: str = "dark"
    """The terminal app's theme at start, dark or light (Ctrl+T still switches). `RISKCLASS_THEME`, `theme`."""

    export_dir: Path | None = None
    """Where reports go by default: the terminal app's export dialog and a relative `batch --reports DIR`.
    None: the current directory. `RISKCLASS_EXPORT_DIR`, `export_dir`."""

    register: Path = field(default_factory=lambda: data_dir() / "register.sqlite3")
    """The product register (SQLite). `--register`, `RISKCLASS_REGISTER`, `register`; default
    $XDG_DATA_HOME/riskclass/register.sqlite3 (CONTRACT.md)."""

    audit_log: Path = field(default_factory=lambda: data_dir() / "audit.jsonl")
    """The audit log of review decisions. `--audit-log`, `RISKCLASS_AUDIT_LOG`, `audit_log`; default
    $XDG_DATA_HOME/riskclass/audit.jsonl."""

    keyring: Path = field(default_factory=lambda: config_dir() / "keyring.txt")
    """The team keyring of reviewers' public keys. `--keyring`, `RISKCLASS_KEYRING`, `keyring`; default keyring.txt
    in the config directory."""

    path: Path = field(default_factory=config_path)
    """The config file these settings were read from (it may not exist)."""

    exists: bool = False
    """Whether that file exists."""

    sources: dict[str, str] = field(default_factory=dict)
    """Setting name → where its value came from: "option", "env", "file" or "default"."""

    warnings: tuple[Text, ...] = ()
    """One line per problem the file has that does not stop it being used (an unknown key), in both languages."""


# Setting → its environment variable. The order is the order `riskclass config` lists them in.
ENV_VARS: dict[str, str] = {
    "lang": "RISKCLASS_LANG",
    "theme": "RISKCLASS_THEME",
    "export_dir": "RISKCLASS_EXPORT_DIR",
    "register": "RISKCLASS_REGISTER",
    "audit_log": "RISKCLASS_AUDIT_LOG",
    "keyring": "RISKCLASS_KEYRING",
}
CHOICES = {"lang": LANGS, "theme": THEMES}


def setting_names() -> list[str]:
    return list(ENV_VARS)


def settings(**options: str | os.PathLike | None) -> Settings:
    """The settings in force: each from `options` (the command line's value, None when not given), else its
    environment variable, else the config file, else the default. Reads the file each time (a few hundred bytes),
    so a test or a long-running app sees an edit."""
    unknown = set(options) - set(ENV_VARS)
    if unknown:  # a programming error, not a user's: fail loudly
        raise TypeError(f"unknown setting(s) {sorted(unknown)}; known: {setting_names()}")
    path = config_path()
    table, lines, exists, warnings = _read_file(path)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, env_var in ENV_VARS.items():
        if options.get(name) not in (None, ""):
            option = f"--{name.replace('_', '-')}"
            raw, source, where = options[name], OPTION, Text(option, option)
        elif os.environ.get(env_var):
            raw, source, where = os.environ[env_var], ENV, Text(env_var, env_var)
        elif name in table:
            line = lines.get(name, "?")
            raw, source, where = table[name], FILE, Text(f"{path}, line {line}", f"{path} 第 {line} 行")
        else:
            sources[name] = DEFAULT
            continue
        values[name] = _value(name, raw, where, source == FILE)
        sources[name] = source
    return Settings(**values, path=path, exists=exists, sources=sources, warnings=tuple(warnings))


def _value(name: str, raw: object, where: Text, from_file: bool) -> Any:
    """The typed value of one setting, or an InputError naming where the bad value was given."""
    if not isinstance(raw, (str, os.PathLike)):
        raise InputError(
            f"{where.en}: {name} must be a string (in quotes), not {type(raw).__name__} {raw!r}",
            zh=f"{where.zh}：{name} 必须是字符串（加引号），而不是 {type(raw).__name__} {raw!r}",
        )
    if name in CHOICES:
        value = str(raw).strip().lower()
        if value not in CHOICES[name]:
            choices = ", ".join(CHOICES[name])
            raise InputError(
                f"{where.en}: {name} must be one of {choices}, not {raw!r}",
                zh=f"{where.zh}：{name} 只能是 {choices} 之一，而不是 {raw!r}",
            )
        return value
    text = os.fspath(raw)
    if not str(text).strip():
        raise InputError(f"{where.en}: {name} is empty: give a path", zh=f"{where.zh}：{name} 为空：请给出路径")
    path = Path(text).expanduser()
    if from_file and not path.is_absolute():
        path = config_dir() / path  # a relative path in the file means the same wherever riskclass is run from
    return path


_LINE = re.compile(r"at line (\d+), column (\d+)")


def _read_file(path: Path) -> tuple[dict[str, Any], dict[str, int], bool, list[Text]]:
    """(the file's table, the line each top-level key is on, whether it exists, warnings). A missing file is no
    settings; an unreadable or malformed one is an InputError naming the file and the line."""
    try:
        if not path.is_file():
            if path.exists():
                raise InputError(
                    f"{path} is not a regular file: the config file must be one",
                    zh=f"{path} 不是普通文件：配置文件必须是普通文件",
                )
            return {}, {}, False, []
        data = path.read_bytes()[: MAX_CONFIG_BYTES + 1]
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the config file: {exc.strerror or exc}",
            zh=f"{path}：无法读取配置文件：{exc.strerror or exc}",
        ) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(
            f"{path}: over 1 MiB, not a riskclass config file", zh=f"{path}：超过 1 MiB，不是 riskclass 配置文件"
        )
    try:
        text = data.decode("utf-8-sig")  # a BOM is what Windows Notepad writes; TOML itself is UTF-8
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); TOML files are UTF-8",
            zh=f"{path} 第 {line} 行：不是 UTF-8 文本（字节 0x{data[exc.start]:02x}）；TOML 文件须为 UTF-8",
        ) from None
    if sys.version_info >= (3, 11):  # imported only when there is a file: most runs have none and skip the import
        import tomllib
    else:  # pragma: no cover - Python 3.10 reads TOML with tomli, the library tomllib was taken from
        import tomli as tomllib

    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _LINE.search(message)
        reason = _LINE.sub("", message).replace("()", "").strip().rstrip(" (")
        line = f", line {m.group(1)}" if m else ""
        line_zh = f" 第 {m.group(1)} 行" if m else ""
        raise InputError(
            f"{path}{line}: not valid TOML: {reason}",
            zh=f"{path}{line_zh}：不是有效的 TOML：{reason}",
        ) from None
    lines = _key_lines(text)
    warnings = []
    known = setting_names()
    for key in table:
        if key in known:
            continue
        import difflib

        close = difflib.get_close_matches(key, known, n=1)
        where = f"{path}, line {lines.get(key, '?')}"
        where_zh = f"{path} 第 {lines.get(key, '?')} 行"
        warnings.append(
            Text(
                f"{where}: unknown setting {key!r} ignored"
                + (f" — did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"),
                f"{where_zh}：未知设置 {key!r}，已忽略"
                + (f"——是不是 {close[0]!r}？" if close else f"；可用：{', '.join(known)}"),
            )
        )
    return table, lines, True, warnings


_KEY = re.compile(r"""^\s*(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))\s*=""")


def _key_lines(text: str) -> dict[str, int]:
    """The line each top-level key is set on (tomllib does not say), so messages can point at it."""
    lines: dict[str, int] = {}
    in_table = False
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = True
            name = stripped.strip("[] ").split(".")[0].strip("\"'")
            lines.setdefault(name, number)
            continue
        if not in_table and (m := _KEY.match(line)):
            lines.setdefault(next(g for g in m.groups() if g), number)
    return lines


def describe(s: Settings) -> list[tuple[str, str, str]]:
    """(setting, value as text, source) for every setting, for `riskclass config`."""
    out = []
    for f in fields(Settings):
        if f.name in ENV_VARS:
            value = getattr(s, f.name)
            out.append((f.name, "" if value is None else str(value), s.sources.get(f.name, DEFAULT)))
    return out
