"""One language at a time, the config file, Excel-friendly CSV and progress (issue 13)."""

from __future__ import annotations

import argparse
import ast
import codecs
import csv
import io
import json
from pathlib import Path

import pytest

from riskclass.cli.main import build_parser, main

from .conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "riskclass"


# ---- every error has its Chinese text ------------------------------------------------------------------------------

# Helpers that build a message in both languages, accepted as an error's only argument (they return errors.Text).
TEXT_BUILDERS = {"write_failure"}


def _riskclass_error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """RiskclassError and every class that derives from it anywhere in the package (by name, to a fixpoint)."""
    names = {"RiskclassError"}
    grew = True
    while grew:
        grew = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


def test_every_riskclass_error_is_raised_with_its_chinese_text():
    """Drift test: an error built without `zh=` would reach a Chinese user in English. Names each file and line."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for p in PACKAGE.rglob("*.py")}
    errors = _riskclass_error_classes(trees)
    assert {"InputError", "AuditError", "ModelError", "RulebookError", "LawError"} <= errors
    missing = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name not in errors or any(k.arg == "zh" for k in node.keywords):
                continue
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Call) and getattr(first.func, "id", "") in TEXT_BUILDERS:
                continue
            missing.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}(…) without zh=")
    assert not missing, "errors without their Chinese text:\n" + "\n".join(missing)


def _stderr_line(r) -> str:
    lines = r.stderr.decode("utf-8").strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (["classify", ""], "描述为空", "the description is empty"),
        (["article", "99"], "草案没有第 '99' 条", "the draft has no article '99'"),
        (
            ["classify", "人脸识别门禁", "--rules-only", "--answer", "H9=yes"],
            "未知的判断标准 'H9'",
            "unknown criterion",
        ),
        (["batch", "no-such-file.csv", "-o", "out.csv"], "无法读取 no-such-file.csv：文件不存在", "no such file"),
        (["review", "x", "--reviewer", "张三"], "需要 --accept 或 --tier TIER 之一", "one of --accept or --tier"),
    ],
)
def test_errors_in_chinese_by_default_and_in_english_with_lang(tmp_path, args, zh, en):
    r = run_cli(*args)
    assert r.returncode == 2
    line = _stderr_line(r)
    assert line.startswith("riskclass: ") and zh in line and en not in line
    r = run_cli(*args, "--lang", "en")
    assert r.returncode == 2
    line = _stderr_line(r)
    assert en in line and zh not in line


def test_lang_in_the_environment_or_config_sets_the_default(tmp_path):
    assert "the description is empty" in _stderr_line(run_cli("classify", "", env={"RISKCLASS_LANG": "en"}))
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text('lang = "en"\n', encoding="utf-8")
    env = {"RISKCLASS_CONFIG_DIR": str(config)}
    assert "the description is empty" in _stderr_line(run_cli("classify", "", env=env))
    assert "描述为空" in _stderr_line(run_cli("classify", "", "--lang", "zh", env=env))  # the option wins


# ---- --lang before and after every command ---------------------------------------------------------------------


def _commands(parser: argparse.ArgumentParser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _commands(sub, (*prefix, name))


def test_every_command_takes_lang_after_its_name():
    commands = list(_commands(build_parser()))
    names = {" ".join(c) for c, _ in commands}
    assert {"classify", "batch", "article", "rules", "train", "evaluate", "review", "audit verify", "config"} <= names
    for command, sub in commands:
        assert any("--lang" in a.option_strings for a in sub._actions), f"riskclass {' '.join(command)} has no --lang"


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "--lang", "en", "verify"],
        ["--lang", "en", "audit", "verify"],
        ["audit", "verify", "--lang", "en"],
        ["audit", "--lang", "zh", "verify", "--lang", "en"],
    ],
)
def test_lang_anywhere_on_a_nested_command(argv, tmp_path, capsys):
    """`audit --lang en verify` is not undone by verify's own default; after the command wins."""
    assert main([*argv, "--audit-log", str(tmp_path / "none.jsonl")]) == 2
    assert "no audit log at" in capsys.readouterr().err


def test_article_and_rules_take_lang_after_the_command():
    r = run_cli("article", "46", "--lang", "en", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["label"] == "第四十六条"
    r = run_cli("rules", "--check", "--lang", "en")
    assert r.returncode == 0 and b"examples behave as declared" in r.stdout


def test_usage_errors_in_the_chosen_language():
    r = run_cli("classify", "x", "--answer", "H4=maybe")
    err = r.stderr.decode()
    assert r.returncode == 2 and err.startswith("用法：riskclass classify")
    assert "错误：参数 --answer：应为 CRITERION=yes|no|unknown" in err and "error:" not in err
    r = run_cli("classify", "x", "--answer", "H4=maybe", "--lang", "en")
    err = r.stderr.decode()
    assert err.startswith("usage: riskclass classify") and "error: argument --answer: expected CRITERION" in err
    r = run_cli("classify")  # argparse's own message, translated
    assert r.returncode == 2 and "缺少必需的参数：description" in r.stderr.decode()
    r = run_cli("--lang", "fr")
    assert r.returncode == 2 and "参数 --lang：无效的选项 'fr'" in r.stderr.decode()


# ---- the config file ------------------------------------------------------------------------------------------------


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    """A private config directory with no settings in the environment, so each test writes its own."""
    folder = tmp_path / "cfg"
    folder.mkdir()
    monkeypatch.setenv("RISKCLASS_CONFIG_DIR", str(folder))
    for var in ("RISKCLASS_LANG", "RISKCLASS_THEME", "RISKCLASS_EXPORT_DIR", "RISKCLASS_REGISTER", "RISKCLASS_KEYRING"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("RISKCLASS_AUDIT_LOG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return folder


def test_precedence_option_over_environment_over_file_over_default(config_dir, monkeypatch, tmp_path):
    from riskclass.config import settings

    s = settings()
    assert s.register == tmp_path / "data" / "riskclass" / "register.sqlite3" and s.sources["register"] == "default"
    assert s.lang == "zh" and s.theme == "dark" and s.export_dir is None and not s.exists
    (config_dir / "config.toml").write_text(
        'register = "/srv/file.sqlite3"\nlang = "en"\ntheme = "light"\nexport_dir = "reports"\n', encoding="utf-8"
    )
    s = settings()
    assert s.exists and s.register == Path("/srv/file.sqlite3") and s.sources["register"] == "file"
    assert s.lang == "en" and s.theme == "light" and s.export_dir == config_dir / "reports"  # relative to the file
    monkeypatch.setenv("RISKCLASS_REGISTER", "/srv/env.sqlite3")
    monkeypatch.setenv("RISKCLASS_LANG", "zh")
    s = settings()
    assert s.register == Path("/srv/env.sqlite3") and s.sources["register"] == "env"
    assert s.lang == "zh" and s.sources["lang"] == "env"
    s = settings(register="/srv/option.sqlite3", lang="en")
    assert s.register == Path("/srv/option.sqlite3") and s.sources["register"] == "option" and s.lang == "en"


def test_audit_log_and_keyring_come_from_the_config_file(config_dir, tmp_path):
    from riskclass.audit.keys import keyring_path
    from riskclass.audit.log import audit_log_path

    (config_dir / "config.toml").write_text(
        f'audit_log = "{tmp_path / "team.jsonl"}"\nkeyring = "{tmp_path / "team-keys.txt"}"\n', encoding="utf-8"
    )
    assert audit_log_path() == tmp_path / "team.jsonl" and audit_log_path("x.jsonl") == Path("x.jsonl")
    assert keyring_path() == tmp_path / "team-keys.txt"


def test_unknown_key_is_a_warning_with_did_you_mean(config_dir, capsys):
    (config_dir / "config.toml").write_text('lang = "en"\nthme = "light"\n', encoding="utf-8")
    assert main(["config"]) == 0
    captured = capsys.readouterr()
    warning = captured.err.strip().splitlines()
    assert warning == [
        f"riskclass: warning: {config_dir / 'config.toml'}, line 2: unknown setting 'thme' ignored — did you mean "
        "'theme'?"
    ]
    assert "lang        en  [file]" in captured.out


@pytest.mark.parametrize(
    ("text", "where", "why"),
    [
        ('lang = "en"\ntheme = light\n', "line 2", "not valid TOML"),
        ('lang = "fr"\n', "line 1", "lang must be one of zh, en"),
        ("register = 3\n", "line 1", "register must be a string"),
    ],
)
def test_malformed_config_is_one_line_naming_file_and_line_exit_2(config_dir, text, where, why):
    (config_dir / "config.toml").write_text(text, encoding="utf-8")
    env = {"RISKCLASS_CONFIG_DIR": str(config_dir)}
    r = run_cli("classify", "人脸识别门禁", "--rules-only", "--lang", "en", env=env)
    line = _stderr_line(r)
    assert r.returncode == 2 and r.stdout == b""
    assert str(config_dir / "config.toml") in line and where in line and why in line
    r = run_cli("config", env=env)  # in Chinese by default: the file is named the same way
    assert r.returncode == 2 and str(config_dir / "config.toml") in _stderr_line(r)


def test_config_command_shows_where_and_every_source(config_dir, monkeypatch, capsys):
    (config_dir / "config.toml").write_text('theme = "light"\n', encoding="utf-8")
    monkeypatch.setenv("RISKCLASS_EXPORT_DIR", "/srv/reports")
    assert main(["config", "--json", "--register", "/tmp/r.sqlite3", "--lang", "en"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["path"] == str(config_dir / "config.toml") and out["exists"] is True
    got = {k: (v["value"], v["source"]) for k, v in out["settings"].items()}
    assert got["lang"] == ("en", "option") and got["theme"] == ("light", "file")
    assert got["export_dir"] == ("/srv/reports", "env") and got["register"] == ("/tmp/r.sqlite3", "option")
    assert got["keyring"][1] == "default"
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"配置文件：{config_dir / 'config.toml'}（存在）")
    assert "theme       light  [配置文件]" in out and "[环境变量 RISKCLASS_EXPORT_DIR]" in out


def test_the_terminal_app_starts_in_the_configured_theme_and_export_folder(config_dir, tmp_path):
    from riskclass.tui.app import LIGHT, RiskclassApp

    (config_dir / "config.toml").write_text(f'theme = "light"\nexport_dir = "{tmp_path / "out"}"\n', encoding="utf-8")
    app = RiskclassApp(lang="en", engine_factory=lambda: None)
    assert app.theme == LIGHT and app.export_dir == tmp_path / "out"


# ---- CSV for Excel ---------------------------------------------------------------------------------------------------

ROWS = [["id", "描述"], ["1", "小区人脸识别门禁"], ["2", "给租户打分的平台"]]
TRADITIONAL = [["id", "描述"], ["1", "小區人臉識別門禁"], ["2", "給租戶打分的平臺"]]  # what Big5 can hold


def _csv_bytes(encoding: str, rows: list[list[str]] = ROWS) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", False), ("utf-8-sig", True), ("gbk", True), ("gb18030", True), ("big5", True), ("utf-16", True)],
)
def test_output_has_a_bom_when_the_input_came_from_excel(tmp_path, capsys, encoding, bom):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    table = TRADITIONAL if encoding == "big5" else ROWS
    src.write_bytes(_csv_bytes(encoding, table))
    assert main(["batch", str(src), "-o", str(out), "--rules-only", "--lang", "en"]) == 0
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) == bom
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r[:2] for r in rows] == table  # the text is right either way
    assert ("the input came from Excel; --no-bom leaves it out" in capsys.readouterr().err) == bom


def test_no_bom_leaves_it_out_and_excel_adds_it(tmp_path, capsys):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(_csv_bytes("gbk"))
    assert main(["batch", str(src), "-o", str(out), "--rules-only", "--no-bom"]) == 0
    assert not out.read_bytes().startswith(codecs.BOM_UTF8)
    src.write_bytes(_csv_bytes("utf-8"))
    assert main(["batch", str(src), "-o", str(out), "--rules-only", "--excel", "--force"]) == 0
    assert out.read_bytes().startswith(codecs.BOM_UTF8)
    assert main(["batch", str(src), "-o", str(out), "--rules-only", "--excel", "--no-bom", "--force"]) == 2
    assert "--excel" in capsys.readouterr().err


def test_xlsx_input_gives_a_bom(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    for row in ROWS:
        wb.active.append(row)
    src, out = tmp_path / "in.xlsx", tmp_path / "out.csv"
    wb.save(src)
    assert main(["batch", str(src), "-o", str(out), "--rules-only"]) == 0
    assert out.read_bytes().startswith(codecs.BOM_UTF8)


def test_jsonl_output_never_gets_a_bom(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.jsonl"
    src.write_bytes(_csv_bytes("gbk"))
    assert main(["batch", str(src), "-o", str(out), "--rules-only"]) == 0
    assert out.read_bytes().startswith(b"{")


def test_reports_without_dir_go_to_the_export_folder(config_dir, tmp_path, capsys):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(_csv_bytes("utf-8"))
    assert main(["batch", str(src), "-o", str(out), "--rules-only", "--reports", "--lang", "en"]) == 2
    assert "--reports without DIR needs the export_dir setting" in capsys.readouterr().err
    (config_dir / "config.toml").write_text(f'export_dir = "{tmp_path / "exports"}"\n', encoding="utf-8")
    assert main(["batch", str(src), "-o", str(out), "--rules-only", "--reports", "--report-format", "md"]) == 0
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["1.md", "2.md"]


def test_batch_summary_in_the_chosen_language(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_bytes(_csv_bytes("utf-8"))
    assert main(["batch", str(src), "-o", str(tmp_path / "zh.csv"), "--rules-only"]) == 0
    err = capsys.readouterr().err
    assert "riskclass batch：读入 2 行，写出 2 行" in err and "高 1 · 中 0 · 低 1" in err
    assert main(["batch", str(src), "-o", str(tmp_path / "en.csv"), "--rules-only", "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert "riskclass batch: 2 rows in, 2 rows out" in err and "high 1 · medium 0 · low 1" in err
    src.write_bytes(_csv_bytes("utf-8", [*ROWS, ["3", "   "]]))  # a row that cannot be classified
    assert main(["batch", str(src), "-o", str(tmp_path / "zh2.csv"), "--rules-only"]) == 3
    assert "第 3 行：描述为空" in capsys.readouterr().err
    out = list(csv.DictReader((tmp_path / "zh2.csv").open(encoding="utf-8", newline="")))
    assert out[2]["error"].startswith("the description is empty")  # the column is for scripts: English


# ---- progress ------------------------------------------------------------------------------------------------------


def test_progress_bar_draws_with_rich_on_a_terminal_only():
    from riskclass.cli.progress import ProgressBar, progress_bar
    from riskclass.errors import Text

    class Pipe(io.StringIO):
        def isatty(self) -> bool:
            return False

    assert progress_bar(Text("batch", "批量评估"), "en", stream=Pipe()) is None  # a pipe or a file: nothing drawn
    assert progress_bar(Text("batch", "批量评估"), "en", enabled=False) is None  # --no-progress
    screen = io.StringIO()
    with ProgressBar(Text("batch", "批量评估"), "zh", screen, force_terminal=True) as bar:
        bar(0, 1000)
        bar(500, 1000)
    drawn = screen.getvalue()
    assert "批量评估" in drawn and "500/1000" in drawn and "行" in drawn and "50%" in drawn


def test_batch_draws_no_bar_when_standard_error_is_not_a_terminal(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(_csv_bytes("utf-8"))
    r = run_cli("batch", str(src), "-o", str(tmp_path / "out.csv"), "--rules-only", "--lang", "en")
    assert r.returncode == 0 and b"\r" not in r.stderr and b"\x1b[" not in r.stderr
    assert r.stderr.decode().startswith("riskclass batch: 2 rows in")


def test_rich_is_imported_only_when_a_bar_is_shown(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(_csv_bytes("utf-8"))
    code = (
        "import sys; from riskclass.cli.main import main; "
        f"status = main(['batch', {str(src)!r}, '-o', {str(tmp_path / 'o.csv')!r}, '--rules-only']); "
        "print(status, 'rich.progress' in sys.modules)"
    )
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.split() == ["0", "False"], r.stderr
