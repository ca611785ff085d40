"""Usage errors in the user's language, and `--lang` on every command.

argparse prints its own messages in English ("usage:", "error: the following arguments are required: …"). We keep
its usage line (it is command syntax: option names do not translate) under a translated heading, and print the one
error line in the chosen language: our own validators' messages (raised as `UsageTypeError`, carrying both texts)
and the argparse messages a user meets (a missing, unknown, ambiguous or badly typed argument, an invalid choice)
are translated; anything else argparse says stays in English rather than be guessed at.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

LANG_HELP = "language of every message: zh or en (default: RISKCLASS_LANG, else lang in config.toml, else zh)"

# Our validators' messages, English → Chinese, filled in as each UsageTypeError is raised (argparse turns the
# exception into a string before `error` sees it, so the Chinese text is found again by its English one).
_ZH_FOR: dict[str, str] = {}


class UsageTypeError(argparse.ArgumentTypeError):
    """A validator's rejection of an argument (`type=`), with its Chinese text."""

    def __init__(self, message: str, zh: str) -> None:
        super().__init__(message)
        _ZH_FOR[message] = zh


# argparse's messages (Python 3.10–3.13 wording) → Chinese. Each pattern matches the whole message.
_ARGPARSE_ZH: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"the following arguments are required: (?P<a>.+)"), "缺少必需的参数：{a}"),
    (re.compile(r"unrecognized arguments: (?P<a>.+)"), "无法识别的参数：{a}"),
    (re.compile(r"one of the arguments (?P<a>.+) is required"), "必须给出以下参数之一：{a}"),
    (re.compile(r"ambiguous option: (?P<a>\S+) could match (?P<b>.+)"), "有歧义的选项：{a} 可能是 {b}"),
    (
        re.compile(r"argument (?P<a>.+?): invalid choice: (?P<b>.+?) \(choose from (?P<c>.+)\)"),
        "参数 {a}：无效的选项 {b}（可选：{c}）",
    ),
    (re.compile(r"argument (?P<a>.+?): expected one argument"), "参数 {a}：需要一个值"),
    (re.compile(r"argument (?P<a>.+?): expected at least one argument"), "参数 {a}：至少需要一个值"),
    (re.compile(r"argument (?P<a>.+?): not allowed with argument (?P<b>.+)"), "参数 {a}：不能与参数 {b} 同时使用"),
    (re.compile(r"argument (?P<a>.+?): invalid (?P<b>\w+) value: (?P<c>.+)"), "参数 {a}：无效的 {b} 值：{c}"),
    (re.compile(r"argument (?P<a>.+?): ignored explicit argument (?P<b>.+)"), "参数 {a}：不接受值 {b}"),
]
_ARGUMENT = re.compile(r"argument (?P<a>.+?): (?P<rest>.+)", re.DOTALL)


def translate(message: str, lang: str) -> str:
    """An argparse error message in `lang`: ours by their Chinese text, argparse's by pattern, else unchanged."""
    if lang != "zh":
        return message
    if message in _ZH_FOR:
        return _ZH_FOR[message]
    m = _ARGUMENT.fullmatch(message)
    if m and m.group("rest") in _ZH_FOR:
        return f"参数 {m.group('a')}：{_ZH_FOR[m.group('rest')]}"
    for pattern, zh in _ARGPARSE_ZH:
        if m := pattern.fullmatch(message):
            return zh.format(**m.groupdict())
    return message


def argv_lang(argv: Sequence[str]) -> str | None:
    """The last `--lang zh|en` (or `--lang=…`) on the command line, found before argparse runs, so that a usage error
    is already in the user's language; None when there is none."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith("--lang="):
            found = arg.split("=", 1)[1]
    return found if found in ("zh", "en") else None


def fallback_lang(argv: Sequence[str]) -> str:
    """The language for a usage error: --lang on the command line, else RISKCLASS_LANG, else the config file, else
    zh. A config file that cannot be read is not reported here (the usage error is), it only costs its language."""
    if lang := argv_lang(argv):
        return lang
    from riskclass.config import settings
    from riskclass.errors import RiskclassError

    try:
        return settings().lang
    except RiskclassError:
        return "en" if os.environ.get("RISKCLASS_LANG", "").strip().lower() == "en" else "zh"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors speak the user's language (set `lang` before parsing; subcommand parsers
    are made from this class too and read the language from `Parser.lang`)."""

    lang = "zh"

    def error(self, message: str) -> NoReturn:
        lang = Parser.lang
        usage = self.format_usage()
        if lang == "zh":
            usage = usage.replace("usage: ", "用法：", 1)
        sys.stderr.write(usage)
        word = "错误" if lang == "zh" else "error"
        colon = "：" if lang == "zh" else ": "
        sys.stderr.write(f"{self.prog}: {word}{colon}{translate(message, lang)}\n")
        sys.exit(2)


def add_lang_everywhere(parser: argparse.ArgumentParser) -> None:
    """Give every (sub)command a `--lang` after its name (`riskclass article 46 --lang en`), including commands added
    later by other modules. It leaves `lang` unset unless given (SUPPRESS), so `riskclass audit --lang en verify` is
    not undone by the inner command's default."""
    for action in parser._actions:  # argparse has no public walk over its subcommands
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases share a parser
                own = [a for a in sub._actions if "--lang" in a.option_strings]
                for a in own:
                    a.default = argparse.SUPPRESS
                if not own:
                    sub.add_argument("--lang", choices=["zh", "en"], default=argparse.SUPPRESS, help=LANG_HELP)
                add_lang_everywhere(sub)
