"""jieba's dictionary as one committed, sorted file, read in place: the first `classify` needs no cache and no jieba.

jieba builds a dict of ~500,000 words and prefixes from its packaged `dict.txt` before it cuts anything (about a
second), and importing jieba costs more than a tenth of a second (it pulls in `pkg_resources`). One description
needs a few hundred look-ups. So the dictionary jieba builds — its words and prefixes with riskclass's domain words
(`userdict.txt`), exactly as `gen_pfdict` and `load_userdict` leave them — is written once, at build time, as sorted
`word<TAB>frequency` lines, and looked up by binary search in the file's bytes, mapped into memory rather than read
(a description touches a few dozen of its pages, and a forked batch worker shares them). The tokens are the same (a
test compares them on every labelled description).

The file is keyed on the content it was built from (jieba's `dict.txt` and `__init__.py`, and `userdict.txt`) and
carries the sha256 of its body: a key that does not match (another jieba, changed domain words) or a body that fails
its check is not used, and riskclass falls back to its cached copies. Regenerate it after changing `userdict.txt` or
upgrading jieba:

    python -m riskclass.text.dictionary
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.util
import mmap
import sys
from importlib import resources
from pathlib import Path

DICTIONARY_FILE = "jieba-dictionary.txt"
SCHEMA = b"riskclass-dictionary/1"
USER_DICT = "userdict.txt"
REGENERATE = "python -m riskclass.text.dictionary"
# Words remembered after a look-up, at most: a 60,000-row batch looked up 137,000 distinct fragments (most of them
# not words), each remembered one costing ~100 bytes in every process. At 50,000 a 20,000-row batch took as long
# as with 200,000 (CPU +3%, within the noise of paired runs; a look-up missed again costs a few microseconds,
# `SortedFreq`), and its two processes 16 MiB less.
SEEN_MAX = 50_000
# Bytes between two sampled lines of the sorted dictionary (`SortedFreq`): ~1,500 samples for its 6 MB, found in about
# a millisecond at load.
SAMPLE_BYTES = 4096
# Bytes between two lines sampled again inside a 4 KB window, the first time a word is looked for in it: a `find`
# over 4 KB took 1.8 µs and over 512 bytes 0.4 µs, and a batch looks up about 40 fragments a row that are not
# remembered (3,000 generated rows: 120,000 look-ups, three in four of them fragments that are not words), so a
# look-up went from 3.2 µs to 1.6. Sampling every 512 bytes at load instead took 7 ms, which `classify` would pay.
FINE_SAMPLE_BYTES = 512


def _jieba_dir() -> Path | None:
    """Where jieba is installed, found without importing it."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def content_key() -> str | None:
    """sha256 of what the dictionary is built from: jieba's code and dictionary, and the domain words."""
    where = _jieba_dir()
    if where is None:
        return None
    h = hashlib.sha256()
    try:
        for name in ("__init__.py", "dict.txt"):
            h.update(_mapped(where / name))
            h.update(b"\0")
    except (OSError, ValueError):
        return None
    h.update(resources.files("riskclass.data").joinpath(USER_DICT).read_bytes())
    return h.hexdigest()


class WordFreq:
    """The read-only mapping jieba's segmentation needs (`in`, `[]`, `get`) over a slower look-up (`_lookup`): each
    word is looked up once and remembered, since a description repeats its characters."""

    def __init__(self) -> None:
        self._seen: dict[str, int | None] = {}

    def _lookup(self, word: str) -> int | None:
        raise NotImplementedError

    def get(self, word: str, default=None):
        found = self._seen.get(word, -1)  # -1: not looked up yet (no frequency is negative)
        if found == -1:
            if len(self._seen) >= SEEN_MAX:
                self._seen.clear()
            found = self._seen[word] = self._lookup(word)
        return default if found is None else found

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    def __getitem__(self, word: str) -> int:
        found = self.get(word)
        if found is None:
            raise KeyError(word)
        return found


def _mapped(path: Path) -> bytes | mmap.mmap:
    """The file's bytes mapped read-only (nothing copied; pages are read as they are touched), or read when it is
    empty (an empty file cannot be mapped)."""
    with open(path, "rb") as fh:
        try:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            return fh.read()


class SortedFreq(WordFreq):
    """jieba's dictionary by search in the sorted lines.

    Lines are ordered by their UTF-8 bytes, which is the order of their code points, so comparing bytes finds words.
    The first line after every SAMPLE_BYTES bytes is sampled: bisecting the sampled words (in C) gives the few
    kilobytes a word's line must lie in, and one `find` of "\nword\t" there finds it or shows it is not a word. A
    batch looks up hundreds of thousands of words this way, at a few microseconds each, with the file shared between
    processes instead of jieba's ~70 MiB dictionary in each.
    """

    def __init__(self, data: bytes | mmap.mmap, body: int, total: int) -> None:
        """`data[body:]` are the sorted lines, and `data[body - 1]` is a newline."""
        super().__init__()
        self._data = data
        self._body = body
        self.total = total
        self._starts, self._words = self._sample(body, len(data), SAMPLE_BYTES)  # sampled lines' starts, words
        # By window (between two samples): its lines sampled every FINE_SAMPLE_BYTES, the first time it is searched.
        self._fine: list[tuple[list[int], list[bytes]] | None] = [None] * len(self._starts)

    def _sample(self, at: int, end: int, step: int) -> tuple[list[int], list[bytes]]:
        """The start and word of the line at `at` and of the first line after every `step` bytes, before `end`."""
        data = self._data
        starts: list[int] = []
        words: list[bytes] = []
        while at < end:
            tab = data.find(b"\t", at)
            if tab < 0:
                break
            starts.append(at)
            words.append(data[at:tab])
            at = data.find(b"\n", at + step) + 1
            if at <= 0:
                break
        return starts, words

    def _find(self, key: bytes) -> int | None:
        data = self._data
        i = bisect.bisect_right(self._words, key) - 1  # the last sampled word ≤ key: its line starts the window
        if i < 0:
            return None
        fine = self._fine[i]
        if fine is None:
            end = self._starts[i + 1] if i + 1 < len(self._starts) else len(data)
            fine = self._fine[i] = self._sample(self._starts[i], end, FINE_SAMPLE_BYTES)
        starts, words = fine
        j = bisect.bisect_right(words, key) - 1  # ≥ 0: the window's first line is sampled, and its word ≤ key
        start = starts[j]
        # The next sample's word > key: the window's next, else the next window's first.
        end = starts[j + 1] if j + 1 < len(starts) else self._starts[i + 1] if i + 1 < len(self._starts) else len(data)
        at = data.find(b"\n" + key + b"\t", start - 1, min(end + len(key) + 1, len(data)))
        if at < 0:
            return None
        tab = at + 1 + len(key)
        return int(data[tab + 1 : data.find(b"\n", tab)])

    def _lookup(self, word: str) -> int | None:
        return self._find(word.encode("utf-8", "surrogatepass"))


def load_sorted() -> SortedFreq | None:
    """The committed dictionary when it was built from the jieba and domain words installed here, and intact."""
    resource = resources.files("riskclass.data").joinpath(DICTIONARY_FILE)
    try:
        raw = _mapped(resource) if isinstance(resource, Path) else resource.read_bytes()
    except OSError:
        return None
    body = raw.find(b"\n") + 1
    fields = raw[: max(body - 1, 0)].split(b"\t")
    if not body or len(fields) != 4 or fields[0] != SCHEMA or not fields[2].isdigit():
        return None
    key = content_key()
    if key is None or fields[1] != key.encode():
        return None
    if hashlib.sha256(memoryview(raw)[body:]).hexdigest().encode() != fields[3]:
        return None
    return SortedFreq(raw, body, int(fields[2]))


def build_dictionary() -> bytes:
    """The file's bytes: jieba's dictionary as jieba itself builds it (see `riskclass.text.normalise`), sorted."""
    import logging

    import jieba

    jieba.setLogLevel(logging.CRITICAL)
    tok = jieba.Tokenizer()
    with tok.get_dict_file() as fh:
        tok.FREQ, tok.total = tok.gen_pfdict(fh)
    tok.initialized = True
    with resources.files("riskclass.data").joinpath(USER_DICT).open("rb") as fh:
        tok.load_userdict(fh)
    lines = sorted((w.encode("utf-8"), n) for w, n in tok.FREQ.items())
    if any(b"\t" in w or b"\n" in w for w, _ in lines):
        raise ValueError("a dictionary word holds a tab or a newline: the file cannot carry it")
    body = b"".join(b"%s\t%d\n" % (w, n) for w, n in lines)
    key = content_key()
    if key is None:
        raise ValueError("jieba is not installed")
    head = b"\t".join((SCHEMA, key.encode(), b"%d" % tok.total, hashlib.sha256(body).hexdigest().encode()))
    return head + b"\n" + body


def dictionary_path() -> Path:
    """Where the file lives in the source tree."""
    return Path(__file__).resolve().parents[1] / "data" / DICTIONARY_FILE


def main() -> int:
    path = dictionary_path()
    path.write_bytes(build_dictionary())
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
