import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskclass.errors import InputError
from riskclass.text.normalise import check_description, normalise, to_simplified, tokenize


def test_traditional_fullwidth_and_case_are_normalised_with_offsets_into_the_original():
    original = "  這款軟體使用人臉辨識\u200b技術，ＡＩ  Face ID"
    norm = normalise(original)
    assert norm.text == "这款软体使用人脸辨识技术,ai face id"
    i = norm.text.index("人脸辨识")
    start, end = norm.span_to_original(i, i + 4)
    assert original[start:end] == "人臉辨識"


def test_phrase_conversion_never_changes_length():
    assert len(to_simplified("乾燥劑與著名的髮型")) == len("乾燥劑與著名的髮型")


@given(st.text())
def test_offsets_always_stay_inside_the_original(text):
    norm = normalise(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    assert all(0 <= s < e <= len(text) for s, e in zip(norm.starts, norm.ends, strict=True))
    assert list(norm.starts) == sorted(norm.starts)


@pytest.mark.parametrize("bad", ["", "   \n\t", "。，！？……", "\x00\x01\x02", "🙂" * 0 + "\u200b\u200b"])
def test_unusable_descriptions_get_a_one_line_reason(bad):
    with pytest.raises(InputError) as exc:
        check_description(bad)
    assert "\n" not in str(exc.value)


def test_a_one_megabyte_description_is_refused_with_the_limit():
    with pytest.raises(InputError, match="at most 100,000"):
        check_description("人" * 1_000_000)


def test_domain_terms_survive_tokenisation():
    tokens = tokenize("这是一个简历筛选和人脸识别的产品，支持自动驾驶与深度合成")
    for term in ("简历筛选", "人脸识别", "自动驾驶", "深度合成"):
        assert term in tokens


def test_traditional_input_tokenises_like_simplified():
    assert tokenize("人臉識別門禁系統") == tokenize("人脸识别门禁系统")


def test_the_on_disk_dictionary_gives_the_same_tokens_as_jieba_in_memory(tmp_path):
    """`classify` looks words up on disk instead of loading jieba's dictionary; the tokens must not change."""
    import csv
    import json
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    rows = []
    for name in ("corpus.csv", "dev2.csv", "test.csv"):
        with (ROOT / "training" / "data" / name).open(encoding="utf-8", newline="") as fh:
            rows += [r["description"] for r in csv.DictReader(fh)][::7]
    script = (
        "import json, sys\n"
        "from riskclass.text.normalise import tokenize, use_on_disk_dictionary\n"
        "use_on_disk_dictionary()\n"
        "print(json.dumps([tokenize(t) for t in json.load(sys.stdin)], ensure_ascii=False))\n"
    )
    env = {**os.environ, "RISKCLASS_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], input=json.dumps(rows), capture_output=True, text=True, env=env, check=True
        )
        for _ in range(2)  # the first run builds the table (tokenising in memory), the second reads it
    ]
    assert list(tmp_path.glob("jieba-dictionary-*.sqlite")), "the table was not built"
    in_memory = [tokenize(t) for t in rows]
    for run in runs:
        assert json.loads(run.stdout) == in_memory
