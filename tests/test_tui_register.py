"""Pilot tests for the Register screen (issue 13): search, filters, sorting, the history pane, opening a product in the
Assess screen, and answers and ticks saved to the register and seen again after the app is opened again.

The register is built with a rules-only engine and the app assesses with one, so nothing moves with the model.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable, Input, Select

from riskclass.audit.log import AuditLog, Suggestion
from riskclass.engine.decide import Engine
from riskclass.register import Register
from riskclass.tui.app import RiskclassApp, rules_only_engine
from riskclass.tui.screens.assess import AssessScreen
from riskclass.tui.screens.register import RegisterScreen
from riskclass.tui.widgets.tier_badge import TierBadge

SIZE = (120, 36)
GROUPS = (
    "assess",
    "engine",
    "register",
    "register-detail",
    "register-open",
    "register-answers",
    "register-ticks",
    "register-description",
)
STAMP = "2026-11-20T09:30:00.000000Z"  # every stored time, so the history pane reads the same on every run

PRODUCTS = [
    ("AI-0001", "贷款评分", "一款为银行筛选贷款申请人的评分模型", "信贷部"),
    ("AI-0002", "缺陷检测", "工厂零件缺陷检测", "制造部"),
    ("AI-0003", "客服机器人", "智能客服机器人，回答用户关于订单的问题", "客服部"),
    ("AI-0004", "教师助手", "一个帮助老师的工具", "教务处"),  # too thin: needs review, with questions
    ("AI-0005", "门禁", "小区人脸识别门禁系统", "物业"),
]
EDITED = "智能客服机器人，回答用户关于订单和退款的问题"  # AI-0003's second description


def build_register(folder: Path) -> tuple[Path, Path]:
    """A register of five products (AI-0003 with two descriptions; AI-0001 decided medium by 张三) and its audit log,
    with every time set to STAMP."""
    path, log = folder / "register.sqlite3", folder / "audit.jsonl"
    engine = Engine(model=None)
    with Register.open(path, create=True, engine=engine, audit_log=log) as reg:
        for pid, name, text, owner in PRODUCTS:
            reg.add_or_update(pid, name, text, {"owner": owner}, source="inventory.csv")
        reg.add_or_update("AI-0003", "客服机器人", EDITED, {"owner": "客服部"}, source="inventory.csv")
        a = engine.assess(PRODUCTS[0][2])
        recorded = AuditLog(log).append(
            a.description,
            Suggestion.from_assessment(a),
            "张三",
            "medium",
            "评分只作参考，由信贷员决定",
            STAMP[:19] + "Z",
        )
        reg.link_decision("AI-0001", recorded)
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE assessments SET assessed_at = ?", (STAMP,))
        db.execute("UPDATE descriptions SET added_at = ?", (STAMP,))
        db.execute("UPDATE products SET created_at = ?, updated_at = ?", (STAMP, STAMP))
    db.close()
    return path, log


@pytest.fixture
def register(tmp_path) -> tuple[Path, Path]:
    return build_register(tmp_path)


def make_app(register: tuple[Path, Path], lang: str = "zh") -> RiskclassApp:
    path, log = register
    return RiskclassApp(lang=lang, engine_factory=rules_only_engine, audit_log=log, register=path)


def aio(test):
    import functools

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


async def settle(pilot, timeout: float = 20.0) -> None:
    """Until no debounce is pending and no worker of ours runs (the register is read in workers)."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    await pilot.pause()
    while time.monotonic() < deadline:
        screen = app.screen
        pending = getattr(app.assess_screen, "_debounce", None) is not None or (
            isinstance(screen, RegisterScreen) and screen._debounce is not None
        )
        busy = any(w.group in GROUPS and not w.is_finished for w in app.workers)
        if not pending and not busy and app.engine_state not in ("starting", "rules"):
            await pilot.pause()
            if not any(w.group in GROUPS and not w.is_finished for w in app.workers):
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the app did not settle")


async def open_register(pilot) -> RegisterScreen:
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RegisterScreen)
    return screen


def column(screen: RegisterScreen, key: str) -> list[str]:
    table = screen.query_one("#register-table", DataTable)
    return [str(getattr(c, "plain", c)) for c in table.get_column(key)]


def history(screen: RegisterScreen) -> str:
    return str(screen.query_one("#register-history").render())


def notes(app) -> list[tuple[str, str]]:
    return [(str(n.message), n.severity) for n in app._notifications]


@pytest.fixture(autouse=True)
def quick_debounce(monkeypatch):
    import riskclass.tui.screens.assess as assess
    import riskclass.tui.screens.register as register_screen

    monkeypatch.setattr(assess, "DEBOUNCE_SECONDS", 0.02)
    monkeypatch.setattr(register_screen, "SEARCH_DEBOUNCE_SECONDS", 0.02)


@aio
async def test_the_table_searches_filters_sorts_and_shows_history(register):
    app = make_app(register)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_register(pilot)
        assert screen.shown_ids() == [p[0] for p in PRODUCTS]
        footer = {b.binding.description for b in screen.active_bindings.values() if b.binding.show}
        assert {"搜索", "等级", "需复核", "排序", "倒序", "返回"} <= footer and "登记册" not in footer
        assert column(screen, "tier") == ["高", "低", "中", "低", "高"]  # values in the interface language
        assert column(screen, "review") == ["否", "否", "否", "是", "否"]
        assert column(screen, "decided") == ["中", "", "", "", ""]  # the verified decision of AI-0001
        assert column(screen, "assessed")[0] == "2026-11-20 09:30"
        shown = history(screen)  # the first row is highlighted: its history is beside the table
        assert "AI-0001" in shown and "张三" in shown and "评分只作参考" in shown and "（建议为 高）" in shown

        await pilot.press("slash")  # / searches ids, names and the current description
        assert app.focused is screen.query_one("#register-search", Input)
        await pilot.press(*"0003")
        await settle(pilot)
        assert screen.shown_ids() == ["AI-0003"]
        shown = history(screen)
        assert shown.index(EDITED) < shown.index(PRODUCTS[2][2])  # both descriptions, the newest first
        assert "v2" in shown and "v1" in shown and "inventory.csv" in shown
        screen.query_one("#register-search", Input).value = "退款"  # in the current description only
        await settle(pilot)
        assert screen.shown_ids() == ["AI-0003"]
        screen.query_one("#register-search", Input).value = ""
        await pilot.press("enter")  # Enter in the search field goes back to the table
        await settle(pilot)
        assert app.focused is screen.query_one("#register-table") and len(screen.shown_ids()) == 5

        await pilot.press("t")  # tier filter: all → high
        await settle(pilot)
        assert screen.query_one("#register-tier", Select).value == "high"
        assert screen.shown_ids() == ["AI-0001", "AI-0005"]
        await pilot.press("t", "t", "t")  # → medium → low → all
        await settle(pilot)
        assert len(screen.shown_ids()) == 5
        await pilot.press("n")  # needs review: only those that do
        await settle(pilot)
        assert screen.shown_ids() == ["AI-0004"]
        await pilot.press("n")  # those that do not
        await settle(pilot)
        assert screen.shown_ids() == ["AI-0001", "AI-0002", "AI-0003", "AI-0005"]
        await pilot.press("n")
        await settle(pilot)

        screen.sort_by("tier")
        await pilot.pause()
        assert column(screen, "tier") == ["高", "高", "中", "低", "低"]
        await pilot.press("r")  # reversed
        await pilot.pause()
        assert column(screen, "tier") == ["低", "低", "中", "高", "高"]
        await pilot.press("s")  # the next column: needs review, still reversed
        await pilot.pause()
        assert screen.sort == ("review", True) and column(screen, "review")[0] == "是"
        screen.sort_by("decided")
        await pilot.pause()
        assert screen.shown_ids()[0] == "AI-0001"  # products without a decision come after

        await pilot.press("ctrl+l")  # the same table in English
        await pilot.pause()
        assert column(screen, "decided")[0] == "medium"
        assert "yes" in column(screen, "review") and "Decisions (verified in the audit log)" in history(screen)


@aio
async def test_enter_opens_a_product_and_its_answers_and_ticks_are_kept_in_the_register(register):
    app = make_app(register)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_register(pilot)
        table = screen.query_one("#register-table", DataTable)
        table.move_cursor(row=3)  # AI-0004, the thin one
        await pilot.press("enter")
        await settle(pilot)
        assess = app.assess_screen
        assert app.screen is assess and assess.text == PRODUCTS[3][2]
        assert "AI-0004 教师助手" in assess.query_one("#editor-pane").border_title
        assert app.proposed_export_base().name == "AI-0004-教师助手"  # Ctrl+S names the report after the product
        asked = assess.assessment.questions[0].criterion
        await pilot.press("f2", "enter")  # 是
        await settle(pilot)
        tier = assess.assessment.tier
        obligations = assess.query_one("#obligations")
        obligations.focus()
        obligations.highlighted = 0
        await pilot.press("space")
        await settle(pilot)
        ticked = set(obligations.done)
        assert ticked

    with Register.open(register[0], engine=Engine(model=None), audit_log=register[1]) as reg:
        saved = reg.product("AI-0004")
    assert saved.answers == {asked: True} and set(saved.ticks) == ticked
    assert saved.row.tier == tier  # the register assessed it again with the answer

    app = make_app(register)  # the app opened again: the product comes back as it was left
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_register(pilot)
        assert column(screen, "tier")[3] == {"high": "高", "medium": "中", "low": "低"}[tier]
        screen.query_one("#register-table", DataTable).move_cursor(row=3)
        await settle(pilot)
        assert f"{asked}=是" in history(screen)
        titles = {o.id: o.title.zh for o in Engine(model=None).rulebook.obligations}
        assert all(titles[step] in history(screen) for step in ticked)  # ticked steps by their titles
        await pilot.press("enter")
        await settle(pilot)
        assess = app.assess_screen
        assert assess.answers == {asked: True} and assess.assessment.answers == {asked: True}
        assert assess.query_one("#obligations").done == ticked
        assert assess.query_one("#obligations").get_option_at_index(0).prompt.plain.startswith("☑")

        await pilot.press("ctrl+n")  # a new product is not the register's: answers go nowhere
        await settle(pilot)
        assert assess.product is None


@aio
async def test_an_edited_description_is_saved_as_the_products_next_version(register):
    app = make_app(register)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_register(pilot)
        screen.query_one("#register-table", DataTable).move_cursor(row=1)  # AI-0002 缺陷检测
        await pilot.press("enter")
        await settle(pilot)
        assess = app.assess_screen
        footer = lambda: {b.binding.description for b in assess.active_bindings.values() if b.binding.show}  # noqa: E731
        assert "存入登记册" not in footer()  # nothing edited yet: nothing to save
        assess.query_one("#description").insert("，并按检测结果给工人打绩效分")
        await settle(pilot)
        assert "存入登记册" in footer() and assess.assessment.tier == "high"
        await pilot.press("f8")
        await settle(pilot)
        assert any("已存为 AI-0002 的第 2 版描述" in m for m, _ in notes(app))
        assert "存入登记册" not in footer()  # the register holds this text now

        screen = await open_register(pilot)
        assert column(screen, "tier")[1] == "高"  # assessed by the register too
        assert "v2" in history(screen) and "按检测结果给工人打绩效分" in history(screen)
    with Register.open(register[0], audit_log=register[1], engine=Engine(model=None)) as reg:
        product = reg.product("AI-0002")
    assert [d.version for d in product.descriptions] == [1, 2] and product.columns == {"owner": "制造部"}


@aio
async def test_a_decision_about_a_register_product_is_linked_to_it(register):
    from textual.widgets import RadioButton

    app = make_app(register)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_register(pilot)
        screen.query_one("#register-table", DataTable).move_cursor(row=1)  # AI-0002
        await pilot.press("enter")
        await settle(pilot)
        assert not app.assess_screen.query_one("#decided-tier", TierBadge).display
        await pilot.press("f3")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#review-reviewer", Input).value = "李四"
        dialog.query_one("#review-decision").query(RadioButton)[1].value = True  # 改为：高风险
        dialog.query_one("#review-reason", Input).value = "检测结果决定工人绩效"
        await pilot.click("#review-save")
        await pilot.pause()
        for _ in range(200):
            if not any(w.group == "review" and not w.is_finished for w in app.workers):
                break
            await asyncio.sleep(0.02)
        await settle(pilot)
        badge = app.assess_screen.query_one("#decided-tier", TierBadge)
        assert badge.display and badge.tier == "high" and str(badge.render()) == "复核决定：高风险"
        screen = await open_register(pilot)
        assert column(screen, "decided")[1] == "高"
        assert (
            screen.highlighted_id == "AI-0002"
            and "李四" in history(screen)
            and "检测结果决定工人绩效" in history(screen)
        )


@aio
async def test_no_register_yet_says_how_to_make_one(tmp_path):
    app = RiskclassApp(engine_factory=rules_only_engine, register=tmp_path / "none.sqlite3")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_register(pilot)
        assert screen.shown_ids() == []
        said = str(screen.query_one("#register-count").render())
        assert "处没有登记册" in said and "riskclass register import" in said
        assert any(s == "error" and "处没有登记册" in m for m, s in notes(app))
        assert not (tmp_path / "none.sqlite3").exists()  # looking never creates one
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AssessScreen)


def test_the_app_takes_its_register_from_the_command_line(monkeypatch, tmp_path):
    """`riskclass --register PATH` opens the app on that register; the register command's own --register is apart."""
    import riskclass.cli.main as cli
    import riskclass.tui as tui

    opened = {}
    monkeypatch.setattr(tui, "run", lambda **kwargs: opened.update(kwargs) or 0)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert cli.main(["--register", str(tmp_path / "team.sqlite3"), "--lang", "en"]) == 0
    assert opened["register"] == str(tmp_path / "team.sqlite3") and opened["lang"] == "en"
    args = cli.build_parser().parse_args(["register", "list", "--register", "other.sqlite3"])
    assert args.register == "other.sqlite3" and args.app_register is None
