"""The fast paths of batch classification give exactly what the straightforward ones give.

Each speed-up (translate-table normalisation, the batch screen and its split alternations, the chunked TF-IDF, the
one-pass jieba cut, the caches on disk) is compared with the plain computation it replaces, on the labelled corpus and
on generated text. Nothing here measures time.
"""

from __future__ import annotations

import csv
import pickle
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import ROOT, jieba_tokens

# Characters that exercise every branch of normalisation: spaces of all kinds, controls, format characters, NFKC
# expansions (ﬁ, ①, ㎏), case that changes length (İ), final sigma, full-width forms, traditional characters.
TRICKY = list(
    "  \t\n\r\x0b\x0c\x1c\x85\u00a0\u1680\u2000\u2028\u2029\u202f\u3000\u200b\u200d\ufeff\x00\x07\ue000"
    "ΣσςİIßﬁﬀ①Ⅻ㈱㎏㍿ǅＡｂ０é\u0301人臉辨識這個們系統信貸審批ai AI-ok.%#&+，。；！？"
)


def _sample(step: int = 5) -> list[str]:
    out = []
    for name in ("corpus.csv", "dev2.csv", "test.csv"):
        with (ROOT / "training" / "data" / name).open(encoding="utf-8", newline="") as fh:
            out += [r["description"] for r in csv.DictReader(fh)][::step]
    return out


def _normalise_reference(original: str):
    """normalise as first written: one character at a time."""

    def is_space(ch: str) -> bool:
        return ch.isspace() or unicodedata.category(ch) == "Zs"

    chars: list[str] = []
    starts: list[int] = []
    for i, ch in enumerate(original):
        if is_space(ch):
            if chars and chars[-1] != " ":
                chars.append(" ")
                starts.append(i)
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        piece = unicodedata.normalize("NFKC", ch).lower() if not ch.isascii() else ch.lower()
        for p in piece:
            if is_space(p):
                if chars and chars[-1] != " ":
                    chars.append(" ")
                    starts.append(i)
                continue
            chars.append(p)
            starts.append(i)
    while chars and chars[-1] == " ":
        chars.pop()
        starts.pop()
    return "".join(chars), tuple(starts), tuple(s + 1 for s in starts)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=30), st.text(alphabet=st.sampled_from(TRICKY), max_size=30)))
def test_normalise_by_translate_table_is_the_character_loop(text):
    from riskclass.text.normalise import content_chars, has_content_chars, normalise, to_simplified

    got = normalise(text)
    plain, starts, ends = _normalise_reference(text)
    assert (got.text, got.starts, got.ends) == (to_simplified(plain), starts, ends)
    assert has_content_chars(text) == (content_chars(text) > 0)
    assert has_content_chars(text, 4) == (content_chars(text) >= 4)


def test_normalise_matches_the_character_loop_on_the_corpus():
    from riskclass.text.normalise import normalise, to_simplified

    for text in _sample(step=3):
        got = normalise(text)
        plain, starts, ends = _normalise_reference(text)
        assert (got.text, got.starts, got.ends) == (to_simplified(plain), starts, ends)


def _jieba_reference(text: str) -> list[str]:
    return jieba_tokens(text)


JIEBA_TEXT = list("的人工智能系统识别人脸信贷审批模型自动决定放款abcXY 12,.。-_%#&+")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(JIEBA_TEXT), max_size=40))
def test_the_one_pass_cut_gives_jiebas_tokens(text):
    from riskclass.text.normalise import tokens_of_normalised

    assert tokens_of_normalised(text) == _jieba_reference(text)


def test_the_one_pass_cut_gives_jiebas_tokens_on_the_corpus():
    from riskclass.text.normalise import normalise, tokens_of_normalised

    for text in _sample(step=2):
        norm = normalise(text).text
        assert tokens_of_normalised(norm) == _jieba_reference(norm)


@pytest.fixture(scope="module")
def model():
    from riskclass.model.classifier import load_shipped_model

    return load_shipped_model()


def test_chunked_features_are_bit_for_bit_the_row_by_row_ones(model):
    from riskclass.text.normalise import normalise

    texts = [normalise(t).text for t in _sample(step=4)]
    texts += ["", " ", "a", "ab", "a  b", "\t x \n y ", "人", "é\u0301", "ΣΑΣ", "x" * 3000, "人工智能 " * 300]
    for i in range(0, len(texts), 300):  # several chunks, and a chunk larger than one NumPy slice
        chunk = texts[i : i + 300]
        for text, (idx, val) in zip(chunk, model._vectors(chunk), strict=True):
            ref_idx, ref_val = model._vector(text)
            assert idx.tolist() == ref_idx and val.tolist() == ref_val, text[:40]
        # The batch's NumPy sums give the plain-Python probabilities and top terms, to the last bit.
        one_by_one = [model._scored([text], terms=True)[0] for text in chunk]
        assert model._scored(chunk, terms=True) == one_by_one
        for text, (probs, _) in zip(chunk, one_by_one, strict=True):
            assert probs == model._probabilities(*model._vector(text)), text[:40]


def test_one_text_is_scored_as_numpy_scores_it(model):
    """The plain-Python logits and softmax of one description agree with NumPy's matrix product to rounding (the
    order of a BLAS sum is its own)."""
    import numpy as np

    from riskclass.text.normalise import normalise

    coef, intercept = np.asarray(model.coef), np.asarray(model.intercept)
    for text in [normalise(t).text for t in _sample(step=20)]:
        idx, val = model._vector(text)
        logits = coef[:, idx] @ np.array(val) + intercept
        e = np.exp(logits - logits.max())
        assert np.allclose(model._probabilities(idx, val), e / e.sum(), rtol=1e-12, atol=1e-15), text[:40]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(TRICKY + list("模型系统 ab")), max_size=25), min_size=1, max_size=6))
def test_chunked_features_on_generated_text(model, texts):
    from riskclass.text.normalise import normalise

    texts = [normalise(t).text for t in texts]
    for text, (idx, val) in zip(texts, model._vectors(texts), strict=True):
        ref_idx, ref_val = model._vector(text)
        assert idx.tolist() == ref_idx and val.tolist() == ref_val


def _rule_text():
    from riskclass.rulebook.rules import load_rulebook

    chars = sorted({ch for r in load_rulebook().rules for p in r.patterns for ch in p.pattern if ch >= "\u4e00"})
    return st.text(alphabet=st.sampled_from(chars + list("abcdeilmnorstxy -,.。;")), min_size=1, max_size=60)


_SCREEN = []


def _screen():
    if not _SCREEN:
        from riskclass.engine.decide import Engine
        from riskclass.text.normalise import normalise

        _SCREEN.append(Engine()._build_screen([normalise(t).text for t in _sample(step=10)]))
    return _SCREEN[0]


def _check_screen(texts: list[str]) -> None:
    """Every pattern that matches is a candidate, and what runs in its place finds exactly its matches."""
    screen = _screen()
    for text, candidates in zip(texts, screen.candidates_many(texts), strict=True):
        for pattern in screen.need:
            spans = [m.span() for m in pattern.finditer(text)]
            if pattern not in candidates:
                assert not spans, (pattern.pattern[:60], text[:60])
                continue
            runner = candidates.run[id(pattern)]
            assert [m.span() for m in runner.finditer(text)] == spans, (pattern.pattern[:60], text[:60])
            first = runner.search(text)
            assert (first.span() if first else None) == (spans[0] if spans else None)


def test_the_screen_and_its_split_alternations_match_like_the_patterns_on_the_corpus():
    from riskclass.text.normalise import normalise

    _check_screen([normalise(t).text for t in _sample(step=3)])


@settings(max_examples=300, deadline=None)
@given(st.lists(_rule_text(), min_size=1, max_size=4))
def test_the_screen_and_its_split_alternations_on_generated_text(texts):
    _check_screen(texts)


def _check_text_screen(texts: list[str]) -> None:
    """The one-description screen: every pattern that matches is a candidate, and what runs in its place finds
    exactly its matches (as `_check_screen` for the batch screen)."""
    from riskclass.rulebook.rules import load_rulebook
    from riskclass.rulebook.screen import TextScreen

    rulebook = load_rulebook()
    screen = TextScreen(rulebook)
    for text in texts:
        candidates = screen.candidates(text)
        for pattern in rulebook.all_patterns():
            spans = [m.span() for m in pattern.finditer(text)]
            if pattern not in candidates:
                assert not spans, (pattern.pattern[:60], text[:60])
                continue
            assert [m.span() for m in candidates.run[id(pattern)].finditer(text)] == spans, pattern.pattern[:60]


def test_the_one_description_screen_matches_like_the_patterns_on_the_corpus():
    from riskclass.text.normalise import normalise

    _check_text_screen([normalise(t).text for t in _sample(step=6)])


@settings(max_examples=200, deadline=None)
@given(st.lists(_rule_text(), min_size=1, max_size=3))
def test_the_one_description_screen_on_generated_text(texts):
    _check_text_screen(texts)


def test_assess_of_one_description_is_the_plain_unscreened_assessment(model):
    """`assess` runs only the patterns its screen lets through; `_assess` without candidates runs every one."""
    from riskclass.engine.decide import Engine
    from riskclass.text.normalise import normalise

    rules, combined = Engine(), Engine(model=model)
    for i, text in enumerate([*_sample(step=4), "不使用人脸识别的门禁", "宠物医院的诊断助手", "AI resume screening"]):
        norm = normalise(text)
        assert rules.assess(text).to_dict() == rules._assess(norm, None).to_dict(), text[:60]
        if i % 7 == 0:
            assert combined.assess(text).to_dict() == combined._assess(norm, None).to_dict(), text[:60]
        answers = {"H4": False, "M2": True}
        if i % 11 == 0:
            assert rules.assess(text, answers).to_dict() == rules._assess(norm, answers).to_dict(), text[:60]


def test_the_committed_rulebook_index_is_up_to_date():
    """The index `load_rulebook` reads in place of the YAML must be generated from the YAML as it is now."""
    from riskclass.rulebook.index import REGENERATE, build_index, index_path

    assert index_path().read_text(encoding="utf-8") == build_index(), (
        f"riskclass/data/rulebook-index.json is stale (rulebook.yaml, obligations.yaml or the pattern analysis "
        f"changed): run `{REGENERATE}` and commit the file"
    )


def test_the_rulebook_from_the_index_is_the_rulebook_from_the_yaml(monkeypatch):
    """Read through the index or from the YAML (a stale index is ignored), the rulebook and its answers are the same."""
    import riskclass.rulebook.rules as rules
    from riskclass.engine.decide import Engine

    fast = rules.load_rulebook()
    assert fast.plans, "the committed index was not used: regenerate it (python -m riskclass.rulebook.index)"
    monkeypatch.setattr(rules, "read_index", lambda digest: None)
    rules.load_rulebook.cache_clear()
    try:
        slow = rules.load_rulebook()
    finally:
        rules.load_rulebook.cache_clear()
    assert not slow.plans
    assert [(r.id, [p.pattern for p in r.patterns]) for r in slow.rules] == [
        (r.id, [p.pattern for p in r.patterns]) for r in fast.rules
    ]
    assert (slow.version, slow.criteria, slow.obligations) == (fast.version, fast.criteria, fast.obligations)
    slow_engine, fast_engine = Engine(slow), Engine(fast)
    for text in _sample(step=25):
        assert slow_engine.assess(text).to_dict() == fast_engine.assess(text).to_dict()


def test_top_level_alternatives_split_only_where_each_runs_alone():
    from riskclass.rulebook.rules import top_level_alternatives

    cases = {
        r"a|b(c|d)|[|]e": ["a", "b(c|d)", "[|]e"],
        r"[]|]x|\|y|(?:p|q)": ["[]|]x", r"\|y", "(?:p|q)"],
        r"[^]|]z|w": ["[^]|]z", "w"],
        r"(a)\1|b": None,  # a backreference
        r"(?i)a|b": None,  # an inline flag
        r"a?|b": None,  # an alternative that can match nothing
        r"(?#x|y)a|b": None,  # a comment
        r"abc": None,
    }
    for source, want in cases.items():
        assert top_level_alternatives(re.compile(source)) == want, source
    from riskclass.rulebook.rules import load_rulebook

    for rule in load_rulebook().rules:
        for p in rule.patterns:
            parts = top_level_alternatives(p)
            assert parts is None or "|".join(parts) == p.pattern


def test_the_screening_plan_from_the_cache_is_the_computed_one(tmp_path, monkeypatch):
    from riskclass.rulebook.rules import load_rulebook, required_literals, screening_plan, top_level_alternatives

    monkeypatch.setenv("RISKCLASS_CACHE_DIR", str(tmp_path))
    patterns = [p for r in load_rulebook().rules[:12] for p in r.patterns]
    first = screening_plan(patterns)  # computes and writes
    assert list(tmp_path.glob("rule-screen-*.marshal"))
    assert screening_plan(patterns) == first  # reads
    for p, (parts, needs) in zip(patterns, first, strict=True):
        assert parts == top_level_alternatives(p)
        assert needs == ([required_literals(s, p.flags) for s in parts] if parts else [required_literals(p)])


def test_code_index_and_sorted_unique_agree_with_plain_python():
    import numpy as np

    from riskclass.text.grams import CodeIndex, sorted_unique

    rng = np.random.default_rng(0)
    codes = sorted(set(rng.integers(0, 1 << 62, 3000).tolist()))
    index = CodeIndex(codes)
    queries = np.concatenate([np.array(codes, dtype=np.int64), rng.integers(0, 1 << 62, 5000)])
    where = {c: i for i, c in enumerate(codes)}
    assert index.find(queries).tolist() == [where.get(q, -1) for q in queries.tolist()]
    values = rng.integers(0, 50, 1000)
    assert np.array_equal(sorted_unique(values, np), np.unique(values))


def test_assess_many_with_the_model_gives_exactly_what_assess_gives(model):
    from riskclass.engine.decide import Engine
    from riskclass.errors import RiskclassError

    sample = [*_sample(step=9), "", "   ", "!!!", "人脸识别门禁", "ΣΑΣ ﬁnance 信贷审批", "x" * 400 + "人脸识别"]
    engine = Engine(model=model)
    many = engine.assess_many(sample)
    for text, got in zip(sample, many, strict=True):
        if isinstance(got, RiskclassError):
            with pytest.raises(RiskclassError):
                Engine(model=model).assess(text)
        else:
            assert got.to_dict() == Engine(model=model).assess(text).to_dict()
    # A copy of the engine in another process builds its own screen: the one here holds this process's id()s.
    copy = pickle.loads(pickle.dumps(engine))
    assert copy._screen is None
    assert [a.to_dict() for a in copy.assess_many(sample[:40]) if not isinstance(a, RiskclassError)] == [
        a.to_dict() for a in many[:40] if not isinstance(a, RiskclassError)
    ]


@pytest.mark.parametrize("with_model", [True, False])
def test_a_brief_assessment_is_the_full_ones_verdict(model, with_model):
    """The batch's CSV path (`brief`) decides exactly as the full assessment does, on every labelled row."""
    from riskclass.batch.run import ProbabilitiesOnly
    from riskclass.engine.decide import Engine
    from riskclass.errors import RiskclassError

    sample = [*_sample(step=1), "", "人脸识别门禁", "不使用人脸识别，只统计客流", "x" * 400 + "人脸识别"]
    full = Engine(model=model if with_model else None)
    brief = Engine(model=ProbabilitiesOnly(model) if with_model else None)
    checked = 0
    for at in range(0, len(sample), 1000):
        chunk = sample[at : at + 1000]
        for a, v in zip(full.assess_many(chunk), brief.assess_many(chunk, brief=True), strict=True):
            if isinstance(a, RiskclassError):
                assert isinstance(v, RiskclassError) and v.message == a.message
                continue
            assert v == a.verdict()  # built apart: by the brief path, and read off the full Assessment
            checked += 1
    assert checked > 5000


def test_the_dictionary_snapshot_gives_the_same_tokens(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from riskclass.text.normalise import normalise

    rows = _sample(step=25)
    script = (  # as where the committed dictionary does not fit the installed jieba
        "import json, sys\n"
        "import riskclass.text.dictionary as dictionary\n"
        "dictionary.load_sorted = lambda: None\n"
        "from riskclass.text.normalise import tokenize\n"
        "print(json.dumps([tokenize(t) for t in json.load(sys.stdin)], ensure_ascii=False))\n"
    )
    env = {**os.environ, "RISKCLASS_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], input=json.dumps(rows), capture_output=True, text=True, env=env, check=True
        )
        for _ in range(2)  # the first run loads jieba's dictionary and writes the snapshot, the second reads it
    ]
    assert list(tmp_path.glob("jieba-dictionary-*.marshal")), "the snapshot was not written"
    in_memory = [jieba_tokens(normalise(t).text) for t in rows]
    for run in runs:
        assert json.loads(run.stdout) == in_memory


def _top_terms_reference(model, idx, val, class_index):
    """TierClassifier._top_terms as first written."""
    import numpy as np

    from riskclass.model.classifier import TOP_TERMS

    weights = np.array(val) * np.asarray(model.coef)[class_index, idx]
    ranked = sorted(((float(w), int(i)) for w, i in zip(weights, idx, strict=True) if w > 0), reverse=True)
    words = [(model.feature_names[i], w) for w, i in ranked if i < model.n_word]
    chars = [(model.feature_names[i], w) for w, i in ranked if i >= model.n_word]
    out = []
    readable = [(t, w) for t, w in words if len(t.replace(" ", "")) >= 2]
    for term, w in readable if len(readable) >= 3 else words + chars:
        term = term.replace(" ", "")
        if len(term) < 2 or not all(unicodedata.category(ch)[0] in "LN" for ch in term):
            continue
        if not any(term in s or s in term for s, _ in out):
            out.append((term, w))
        if len(out) == TOP_TERMS:
            break
    return tuple(out)


def test_top_terms_are_the_plainly_ranked_ones(model):
    from riskclass.text.normalise import normalise

    for text in [*(normalise(t).text for t in _sample(step=4)), "a", "ab", "人", "模型", "x y z", "系统 平台"]:
        idx, val = model._vector(text)
        for tier in range(len(model.classes)):
            assert model._top_terms(idx, val, tier) == _top_terms_reference(model, idx, val, tier), text[:40]


def _combined_plainly(combiner, findings, probabilities):
    """Combiner.probabilities as first written: every feature name, present or not."""
    import math

    from riskclass.engine.combine import TIERS, features

    x = features(findings, probabilities)
    scores = {
        t: combiner.intercepts[t]
        + sum(w * x.get(n, 0.0) for n, w in zip(combiner.names, combiner.weights[t], strict=True))
        for t in TIERS
    }
    top = max(scores.values())
    exp = {t: math.exp(s - top) for t, s in scores.items()}
    total = sum(exp.values())
    return {t: exp[t] / total for t in TIERS}


def test_the_combiner_sums_only_present_features_to_the_last_bit(model):
    import random

    from riskclass.engine.combine import shipped_combiner
    from riskclass.engine.decide import Engine

    combiner, engine = shipped_combiner(), Engine()
    rng = random.Random(0)
    for text in _sample(step=6):
        findings, norm = engine.findings(text)
        for probabilities in (
            model.opinion(norm).probabilities,
            dict(zip(("high", "medium", "low"), _simplex(rng), strict=True)),
        ):
            assert combiner.probabilities(findings, probabilities) == _combined_plainly(
                combiner, findings, probabilities
            )


def _simplex(rng) -> list[float]:
    cut = sorted(rng.random() for _ in range(2))
    return [cut[0], cut[1] - cut[0], 1.0 - cut[1]]
