"""What every command shares: answers to questions, the output language, warnings, the audit-log option."""

from __future__ import annotations

import argparse
import sys

from riskclass.cli.usage import UsageTypeError, bi
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
    p.add_argument("--rules-only", action="store_true", help=bi(RULES_ONLY_HELP))


# Help texts several commands share, in both languages (`usage.bi` picks one when the parser is built).
RULES_ONLY_HELP = Text("do not consult the model", "不使用模型")
OUTPUT_LANG_HELP = Text(
    "language of the output (default: the top-level --lang, zh)", "输出的语言（默认：顶层的 --lang，即 zh）"
)
VERIFY_KEYRING_HELP = Text(
    "verify that decision's signature against this keyring (`audit`)", "用此密钥环验证该决定的签名（见 `audit`）"
)
JSON_HELP = Text("print one JSON object", "输出一个 JSON 对象")
NO_PROGRESS_HELP = Text("no progress bar, even on a terminal", "不显示进度条，即使在终端中")
FORMULA_GUARD_HELP = Text("write cells starting with = + - @ unchanged", "以 = + - @ 开头的单元格原样写出")
ENCODING_HELP = Text("force the input encoding (default: detected)", "指定输入的编码（默认：自动识别）")
DELIMITER_HELP = Text(
    "force the input delimiter: , ; or tab (default: sniffed)", "指定输入的分隔符：, ; 或 tab（默认：自动识别）"
)
SHEET_HELP = Text(
    "worksheet of an .xlsx input (default: the active one)", ".xlsx 输入的工作表（默认：当前活动的工作表）"
)
AUDIT_LOG_HELP = Text(
    "the audit log, JSON Lines (default: $RISKCLASS_AUDIT_LOG, else $XDG_DATA_HOME/riskclass/audit.jsonl, "
    "else ~/.local/share/riskclass/audit.jsonl)",
    "审计日志，JSON Lines 格式（默认：$RISKCLASS_AUDIT_LOG，其次 $XDG_DATA_HOME/riskclass/audit.jsonl，再次 "
    "~/.local/share/riskclass/audit.jsonl）",
)
KEYRING_HELP = Text(
    "the team keyring of reviewers' public keys, one `ed25519 BASE64KEY NAME` a line (default: $RISKCLASS_KEYRING, "
    "else keyring.txt in $RISKCLASS_CONFIG_DIR, $XDG_CONFIG_HOME/riskclass or ~/.config/riskclass)",
    "团队的复核人公钥密钥环，每行一条 `ed25519 BASE64公钥 姓名`（默认：$RISKCLASS_KEYRING，其次 "
    "$RISKCLASS_CONFIG_DIR、$XDG_CONFIG_HOME/riskclass 或 ~/.config/riskclass 中的 keyring.txt）",
)
AUDIT_EPILOG = Text(
    "Each entry carries the hash of the entry before it, so an edited, deleted, inserted or reordered entry breaks "
    "the chain and `audit verify` names the first broken one. A chain alone cannot show entries cut off at the end: "
    "verify prints the number of entries and the head hash — record them elsewhere (a ticket, a signed commit) and "
    "check later with --expect-head HASH. Each entry is also signed with its reviewer's own Ed25519 key (create "
    "yours once: `riskclass review --init-key --reviewer NAME`, then add the line it prints to the team keyring): "
    "an entry with a missing or bad signature, or one by a key the keyring does not list under that reviewer, is "
    "unverified — verify names the first one, and it is never shown or trained on as a decision.",
    "每个条目都带有前一条目的哈希值，因此被修改、删除、插入或调换顺序的条目会使哈希链断开，`audit verify` 会指出"
    "第一处断开。仅凭哈希链无法发现末尾被截去的条目：verify 会显示条目数和链头哈希——请把它们记在别处（工单、"
    "签名的提交），日后用 --expect-head HASH 核对。每个条目还用复核人自己的 Ed25519 密钥签名（先创建一次你的密钥："
    "`riskclass review --init-key --reviewer 姓名`，再把它显示的那一行加入团队密钥环）：缺少签名或签名无效的条目，"
    "或所用密钥未在密钥环中登记于该复核人名下的条目，均为未验证——verify 会指出第一条，它也绝不会作为决定显示或"
    "用于训练。",
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
