"""Text normalisation and tokenisation, shared by the rules, the model, training and batch.

Rules match on a normalised form (NFKC, lower case, 繁體 → 简体, whitespace collapsed, control characters dropped)
but evidence must point into the text exactly as the user gave it, so `normalise` keeps, for every normalised
character, the span of original characters it came from.

The model tokenises through `tokenize`, which is the only tokeniser used in training and inference alike.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from riskclass.errors import InputError
from riskclass.text.dictionary import WordFreq

# A product description, not a document: longer input gets a clear error instead of a long wait.
MAX_DESCRIPTION_CHARS = 100_000

USER_DICT = "userdict.txt"


@dataclass(frozen=True)
class NormalizedText:
    original: str
    text: str
    starts: tuple[int, ...]  # starts[i]: index in `original` where normalised char i came from
    ends: tuple[int, ...]  # ends[i]: index just past it

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text back to a half-open span of the original text."""
        if not 0 <= start < end <= len(self.starts):
            raise ValueError(f"not a non-empty span of the normalised text: {start}..{end}")
        return self.starts[start], self.ends[end - 1]


@lru_cache(maxsize=1)
def _t2s():
    # OpenCC's C++ converter: about 5 µs per description, versus milliseconds for pure-Python converters.
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """繁體 → 简体 character by character where phrase conversion would change the length (offsets must stay exact)."""
    if not text or text.isascii():
        return text
    cc = _t2s()
    out = cc.convert(text)
    if len(out) == len(text):
        return out
    return "".join(c if len(c := cc.convert(ch)) == 1 else ch for ch in text)


def _is_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Zs"


_DROPPED = ("Cc", "Cf", "Cs", "Co", "Cn")  # control, zero-width, lone surrogates, private use, unassigned


class _Pieces(dict):
    """Code point → what `normalise` makes of that character on its own: "" (dropped), " " for each space in it, or
    its NFKC form lower-cased. Filled on first use, so each distinct character is looked up in Unicode once."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if _is_space(ch):
            piece = " "
        elif unicodedata.category(ch) in _DROPPED:
            piece = ""  # never meaningful evidence
        else:
            piece = unicodedata.normalize("NFKC", ch).lower() if not ch.isascii() else ch.lower()
            piece = "".join(" " if _is_space(p) else p for p in piece)
        if len(piece) != 1:
            _not_one_to_one.add(ch)
        self[code] = piece
        return piece


_pieces = _Pieces()
_not_one_to_one: set[str] = set()  # characters whose piece is not exactly one character


def normalise(original: str) -> NormalizedText:
    """NFKC + lower case + whitespace collapsed + control/format characters dropped, then 繁體 → 简体, with offsets.

    Character by character: each becomes its piece (`_Pieces`), a run of spaces becomes its first space, and spaces at
    either end go. Most text maps one character to one (`str.translate` does it all, and offsets are positions); the
    rest takes the loop below, which keeps, for every normalised character, the original character it came from.
    """
    text = original.translate(_pieces)
    if (
        len(text) == len(original)
        and _not_one_to_one.isdisjoint(original)
        and "  " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
    ):
        n = len(text)
        return NormalizedText(original, to_simplified(text), tuple(range(n)), tuple(range(1, n + 1)))
    chars: list[str] = []
    starts: list[int] = []
    for i, ch in enumerate(original):
        for p in _pieces[ord(ch)]:
            if p != " ":
                chars.append(p)
                starts.append(i)
            elif chars and chars[-1] != " ":
                chars.append(" ")
                starts.append(i)
    while chars and chars[-1] == " ":
        chars.pop()
        starts.pop()
    return NormalizedText(original, to_simplified("".join(chars)), tuple(starts), tuple(s + 1 for s in starts))


def content_chars(text: str) -> int:
    """Letters, digits and CJK characters: what is left once punctuation, symbols and spaces are gone."""
    return sum(1 for ch in text if unicodedata.category(ch)[0] in ("L", "N"))


def has_content_chars(text: str, at_least: int = 1) -> bool:
    """Whether `text` has at least that many content characters (`content_chars`), stopping as soon as it does."""
    if at_least <= 0:
        return True
    for ch in text:
        if unicodedata.category(ch)[0] in ("L", "N"):
            at_least -= 1
            if not at_least:
                return True
    return False


def check_description(description: object) -> str:
    """The one gate every face (CLI, batch, TUI) uses: returns the description or raises a one-line InputError."""
    if not isinstance(description, str):
        raise InputError(
            f"the description must be text, not {type(description).__name__}",
            zh=f"描述必须是文本，而不是 {type(description).__name__}",
        )
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InputError(
            f"the description has {len(description):,} characters; riskclass reads at most "
            f"{MAX_DESCRIPTION_CHARS:,} (paste the part that describes the product)",
            zh=f"描述有 {len(description):,} 个字符；riskclass 最多读取 {MAX_DESCRIPTION_CHARS:,} 个"
            "（请粘贴描述产品的那部分）",
        )
    if not description.strip():
        raise InputError(
            "the description is empty: describe the AI product in a sentence or more",
            zh="描述为空：请用一句或几句话描述这个人工智能产品",
        )
    if not has_content_chars(description):
        raise InputError(
            "the description has no words, only punctuation, symbols or control characters",
            zh="描述中没有文字，只有标点、符号或控制字符",
        )
    return description


# ---- tokenisation (model features) -------------------------------------------------------------------------------

_tokenizer_lock = threading.Lock()


# Distinct pieces (clauses between punctuation) whose feature columns a batch keeps (`_Block._word_columns`): enough to
# hold the recurring clauses of a large batch (~15 MiB a process, measured over 60,000 generated rows); unique clauses
# simply pass through. This and `cut_piece`'s cache both at 8,192 cost a 20,000-row batch ~20% more time.
PIECE_CACHE_SIZE = 32_768
# `cut_piece`'s own cache: in a batch it is asked only for pieces the model's piece cache lacks, which keeps the
# recently used ones, so a second cache of 32,768 mostly held the same clauses again (~16 MiB a process over 30,000
# generated rows, tracemalloc). At 4,096 (with the piece cache keeping its most used half) a 20,000-row --jobs 2 batch
# took ~4% more CPU (paired runs) and 200,000 rows peaked at 295 MiB PSS instead of 327. Under the FIFO piece cache it
# replaced, 4,096 here had cost ~10%. One description (`classify`, the terminal app) has far fewer pieces than this.
CUT_CACHE_SIZE = 4_096


_on_disk_dictionary = False


def use_on_disk_dictionary() -> None:
    """For one-off runs (`riskclass classify`): where the committed dictionary does not fit the installed jieba, look
    words up in an on-disk copy of jieba's dictionary rather than loading it.

    jieba keeps ~500,000 words and prefixes in a dict that takes most of a second to load; one description needs a few
    hundred look-ups. The copy is an SQLite table built once from the very dictionary jieba loads (with riskclass's
    domain words) and used by jieba's own segmentation, so the tokens are the same (a test checks it on every labelled
    description). Batch runs, training and the terminal app then load the in-memory dictionary (the committed one,
    when it fits, serves every run: `_jieba_tokenizer`).
    """
    global _on_disk_dictionary
    _on_disk_dictionary = True


class _DiskFreq(WordFreq):
    """jieba's dictionary served from SQLite."""

    def __init__(self, path) -> None:
        import sqlite3

        super().__init__()
        self._con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    def _lookup(self, word: str) -> int | None:
        with self._lock:
            row = self._con.execute("select n from freq where w = ?", (word,)).fetchone()
        return row[0] if row else None

    def total(self) -> int:
        return int(self._con.execute("select n from meta where k = 'total'").fetchone()[0])


def _open_table(path) -> _DiskFreq | None:
    """The on-disk dictionary, if the file is there and matches its checksum (else None: it is rebuilt)."""
    import sqlite3

    from riskclass.cache import file_is_intact

    if not path.is_file() or not file_is_intact(path):
        return None
    try:
        freq = _DiskFreq(path)
        freq.total()
    except sqlite3.Error:  # intact but unreadable here (another SQLite, a lock): use the in-memory dictionary
        return None
    return freq


def _dictionary_table_path():
    import hashlib

    import jieba

    from riskclass.cache import cache_dir

    user = resources.files("riskclass.data").joinpath(USER_DICT).read_bytes()
    key = hashlib.sha256(jieba.__version__.encode() + b"\0" + user).hexdigest()[:16]
    return cache_dir() / f"jieba-dictionary-{key}.sqlite"


def _write_dictionary_table(tok, path) -> None:
    """Dump a loaded tokenizer's dictionary to SQLite, atomically and with its sha256 beside it (a half-written or
    damaged table is never used). A cache directory that cannot take it only costs the next run time."""
    import sqlite3

    from riskclass.cache import write_file_with_digest

    def write(tmp) -> None:
        con = sqlite3.connect(tmp)
        try:
            con.execute("pragma journal_mode = off")  # a temporary file: nothing to roll back, no journal left behind
            con.execute("create table freq (w text primary key, n integer) without rowid")
            con.execute("create table meta (k text primary key, n integer)")
            con.executemany("insert into freq values (?, ?)", tok.FREQ.items())
            con.execute("insert into meta values ('total', ?)", (tok.total,))
            con.commit()
        except sqlite3.Error as exc:  # a full disk is "disk I/O error" here: the same as an OSError to the cache
            raise OSError(str(exc)) from None
        finally:
            con.close()

    write_file_with_digest(path, write)


def _dictionary_snapshot_path():
    return _dictionary_table_path().with_suffix(".marshal")


def _read_dictionary_snapshot() -> tuple[dict, int] | None:
    """The in-memory dictionary (jieba's words and prefixes with riskclass's domain words, and their total) as a
    batch run, training or the terminal app last loaded it, or None (also when the file fails its checksum).

    jieba reads its own cached dictionary with `marshal.load` on a file, which takes ~0.8 s; reading the bytes and
    `marshal.loads` takes ~0.2 s, and each worker process of `batch --jobs N` pays it. The snapshot holds exactly
    the dictionary `initialize()` and `load_userdict` build (keyed like the SQLite table by jieba's version and the
    domain words), so tokens do not change (a test checks it).
    """
    import marshal

    from riskclass.cache import read_sealed

    payload = read_sealed(_dictionary_snapshot_path())
    if payload is None:
        return None
    try:
        freq, total = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None
    return (freq, total) if isinstance(freq, dict) and isinstance(total, int) else None


def _write_dictionary_snapshot(tok) -> None:
    """Dump a loaded tokenizer's dictionary with marshal, sealed with its sha256 (see `riskclass.cache`)."""
    import marshal

    from riskclass.cache import write_sealed

    write_sealed(_dictionary_snapshot_path(), marshal.dumps((tok.FREQ, tok.total)))


# jieba's own block patterns (`jieba.re_han_default`, `jieba.re_skip_default`, a test checks they are the same): so a
# description is cut without importing jieba when the committed dictionary serves it.
_RE_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
_RE_SKIP = re.compile("(\r\n|\\s)", re.U)


@lru_cache(maxsize=1)
def _jieba_tokenizer():
    """A private jieba Tokenizer with the domain dictionary, so rubric terms (简历筛选, 人脸识别…) stay whole.

    Returns (tokenizer, split, cut_piece): `split` is jieba's own block splitter (`re_han_default.split`), and
    `cut_piece` the cached tokens of one piece, spaces dropped. The committed sorted dictionary
    (`riskclass.text.dictionary`) is used whenever it matches the installed jieba: mapped from the package, not loaded
    (a hundredth of a second instead of most of one, and a file shared by a batch's processes instead of ~70 MiB in
    each), and jieba is imported only if the tokenizer itself is used (`_JiebaOver`). Otherwise one-off runs
    (`use_on_disk_dictionary`) read an SQLite copy, and the others load jieba's dictionary into memory.
    """
    from riskclass.text.dictionary import load_sorted

    if (freq := load_sorted()) is not None:
        return _JiebaOver(freq), _RE_HAN.split, _piece_cutter(freq, freq.total)

    import logging

    import jieba

    # jieba logs a failure to write its own cache (a full or read-only temporary directory) with a traceback at
    # ERROR; like riskclass's caches, that only costs time, so only CRITICAL gets through.
    jieba.setLogLevel(logging.CRITICAL)
    tok = jieba.Tokenizer()
    with _tokenizer_lock:
        table = _dictionary_table_path() if _on_disk_dictionary else None
        if table is not None and (freq := _open_table(table)) is not None:
            tok.FREQ, tok.total, tok.initialized = freq, freq.total(), True
        elif table is None and (snapshot := _read_dictionary_snapshot()) is not None:
            tok.FREQ, tok.total = snapshot
            tok.initialized = True
        else:
            # jieba's own cache (jieba.cache in the shared temporary directory, writable by every user of the machine
            # and never checked) is not read: the prefix dictionary is built from jieba's packaged file, and
            # riskclass's own checksummed cache keeps the result.
            with tok.get_dict_file() as fh:
                tok.FREQ, tok.total = tok.gen_pfdict(fh)
            tok.initialized = True
            with resources.files("riskclass.data").joinpath(USER_DICT).open("rb") as fh:
                tok.load_userdict(fh)
            # An unwritable cache only costs speed: this run already has the dictionary in memory.
            if table is not None:
                _write_dictionary_table(tok, table)
            else:
                _write_dictionary_snapshot(tok)

    return tok, _RE_HAN.split, _piece_cutter(tok.FREQ, tok.total)


class _JiebaOver:
    """jieba's own Tokenizer over a dictionary riskclass loaded, made (and jieba imported) only when something asks
    for it: `classify` never does, a caller comparing with jieba's `lcut` does."""

    def __init__(self, freq) -> None:
        self._freq = freq
        self._tok = None

    def __getattr__(self, name: str):
        if self._tok is None:
            import jieba

            tok = jieba.Tokenizer()
            tok.FREQ, tok.total, tok.initialized = self._freq, self._freq.total, True
            self._tok = tok
        return getattr(self._tok, name)


def _piece_cutter(freq, total: int):
    """The cached tokens of one piece of text over a dictionary (`freq`: word or prefix → frequency, 0 for a prefix)."""
    han, skip = _RE_HAN, _RE_SKIP
    logtotal = math.log(total)

    @lru_cache(maxsize=CUT_CACHE_SIZE)
    def cut_piece(piece: str) -> tuple[str, ...]:
        # tok.lcut(piece, HMM=False), with the Han blocks cut by _cut_block (the same tokens, twice as fast)
        out: list[str] = []
        for block in han.split(piece):
            if not block:
                continue
            if han.match(block):
                out += _cut_block(block, freq, logtotal)
                continue
            for x in skip.split(block):
                if skip.match(x):
                    out.append(x)
                else:
                    out += x
        return tuple(t for t in out if t.strip())

    return cut_piece


_NOTHING_SEEN: dict[str, int | None] = {}  # for a dictionary without a memo (jieba's own dict): every word is asked
_ENGLISH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")  # jieba's re_eng


def _cut_block(block: str, freq, logtotal: float) -> list[str]:
    """jieba's `__cut_DAG_NO_HMM` of one Han block: the same words, by the same arithmetic, in one backward pass.

    jieba builds the DAG of dictionary words starting at each position, then picks from the end the route of highest
    log-probability, `max((log(freq or 1) - logtotal + route[x + 1], x))` (a tie goes to the longer word), then joins
    runs of single ASCII letters and digits. Here the words starting at each position are scored as they are found,
    in the same order and with the same floating-point operations, so the chosen route, and the tokens, are the same
    (a test compares them with jieba's on every labelled description and on random text).
    """
    n = len(block)
    get = freq.get
    # A WordFreq's memo read directly (-1: not looked up yet): a batch looks up ~60 fragments a row, most of them
    # remembered, and the method call around the memo cost about as much as the look-up itself.
    seen = getattr(freq, "_seen", _NOTHING_SEEN)
    score = [0.0] * (n + 1)
    until = [0] * (n + 1)
    for k in range(n - 1, -1, -1):
        best = None
        i = k
        frag = block[k]
        while True:  # the words starting at k: jieba's get_DAG walks prefixes while the dictionary knows them
            f = seen.get(frag, -1)
            if f == -1:
                f = get(frag)
            if f is None:
                break
            if f:
                s = math.log(f) - logtotal + score[i + 1]
                if best is None or s >= best:  # ends come in increasing order: a tie goes to the longer word
                    best, end = s, i
            i += 1
            if i >= n:
                break
            frag = block[k : i + 1]
        if best is None:  # no word starts here: the single character, counted as frequency 1
            best, end = math.log(1) - logtotal + score[k + 1], k
        score[k] = best
        until[k] = end + 1
    out: list[str] = []
    x = 0
    run = ""
    while x < n:
        y = until[x]
        word = block[x:y]
        if y - x == 1 and word in _ENGLISH:
            run += word
        else:
            if run:
                out.append(run)
                run = ""
            out.append(word)
        x = y
    if run:
        out.append(run)
    return out


def tokens_of_normalised(text: str) -> list[str]:
    """jieba tokens of text that is already normalised (HMM off: deterministic and faster), spaces dropped.

    The one tokeniser of the model, in training and inference alike. jieba cuts each run of Han/alphanumeric
    characters (its `re_han_default` blocks) on its own and passes everything between them through character by
    character, so cutting the pieces of `re_han_default.split(text)` one by one gives exactly `lcut(text)`; each piece's
    tokens are cached, because descriptions in a batch repeat clauses (公司名, 产品类型, boilerplate) far more often
    than whole texts. A test checks the tokens are identical to a plain `lcut` of the whole text.
    """
    _, split, cut_piece = _jieba_tokenizer()
    out: list[str] = []
    for piece in split(text):
        if piece:
            out += cut_piece(piece)
    return out


def tokenize(text: str) -> list[str]:
    """Tokens of a description as the user gave it: normalise, then `tokens_of_normalised`."""
    return tokens_of_normalised(normalise(text).text)
