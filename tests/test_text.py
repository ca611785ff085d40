import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskclass.errors import InputError
from riskclass.text.normalise import check_description, normalise, to_simplified, tokenize

from .conftest import jieba_tokens


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


def _tokens_in_a_one_off_run(tmp_path, rows: list[str], committed: bool) -> list[dict]:
    """What `classify`'s tokenizer gives in fresh processes (twice, sharing a cache directory): through the committed
    sorted dictionary, or (`committed=False`, as when it does not match the installed jieba) the SQLite table."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "import riskclass.text.dictionary as dictionary\n"
        "from riskclass.text.normalise import tokenize, use_on_disk_dictionary\n"
        + ("" if committed else "dictionary.load_sorted = lambda: None\n")
        + "use_on_disk_dictionary()\n"
        "tokens = [tokenize(t) for t in json.load(sys.stdin)]\n"
        "print(json.dumps({'tokens': tokens, 'jieba': 'jieba' in sys.modules}, ensure_ascii=False))\n"
    )
    env = {**os.environ, "RISKCLASS_CACHE_DIR": str(tmp_path)}
    return [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", script],
                input=json.dumps(rows),
                capture_output=True,
                text=True,
                env=env,
                check=True,
            ).stdout
        )
        for _ in range(2)  # the first run may build a cache, the second reads it
    ]


def _labelled(step: int) -> list[str]:
    import csv

    from .conftest import ROOT

    rows = []
    for name in ("corpus.csv", "dev2.csv", "test.csv"):
        with (ROOT / "training" / "data" / name).open(encoding="utf-8", newline="") as fh:
            rows += [r["description"] for r in csv.DictReader(fh)][::step]
    return rows


def test_the_committed_dictionary_gives_the_same_tokens_as_jieba_in_memory(tmp_path):
    """`classify` looks words up in the committed sorted dictionary, without importing jieba; tokens must not change."""
    rows = [*_labelled(step=2), "ＡＩ人脸识别", "abc123 x-y_z", "简历筛选 AT&T c#"]
    in_memory = [jieba_tokens(normalise(t).text) for t in rows]
    for run in _tokens_in_a_one_off_run(tmp_path, rows, committed=True):
        assert not run["jieba"], (
            "jieba was imported: the committed dictionary was not used (python -m riskclass.text.dictionary)"
        )
        assert run["tokens"] == in_memory
    assert not list(tmp_path.glob("jieba-dictionary-*")), "nothing needs caching"


def test_the_sqlite_dictionary_gives_the_same_tokens_as_jieba_in_memory(tmp_path):
    """Where the committed dictionary does not fit the installed jieba, the cached SQLite table serves `classify`."""
    rows = _labelled(step=7)
    in_memory = [jieba_tokens(normalise(t).text) for t in rows]
    for run in _tokens_in_a_one_off_run(tmp_path, rows, committed=False):
        assert run["tokens"] == in_memory
    assert list(tmp_path.glob("jieba-dictionary-*.sqlite")), "the table was not built"


def test_the_committed_dictionary_is_up_to_date():
    """The committed dictionary must be what the installed jieba builds with the domain words of userdict.txt."""
    from riskclass.text.dictionary import REGENERATE, build_dictionary, dictionary_path, load_sorted

    assert dictionary_path().read_bytes() == build_dictionary(), (
        f"riskclass/data/jieba-dictionary.txt is stale (userdict.txt or jieba changed): run `{REGENERATE}`, commit it"
    )
    assert load_sorted() is not None


def test_the_sampled_search_finds_every_word_of_the_committed_dictionary_and_nothing_else():
    """`SortedFreq` looks a word up in a window between two sampled lines: every word of the file is found with its
    frequency, at the edges of windows too, and a string that is not a word (a word cut short or run on, or before
    and after every word) is not."""
    import riskclass.text.dictionary as dictionary

    raw = dictionary.dictionary_path().read_bytes()
    lines = [line.split(b"\t") for line in raw.split(b"\n")[1:-1]]
    freq = dictionary.load_sorted()
    assert freq is not None and len(freq._starts) > 100
    words = {w.decode(): int(n) for w, n in lines}
    for w, n in words.items():
        assert freq._find(w.encode()) == n, w
    others = {"", "\x00", "\U0010ffff", "!", "zzzz", *(w[:-1] for w in words), *(w + "的" for w in list(words)[::7])}
    for w in others - set(words):
        assert freq._find(w.encode()) is None, w


def test_blocks_are_split_as_jieba_splits_them():
    import jieba

    from riskclass.text.normalise import _RE_HAN, _RE_SKIP

    assert (_RE_HAN.pattern, _RE_HAN.flags) == (jieba.re_han_default.pattern, jieba.re_han_default.flags)
    assert (_RE_SKIP.pattern, _RE_SKIP.flags) == (jieba.re_skip_default.pattern, jieba.re_skip_default.flags)


def test_a_damaged_or_foreign_committed_dictionary_is_not_used(monkeypatch):
    """A body that fails its sha256, or a file built from another jieba or other domain words, is never read."""
    import riskclass.text.dictionary as dictionary

    good = dictionary.dictionary_path().read_bytes()
    head, _, body = good.partition(b"\n")

    class Files:
        def __init__(self, raw: bytes) -> None:
            self.raw = raw

        def joinpath(self, name: str):
            return self

        def read_bytes(self) -> bytes:
            return self.raw

    key = dictionary.content_key()
    monkeypatch.setattr(dictionary, "content_key", lambda: key)
    for raw in (body.replace("人脸识别".encode(), "人脸识另".encode(), 1), b""):
        monkeypatch.setattr(dictionary.resources, "files", lambda package, raw=raw: Files(head + b"\n" + raw))
        assert dictionary.load_sorted() is None
    monkeypatch.setattr(dictionary, "content_key", lambda: "0" * 64)
    monkeypatch.setattr(dictionary.resources, "files", lambda package: Files(good))
    assert dictionary.load_sorted() is None
    monkeypatch.setattr(dictionary, "content_key", lambda: key)
    assert dictionary.load_sorted() is not None
