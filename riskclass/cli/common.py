"""What every command shares: answers to questions, the output language, warnings, the audit-log option."""

from __future__ import annotations

import argparse
import sys

from riskclass.cli.usage import UsageTypeError
from riskclass.errors import Text

ANSWER_WORDS = {
    "yes": True,
    "y": True,
    "true": True,
    "是": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "否": False,
    "0": False,
    "unknown": None,
    "?": None,
    "不确定": None,
}


def _answer(value: str) -> tuple[str, bool | None]:
    cid, sep, word = value.partition("=")
    if not sep or word.strip().lower() not in ANSWER_WORDS:
        raise UsageTypeError(
            f"expected CRITERION=yes|no|unknown (e.g. H4=yes), got {value!r}",
            zh=f"应为 CRITERION=yes|no|unknown（例如 H4=yes；也可写 是/否/不确定），而不是 {value!r}",
        )
    return cid.strip().upper(), ANSWER_WORDS[word.strip().lower()]


def _add_assessment_options(p: argparse.ArgumentParser, answer_help: str) -> None:
    """--answer and --rules-only, the options of every command that assesses a description."""
    p.add_argument("--answer", action="append", type=_answer, default=[], metavar="CRITERION=yes|no", help=answer_help)
    p.add_argument("--rules-only", action="store_true", help="do not consult the model")


AUDIT_LOG_HELP = (
    "the audit log, JSON Lines (default: $RISKCLASS_AUDIT_LOG, else $XDG_DATA_HOME/riskclass/audit.jsonl, "
    "else ~/.local/share/riskclass/audit.jsonl)"
)
KEYRING_HELP = (
    "the team keyring of reviewers' public keys, one `ed25519 BASE64KEY NAME` a line (default: $RISKCLASS_KEYRING, "
    "else keyring.txt in $RISKCLASS_CONFIG_DIR, $XDG_CONFIG_HOME/riskclass or ~/.config/riskclass)"
)
AUDIT_EPILOG = (
    "Each entry carries the hash of the entry before it, so an edited, deleted, inserted or reordered entry breaks "
    "the chain and `audit verify` names the first broken one. A chain alone cannot show entries cut off at the end: "
    "verify prints the number of entries and the head hash — record them elsewhere (a ticket, a signed commit) and "
    "check later with --expect-head HASH. Each entry is also signed with its reviewer's own Ed25519 key (create "
    "yours once: `riskclass review --init-key --reviewer NAME`, then add the line it prints to the team keyring): "
    "an entry with a missing or bad signature, or one by a key the keyring does not list under that reviewer, is "
    "unverified — verify names the first one, and it is never shown or trained on as a decision."
)


def _audit_log_arg(args: argparse.Namespace) -> str | None:
    """--audit-log on the command, else the top-level one; None lets riskclass.audit apply the env and the default."""
    return getattr(args, "audit_log", None) or getattr(args, "app_audit_log", None)


def _keyring_arg(args: argparse.Namespace) -> str | None:
    """--keyring on the command; None lets riskclass.audit apply RISKCLASS_KEYRING and the default."""
    return getattr(args, "keyring", None)


def _out_lang(args: argparse.Namespace) -> str:
    """The language of every message: set once by `resolve_settings` (option > RISKCLASS_LANG > config.toml > zh)."""
    return getattr(args, "lang", None) or getattr(args, "ui_lang", None) or "zh"


def resolve_settings(args: argparse.Namespace) -> None:
    """Read the settings once for the command (`riskclass.config`): the language `--lang` did not fix comes from
    RISKCLASS_LANG, the config file or the default; the file's warnings (an unknown key) are printed once."""
    from riskclass.config import settings

    s = settings(lang=getattr(args, "lang", None))
    args.lang = s.lang
    args.settings = s
    for warning in s.warnings:
        _warn(warning, s.lang)


def _paren(text: str, lang: str) -> str:
    return f" ({text})" if lang == "en" else f"（{text}）"


WARNING = {"zh": "警告：", "en": "warning: "}


def _warn(message: str | Text, lang: str) -> None:
    """One warning line on standard error, in `lang` (a `Text` carries both languages; a str is already in it)."""
    text = message.text(lang) if isinstance(message, Text) else message
    print(f"riskclass: {WARNING.get(lang, WARNING['en'])}{text}", file=sys.stderr)
