"""`--help`, usage and usage errors in the user's language (issue 13's rule: every user-facing string in both)."""

from __future__ import annotations

import argparse
import re
import textwrap

import pytest

from riskclass.cli import usage
from riskclass.cli.main import build_parser, main
from riskclass.cli.usage import Help, Parser, wrap
from tests.conftest import run_cli

CJK = re.compile(r"[\u4e00-\u9fff]")
ARGPARSE_ENGLISH = ("usage:", "positional arguments", "options:", "show this help message", "error:")


@pytest.fixture
def lang_env(monkeypatch, tmp_path):
    """No language from the environment or a config file, and a known terminal width."""
    monkeypatch.delenv("RISKCLASS_LANG", raising=False)
    monkeypatch.setenv("RISKCLASS_CONFIG_DIR", str(tmp_path / "no-config"))
    monkeypatch.setenv("COLUMNS", "100")
    saved = Parser.lang
    yield monkeypatch
    Parser.lang = saved


def _help(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    return capsys.readouterr().out


def _parsers(parser: argparse.ArgumentParser, name: str = "riskclass"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["classify", "--help"],
        ["register", "import", "--help"],
        ["audit", "verify", "--help"],
        ["config", "--help"],
        ["review", "--help"],
    ],
)
def test_help_is_chinese_by_default_and_english_with_lang_en(argv, lang_env, capsys):
    zh = _help(argv, capsys)
    assert zh.startswith("用法：riskclass") and "选项：" in zh and "显示此帮助并退出" in zh
    assert not any(word in zh for word in ARGPARSE_ENGLISH), zh
    en = _help([*argv, "--lang", "en"], capsys)  # --lang after the command, even after --help
    assert en.startswith("usage: riskclass") and "options:" in en and "show this help message and exit" in en
    assert "用法" not in en and "选项" not in en and "显示此帮助" not in en
    assert _help(["--lang", "en", *argv], capsys) == en  # before the command too


def test_help_texts_are_the_declared_ones(lang_env, capsys):
    zh = _help(["--help"], capsys)
    assert "位置参数：" in zh and "classify        评估一条描述" in zh and "依据征求意见稿给出的建议" in zh
    en = _help(["classify", "--help", "--lang", "en"], capsys)
    assert "Assess one AI product description." in en and "do not consult the model" in en
    assert "不使用模型" in _help(["classify", "--help"], capsys)


def test_the_environment_and_config_file_choose_the_help_language(tmp_path):
    r = run_cli("register", "list", "--help", env={"RISKCLASS_LANG": "en"})
    assert r.returncode == 0 and r.stdout.decode().startswith("usage: riskclass register list")
    assert "only products of this tier" in r.stdout.decode()
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "config.toml").write_text('lang = "en"\n', encoding="utf-8")
    r = run_cli("batch", "--help", env={"RISKCLASS_CONFIG_DIR": str(config), "RISKCLASS_LANG": ""})
    assert r.returncode == 0 and "output columns:" in r.stdout.decode() and "输出列" not in r.stdout.decode()
    r = run_cli("batch", "--help", env={"RISKCLASS_CONFIG_DIR": str(config), "RISKCLASS_LANG": "zh"})
    out = r.stdout.decode()
    assert r.returncode == 0 and "输出列：" in out and "公式防护：" in out and "output columns" not in out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_option_command_and_description_is_declared_in_both_languages(lang, lang_env):
    """The drift test: a help text written as a plain string (one language only) fails here, naming it."""
    Parser.lang = lang
    missing = []
    for name, parser in _parsers(build_parser()):
        texts = {"description": parser.description, "epilog": parser.epilog}
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue  # argparse's own, through gettext (usage.ARGPARSE_WORDS_ZH)
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    texts[f"command {choice.dest}"] = choice.help
            else:
                texts["/".join(action.option_strings) or action.dest] = action.help
        for group in parser._action_groups[2:]:  # after argparse's own two, positional arguments and options
            texts[f"group {group.title}"] = group.title
        assert parser.description, f"{name} has no description"
        for what, text in texts.items():
            if text is None and what in ("description", "epilog"):
                continue
            if not isinstance(text, Help):
                missing.append(f"{name} {what}: {text!r}")
                continue
            assert text.en and CJK.search(text.zh), f"{name} {what}: {text.en!r} / {text.zh!r}"
            assert text.en != text.zh and text == (text.zh if lang == "zh" else text.en)
            assert re.findall(r"%\(\w+\)", text.en) == re.findall(r"%\(\w+\)", text.zh)  # argparse formats both
    assert not missing, "help in one language only:\n" + "\n".join(missing)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_help_formats_within_the_terminal_width(lang, lang_env):
    """Chinese is wrapped by terminal columns (a CJK character takes two), not by characters as textwrap does."""
    Parser.lang = lang
    for name, parser in _parsers(build_parser()):
        text = parser.format_help()
        too_wide = [line for line in text.splitlines() if usage._cells(line) > 98]  # COLUMNS 100, argparse's margin 2
        assert not too_wide, f"{name} --help ({lang}): {too_wide}"
        assert ("用法：" in text) == (lang == "zh") and ("usage: " in text) == (lang == "en")


def test_wrap_breaks_chinese_between_characters_and_leaves_english_to_textwrap():
    english = "the audit log, JSON Lines (default: $RISKCLASS_AUDIT_LOG, else ~/.local/share/riskclass/audit.jsonl)"
    assert wrap(english, 30) == textwrap.wrap(english, 30)
    lines = wrap("审计日志，JSON Lines 格式（默认：$RISKCLASS_AUDIT_LOG，其次 ~/.local/share/riskclass）", 24)
    assert all(usage._cells(line) <= 24 for line in lines[:-1]) and len(lines) > 2
    assert not any(line[0] in "，。；：）" or line[-1] in "（" for line in lines), lines
    assert (
        "".join(lines).replace(" ", "")
        == "审计日志，JSONLines格式（默认：$RISKCLASS_AUDIT_LOG，其次~/.local/share/riskclass）"
    )


def test_argparse_words_are_restored_after_a_chinese_parser(lang_env):
    """The gettext table applies while riskclass's parser works, not to other parsers in the same process."""
    Parser.lang = "zh"
    assert "用法：" in build_parser().format_usage()
    other = argparse.ArgumentParser(prog="other")
    assert other.format_usage().startswith("usage: other") and "show this help message" in other.format_help()


@pytest.mark.parametrize(
    ("lang", "usage_word", "error"),
    [
        ("zh", "用法：", "riskclass classify: 错误：参数 --color：无效的选项 'red'（可选：'auto', 'always', 'never'）"),
        ("en", "usage: ", "riskclass classify: error: argument --color: invalid choice: 'red'"),
    ],
)
def test_a_usage_error_is_usage_and_one_line_exit_2(lang, usage_word, error):
    r = run_cli("classify", "x", "--color", "red", env={"RISKCLASS_LANG": lang})
    lines = r.stderr.decode().splitlines()
    assert r.returncode == 2 and not r.stdout and b"Traceback" not in r.stderr
    assert lines[0].startswith(usage_word + "riskclass classify")
    assert all(line.startswith(" ") for line in lines[1:-1])  # the usage line's continuations
    assert lines[-1].startswith(error)
