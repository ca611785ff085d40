"""Precise, not padded: the duties, national pointers and 第五十条 items an assessment lists follow the criteria and the
evidence that hold, each says what brought it, and the evidence shown is the description's own words."""

import pytest

from riskclass.engine.assessment import assessment_from_dict

CREDIT = "一款为银行筛选贷款申请人的评分模型，使用申请人的个人信息和消费记录"
RECOMMENDER = "电商平台的个性化商品推荐，按用户浏览记录推荐商品"
FACE_GATE = "小区人脸识别门禁，业主刷脸进出"
FACE_SWAP = "换脸App，把用户的脸合成到电影片段里"

RECOMMENDATION_RULES = {"第十六条", "第十七条"}
LABELLING_LAWS = {"人工智能生成合成内容标识办法", "互联网信息服务深度合成管理规定"}


def national(a) -> dict[str, object]:
    return {f"{n.law}{n.article or ''}": n for n in a.national}


def marked(a) -> dict[int, object]:
    return {m.item: m for m in a.article50 if m.triggered}


def test_credit_scoring_gets_no_recommendation_rules_and_no_non_personalised_option(rules_engine):
    a = rules_engine.assess(CREDIT)
    assert {h.id for h in a.criteria} >= {"H4", "M2"}
    pointers = national(a)
    assert not [k for k in pointers if k.startswith("互联网信息服务算法推荐管理规定")], list(pointers)
    assert "个人信息保护法第二十四条" in pointers  # automated decisions about applicants: yes
    for o in a.obligations:
        assert "个性化" not in o.detail.zh and "personalisation" not in o.detail.en


def test_a_recommender_gets_the_recommendation_rules_because_of_its_recommendation_evidence(rules_engine):
    a = rules_engine.assess(RECOMMENDER)
    pointers = national(a)
    for article in RECOMMENDATION_RULES:
        ref = pointers[f"互联网信息服务算法推荐管理规定{article}"]
        assert ref.because.criteria == ("M2",)
        assert any("推荐" in w for _, w in ref.because.words)


def test_face_recognition_access_control_gets_no_generated_content_labelling(rules_engine):
    a = rules_engine.assess(FACE_GATE)
    assert "H5" in {h.id for h in a.criteria}
    assert "content_labelling" not in {o.id for o in a.obligations}
    assert not [n for n in a.national if n.law in LABELLING_LAWS or n.article == "第十二条"]
    assert "个人信息保护法第二十八条、第二十九条" in national(a)  # a face is sensitive personal information
    # A synthesis rule brings them even when its words do not say "swap" or "clone".
    animated = rules_engine.assess("上传一张老照片，让照片里的爷爷眨眼、转头、开口说话")
    assert "h5-likeness-generation" in next(h for h in animated.criteria if h.id == "H5").rules
    assert {n.law for n in animated.national} >= LABELLING_LAWS


def test_a_face_swap_gets_the_labelling_rules_brought_by_its_synthesis_evidence(rules_engine):
    a = rules_engine.assess(FACE_SWAP)
    labelling = next(o for o in a.obligations if o.id == "content_labelling")
    assert "H5" in labelling.because.criteria and ("H5", "换脸") in labelling.because.words
    assert {n.law for n in a.national} >= LABELLING_LAWS


@pytest.mark.parametrize(
    "description",
    ["政务服务平台上的办事指南问答机器人", "工业视觉缺陷检测平台", "a platform for scheduling factory maintenance"],
)
def test_the_bare_word_platform_does_not_mark_article_50_item_3(rules_engine, description):
    assert 3 not in marked(rules_engine.assess(description))


@pytest.mark.parametrize(
    ("description", "shown"),
    [
        ("某市场份额第一的外卖平台按用户消费能力差异化定价", "市场份额"),
        ("用网上抓取的小说训练写作模型", "抓取的小说"),
        ("A coding assistant that generates code for developers", "generates code"),
    ],
)
def test_article_50_item_3_needs_power_others_works_or_code_and_names_it(rules_engine, description, shown):
    mark = marked(rules_engine.assess(description))[3]
    assert any(shown in w for _, w in mark.because.words), mark.because
    assert shown in mark.why.zh


@pytest.mark.parametrize(
    "description",
    [
        "企业内部使用的代码补全助手，帮助工程师写代码",
        "An internal code assistant that suggests code completions to our developers",
    ],
)
def test_an_internal_code_assistant_is_not_an_article_50_item_1_case(rules_engine, description):
    a = rules_engine.assess(description)
    assert 1 not in marked(a)
    assert 3 in marked(a)  # code generation: others' code and licences
    said = [w for _, w in marked(a)[3].because.words]
    assert said and len(said) == len(set(said)), said  # the same words are not named twice
    assert "content_labelling" not in {o.id for o in a.obligations}
    copy = rules_engine.assess("营销文案生成工具，给商家生成商品推广文案")  # content for the public still is
    assert 1 in marked(copy) and "content_labelling" in {o.id for o in copy.obligations}


@pytest.mark.parametrize("description", [CREDIT, RECOMMENDER, FACE_GATE, FACE_SWAP, "工厂产线上的零件表面缺陷检测"])
def test_every_duty_pointer_and_item_says_what_brought_it(rules_engine, description):
    a = rules_engine.assess(description)
    held = {h.id for h in (*a.criteria, *a.red_flags)}
    for o in a.obligations:
        assert o.because.text("en") and o.because.text("zh"), o.id
        assert set(o.because.criteria) <= held
        if not o.because.criteria:
            assert o.because.tier == a.tier and "risk product" in o.because.text("en")
    for n in a.national:
        assert n.because.criteria and set(n.because.criteria) <= held, n
    for m in a.article50:
        assert bool(m.because.text("en")) == m.triggered


def test_what_brought_each_duty_survives_a_saved_assessment(rules_engine):
    from riskclass.rulebook.rules import load_rulebook

    a = rules_engine.assess(FACE_SWAP)
    back = assessment_from_dict({**a.to_dict("en"), "description": a.description}, load_rulebook())
    assert [o.because for o in back.obligations] == [o.because for o in a.obligations]
    assert [n.because for n in back.national] == [n.because for n in a.national]
    assert [m.because for m in back.article50 if m.triggered] == [m.because for m in a.article50 if m.triggered]
    assert [h.citations for h in back.criteria] == [h.citations for h in a.criteria]


def test_every_article_a_criterion_cites_comes_with_its_verbatim_quote(rules_engine):
    from riskclass.law.draft import load_draft

    draft = load_draft()
    a = rules_engine.assess(CREDIT)
    h4 = next(h for h in a.criteria if h.id == "H4")
    assert "第二十九条" in h4.articles
    assert {c.article for c in h4.citations} == set(h4.articles)
    for c in h4.citations:
        assert c.quote and c.quote in draft.article(c.article).text


# ---- evidence spans -----------------------------------------------------------------------------------------------


def evidence(a, cid: str) -> list[str]:
    return [e.text for h in (*a.criteria, *a.possible) if h.id == cid for e in h.evidence]


@pytest.mark.parametrize(
    ("description", "cid", "words"),
    [
        ("AI resume screening for recruiters", "H4", "resume screening"),
        ("A credit scoring model that a bank uses to approve loans", "H4", "credit scoring"),
        ("AI interview scoring that ranks job candidates", "H4", "interview scoring"),
    ],
)
def test_english_evidence_falls_on_word_boundaries(rules_engine, description, cid, words):
    a = rules_engine.assess(description)
    assert words in evidence(a, cid)
    for e in (e for h in a.criteria for e in h.evidence):
        before = description[e.start - 1 : e.start]
        after = description[e.end : e.end + 1]
        assert not (before.isalnum() and before.isascii()), e
        assert not (after.isalnum() and after.isascii()), e


def test_evidence_is_the_criterion_s_words_not_the_clauses_between_them(rules_engine):
    text = "患者在App里描述症状，比如头疼、流鼻涕、嗓子疼两天了，AI会推荐两三种非处方药"
    a = rules_engine.assess(text)
    h1 = evidence(a, "H1")
    assert h1 and not [w for w in h1 if "，" in w or "嗓子疼" in w], h1
    assert any("非处方药" in w for w in h1)
    # Within one clause, Chinese evidence stays as it was.
    assert evidence(rules_engine.assess("一款为银行筛选贷款申请人的评分模型"), "H4") == ["贷款申请人的评分"]


@pytest.mark.parametrize(
    ("description", "generative"),
    [("热搜榜排序算法", False), ("社交平台评论审核，自动删帖", False), ("面向公众的通用大模型聊天应用", True)],
)
def test_generative_ai_rules_follow_generation_not_trending_lists_or_moderation(rules_engine, description, generative):
    a = rules_engine.assess(description)
    assert "H7" in {h.id for h in a.criteria}
    assert ("生成式人工智能服务管理暂行办法第十七条" in national(a)) == generative
    assert ("content_labelling" in {o.id for o in a.obligations}) == generative


@pytest.mark.parametrize(
    "description",
    [
        "工业图像缺陷检测",
        "设备健康度监测与预测性维护",
        "输电线路无人机巡检影像的瑕疵识别",
        "Pothole finder for road survey photos",
    ],
)
def test_images_and_health_of_things_do_not_mark_article_50_item_4(rules_engine, description):
    assert 4 not in marked(rules_engine.assess(description))


def test_the_public_road_is_not_information_for_the_public(rules_engine):
    assert 1 not in marked(rules_engine.assess("Sidewalk delivery robots that drive on the public road"))
    assert 1 in marked(rules_engine.assess("Tax Law Help Chat (Public): answers questions about filing"))


def test_a_decided_tier_s_duties_follow_the_same_evidence_even_from_a_saved_assessment(rules_engine):
    from riskclass.rulebook.rules import load_rulebook

    def saved(description: str):
        a = rules_engine.assess(description)
        return assessment_from_dict({**a.to_dict("zh"), "description": a.description}, load_rulebook())

    assert "content_labelling" not in {o.id for o in rules_engine.obligations_for("medium", saved(FACE_GATE))}
    owed = rules_engine.obligations_for("medium", saved(FACE_SWAP))
    labelling = next(o for o in owed if o.id == "content_labelling")
    assert ("H5", "换脸") in labelling.because.words
    assert next(o for o in owed if o.id == "pre_disclosure").because.text("en") == "owed by every medium-risk product"
