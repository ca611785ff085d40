"""The rulebook as a specification: every rule's own examples, and validation that names what to fix."""

import copy

import pytest

from riskclass.errors import RulebookError
from riskclass.law.draft import load_draft
from riskclass.rulebook.examples import rule_applies
from riskclass.rulebook.rules import _read_yaml, load_rulebook, parse_rulebook

RULEBOOK = load_rulebook()


@pytest.mark.parametrize("rule", RULEBOOK.rules, ids=lambda r: r.id)
def test_rule_examples_behave_as_declared(rule):
    for example in rule.positive:
        assert rule_applies(rule, example), f"{rule.id} should fire on {example!r}"
    for example in rule.negative:
        assert not rule_applies(rule, example), f"{rule.id} should not fire on {example!r}"


def test_every_rubric_criterion_and_red_flag_has_a_rule():
    expected = {f"H{i}" for i in range(1, 8)} | {f"M{i}" for i in range(1, 6)} | {f"R{i}" for i in range(1, 5)}
    assert {r.criterion for r in RULEBOOK.rules} == expected


def test_every_citation_resolves_to_a_verbatim_quote():
    draft = load_draft()
    for rule in RULEBOOK.rules:
        for c in rule.articles:
            assert c.quote in draft.article(c.article).text
    for o in RULEBOOK.obligations:
        for c in o.articles:
            assert c.quote in draft.article(c.article).text


def test_national_pointers_cite_only_the_articles_the_rubric_allows():
    allowed = {
        "个人信息保护法": {"第二十四条", "第二十八条、第二十九条", "第三十一条", "第五十五条、第五十六条"},
        "互联网信息服务算法推荐管理规定": {"第十六条", "第十七条", "第二十四条", "第二十七条"},
        "生成式人工智能服务管理暂行办法": {"第四条", "第十条", "第十二条", "第十七条"},
        "人工智能生成合成内容标识办法": {"第四条", "第五条"},
    }
    for n in RULEBOOK.national:
        if n.article is None:
            continue
        assert n.article in allowed.get(n.law, set()), f"{n.law} {n.article} is not an allowed citation"


@pytest.fixture()
def raw():
    return copy.deepcopy(_read_yaml("rulebook.yaml")), copy.deepcopy(_read_yaml("obligations.yaml"))


def load(raw):
    return parse_rulebook(raw[0], raw[1], load_draft())


def test_unknown_key_is_refused_with_a_suggestion(raw):
    raw[0]["rules"][0]["exclusion"] = ["x"]
    with pytest.raises(
        RulebookError, match=r"rule h1-diagnosis: unknown key 'exclusion' \(did you mean 'exclusions'\?\)"
    ):
        load(raw)


def test_missing_field_is_named(raw):
    del raw[0]["rules"][3]["examples"]
    with pytest.raises(RulebookError, match=r"rule .*: missing field 'examples': add it"):
        load(raw)


def test_a_quote_not_in_the_article_is_refused_with_the_closest_text(raw):
    raw[0]["rules"][0]["articles"] = [{"article": "第四十九条", "quote": "对涉及生命健康等重点领域的风险开展评估"}]
    with pytest.raises(RulebookError, match=r"not found verbatim in 第四十九条 .*closest text there"):
        load(raw)


def test_a_citation_of_a_missing_article_is_refused(raw):
    raw[0]["rules"][0]["articles"] = [{"article": "第六十六条", "quote": "x"}]
    with pytest.raises(RulebookError, match="the draft has no article"):
        load(raw)


def test_duplicate_rule_ids_are_refused(raw):
    raw[0]["rules"].append(copy.deepcopy(raw[0]["rules"][0]))
    with pytest.raises(RulebookError, match="rule h1-diagnosis: duplicate rule id"):
        load(raw)


def test_unknown_criterion_lists_the_valid_ones(raw):
    raw[0]["rules"][0]["criterion"] = "H8"
    with pytest.raises(RulebookError, match=r"unknown criterion 'H8'.*valid: H1, H2"):
        load(raw)


def test_tier_must_agree_with_the_criterion(raw):
    raw[0]["rules"][0]["tier"] = "medium"
    with pytest.raises(RulebookError, match="contradicts criterion H1"):
        load(raw)


def test_invalid_regex_is_named(raw):
    raw[0]["rules"][0]["patterns"] = ["(unclosed"]
    with pytest.raises(RulebookError, match=r"patterns\[0\]: pattern '\(unclosed' is not a valid regular expression"):
        load(raw)


def test_weak_rule_needs_a_question(raw):
    weak = next(r for r in raw[0]["rules"] if r.get("strength") == "weak")
    del weak["question"]
    with pytest.raises(RulebookError, match="a weak rule needs a follow-up 'question'"):
        load(raw)


def test_upper_case_patterns_are_refused_because_text_is_lower_cased(raw):
    raw[0]["rules"][0]["patterns"] = ["Diagnosis"]
    with pytest.raises(RulebookError, match="upper-case letters"):
        load(raw)


def test_a_citation_without_a_quote_is_refused_with_what_to_add(raw):
    credit = next(r for r in raw[0]["rules"] if r["id"] == "h4-credit")
    credit["articles"] = [{"article": "第二十九条"}]
    with pytest.raises(
        RulebookError,
        match=r"^rulebook\.yaml: rule h4-credit\.articles\[0\]: 第二十九条 is cited without a quote: add `quote:` .*"
        r"copied verbatim from the draft, or drop the citation.*第二十九条 reads: '本市鼓励和支持人工智能与服务业",
    ):
        load(raw)


def test_a_bare_article_label_as_a_citation_is_refused_with_what_to_add(raw):
    raw[1]["obligations"][0]["articles"] = ["第四十六条"]
    with pytest.raises(
        RulebookError,
        match=r"^obligations\.yaml: obligation pre_assessment\.articles\[0\]: 第四十六条 is cited without a quote",
    ):
        load(raw)


def test_an_unknown_kind_of_evidence_is_refused_with_a_suggestion(raw):
    labelling = next(n for n in raw[1]["national"] if n.get("article") == "第四条" and "标识" in n["law"])
    labelling["evidence"]["H5"] = "synthesys"
    with pytest.raises(
        RulebookError,
        match=r"obligations\.yaml: national\[\d+\]\.evidence\.H5: unknown evidence kind 'synthesys' "
        r"\(did you mean 'synthesis'\?\)",
    ):
        load(raw)


def test_evidence_asked_of_a_criterion_that_is_not_listed_is_refused(raw):
    raw[1]["national"][0]["evidence"] = {"M3": "code"}
    with pytest.raises(RulebookError, match=r"national\[0\]\.evidence: M3 needs evidence here but is not among"):
        load(raw)


def test_a_kind_of_evidence_naming_an_unknown_rule_is_refused_with_a_suggestion(raw):
    raw[1]["evidence"]["synthesis"]["rules"].append("h5-deep-synthesys")
    with pytest.raises(
        RulebookError,
        match=r"obligations\.yaml: evidence synthesis\.rules: unknown rule 'h5-deep-synthesys' "
        r"\(did you mean 'h5-deep-synthesis'\?\)",
    ):
        load(raw)
