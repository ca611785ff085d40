"""Issue 12: the terminal app's batch table must not hold the whole output in memory (1 GB at 200,000 rows).

The table reads back at most a bounded number of rows, says plainly (in both languages) that the full results are in
the output file, and still opens any shown row's whole description. The bound is lowered here so that the test runs a
small file; the behaviour is the same at any size.
"""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from textual.widgets import DataTable

from tests.test_tui import LOAN, aio, make_app, open_batch, settle, write_batch_csv

SHOWN = 40  # the lowered bound
ROWS = 100  # rows in the file: more than the table may hold


@pytest.mark.parametrize("lang", ["zh", "en"])
@aio
async def test_batch_table_holds_a_bounded_number_of_rows_and_says_where_the_rest_is(tmp_path, monkeypatch, lang):
    import riskclass.tui.screens.batch as batch_screen

    monkeypatch.setattr(batch_screen, "SHOWN_ROWS_MAX", SHOWN, raising=False)
    long_loan = LOAN + "，" + "并记录每一位申请人的还款历史与收入证明，" * 10  # longer than the table's column
    write_batch_csv(tmp_path / "many.csv", [(f"p{i}", long_loan if i == 0 else LOAN) for i in range(ROWS)])
    app = make_app(tmp_path, lang=lang)
    async with app.run_test(size=(160, 32)) as pilot:  # wide enough for the note
        screen = await open_batch(pilot, "many.csv")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert (tmp_path / "many.riskclass.csv").exists()
        table = screen.query_one(DataTable)
        assert table.row_count == SHOWN
        shown = str(screen.query_one("#batch-shown").render())
        assert f"{ROWS}" in shown and "many.riskclass.csv" in shown
        assert ("完整结果" in shown) if lang == "zh" else ("full results" in shown)

        table.focus()
        table.move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is app.assess_screen
        assert app.assess_screen.text == long_loan  # the whole description, not the table's cut
