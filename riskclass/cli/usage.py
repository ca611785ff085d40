"""Help, usage and usage errors in the user's language, and `--lang` on every command.

Every help text, description and epilog is declared once as a bilingual pair (`bi(en, zh)`), and the parser is
built in one language: the one `--lang`, RISKCLASS_LANG or the config file asks for, found before parsing
(`fallback_lang`). argparse's own fixed words ("usage:", "options", "show this help message and exit") go through
gettext; a small table gives them in Chinese while a `Parser` builds, formats or parses. The usage line itself is
command syntax (option names and metavars do not translate). Of argparse's error messages, ours (raised as
`UsageTypeError`, carrying both texts) and those a user meets (a missing, unknown, ambiguous or badly typed argument,
an invalid choice) are translated; anything else argparse says stays in English rather than be guessed at.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from riskclass.errors import Text

LANG_HELP = Text(
    "language of every message: zh or en (default: RISKCLASS_LANG, else lang in config.toml, else zh)",
    "所有信息的语言：zh 或 en（默认：RISKCLASS_LANG，其次 config.toml 中的 lang，再次 zh）",
)


class Help(str):
    """A help text in the language the parser is built in, carrying both texts: argparse sees a plain string, and
    the drift test (tests/test_help.py) finds by its type any option, command or description declared in one
    language only."""

    en: str
    zh: str

    def __new__(cls, en: str, zh: str) -> Help:
        self = super().__new__(cls, zh if Parser.lang == "zh" else en)
        self.en, self.zh = en, zh
        return self


def bi(en: str | Text, zh: str = "") -> Help:
    """One declaration for a help text in both languages, chosen when the parser is built (`Parser.lang`)."""
    if isinstance(en, Text):
        en, zh = en.en, en.zh
    return Help(en, zh)


# argparse's fixed words in the help and the usage line, through gettext (msgid → Chinese). Its error messages are
# left to `translate` below, which must see them in English to find ours again.
ARGPARSE_WORDS_ZH = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示此帮助并退出",
    "%(heading)s:": "%(heading)s：",  # Python 3.13+ section headings
}


def _zh_word(message: str) -> str:
    return ARGPARSE_WORDS_ZH.get(message, message)


def _en_word(message: str) -> str:
    return message


@contextmanager
def _argparse_words(lang: str) -> Iterator[None]:
    """While a parser builds, formats or parses, argparse's gettext (`argparse._`, looked up at each call) is our
    table: its words in zh, as written in en. Not the system's catalogues: riskclass speaks zh or en whatever LANGUAGE
    says, and gettext looks for catalogue files on disk at every call (build_parser + parse_args of a classify
    command: 3.7 → 2.5 ms, median of 300). Restored after, so no other parser in the process is changed."""
    saved = getattr(argparse, "_", None)
    if saved is None:  # an argparse that no longer routes its words this way: they stay English
        yield
        return
    argparse._ = _zh_word if lang == "zh" else _en_word  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = saved  # type: ignore[attr-defined]


def _wide(ch: str) -> bool:
    """A character a terminal shows two columns wide (CJK, full-width forms and punctuation). Unicode's own table,
    not a compiled regex of ranges: compiling one took 15 ms (median of 7), more than printing the help."""
    from unicodedata import east_asian_width  # only when help is printed

    return east_asian_width(ch) in "WF"


def _has_wide(text: str) -> bool:
    return any(_wide(ch) for ch in text)


def _cells(text: str) -> int:
    """Terminal columns `text` takes."""
    return len(text) + sum(_wide(ch) for ch in text)


def _pieces(text: str) -> Iterator[str]:
    """ " " for a run of spaces, a word of narrow characters, or one wide character."""
    word = ""
    for ch in text:
        if ch.isspace() or _wide(ch):
            if word:
                yield word
            word = ""
            yield " " if ch.isspace() else ch
        else:
            word += ch
    if word:
        yield word


# No line starts with closing punctuation or ends with opening punctuation (the common rule of Chinese typesetting).
_NO_BREAK_BEFORE = set("，。；：、）」』》！？…,.;:)")
_NO_BREAK_AFTER = set("（「『《(")


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` terminal columns. Text without CJK is wrapped by textwrap, exactly as argparse does;
    Chinese may break between any two characters, which textwrap (counting one column a character and breaking only
    at spaces) cannot do."""
    import textwrap

    if not _has_wide(text):
        return textwrap.wrap(text, width)
    tokens: list[str] = []  # unbreakable pieces: a word of narrow characters, one wide character, or " "
    for piece in _pieces(text):
        if piece == " ":
            if tokens and tokens[-1] != " ":
                tokens.append(" ")
        elif tokens and tokens[-1] != " " and (piece[0] in _NO_BREAK_BEFORE or tokens[-1][-1] in _NO_BREAK_AFTER):
            tokens[-1] += piece
        else:
            tokens.append(piece)
    lines: list[str] = []
    line = ""
    space = False
    for token in tokens:
        if token == " ":
            space = bool(line)
            continue
        joined = line + (" " if space else "") + token
        if line and _cells(joined) > width:
            lines.append(line)
            joined = token
        line, space = joined, False
    return [*lines, line] if line else lines


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, wrapping Chinese by terminal columns and giving a Chinese heading a full-width colon."""

    class _Section(argparse.HelpFormatter._Section):  # type: ignore[name-defined]  # argparse's own, private
        def format_help(self) -> str:
            text: str = super().format_help()
            if self.heading and _has_wide(self.heading):
                text = text.replace(f"{self.heading}:\n", f"{self.heading}：\n", 1)
            return text

    def _format_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None) -> str:
        """The usage line under a heading that may be wider than its length ("用法：" takes six columns, argparse
        counts three): wrapped that much narrower, and its continuation lines indented that much further, so that
        they stay under the command's first option."""
        label = argparse._("usage: ") if prefix is None else prefix  # type: ignore[attr-defined]
        extra = _cells(label) - len(label)
        self._width -= extra
        try:
            text: str = super()._format_usage(usage, actions, groups, prefix)
        finally:
            self._width += extra
        return text.replace("\n ", "\n" + " " * (extra + 1)) if extra else text

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(self._whitespace_matcher.sub(" ", text).strip(), width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        text = self._whitespace_matcher.sub(" ", text).strip()
        return "\n".join(indent + line for line in wrap(text, width - len(indent)))


class RawDescriptionHelpFormatter(HelpFormatter):
    """A description or epilog of several lines kept as written (each language's wrapped by hand); a one-paragraph
    one, and option help, wrapped as above."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" not in text:
            return super()._fill_text(text, width, indent)
        return "".join(indent + line for line in text.splitlines(keepends=True))


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
    """An ArgumentParser that speaks the user's language: its help, usage and usage errors. Set `Parser.lang` before
    building (subcommand parsers are made from this class too); each parser keeps the language it was built in."""

    lang = "zh"  # the language the next parser is built in; main() sets it from the command line and settings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.built_lang = Parser.lang
        kwargs.setdefault("formatter_class", HelpFormatter)
        with _argparse_words(self.built_lang):
            super().__init__(*args, **kwargs)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        with _argparse_words(self.built_lang):  # --help and usage errors are printed while parsing
            return super().parse_known_args(*args, **kwargs)

    def format_usage(self) -> str:
        with _argparse_words(self.built_lang):
            return super().format_usage()

    def format_help(self) -> str:
        with _argparse_words(self.built_lang):
            return super().format_help()

    def error(self, message: str) -> NoReturn:
        lang = self.built_lang
        sys.stderr.write(self.format_usage())
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
                    sub.add_argument("--lang", choices=["zh", "en"], default=argparse.SUPPRESS, help=bi(LANG_HELP))
                add_lang_everywhere(sub)
