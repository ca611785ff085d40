"""The product register (issue 13, CONTRACT.md `riskclass register`): every command through the CLI, migrations from
each earlier schema, two processes importing at once, interrupted imports, and register files that are not one.

Most tests assess with the rules alone (`--rules-only`, `Engine(model=None)`): what is tested is what the register
keeps and reports, not the model; one real process imports with the shipped model.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from riskclass.cli.main import main
from riskclass.register import Register, RegisterError, store

from .conftest import ROOT, run_cli

GOLDEN = Path(__file__).resolve().parent / "data" / "register"

INVENTORY = """\
编号,名称,描述,负责人
AI-0001,贷款评分,一款为银行筛选贷款申请人的评分模型,张三
AI-0002,门禁,小区人脸识别门禁,李四
AI-0003,翻译,内部使用的文档翻译工具,王五
"""

# AI-0003 now screens CVs (high), AI-0001 is unchanged, AI-0002 has a new owner only, AI-0004 is new.
INVENTORY_2 = """\
编号,名称,描述,负责人
AI-0001,贷款评分,一款为银行筛选贷款申请人的评分模型,张三
AI-0002,门禁,小区人脸识别门禁,赵六
AI-0003,翻译,为企业招聘筛选简历的AI工具,王五
AI-0004,客服,电商平台的智能客服聊天机器人,钱七
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def reg_path(tmp_path) -> Path:
    return tmp_path / "register.sqlite3"


def imported(capsys, tmp_path, reg_path, text: str = INVENTORY, *extra: str) -> tuple[int, str, str]:
    src = write(tmp_path / f"inventory-{hashlib.sha256(text.encode()).hexdigest()[:8]}.csv", text)
    return cli(capsys, "register", "import", str(src), "--register", str(reg_path), "--rules-only", *extra)


def dump(path: Path) -> list:
    """Everything a register holds, table by table, to compare before and after."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return [(t, sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr)) for t in tables]
    finally:
        db.close()


# ---- import, list, show, export through the CLI ------------------------------------------------------------------


def test_import_counts_and_tier_changes_by_id(capsys, tmp_path, reg_path):
    code, out, _ = imported(capsys, tmp_path, reg_path)
    assert code == 0
    assert "新增 3，变更 0，未变 0" in out
    code, out, _ = imported(capsys, tmp_path, reg_path, INVENTORY_2, "--lang", "en")
    assert code == 0
    assert "1 added, 2 changed, 1 unchanged (2 descriptions assessed)" in out
    # Only the product whose tier moved is listed, by id, with the criteria it gained and lost.
    assert "AI-0003: medium → high (gained H4, M2; lost M3)" in out
    assert "AI-0001" not in out and "AI-0002" not in out
    # Importing the same file again changes nothing.
    code, out, _ = imported(capsys, tmp_path, reg_path, INVENTORY_2, "--lang", "en")
    assert "0 added, 0 changed, 4 unchanged (0 descriptions assessed)" in out
    assert "No product changed tier" in out
    # A product the file no longer lists stays in the register, and the summary says so.
    code, out, _ = imported(capsys, tmp_path, reg_path, INVENTORY_2.replace("AI-0004", "AI-0005"), "--lang", "en")
    assert "1 added, 0 changed, 3 unchanged" in out and "in the register but not in this file: 1 (kept" in out


def test_import_output_golden(capsys, tmp_path, reg_path):
    imported(capsys, tmp_path, reg_path)
    for lang in ("zh", "en"):
        text = INVENTORY_2 if lang == "zh" else INVENTORY
        _, out, _ = imported(capsys, tmp_path, reg_path, text, "--lang", lang)
        shown = out.replace(str(reg_path), "REGISTER").replace(str(tmp_path), "TMP")
        golden = GOLDEN / f"import-{lang}.txt"
        if os.environ.get("RISKCLASS_UPDATE_GOLDEN"):
            golden.write_text(shown, encoding="utf-8")
        assert shown == golden.read_text(encoding="utf-8")


def test_every_description_version_is_kept(capsys, tmp_path, reg_path):
    imported(capsys, tmp_path, reg_path)
    imported(capsys, tmp_path, reg_path, INVENTORY_2)
    code, out, _ = cli(capsys, "register", "show", "AI-0003", "--register", str(reg_path), "--json")
    assert code == 0
    d = json.loads(out)
    assert [v["text"] for v in d["descriptions"]] == ["内部使用的文档翻译工具", "为企业招聘筛选简历的AI工具"]
    assert [a["tier"] for a in d["assessments"]] == ["medium", "high"]
    assert [a["versions"]["description"] for a in d["assessments"]] == [1, 2]
    assert d["assessments"][-1]["versions"]["rulebook"] and d["assessments"][-1]["versions"]["model_sha256"] == ""
    assert d["description"] == "为企业招聘筛选简历的AI工具"
    # A new owner is stored, and is no new description.
    d2 = json.loads(cli(capsys, "register", "show", "AI-0002", "--register", str(reg_path), "--json")[1])
    assert d2["columns"] == {"负责人": "赵六"} and len(d2["descriptions"]) == 1 and len(d2["assessments"]) == 1


def test_list_json_has_the_contract_fields_and_filters(capsys, tmp_path, reg_path):
    imported(capsys, tmp_path, reg_path, INVENTORY_2)
    code, out, _ = cli(capsys, "register", "list", "--register", str(reg_path), "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == ["AI-0001", "AI-0002", "AI-0003", "AI-0004"]
    for r in rows:
        assert {"id", "name", "tier", "confidence", "needs_review", "decided_tier", "assessed_at", "versions"} <= set(r)
        assert r["decided_tier"] is None
    high = json.loads(cli(capsys, "register", "list", "--register", str(reg_path), "--json", "--tier", "high")[1])
    assert {r["id"] for r in high} == {r["id"] for r in rows if r["tier"] == "high"} and high
    review = json.loads(cli(capsys, "register", "list", "--register", str(reg_path), "--json", "--needs-review")[1])
    assert all(r["needs_review"] for r in review)
    found = json.loads(cli(capsys, "register", "list", "--register", str(reg_path), "--json", "--search", "门禁")[1])
    assert [r["id"] for r in found] == ["AI-0002"]


def test_list_reads_in_chinese_and_english(capsys, tmp_path, reg_path):
    imported(capsys, tmp_path, reg_path)
    _, zh, _ = cli(capsys, "register", "list", "--register", str(reg_path))
    assert zh.splitlines()[0].split() == ["编号", "名称", "等级", "置信度", "需复核", "复核决定", "评估时间"]
    assert "AI-0001  贷款评分  高" in zh and "共 3 个产品" in zh
    _, en, _ = cli(capsys, "--lang", "en", "register", "list", "--register", str(reg_path))
    assert en.splitlines()[0].split()[:3] == ["id", "name", "tier"]
    assert "AI-0003  翻译      medium" in en and "3 products" in en


def test_show_in_both_languages_and_unknown_id(capsys, tmp_path, reg_path):
    imported(capsys, tmp_path, reg_path)
    code, zh, _ = cli(capsys, "register", "show", "AI-0001", "--register", str(reg_path))
    assert code == 0
    assert (
        "等级：高" in zh and "判断标准：H4" in zh and "一款为银行筛选贷款申请人的评分模型" in zh and "负责人=张三" in zh
    )
    _, en, _ = cli(capsys, "register", "show", "AI-0001", "--register", str(reg_path), "--lang", "en")
    assert "tier: high" in en and "criteria: H4" in en and "rules only" in en
    code, out, err = cli(capsys, "register", "show", "AI-001", "--register", str(reg_path), "--lang", "en")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no product 'AI-001'" in err and "did you mean" in err and "AI-0001" in err


def test_export_is_a_batch_output_with_id_name_and_decided_tier(capsys, tmp_path, reg_path):
    from riskclass.tables.write import RESULT_COLUMNS

    imported(capsys, tmp_path, reg_path, INVENTORY_2)
    out = tmp_path / "export.csv"
    code, _, err = cli(capsys, "register", "export", "-o", str(out), "--register", str(reg_path))
    assert code == 0 and "4" in err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["id"] for r in rows] == ["AI-0001", "AI-0002", "AI-0003", "AI-0004"]
    assert set(RESULT_COLUMNS) | {"id", "name", "decided_tier", "负责人"} <= set(rows[0])
    assert rows[2]["tier"] == "high" and rows[2]["criteria"] == "H4;M2" and rows[2]["decided_tier"] == ""
    assert rows[1]["负责人"] == "赵六"
    # Never over an existing file without --force; --excel adds a BOM.
    code, _, err = cli(capsys, "register", "export", "-o", str(out), "--register", str(reg_path))
    assert code == 2 and "--force" in err
    cli(capsys, "register", "export", "-o", str(out), "--register", str(reg_path), "--force", "--excel")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


# ---- reading the inventory as batch reads it ---------------------------------------------------------------------


@pytest.mark.parametrize("header", ["id", "ID", "序号", "产品编号", "编号"])
def test_id_column_found_by_name(capsys, tmp_path, reg_path, header):
    code, out, _ = imported(capsys, tmp_path, reg_path, INVENTORY.replace("编号", header, 1))
    assert code == 0 and "新增 3" in out


def test_no_id_column_exits_2_naming_the_columns(capsys, tmp_path, reg_path):
    code, out, err = imported(capsys, tmp_path, reg_path, INVENTORY.replace("编号", "代号", 1), "--lang", "en")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no id column" in err and "代号, 名称, 描述, 负责人" in err
    assert not reg_path.exists()  # a refused file creates no register
    code, _, err = imported(capsys, tmp_path, reg_path, INVENTORY.replace("编号", "代号", 1), "--id-column", "代号")
    assert code == 0


def test_duplicate_ids_name_both_lines_and_write_nothing(capsys, tmp_path, reg_path):
    imported(capsys, tmp_path, reg_path)
    before = dump(reg_path)
    dup = INVENTORY_2 + "AI-0003,翻译,又一条描述,王五\n"
    code, out, err = imported(capsys, tmp_path, reg_path, dup, "--lang", "en")
    assert code == 2 and out == ""
    assert "'AI-0003' is on line 4 and on line 6" in err and "nothing was imported" in err
    assert dump(reg_path) == before
    _, _, err = imported(capsys, tmp_path, reg_path, dup)
    assert "同时出现在第 4 行和第 6 行" in err


def test_an_empty_id_refuses_the_file(capsys, tmp_path, reg_path):
    code, _, err = imported(capsys, tmp_path, reg_path, INVENTORY + ",无编号,小区人脸识别门禁,李四\n", "--lang", "en")
    assert code == 2 and "line 5: no id" in err
    assert not reg_path.exists()


def test_bad_rows_are_reported_not_dropped(capsys, tmp_path, reg_path):
    code, out, _ = imported(capsys, tmp_path, reg_path, INVENTORY + "AI-0009,空白,,李四\n", "--lang", "en")
    assert code == 3  # as batch: finished, but a row carries an error
    assert "Could not be assessed:" in out and "AI-0009: " in out
    row = json.loads(cli(capsys, "register", "show", "AI-0009", "--register", str(reg_path), "--json")[1])
    assert row["tier"] is None and row["needs_review"] is True and row["error"]


def test_gbk_tsv_and_xlsx_are_read_as_batch_reads_them(capsys, tmp_path, reg_path):
    gbk = write(tmp_path / "inv-gbk.tsv", INVENTORY.replace(",", "\t"), "gbk")
    code, out, _ = cli(capsys, "register", "import", str(gbk), "--register", str(reg_path), "--rules-only")
    assert code == 0 and "新增 3" in out
    assert Register.open(reg_path).product("AI-0002").description == "小区人脸识别门禁"
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    for line in INVENTORY_2.splitlines():
        wb.active.append(line.split(","))
    wb.save(tmp_path / "inv.xlsx")
    code, out, _ = cli(
        capsys, "register", "import", str(tmp_path / "inv.xlsx"), "--register", str(reg_path), "--rules-only"
    )
    assert code == 0 and "新增 1，变更 2，未变 1" in out


# ---- rescore ------------------------------------------------------------------------------------------------------


def test_rescore_reports_tier_changes_after_a_rulebook_change(tmp_path, reg_path):
    import dataclasses

    from riskclass.engine.decide import Engine
    from riskclass.rulebook.rules import load_rulebook

    src = write(tmp_path / "inv.csv", INVENTORY)
    with Register.open(reg_path, create=True, engine=Engine(model=None)) as reg:
        reg.import_file(str(src))
        assert reg.rescore().changed == 0  # nothing changed: nothing stored anew
    rb = load_rulebook()
    without_h4 = dataclasses.replace(
        rb, version=rb.version + "-test", rules=tuple(r for r in rb.rules if r.criterion != "H4")
    )
    with Register.open(reg_path, engine=Engine(rulebook=without_h4, model=None)) as reg:
        result = reg.rescore()
        assert result.assessed == 3 and result.changed == 3  # the rulebook version differs for every product
        [change] = [c for c in result.tier_changes if c.id == "AI-0001"]
        assert change.previous_tier == "high" and change.tier != "high" and "H4" in change.lost
        assert reg.product("AI-0001").latest.versions.rulebook == rb.version + "-test"


def test_rescore_cli_applies_saved_answers(capsys, tmp_path, reg_path):
    imported(capsys, tmp_path, reg_path)
    with Register.open(reg_path) as reg:
        reg.save_answers("AI-0003", {"H4": True}, reassess=False)
    code, out, _ = cli(capsys, "register", "rescore", "--register", str(reg_path), "--rules-only", "--lang", "en")
    assert code == 0
    assert "3 products, 1 with a new result, 2 unchanged" in out
    assert "AI-0003: medium → high (gained H4)" in out


# ---- the API the terminal app uses -------------------------------------------------------------------------------


def test_api_add_update_answers_ticks(tmp_path, reg_path):
    from riskclass.engine.decide import Engine

    with Register.open(reg_path, create=True, engine=Engine(model=None)) as reg:
        assert reg.add_or_update("P1", "招聘", "内部使用的文档翻译工具", {"owner": "HR"}) is None
        change = reg.add_or_update("P1", "招聘", "为企业招聘筛选简历的AI工具", {"owner": "HR"})
        assert change is not None and (change.previous_tier, change.tier) == ("medium", "high")
        assert reg.save_answers("P1", {"h4": False, "M2": None}) is not None  # H4 denied: the tier falls
        reg.save_ticks("P1", ["pre_assessment.scope", "risk_warning.plan"])
        reg.save_ticks("P1", ["risk_warning.plan"])
        p = reg.product("P1")
        assert p.answers == {"H4": False, "M2": None}
        assert p.ticks == ("risk_warning.plan",)
        assert [a.answers for a in p.assessments][-1] == {"H4": False}
        assert [d.version for d in p.descriptions] == [1, 2]
        [row] = reg.products(search="简历")
        assert row.id == "P1" and row.tier == p.latest.tier and row.versions.description == 2
        with pytest.raises(Exception, match="unknown criterion H9"):
            reg.save_answers("P1", {"H9": True})
        with pytest.raises(Exception, match="no product 'P2'"):
            reg.save_ticks("P2", ["x"])


def test_an_exception_mid_import_leaves_the_register_as_it_was(tmp_path, reg_path):
    from riskclass.engine.decide import Engine

    src = write(tmp_path / "inv.csv", INVENTORY)
    with Register.open(reg_path, create=True, engine=Engine(model=None)) as reg:
        reg.import_file(str(src))
    before = dump(reg_path)

    def fail(phase, done, total):
        if phase == "write" and done == 3:
            raise KeyboardInterrupt

    src2 = write(tmp_path / "inv2.csv", INVENTORY_2)
    with Register.open(reg_path, engine=Engine(model=None)) as reg:
        with pytest.raises(KeyboardInterrupt):
            reg.import_file(str(src2), progress=fail)
        assert dump(reg_path) == before
        assert reg.import_file(str(src2)).added == 1  # and the register is usable at once


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from riskclass.engine.decide import Engine
    from riskclass.register import Register

    def die(phase, done, total):
        if phase == "write" and done == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)

    with Register.open(sys.argv[1], create=True, engine=Engine(model=None)) as reg:
        reg.import_file(sys.argv[2], progress=die)
    """
)


def test_sigkill_mid_import_leaves_the_register_as_it_was(tmp_path, reg_path):
    from riskclass.engine.decide import Engine

    src = write(tmp_path / "inv.csv", INVENTORY)
    with Register.open(reg_path, create=True, engine=Engine(model=None)) as reg:
        reg.import_file(str(src))
    before = dump(reg_path)
    many = "编号,描述\n" + "".join(f"K-{i:04d},第{i}号产品：小区人脸识别门禁\n" for i in range(300))
    src2 = write(tmp_path / "many.csv", many)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(reg_path), str(src2), "200"], env=env, capture_output=True, timeout=120
    )
    assert r.returncode == -9, r.stderr  # killed mid-transaction, 200 of 300 rows written
    assert dump(reg_path) == before
    with Register.open(reg_path, engine=Engine(model=None)) as reg:
        assert len(reg) == 3
        assert reg.import_file(str(src2)).added == 300


def test_two_processes_importing_at_once_lose_nothing(tmp_path, reg_path):
    a = (
        "编号,描述\n"
        + "".join(f"A-{i:04d},第{i}号：为企业招聘筛选简历的AI工具\n" for i in range(400))
        + "SHARED,甲方的描述\n"
    )
    b = "编号,描述\n" + "".join(f"B-{i:04d},第{i}号：小区人脸识别门禁\n" for i in range(400)) + "SHARED,乙方的描述\n"
    files = [write(tmp_path / "a.csv", a), write(tmp_path / "b.csv", b)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "riskclass",
                "register",
                "import",
                str(f),
                "--register",
                str(reg_path),
                "--rules-only",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for f in files
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err.decode()
    with Register.open(reg_path) as reg:
        ids = reg.ids()
        assert len(ids) == 801
        assert {i[:2] for i in ids} == {"A-", "B-", "SH"}
        shared = reg.product("SHARED")
        # Whichever came second kept the first's description as version 1: both are there.
        assert sorted(d.text for d in shared.descriptions) == ["乙方的描述", "甲方的描述"]
        assert all(r.tier for r in reg.products())


def test_a_register_locked_by_another_process_is_busy_not_damaged(capsys, tmp_path, monkeypatch):
    """A register another program holds locked is said to be busy (try again), never damaged (restore a backup)."""
    path = tmp_path / "locked.sqlite3"
    _register_at_version(path, store.SCHEMA_VERSION)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")  # an exclusive lock then keeps readers out too
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 200)
    try:
        message = _refused(capsys, path, "list")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "busy" in message and "damaged" not in message
    assert main(["register", "list", "--register", str(path), "--lang", "en"]) == 0  # and usable once released


def test_import_with_the_shipped_model_in_a_real_process(tmp_path, reg_path):
    src = write(tmp_path / "inv.csv", INVENTORY)
    r = run_cli("register", "import", str(src), "--register", str(reg_path), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["added"] == 3 and summary["assessed"] == 3 and summary["errors"] == []
    r = run_cli("register", "list", "--register", str(reg_path), "--json")
    rows = json.loads(r.stdout)
    assert all(len(row["versions"]["model_sha256"]) == 64 for row in rows)
    assert r.stderr == b""  # not a terminal: no progress drawn


# ---- schema versions and migrations ------------------------------------------------------------------------------


def _register_at_version(path: Path, version: int) -> None:
    """A register as riskclass wrote it at schema `version`, with one product where the schema has products."""
    db = sqlite3.connect(path, isolation_level=None)
    for step in store.MIGRATIONS[:version]:
        step(db)
    if version:
        db.execute(f"PRAGMA application_id = {store.APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {version}")
        t = "2026-01-01T00:00:00.000000Z"
        db.execute("INSERT INTO products VALUES ('OLD-1', '旧产品', '{\"部门\": \"法务\"}', ?, ?)", (t, t))
        db.execute("INSERT INTO descriptions VALUES ('OLD-1', 1, '小区人脸识别门禁', ?, 'old.csv')", (t,))
        db.execute(
            "INSERT INTO assessments (product_id, description_version, assessed_at, tier, confidence, needs_review, "
            "criteria, rulebook_version) VALUES ('OLD-1', 1, ?, 'high', 0.9, 0, 'H5', '2025.01.01')",
            (t,),
        )
    db.close()


@pytest.mark.parametrize("version", range(store.SCHEMA_VERSION))
def test_migrations_from_each_earlier_version(capsys, tmp_path, reg_path, version):
    _register_at_version(reg_path, version)
    code, out, err = cli(capsys, "register", "list", "--register", str(reg_path), "--json")
    assert code == 0, err
    db = sqlite3.connect(reg_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    assert db.execute("PRAGMA application_id").fetchone()[0] == store.APPLICATION_ID
    db.close()
    rows = json.loads(out)
    if version:  # what the older register held is all there, and the new tables work
        assert [(r["id"], r["tier"]) for r in rows] == [("OLD-1", "high")]
        with Register.open(reg_path) as reg:
            reg.save_ticks("OLD-1", ["pre_assessment.scope"])
            reg.save_answers("OLD-1", {"H5": True}, reassess=False)
            p = reg.product("OLD-1")
            assert p.columns == {"部门": "法务"} and p.ticks == ("pre_assessment.scope",) and p.answers == {"H5": True}
    else:
        assert rows == []


def test_a_v1_register_is_migrated_by_import_and_keeps_its_history(capsys, tmp_path, reg_path):
    _register_at_version(reg_path, 1)
    src = write(tmp_path / "inv.csv", "编号,描述\nOLD-1,为企业招聘筛选简历的AI工具\n")
    code, out, _ = cli(
        capsys, "register", "import", str(src), "--register", str(reg_path), "--rules-only", "--lang", "en"
    )
    assert code == 0 and "0 added, 1 changed" in out
    p = Register.open(reg_path).product("OLD-1")
    assert [d.text for d in p.descriptions] == ["小区人脸识别门禁", "为企业招聘筛选简历的AI工具"]
    assert p.assessments[0].versions.rulebook == "2025.01.01"


# ---- register files that are not one ------------------------------------------------------------------------------


def _refused(capsys, path: Path, *command: str) -> str:
    code, out, err = cli(capsys, "--lang", "en", "register", *command, "--register", str(path))
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_hostile_register_files(capsys, tmp_path):
    directory = tmp_path / "dir"
    directory.mkdir()
    assert "is a directory" in _refused(capsys, directory, "list")
    text = write(tmp_path / "notes.txt", "not a database\n")
    assert "not a riskclass register (not a SQLite database)" in _refused(capsys, text, "list")
    assert text.read_text() == "not a database\n"
    other = tmp_path / "other.sqlite3"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE customers (id INTEGER)")
    db.commit()
    db.close()
    before = other.read_bytes()
    src = write(tmp_path / "inv.csv", INVENTORY)
    assert "another program" in _refused(capsys, other, "import", str(src), "--rules-only")
    assert other.read_bytes() == before  # never written to
    newer = tmp_path / "newer.sqlite3"
    _register_at_version(newer, store.SCHEMA_VERSION)
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    db.close()
    assert "newer riskclass" in _refused(capsys, newer, "show", "OLD-1")
    corrupt = tmp_path / "corrupt.sqlite3"
    _register_at_version(corrupt, store.SCHEMA_VERSION)
    data = bytearray(corrupt.read_bytes())
    data[100:4000] = os.urandom(3900)  # the schema page, past the header
    corrupt.write_bytes(bytes(data))
    assert "damaged" in _refused(capsys, corrupt, "list")
    assert "no register at" in _refused(capsys, tmp_path / "missing.sqlite3", "list")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_fifo_as_register_is_refused_at_once(tmp_path):
    fifo = tmp_path / "register.fifo"
    os.mkfifo(fifo)
    r = run_cli("register", "list", "--register", str(fifo), "--lang", "en")
    assert r.returncode == 2 and b"not a regular file" in r.stderr


def test_register_path_from_the_environment(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RISKCLASS_REGISTER", str(tmp_path / "env.sqlite3"))
    src = write(tmp_path / "inv.csv", INVENTORY)
    assert cli(capsys, "register", "import", str(src), "--rules-only")[0] == 0
    assert (tmp_path / "env.sqlite3").exists()
    monkeypatch.delenv("RISKCLASS_REGISTER")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert store.register_path() == tmp_path / "xdg" / "riskclass" / "register.sqlite3"
    with pytest.raises(RegisterError):
        Register.open()  # list/show never create one


# ---- review decisions linked to products --------------------------------------------------------------------------


def test_review_by_id_links_a_verified_decision(capsys, tmp_path, reg_path, monkeypatch):
    imported(capsys, tmp_path, reg_path)
    log = tmp_path / "audit.jsonl"
    code, out, err = cli(
        capsys, "review", "--id", "AI-0003", "--register", str(reg_path), "--reviewer", "张三", "--tier", "high",
        "--reason", "对外提供简历筛选", "--rules-only", "--audit-log", str(log),
    )  # fmt: skip
    assert code == 0, err
    assert "登记册产品：AI-0003" in out
    args = ("--register", str(reg_path), "--audit-log", str(log))
    rows = json.loads(cli(capsys, "register", "list", "--json", *args)[1])
    assert {r["id"]: r["decided_tier"] for r in rows} == {"AI-0001": None, "AI-0002": None, "AI-0003": "high"}
    _, shown, _ = cli(capsys, "register", "show", "AI-0003", *args, "--lang", "en")
    assert "review decisions (verified in the audit log):" in shown
    assert "张三: high (suggested medium, changed)" in shown and "对外提供简历筛选" in shown
    out_csv = tmp_path / "e.csv"
    cli(capsys, "register", "export", "-o", str(out_csv), *args)
    assert [r["decided_tier"] for r in csv.DictReader(io.StringIO(out_csv.read_text("utf-8")))] == ["", "", "high"]
    # A keyring that does not list the reviewer's key: the decision is unverified, so it is not shown at all.
    empty = write(tmp_path / "empty-keyring.txt", "# nobody\n")
    d = json.loads(cli(capsys, "register", "show", "AI-0003", *args, "--keyring", str(empty), "--json")[1])
    assert d["decisions"] == [] and d["decided_tier"] is None
    # An audit log that cannot be read: no decision shown, and a one-line warning says why.
    code, out, err = cli(
        capsys, "register", "list", "--register", str(reg_path), "--audit-log", str(tmp_path), "--json"
    )
    assert code == 0 and [r["decided_tier"] for r in json.loads(out)] == [None, None, None]
    assert err.count("\n") == 1 and "复核决定无法验证" in err


def test_review_by_id_refuses_unknown_ids_and_a_second_description(capsys, tmp_path, reg_path):
    imported(capsys, tmp_path, reg_path)
    base = ("review", "--register", str(reg_path), "--reviewer", "张三", "--accept", "--rules-only", "--lang", "en")
    code, _, err = cli(capsys, *base, "--id", "AI-9999")
    assert code == 2 and "no product 'AI-9999'" in err
    code, _, err = cli(capsys, *base, "--id", "AI-0001", "小区人脸识别门禁")
    assert code == 2 and "not both" in err


# ---- batch --compare pairs rows by id --------------------------------------------------------------------------------


def _batch(capsys, tmp_path, name: str, text: str) -> Path:
    src = write(tmp_path / f"{name}.csv", text)
    out = tmp_path / f"{name}-out.csv"
    assert cli(capsys, "batch", str(src), "-o", str(out), "--rules-only")[0] == 0
    return out


def test_compare_pairs_rows_by_an_id_column_found_by_name(capsys, tmp_path):
    old = _batch(capsys, tmp_path, "old", INVENTORY)
    new = _batch(capsys, tmp_path, "new", INVENTORY_2)
    code, out, err = cli(capsys, "batch", str(new), "--compare", str(old), "--lang", "en")
    assert code == 0
    # The edited description is the same product whose tier moved, not "one removed, one added".
    assert "AI-0003: medium → high (gained H4, M2; lost M3)" in err
    assert "AI-0004: only in the new output" in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["id"], r["previous_tier"], r["tier"], r["gained"], r["lost"]) for r in rows] == [
        ("AI-0003", "medium", "high", "H4;M2", "M3"),
        ("AI-0004", "", "medium", "M1", ""),  # a new product gained every criterion it has
    ]
    _, _, zh = cli(capsys, "batch", str(new), "--compare", str(old))
    assert "AI-0003：中 → 高（新触发 H4、M2；不再触发 M3）" in zh


def test_compare_by_a_named_id_column_and_without_one(capsys, tmp_path):
    old = _batch(capsys, tmp_path, "old", INVENTORY.replace("编号", "代号", 1))
    new = _batch(capsys, tmp_path, "new", INVENTORY_2.replace("编号", "代号", 1))
    # No column called like an id: paired by description, as before — the edited row is one gone, one new.
    code, out, err = cli(capsys, "batch", str(new), "--compare", str(old), "--lang", "en")
    assert code == 0 and "AI-0003:" not in err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert "id" not in rows[0] and sum(1 for r in rows if r["description"] == "内部使用的文档翻译工具") == 1
    code, out, err = cli(capsys, "batch", str(new), "--compare", str(old), "--id-column", "代号", "--lang", "en")
    assert code == 0 and "AI-0003: medium → high (gained H4, M2; lost M3)" in err
    code, out, err = cli(capsys, "batch", str(new), "--compare", str(old), "--id-column", "编号", "--lang", "en")
    assert code == 2 and "no column '编号' for --id-column" in err


def test_undecodable_bytes_are_kept_as_xnn_and_not_assessed(capsys, tmp_path, reg_path):
    src = tmp_path / "bad.csv"
    src.write_bytes("编号,描述\nX-1,".encode() + b"\xff\xfe\x80" + "\nX-2,小区人脸识别门禁\n".encode())
    code, out, _ = cli(capsys, "register", "import", str(src), "--register", str(reg_path), "--rules-only")
    assert code == 3
    assert "X-1：描述中有不属于文件编码的字节" in out
    with Register.open(reg_path) as reg:
        p = reg.product("X-1")
        assert p.description == "\\xff\\xfe\\x80" and p.row.tier is None and p.row.needs_review
        assert reg.product("X-2").row.tier == "high"
    # A rescore does not assess the escaped text as if it were the description.
    code, out, _ = cli(capsys, "register", "rescore", "--register", str(reg_path), "--rules-only", "--lang", "en")
    assert code == 3 and "X-1: the description has bytes that are not valid" in out


def test_export_guards_formula_cells_and_keeps_odd_ids(capsys, tmp_path, reg_path):
    text = "编号,描述,备注\n=1+1,小区人脸识别门禁,@SUM(A1)\n产品 7,内部使用的文档翻译工具,\n"
    code, _, _ = imported(capsys, tmp_path, reg_path, text)
    assert code == 0
    out = tmp_path / "e.csv"
    cli(capsys, "register", "export", "-o", str(out), "--register", str(reg_path))
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert [r["id"] for r in rows] == ["'=1+1", "产品 7"] and rows[0]["备注"] == "'@SUM(A1)"
    assert json.loads(cli(capsys, "register", "show", "=1+1", "--register", str(reg_path), "--json")[1])["tier"]


def test_progress_on_a_terminal_only(tmp_path, reg_path):
    import pty

    many = "编号,描述\n" + "".join(f"P-{i:04d},第{i}号产品：小区人脸识别门禁\n" for i in range(1500))
    src = write(tmp_path / "many.csv", many)
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": "100"}
    args = [sys.executable, "-m", "riskclass", "register", "import", str(src), "--register", str(reg_path)]
    proc = subprocess.Popen([*args, "--rules-only", "--lang", "en"], stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        drawn += chunk
    out, _ = proc.communicate(timeout=120)
    os.close(leader)
    assert proc.returncode == 0 and b"1500 added" in out
    assert b"assessing" in drawn and b"1500/1500" in drawn  # rich.progress on standard error
    assert b"assessing" not in out


def test_api_keeps_columns_when_the_terminal_app_edits_a_description(tmp_path, reg_path):
    from riskclass.engine.decide import Engine

    with Register.open(reg_path, create=True, engine=Engine(model=None)) as reg:
        reg.add_or_update("P1", "门禁", "小区人脸识别门禁", {"owner": "物业", "部门": "安保"})
        reg.add_or_update("P1", "门禁", "小区人脸识别门禁，也给访客开门")
        assert reg.product("P1").columns == {"owner": "物业", "部门": "安保"}
        with pytest.raises(Exception, match="unknown criterion H9"):
            reg.save_answers("P1", {"H9": True}, reassess=False)  # checked even when not re-assessing


def test_list_and_show_golden(capsys, tmp_path, reg_path):
    import re

    from riskclass.rulebook.rules import load_rulebook

    rulebook = load_rulebook().version  # a rulebook release does not change what is shown

    imported(capsys, tmp_path, reg_path)
    imported(capsys, tmp_path, reg_path, INVENTORY_2)
    stamp = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?( UTC|Z)?")
    for lang in ("zh", "en"):
        shown = ""
        for command in (("list",), ("show", "AI-0003")):
            shown += cli(capsys, "--lang", lang, "register", *command, "--register", str(reg_path))[1]
        shown = stamp.sub("TIME", shown).replace(str(reg_path), "REGISTER").replace(rulebook, "RULEBOOK")
        shown = re.sub(r"inventory-[0-9a-f]{8}\.csv", "inventory.csv", shown)
        golden = GOLDEN / f"list-show-{lang}.txt"
        if os.environ.get("RISKCLASS_UPDATE_GOLDEN"):
            golden.write_text(shown, encoding="utf-8")
        assert shown == golden.read_text(encoding="utf-8")


def test_register_path_from_the_config_file(capsys, tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(f'register = "{tmp_path / "from-config.sqlite3"}"\n', encoding="utf-8")
    monkeypatch.setenv("RISKCLASS_CONFIG_DIR", str(config))
    monkeypatch.delenv("RISKCLASS_REGISTER", raising=False)
    src = write(tmp_path / "inv.csv", INVENTORY)
    assert cli(capsys, "register", "import", str(src), "--rules-only")[0] == 0
    assert (tmp_path / "from-config.sqlite3").exists()
    assert store.register_path(tmp_path / "option.sqlite3") == tmp_path / "option.sqlite3"  # the option wins
