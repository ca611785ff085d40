"""SVG snapshots of the main TUI screens in both languages (pytest-textual-snapshot).

The engine is rules-only, so the pictures change only when the UI or the rulebook does. After a deliberate change,
look at the report and accept the new pictures with `pytest tests/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import asyncio
import csv
import time

import pytest

pytest.importorskip("pytest_textual_snapshot")

from riskclass.tui.app import RiskclassApp, rules_only_engine

SIZE = (120, 40)
LOAN = "一款为银行筛选贷款申请人的评分模型，并用人脸识别核验申请人身份"
THIN = "一个帮助老师的工具"
GROUPS = ("assess", "engine", "batch", "header")


@pytest.fixture(autouse=True)
def quick_debounce(monkeypatch):
    import riskclass.tui.screens.assess as assess

    monkeypatch.setattr(assess, "DEBOUNCE_SECONDS", 0.02)


async def settle(pilot, timeout: float = 15.0) -> None:
    app = pilot.app
    deadline = time.monotonic() + timeout
    await pilot.pause()
    while time.monotonic() < deadline:
        pending = app.assess_screen._debounce is not None
        busy = any(w.group in GROUPS and not w.is_finished for w in app.workers)
        if not pending and not busy and app.engine_state not in ("starting", "rules"):
            break
        await asyncio.sleep(0.01)
    for widget in app.screen.query("TextArea, Input"):
        widget.cursor_blink = False  # a blinking cursor would make the picture depend on timing
    await pilot.pause()


def described(text: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.assess_screen.query_one("#description").insert(text)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_assess_screen_with_an_assessment(snap_compare, lang):
    app = RiskclassApp(lang=lang, engine_factory=rules_only_engine)
    assert snap_compare(app, terminal_size=SIZE, run_before=described(LOAN))


def test_assess_screen_with_questions(snap_compare):
    app = RiskclassApp(lang="zh", engine_factory=rules_only_engine)
    assert snap_compare(app, terminal_size=SIZE, run_before=described(THIN))


def test_article_viewer(snap_compare):
    async def run_before(pilot) -> None:
        await described(LOAN)(pilot)
        criteria = pilot.app.assess_screen.query_one("#criteria")
        criteria.focus()
        criteria.highlighted = 0
        await pilot.press("enter")
        await pilot.pause()

    app = RiskclassApp(lang="zh", engine_factory=rules_only_engine)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()

    app = RiskclassApp(lang="en", engine_factory=rules_only_engine)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_batch_screen_with_results(snap_compare, lang, tmp_path):
    with (tmp_path / "products.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["编号", "产品描述"])
        writer.writerows(
            [
                ("p1", "一款为银行筛选贷款申请人的评分模型"),
                ("p2", "工厂零件缺陷检测"),
                ("p3", "智能客服机器人，回答用户关于订单的问题"),
                ("p4", THIN),
                ("p5", ""),
            ]
        )

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()
        pilot.app.screen.query_one("#batch-input").value = "products.csv"
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)

    app = RiskclassApp(lang=lang, engine_factory=rules_only_engine, start_dir=tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_review_dialog_over_an_earlier_decision(snap_compare, tmp_path, monkeypatch):
    from riskclass.audit.log import AuditLog, Suggestion
    from riskclass.engine.decide import Engine

    monkeypatch.chdir(tmp_path)  # a relative log path: the dialog shows it, and it must not depend on tmp_path
    a = Engine(model=None).assess(LOAN)
    AuditLog("audit.jsonl").append(
        LOAN, Suggestion.from_assessment(a), "张三", "medium", "评分只作参考，由信贷员决定", "2025-11-20T09:30:00Z"
    )

    async def run_before(pilot) -> None:
        await described(LOAN)(pilot)
        await pilot.press("f3")
        await pilot.pause()
        await settle(pilot)

    app = RiskclassApp(lang="zh", engine_factory=rules_only_engine, audit_log="audit.jsonl")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_register_screen(snap_compare, lang, tmp_path):
    """Five products, one decided by a reviewer (its history beside the table), every stored time fixed."""
    from tests.test_tui_register import GROUPS as REGISTER_GROUPS
    from tests.test_tui_register import build_register

    path, log = build_register(tmp_path)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("f5")
        deadline = time.monotonic() + 15
        screen = pilot.app.screen
        while time.monotonic() < deadline:  # the rows and the first product's history, read in workers, are shown
            busy = any(w.group in REGISTER_GROUPS and not w.is_finished for w in pilot.app.workers)
            if not busy and screen.query_one("#register-table").row_count and screen.product is not None:
                break
            await asyncio.sleep(0.01)
        await settle(pilot)

    app = RiskclassApp(lang=lang, engine_factory=rules_only_engine, audit_log=log, register=path)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
