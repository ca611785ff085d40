"""Pilot tests for every flow of the TUI (issue 5). The engine is rules-only so results never move with the model."""

from __future__ import annotations

import asyncio
import csv
import functools
import json
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("textual")

from textual import events
from textual.widgets import Button, DataTable, Input, RadioSet, Select, TextArea

from riskclass.engine.decide import Engine
from riskclass.errors import InputError
from riskclass.reports.report import marked_description
from riskclass.reports.terminal import non_overlapping
from riskclass.tui.app import RiskclassApp, rules_only_engine
from riskclass.tui.messages import Citation, OpenArticles, ProductRef
from riskclass.tui.screens.article import ArticleScreen
from riskclass.tui.screens.assess import AssessScreen
from riskclass.tui.screens.batch import BatchScreen
from riskclass.tui.screens.confirm import ConfirmScreen
from riskclass.tui.screens.export import ExportScreen
from riskclass.tui.screens.help import HelpScreen
from riskclass.tui.screens.open import OpenScreen
from riskclass.tui.widgets.assessment_view import AssessmentView
from riskclass.tui.widgets.evidence import criterion_style
from riskclass.tui.widgets.tier_badge import TierBadge

SIZE = (100, 32)
LOAN = "一款为银行筛选贷款申请人的评分模型"
THIN = "一个帮助老师的工具"  # too thin to judge: needs review, with follow-up questions
GROUPS = ("assess", "engine", "batch", "header", "open")


@pytest.fixture(autouse=True)
def quick_debounce(monkeypatch):
    """The pause before assessing is for people typing; tests insert whole texts, so they need not wait for it."""
    import riskclass.tui.screens.assess as assess

    monkeypatch.setattr(assess, "DEBOUNCE_SECONDS", 0.02)


def aio(test):
    """Run an async test with asyncio.run (the test dependencies have no async plugin); fixtures still resolve, as
    pytest reads the signature through functools.wraps."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


def make_app(tmp_path: Path | None = None, lang: str = "zh", factory=rules_only_engine) -> RiskclassApp:
    return RiskclassApp(lang=lang, engine_factory=factory, start_dir=tmp_path)


async def settle(pilot, timeout: float = 15.0) -> None:
    """Wait until no debounce is pending and no worker of ours runs (Textual's wait_for_complete would also wait for
    long-lived library workers)."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    await pilot.pause()  # let what the test just did be handled (keys, messages, new timers)
    while time.monotonic() < deadline:
        screen = getattr(app, "assess_screen", None)
        pending = screen is not None and screen._debounce is not None
        busy = any(w.group in GROUPS and not w.is_finished for w in app.workers)
        loading = app.engine_state in ("starting", "rules")  # the factory's engine has not been announced yet
        if not pending and not busy and not loading:
            await pilot.pause()  # the messages the workers posted
            return
        await asyncio.sleep(0.01)  # the app's loop runs meanwhile; a pause would repaint the screen every time
    raise AssertionError("the app did not settle")


async def type_description(pilot, text: str) -> None:
    area = pilot.app.assess_screen.query_one("#description", TextArea)
    area.focus()
    area.insert(text)
    await settle(pilot)


async def wait_until(pilot, condition, tries: int) -> None:
    """Poll `condition` every 20 ms, at most `tries` times (workers and suggesters answer in the background)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)


def notes(app) -> list[tuple[str, str]]:
    return [(str(n.message), n.severity) for n in app._notifications]


# ---- startup and assessing ------------------------------------------------------------------------------------


def held_factory(release: threading.Event):
    """An engine factory that returns only once `release` is set: the model still loading."""

    def factory():
        release.wait(10)
        return Engine(model=None)

    return factory


@aio
async def test_first_screen_paints_before_the_engine_is_ready():
    release = threading.Event()
    app = make_app(factory=held_factory(release))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, AssessScreen)
        # the rules-only engine arrives first; the factory is still "loading the model"
        await wait_until(pilot, lambda: app.engine_state == "rules", tries=100)
        assert app.engine_state == "rules"
        assert "模型加载中" in app.sub_title
        app.screen.query_one("#description", TextArea).insert(LOAN)
        await wait_until(pilot, lambda: app.assess_screen.assessment is not None, tries=200)
        assert app.assess_screen.assessment.tier == "high"  # typing and assessing work while the model loads
        release.set()
        await settle(pilot)
        assert app.engine_state == "rules-final" and app.sub_title == "仅规则"


@aio
async def test_garbage_collection_resumes_once_the_engine_is_final():
    """`riskclass.tui.run` pauses the collector for start-up; a session that never resumed it would grow without end."""
    import gc

    release = threading.Event()
    app = RiskclassApp(engine_factory=held_factory(release), resume_gc=True)
    gc.disable()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.engine_state == "rules", tries=100)
            assert not gc.isenabled()  # still starting: the model is loading
            release.set()
            await settle(pilot)
            assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()  # the test process's objects go back to being collected


@aio
async def test_typing_a_description_shows_the_whole_assessment(monkeypatch):
    import riskclass.tui.screens.assess as assess

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*"AI ")  # real keystrokes reach the text area
        await type_description(pilot, LOAN)
        screen = app.assess_screen
        assert screen.text == "AI " + LOAN
        a = screen.assessment
        assert a == Engine(model=None).assess("AI " + LOAN)  # the same engine as the CLI, nothing re-implemented
        assert a.tier == "high" and "H4" in [h.id for h in a.criteria]
        badge = screen.query_one(TierBadge)
        assert badge.has_class("-high") and str(badge.render()) == "高风险"
        assert "置信度 0.85" in str(screen.query_one("#meta").render())
        criteria = screen.query_one("#criteria")
        assert [line.key for line in criteria.lines] == [h.id for h in a.criteria]
        assert "重大权益决策" in criteria.lines[0].prompt.plain  # criteria with their titles
        obligations = screen.query_one("#obligations")
        assert [line.key for line in obligations.lines] == [o.id for o in a.obligations]
        assert "第四十六条" in obligations.lines[0].prompt.plain  # each step with its article
        article50 = screen.query_one("#article50")
        assert len(article50.lines) == 4 and sum("■" in line.prompt.plain for line in article50.lines) == sum(
            m.triggered for m in a.article50
        )
        # the description, each evidence span in its criterion's colour (render.CRITERION_STYLE's family)
        content = screen.query_one("#evidence").visual
        styled = {(content.plain[sp.start : sp.end], sp.style) for sp in content.spans}
        expected = {(a.description[s:e], criterion_style(c)) for s, e, c in non_overlapping(a.evidence_spans())}
        assert styled == expected and expected
        assert "ansi_bright_magenta" in criterion_style("H4")  # render.CRITERION_STYLE: 95 = bright magenta

        # empty text: a hint, not an error
        area = screen.query_one("#description", TextArea)
        area.clear()
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.assessment is None
        hint = screen.query_one("#hint")
        assert "请描述" in str(hint.render()) and not hint.has_class("-error")
        assert screen.query_one(AssessmentView).has_class("-empty")
        assert not [n for n in notes(app) if n[1] in ("warning", "error")]

        # unusable text: the engine's one-line message, and the text stays
        await type_description(pilot, "？？？！！！")
        with pytest.raises(InputError) as err:
            Engine().assess("？？？！！！")
        assert str(hint.render()) == err.value.text("zh") and hint.has_class("-error")  # in the app's language
        assert screen.text == "？？？！！！"

        # the key assesses at once, without waiting for the pause in typing
        monkeypatch.setattr(assess, "DEBOUNCE_SECONDS", 30)
        area.clear()
        area.insert(LOAN)
        await pilot.pause()
        assert screen.assessment is None  # still waiting for the pause
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.assessment is not None, tries=100)
        assert screen.assessment.tier == "high"


@aio
async def test_a_megabyte_paste_stays_responsive_and_keeps_the_text():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, LOAN)
        screen = app.assess_screen
        area = screen.query_one("#description", TextArea)
        big = ("一款为银行筛选贷款申请人的评分模型。" * 60_000)[:1_000_000]
        started = time.perf_counter()
        area.post_message(events.Paste(big))
        await pilot.press("x")
        await settle(pilot)
        assert time.perf_counter() - started < 3  # a soft-wrapped megabyte line takes minutes in a TextArea
        assert screen.text == LOAN + "x"  # what was typed is all there, and typing still works
        hint = str(screen.query_one("#hint").render())
        with pytest.raises(InputError) as err:
            Engine().assess(LOAN + big)
        assert any(m == err.value.text("zh") for m, _ in notes(app))  # the engine's one-line reason
        assert "100,000" in err.value.message and (hint == err.value.text("zh") or screen.assessment is not None)
        # a long line that can be assessed is taken, with soft wrap off while it is there
        area.clear()
        area.post_message(events.Paste("零件缺陷检测" * 900))
        await settle(pilot)
        assert not area.soft_wrap and screen.assessment.tier == "low"
        area.clear()
        await settle(pilot)
        assert area.soft_wrap


@aio
async def test_a_broken_model_falls_back_to_rules_and_a_failing_worker_loses_nothing():
    from riskclass.errors import ModelError

    def broken_model():
        raise ModelError("model file x is missing: reinstall riskclass or run `riskclass train`")

    class Broken:
        rulebook = Engine().rulebook
        model = None

        def assess(self, text, answers=None):
            raise RuntimeError("boom")

    app = make_app(factory=broken_model)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.engine_state == "failed" and app.sub_title == "仅规则"
        assert any("model file x is missing" in m and s == "warning" for m, s in notes(app))
        await type_description(pilot, LOAN)
        assert app.assess_screen.assessment.tier == "high"  # the rules still assess

        app.engine = Broken()  # an unexpected failure inside the engine
        await type_description(pilot, "。")
        assert app.assess_screen.text == LOAN + "。"  # everything typed is still there
        assert any("RuntimeError: boom" in m and s == "error" for m, s in notes(app))
        assert app.is_running


# ---- articles and the checklist ---------------------------------------------------------------------------------


@aio
async def test_citations_open_the_article_and_steps_can_be_ticked(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, LOAN)
        screen = app.assess_screen
        a = screen.assessment
        criteria = screen.query_one("#criteria")
        criteria.focus()
        criteria.highlighted = 0
        await pilot.press("enter")  # Enter on a criterion
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        assert [art.label for art, _ in app.screen.articles] == list(dict.fromkeys(a.criteria[0].articles))
        quoted = app.screen.query(".article-text").first().visual
        assert any("reverse" in str(sp.style) for sp in quoted.spans)  # the rulebook's quote is highlighted
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen

        obligations = screen.query_one("#obligations")
        screen.query_one(AssessmentView).scroll_to_widget(obligations, animate=False, top=True)
        await pilot.pause()
        await pilot.click(obligations, offset=(4, 0))  # a click on a step
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        assert app.screen.articles[0][0].label == a.obligations[0].articles[0]
        await pilot.press("escape")
        await pilot.pause()

        obligations.focus()
        obligations.highlighted = 0
        await pilot.press("space")  # Space ticks the step off
        assert obligations.done == {a.obligations[0].id}
        assert obligations.get_option_at_index(0).prompt.plain.startswith("☑")
        md, _, _ = app.export(tmp_path / "ticked")
        assert f"- [x] **{a.obligations[0].title.zh}**" in md.read_text(encoding="utf-8")

        app.post_message(OpenArticles((Citation("第九十九条"),)))  # a citation the draft lacks: said, not crashed
        await pilot.pause()
        assert app.screen is screen and any(s == "error" and "第九十九条" in m for m, s in notes(app))


@aio
async def test_each_step_says_what_brought_it_in_the_reports_words_and_language(tmp_path):
    """A duty brought by a criterion names it; one every product of the tier owes says so — as the reports do."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, LOAN)
        screen = app.assess_screen
        a = screen.assessment
        obligations = screen.query_one("#obligations")
        md, _, _ = app.export(tmp_path / "zh")
        report = md.read_text(encoding="utf-8")
        shown = [line.prompt.plain for line in obligations.lines]
        assert "（由 H4 触发）" in " ".join(shown) and "（高风险产品均须履行）" in " ".join(shown)
        for o, line in zip(a.obligations, shown, strict=True):
            because = o.because.shown("zh")
            assert because and line.endswith(" " + because), line
            assert f"*{because}*" in report  # the report's words for the same duty
        await pilot.press("ctrl+l")
        await pilot.pause()
        shown = [line.prompt.plain for line in obligations.lines]
        assert "(brought by H4)" in " ".join(shown) and "(owed by every high-risk product)" in " ".join(shown)
        assert all(line.endswith(" " + o.because.shown("en")) for o, line in zip(a.obligations, shown, strict=True))
        assert not any("触发" in line or "均须履行" in line for line in shown)


# ---- follow-up questions --------------------------------------------------------------------------------------


@aio
async def test_answering_questions_reassesses_and_says_so():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, THIN)
        screen = app.assess_screen
        first = screen.assessment
        assert first.needs_review and first.questions
        asked = first.questions[0].criterion
        await pilot.press("f2")  # focus the first question: 是 is under the cursor
        assert isinstance(app.focused, RadioSet) and app.focused.id == f"q-{asked}"
        await pilot.press("enter")
        await settle(pilot)
        a = screen.assessment
        assert a == Engine(model=None).assess(THIN, answers={asked: True})
        assert a.answers == {asked: True} and a.decided_by == "answers"
        assert a.tier != first.tier and any(h.source == "answer" for h in a.criteria)
        meta = str(screen.query_one("#meta").render())
        assert "依据你的回答" in meta and f"{asked}=是" in meta
        # the answered question stays on screen (to change or withdraw it), with its answer pressed
        radio = screen.query_one(f"#q-{asked}", RadioSet)
        assert radio.pressed_index == 0 and app.focused is radio  # still where the user was
        radio.query("RadioButton")[2].value = True  # 不确定 withdraws the answer
        await settle(pilot)
        assert screen.assessment == first

        other = first.questions[-1].criterion
        screen.query_one(f"#q-{other}", RadioSet).query("RadioButton")[1].value = True  # 否
        await settle(pilot)
        assert screen.assessment.answers == {other: False}
        clear = screen.query_one("#clear-answers")
        screen.query_one(AssessmentView).scroll_to_widget(clear, animate=False)
        await pilot.pause()
        await pilot.click(clear)
        await settle(pilot)
        assert screen.assessment == first


# ---- export -------------------------------------------------------------------------------------------------------


@aio
async def test_export_writes_markdown_and_json_and_reports_errors(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")  # nothing to export yet: a warning, no dialog
        await pilot.pause()
        assert app.screen is app.assess_screen and any(s == "warning" for _, s in notes(app))

        await type_description(pilot, LOAN)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("escape")  # cancel writes nothing
        await pilot.pause()
        assert app.screen is app.assess_screen and not list(tmp_path.iterdir())

        await pilot.press("ctrl+s")
        await pilot.pause()
        field = app.screen.query_one("#export-path", Input)
        assert field.value == str(tmp_path / "一款为银行筛选贷款申请人")  # the description's first words
        field.value = str(tmp_path / "loan.md")  # an extension is dropped: all three files are written
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.assess_screen
        a = app.assess_screen.assessment
        md, js = tmp_path / "loan.md", tmp_path / "loan.json"
        text = md.read_text(encoding="utf-8")
        assert "建议等级" in text and "高风险" in text and marked_description(a) in text
        assert "第十一条" in text and "不是法律意见" in text
        data = json.loads(js.read_text(encoding="utf-8"))
        assert data["tier"] == "high" and data["description"] == LOAN
        assert data["criteria"][0]["id"] == "H4" and "versions" in data
        assert "事前评估与风险预警清单" in (tmp_path / "loan.html").read_text(encoding="utf-8")
        assert data["report"]["kind"] == "checklist"
        assert any(str(md) in m and str(js) in m and "loan.html" in m for m, _ in notes(app))

        assert app.export(tmp_path / "missing-dir" / "r") is None  # an unwritable path: a notification
        await pilot.pause()
        assert any(s == "error" and "missing-dir" in m for m, s in notes(app))
        assert app.is_running and app.assess_screen.text == LOAN


# ---- new, open, clear; the name Ctrl+S proposes; the decided tier ------------------------------------------------


def shown_footer(screen) -> set[str]:
    return {b.binding.description for b in screen.active_bindings.values() if b.binding.show}


@aio
async def test_new_open_and_clear(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, THIN)
        screen = app.assess_screen
        assert {"新建", "打开", "清空"} <= shown_footer(screen)
        asked = screen.assessment.questions[0].criterion
        await pilot.press("f2", "enter")  # 是 to the first question
        await settle(pilot)
        answered = screen.assessment
        obligations = screen.query_one("#obligations")
        obligations.focus()
        obligations.highlighted = 0
        await pilot.press("space")
        assert "勾选" in shown_footer(screen)  # the checklist's own key, in the footer while it has the focus
        ticked = set(obligations.done)
        assert ticked and answered.answers == {asked: True}
        app.export(tmp_path / "thin")

        await pilot.press("ctrl+n")  # another product: nothing of this one is left
        await settle(pilot)
        assert screen.text == "" and screen.assessment is None and screen.answers == {} and not obligations.done
        assert app.focused is screen.query_one("#description")

        await pilot.press("ctrl+o")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, OpenScreen)
        dialog.query_one("#open-path", Input).value = "nope.json"  # relative to the folder the app started in
        await pilot.press("enter")
        assert app.screen is dialog and "没有这个文件" in str(dialog.query_one("#open-error").render())
        dialog.query_one("#open-path", Input).value = "thin.json"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.text == THIN and screen.answers == {asked: True} and screen.assessment == answered
        assert obligations.done == ticked and obligations.get_option_at_index(0).prompt.plain.startswith("☑")
        assert any("已打开" in m and "thin.json" in m for m, _ in notes(app))
        assert app.proposed_export_base() == tmp_path / "thin"  # saving again proposes the file it came from

        await pilot.press("f4")  # clear: the text, answers and ticks go; it is still the same product
        await settle(pilot)
        assert screen.text == "" and screen.answers == {} and not obligations.done and screen.assessment is None
        assert app.proposed_export_base() == tmp_path / "thin"

        (tmp_path / "notes.json").write_text('{"title": "not an assessment"}', encoding="utf-8")
        await type_description(pilot, LOAN)
        await pilot.press("ctrl+o")
        await pilot.pause()
        app.screen.query_one("#open-path", Input).value = "notes.json"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and screen.text == LOAN  # a file that is not an assessment loses nothing
        assert any(s == "error" and "无法打开" in m and "notes.json" in m for m, s in notes(app))


@pytest.mark.parametrize(("lang", "yes", "no"), [("zh", "是", "否"), ("en", "Yes", "No")])
@aio
async def test_ctrl_s_proposes_a_name_from_the_product_and_asks_before_overwriting(tmp_path, lang, yes, no):
    app = make_app(tmp_path, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, "AI resume screening for large employers. It ranks every candidate.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.query_one("#export-path", Input).value == str(
            tmp_path / "AI_resume_screening_for_large_employers"
        )
        await pilot.press("escape")
        await pilot.pause()

        app.assess_screen.product = ProductRef("AI-0026", "招聘/筛选 助手")  # as the register knows it
        base = tmp_path / "AI-0026-招聘_筛选_助手"  # no separator or space is left in a file name
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.query_one("#export-path", Input).value == str(base)
        await pilot.press("enter")
        await pilot.pause()
        md, js = Path(f"{base}.md"), Path(f"{base}.json")
        assert app.screen is app.assess_screen and md.exists() and js.exists()

        md.write_text("edited by hand", encoding="utf-8")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen.query_one("#export-path", Input).value == str(base)
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        question = str(dialog.query_one("#confirm-question").render())
        assert str(md) in question and str(js) in question and f"{base}.html" in question
        assert (str(dialog.query_one("#confirm-yes").label), str(dialog.query_one("#confirm-no").label)) == (yes, no)
        await pilot.press("enter")  # No has the focus: a stray Enter overwrites nothing, the name can be changed
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen) and md.read_text(encoding="utf-8") == "edited by hand"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is app.assess_screen and md.read_text(encoding="utf-8").startswith("# ")  # a report again


@aio
async def test_the_badge_shows_the_reviewers_decided_tier_beside_the_suggestion(tmp_path):
    from riskclass.audit.log import AuditLog

    log_path = tmp_path / "audit.jsonl"
    AuditLog(log_path).record(Engine(model=None).assess(LOAN), "张三", "medium", "评分只作参考")
    app = RiskclassApp(engine_factory=rules_only_engine, start_dir=tmp_path, audit_log=log_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, LOAN)
        view = app.assess_screen.query_one(AssessmentView)
        decided = view.query_one("#decided-tier", TierBadge)
        assert str(view.query_one("#tier").render()) == "高风险"
        assert decided.display and str(decided.render()) == "复核决定：中风险" and decided.has_class("-medium")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert str(decided.render()) == "Decided: Medium risk"
        await pilot.press("ctrl+n")
        await type_description(pilot, "工厂零件缺陷检测")  # no decision about this product
        assert not decided.display


# ---- language, help, palette, themes ------------------------------------------------------------------------


@aio
async def test_switching_language_relabels_everything():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, THIN)
        screen = app.assess_screen
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.lang == "en"
        assert screen.query_one("#description", TextArea).placeholder.startswith("Type or paste")
        assert str(screen.query_one(TierBadge).render()) == "Low risk"
        assert "Please establish" in str(screen.query_one("#questions .section-title").render())
        assert screen.assessment.questions[0].text.en in [str(w.render()) for w in screen.query(".question-text")]
        footer = {b.binding.description for b in screen.active_bindings.values()}
        assert {"Assess now", "Export", "Batch", "中文", "Help", "Commands"} <= footer
        assert app.sub_title == "rules only"
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.lang == "zh" and str(screen.query_one(TierBadge).render()) == "低风险"
        footer = {b.binding.description for b in screen.active_bindings.values() if b.binding.show}
        assert {"立即评估", "批量", "English", "帮助"} <= footer
        assert "导出… ^s" in str(screen.query_one("#export", Button).label)  # Ctrl+S is on its button


@aio
async def test_english_start_help_palette_and_themes():
    app = make_app(lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, LOAN)
        assert str(app.assess_screen.query_one(TierBadge).render()) == "High risk"
        assert "Decisions on significant rights" in app.assess_screen.query_one("#criteria").lines[0].prompt.plain

        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        listed = {k for _, rows in app.screen.sections for k, _ in rows}
        assert {"F1 / ?", "Ctrl+S", "Ctrl+B", "Ctrl+L", "Ctrl+T", "Ctrl+R", "F2", "Ctrl+P", "Space"} <= listed
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.assess_screen
        app.assess_screen.query_one("#assess-now").focus()  # ? opens help when the text area has no focus
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")

        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Assess now", "Export", "Batch", "Answer questions", "Language: 中文", "Light/dark", "Help"} <= titles
        assert "第四十六条 分类监管" in titles  # every article of the draft, found by searching

        assert app.current_theme.dark
        app.action_toggle_theme()  # ctrl+t
        assert not app.current_theme.dark
        assert ("ctrl+t", "toggle_theme") in {(b.key, b.action) for b in app.BINDINGS}

        await pilot.press("ctrl+p")
        await pilot.press(*"Bat")
        # the palette searches in the background
        await wait_until(
            pilot,
            lambda: "Batch" in str(app.screen.query("CommandList").first().get_option_at_index(0).prompt),
            tries=50,
        )
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BatchScreen)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Run", "Cancel run", "Browse"} <= titles  # the batch screen's actions too


@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_palette_and_textuals_own_commands_speak_the_interface_language(tmp_path, lang):
    from textual.command import CommandPalette

    words = {
        "zh": (
            "主题",
            "退出",
            "按键",
            "截图",
            "搜索命令…",
            "没有匹配的命令",
            "搜索主题…",
            "截图已保存",
            "按 Ctrl+Q 退出",
        ),
        "en": (
            "Theme",
            "Quit",
            "Keys",
            "Screenshot",
            "Search for commands…",
            "No matches found",
            "Search for themes…",
            "Screenshot saved",
            "Press Ctrl+Q to quit",
        ),
    }[lang]
    theme, quit_, keys, shot, placeholder, no_matches, themes, saved, how_to_quit = words
    app = make_app(tmp_path, lang=lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        assert {theme, quit_, keys, shot} <= set(commands)
        if lang == "zh":  # none of Textual's English titles or help lines is left
            assert not {"Theme", "Quit", "Keys", "Screenshot", "Maximize"} & set(commands)
            assert not any(h.startswith(("Quit the application", "Save an SVG")) for h in map(str, commands))

        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = app.screen
        assert isinstance(palette, CommandPalette) and palette.query_one(Input).placeholder == placeholder
        palette.query_one(Input).value = "zzzzzz"
        await wait_until(
            pilot,
            lambda: (
                palette.query_one("CommandList").option_count
                and palette.query_one("CommandList").get_option_at_index(0).id == "--no-matches"
            ),
            tries=150,
        )
        assert str(palette.query_one("CommandList").get_option_at_index(0).prompt.renderable) == no_matches
        await pilot.press("escape")
        await pilot.pause()

        commands[keys].callback()  # Keys: the app's own help screen, every key in the interface language
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        commands[theme].callback()
        await pilot.pause()
        assert app.screen.query_one(Input).placeholder == themes
        await pilot.press("escape")
        await pilot.pause()

        app.action_help_quit()  # what Ctrl+C says outside a text field
        app.deliver_screenshot(path=str(tmp_path))
        await wait_until(pilot, lambda: any(saved in m for m, _ in notes(app)), tries=200)
        assert any(how_to_quit in m for m, _ in notes(app)) and any(saved in m for m, _ in notes(app))
        assert list(tmp_path.glob("*.svg"))


# ---- batch ----------------------------------------------------------------------------------------------------------

BATCH_ROWS = [
    ("p1", LOAN),
    ("p2", "工厂零件缺陷检测"),
    ("p3", "智能客服机器人，回答用户关于订单的问题"),
    ("p4", THIN),
    ("p5", ""),
    ("p6", "人脸识别门禁系统"),
]


def write_batch_csv(path: Path, rows=BATCH_ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["编号", "产品描述"])
        writer.writerows(rows)
    return path


async def open_batch(pilot, name: str) -> BatchScreen:
    await settle(pilot)
    await pilot.press("ctrl+b")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, BatchScreen)
    screen.query_one("#batch-input", Input).value = name
    await pilot.pause()
    await settle(pilot)
    return screen


@aio
async def test_batch_run_filter_sort_and_open_a_row(tmp_path):
    write_batch_csv(tmp_path / "products.csv")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_batch(pilot, "products.csv")
        assert screen.query_one("#batch-column", Select).value == "产品描述"  # detected from the header
        assert screen.query_one("#batch-output", Input).value == "products.riskclass.csv"
        await pilot.press("ctrl+r")
        await settle(pilot)
        out = tmp_path / "products.riskclass.csv"
        assert out.exists()  # the same file `riskclass batch` writes
        with out.open(encoding="utf-8") as f:
            written = list(csv.DictReader(f))
        assert [r["tier"] for r in written] == ["high", "low", "medium", "low", "", "high"]
        table = screen.query_one(DataTable)
        assert table.row_count == 6
        assert "完成：6 行" in str(screen.query_one("#batch-status").render())

        screen.query_one("#filter-tier", Select).value = "high"
        await pilot.pause()
        assert [int(k.value) for k in table.rows] == [0, 5]
        screen.query_one("#filter-tier", Select).value = "__all__"
        screen.query_one("#filter-review", Select).value = "true"
        await pilot.pause()
        assert [int(k.value) for k in table.rows] == [3, 4]  # the thin one and the failed (empty) one
        screen.query_one("#filter-review", Select).value = "__all__"
        screen.query_one("#filter-criterion", Select).value = "H5"
        await pilot.pause()
        assert [int(k.value) for k in table.rows] == [5]
        screen.query_one("#filter-criterion", Select).value = "__all__"
        await pilot.pause()

        screen.sort_by("tier")
        await pilot.pause()
        order = [table.get_row_at(i)[2].plain for i in range(table.row_count)]
        assert order == ["高", "高", "中", "低", "低", ""]  # table values in the interface language
        assert [table.get_row_at(i)[6] for i in range(table.row_count)] == ["否", "否", "否", "否", "是", "是"]
        await pilot.press("ctrl+l")
        await pilot.pause()
        order = [table.get_row_at(i)[2].plain for i in range(table.row_count)]
        assert order == ["high", "high", "medium", "low", "low", ""]
        assert table.get_row_at(5)[6] == "yes"
        await pilot.press("ctrl+l")
        await pilot.pause()

        table.focus()
        table.move_cursor(row=2)  # medium: the customer-service bot
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is app.assess_screen
        assert app.assess_screen.text == "智能客服机器人，回答用户关于订单的问题"
        assert app.assess_screen.assessment.tier == "medium"


@aio
async def test_batch_unreadable_file_shows_the_cli_message(tmp_path):
    from riskclass.tables.read import read_table_header

    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(InputError) as err:
        read_table_header(str(tmp_path / "empty.csv"))
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_batch(pilot, "empty.csv")
        await pilot.press("enter")  # submitting the path reads it "loudly"
        await settle(pilot)
        assert (err.value.text("zh"), "error") in notes(app)
        await pilot.press("ctrl+r")  # running it gives the same one-line error
        await settle(pilot)
        assert notes(app).count((err.value.text("zh"), "error")) >= 2
        assert not (tmp_path / "empty.riskclass.csv").exists()
        await pilot.press("escape")  # and the app is still usable
        await type_description(pilot, LOAN)
        assert app.assess_screen.assessment.tier == "high"
        assert screen.query_one("#batch-input", Input).value == "empty.csv"  # what was typed is kept


@aio
async def test_batch_cancel_leaves_no_output(tmp_path):
    started, release = threading.Event(), threading.Event()

    class Gated(Engine):
        def assess_many(self, descriptions):
            started.set()
            release.wait(10)
            return super().assess_many(descriptions)

    write_batch_csv(tmp_path / "many.csv", [(f"p{i}", LOAN) for i in range(500)])
    app = make_app(tmp_path, factory=lambda: Gated(model=None))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_batch(pilot, "many.csv")
        await pilot.press("ctrl+r")
        assert await asyncio.to_thread(started.wait, 10)
        await pilot.pause()
        assert not screen.query_one("#batch-cancel").disabled
        await pilot.press("escape")  # Esc cancels a run before it leaves the screen
        release.set()
        await settle(pilot)
        assert isinstance(app.screen, BatchScreen)
        assert "已取消" in str(screen.query_one("#batch-status").render())
        assert not (tmp_path / "many.riskclass.csv").exists()
        assert screen.query_one("#batch-cancel").disabled and not screen.query_one("#batch-run").disabled


@aio
async def test_batch_file_by_path_completion_or_directory_tree(tmp_path):
    from riskclass.tui.widgets.path_input import complete_path

    write_batch_csv(tmp_path / "products.csv")
    (tmp_path / "notes.md").write_text("x")
    (tmp_path / "sub").mkdir()
    assert complete_path("pro", (".csv",), tmp_path) == "products.csv"
    assert complete_path("no", (".csv",), tmp_path) is None  # not a table
    assert complete_path("su", (".csv",), tmp_path) == "sub/"
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()
        screen = app.screen
        field = screen.query_one("#batch-input", Input)
        await pilot.press(*"pro")
        # the suggester runs in the background
        await wait_until(pilot, lambda: field._suggestion, tries=50)
        await pilot.press("right")  # accepts the suggestion
        await settle(pilot)
        assert screen.query_one("#batch-input", Input).value == "products.csv"
        assert screen.query_one("#batch-column", Select).value == "产品描述"

        screen.query_one("#batch-input", Input).value = ""
        await pilot.press("ctrl+o")
        tree = screen.query_one("#batch-tree")
        # the tree loads the directory in a worker
        await wait_until(pilot, lambda: len(tree.root.children) == 2, tries=50)
        assert tree.has_class("-shown") and app.focused is tree
        labels = [str(node.label) for node in tree.root.children]
        assert labels == ["sub", "products.csv"]  # folders and table files only
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert screen.query_one("#batch-input", Input).value == str(tmp_path / "products.csv")
        assert screen.query_one("#batch-column", Select).value == "产品描述"
        assert not tree.has_class("-shown")


# ---- review and the audit log (issue 6) -----------------------------------------------------------------------------


def review_footer(screen) -> set[str]:
    return {b.binding.description for b in screen.active_bindings.values() if b.binding.show}


@aio
async def test_review_records_a_decision_in_the_audit_log_and_shows_it(tmp_path):
    from textual.widgets import RadioButton

    from riskclass.audit.log import AuditLog
    from riskclass.tui.screens.review import ReviewScreen

    log_path = tmp_path / "audit.jsonl"
    app = RiskclassApp(engine_factory=rules_only_engine, start_dir=tmp_path, audit_log=log_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.assess_screen
        assert "复核" not in review_footer(screen)  # nothing to review yet: F3 is not offered
        assert "复核" in {c.title for c in app.get_system_commands(screen)}  # the palette always lists it…
        app.action_review()  # …and says why nothing happens
        await pilot.pause()
        assert app.screen is screen and any("还没有可复核的评估" in m for m, _ in notes(app))

        await type_description(pilot, LOAN)
        assert "复核" in review_footer(screen)
        assert not screen.query_one("#prior-review").display
        await pilot.press("f3")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ReviewScreen)
        assert "建议等级：高风险（H4" in str(dialog.query_one("#review-suggested").render())
        assert str(log_path) in str(dialog.query(".dim-note").first().render())
        await pilot.press("enter")  # the name is missing: said in the dialog, nothing recorded
        assert "请填写复核人姓名" in str(dialog.query_one("#review-error").render())
        dialog.query_one("#review-reviewer", Input).value = "张三"
        dialog.query_one("#review-decision").query(RadioButton)[1].value = True  # 改为：中风险
        await pilot.pause()
        await pilot.click("#review-save")
        assert "改判时请说明理由" in str(dialog.query_one("#review-error").render())
        assert app.screen is dialog and not log_path.exists()
        assert app.focused is dialog.query_one("#review-reason")  # where the missing part goes
        dialog.query_one("#review-reason", Input).value = "只给参考分，由信贷员决定"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("已记入审计日志第 1 条" in m for m, _ in notes(app)), tries=200)
        await settle(pilot)
        (d,) = AuditLog(log_path).entries()
        assert (d.reviewer, d.suggested.tier, d.decided_tier, d.reason) == (
            "张三",
            "high",
            "medium",
            "只给参考分，由信贷员决定",
        )
        assert d.description == LOAN and d.versions == screen.assessment.versions
        prior = screen.query_one("#prior-review")
        shown = str(prior.render())
        assert prior.display and "复核记录（审计日志第 1 条）" in shown
        assert "张三 于" in shown and "改判为 中风险（建议为 高风险）" in shown and "理由：只给参考分" in shown

        await pilot.press("f3")  # the name is remembered for the next review; Esc records nothing
        await pilot.pause()
        assert app.screen.query_one("#review-reviewer", Input).value == "张三"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and len(AuditLog(log_path).entries()) == 1

        await pilot.press("ctrl+l")
        await pilot.pause()
        assert "Earlier review (audit log entry 1)" in str(prior.render())
        assert "Review" in review_footer(screen)


@aio
async def test_an_earlier_decision_is_shown_and_a_foreign_log_only_warns(tmp_path, monkeypatch):
    from riskclass.audit.log import AuditLog

    log_path = tmp_path / "team.jsonl"
    a = Engine(model=None).assess(THIN)
    AuditLog(log_path).record(a, "王五", "medium", "用于给学生打分")
    monkeypatch.setenv("RISKCLASS_AUDIT_LOG", str(log_path))  # the same setting the CLI reads
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, "  一个幫助老師的工具 ")  # the same product: other spacing, 繁體
        shown = str(app.assess_screen.query_one("#prior-review").render())
        assert "王五" in shown and "改判为 中风险（建议为 低风险）" in shown

    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"event": "login"}\n{"event": "logout"}\n', encoding="utf-8")
    app = RiskclassApp(engine_factory=rules_only_engine, start_dir=tmp_path, audit_log=foreign)
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, LOAN)
        await type_description(pilot, "。")
        assert app.assess_screen.assessment.tier == "high"  # assessing goes on
        warned = [m for m, s in notes(app) if s == "warning" and "审计日志有问题" in m]
        assert len(warned) == 1 and "不是 riskclass 审计日志" in warned[0]  # said once, not per keystroke


@aio
async def test_the_exported_report_follows_a_verified_decision(tmp_path, monkeypatch):
    """Ctrl+S writes the decided tier's paperwork, as `riskclass report` does: a low suggestion decided medium gives
    the medium tier's report, with the suggestion beside the decision."""
    import json

    from riskclass.audit.log import AuditLog

    log_path = tmp_path / "team.jsonl"
    a = Engine(model=None).assess(THIN)
    assert a.tier == "low"
    AuditLog(log_path).record(a, "王五", "medium", "用于给学生打分")
    monkeypatch.setenv("RISKCLASS_AUDIT_LOG", str(log_path))
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await type_description(pilot, THIN)
        md, _, js = app.export(tmp_path / "decided")
    report = json.loads(js.read_text(encoding="utf-8"))
    assert report["tier"] == "low"  # the suggestion stays riskclass's
    assert report["report"]["tier"] == "medium"  # the paperwork is the decision's
    assert "王五" in md.read_text(encoding="utf-8")


# ---- the package boundary ------------------------------------------------------------------------------------------


def test_importing_riskclass_tui_is_light():
    import subprocess
    import sys

    code = "import riskclass.tui, sys; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    for heavy in ("textual", "sklearn", "jieba", "yaml", "numpy"):
        assert heavy not in out


def test_reports_is_a_core_module():
    import subprocess
    import sys

    code = "import riskclass.reports.report, riskclass.engine.decide, sys; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not any(m == "textual" or m.startswith("textual.") for m in out)


def test_the_wheel_ships_the_tui():
    tomllib = pytest.importorskip("tomllib")
    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    inits = (root / "riskclass" / "tui").rglob("__init__.py")
    on_disk = {".".join(p.parent.relative_to(root).parts) for p in inits}
    assert on_disk <= set(config["packages"])
    assert "*.tcss" in config["package-data"].get("riskclass.tui", [])
