import pytest

from riskclass.errors import LawError
from riskclass.law.draft import cn_to_int, int_to_cn, load_draft, parse_draft


def test_draft_has_all_51_articles_with_chapters_and_titles():
    draft = load_draft()
    assert sorted(draft.articles) == list(range(1, 52))
    a46 = draft.article(46)
    assert a46.label == "第四十六条"
    assert a46.title == "分类监管"
    assert a46.chapter == "第七章 产业治理与安全"
    assert "事前评估、风险预警" in a46.text
    assert draft.article("第五十条").paragraphs[2].startswith("(二)")
    assert draft.article(51).title == "施行日期"


def test_drafting_notes_are_not_parsed_as_articles():
    draft = load_draft()
    assert "起草说明" in draft.notes
    assert all("起草背景" not in a.text for a in draft.articles.values())


@pytest.mark.parametrize("ref", [46, "46", "第四十六条", "四十六"])
def test_article_lookup_accepts_numbers_and_labels(ref):
    assert load_draft().article(ref).number == 46


def test_unknown_article_names_the_valid_range():
    with pytest.raises(LawError, match=r"第一条 to 第五十一条"):
        load_draft().article(52)
    with pytest.raises(LawError, match="not an article reference"):
        load_draft().article("forty-six")


def test_chinese_numerals_round_trip():
    assert [cn_to_int(x) for x in ("一", "十", "十一", "二十", "二十三", "五十一", "一百零五")] == [
        1,
        10,
        11,
        20,
        23,
        51,
        105,
    ]
    assert all(cn_to_int(int_to_cn(n)) == n for n in range(1, 200))


def test_a_gap_in_article_numbering_is_refused():
    with pytest.raises(LawError, match=r"missing \[2\]"):
        parse_draft("标题\n第一章总则\n第一条(甲)\n正文。\n第三条(丙)\n正文。\n")
