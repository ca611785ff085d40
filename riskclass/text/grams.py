"""Character n-gram codes and a vectorised code index, shared by the batch screen and the model's features."""

from __future__ import annotations

# Texts per NumPy pass of the batch screen (and of the model's features): enough to amortise the calls, few enough
# that the temporary arrays (a dozen int64 values per character) stay at a few MB whatever the chunk size.
SLICE_TEXTS = 256


class CodeIndex:
    """Distinct non-negative int64 codes → their positions, looked up for whole NumPy arrays at once.

    An open-addressing hash table (Fibonacci hashing, linear probing) at most an eighth full: one gather finds almost
    every code, where a binary search (`np.searchsorted`) costs a cache miss per step.
    """

    def __init__(self, codes: list[int]) -> None:
        import numpy as np

        bits = max(4, (8 * len(codes)).bit_length())
        self._shift = np.uint64(64 - bits)
        self._mask = (1 << bits) - 1
        self._size = len(codes)
        keys = [-1] * (1 << bits)
        values = [0] * (1 << bits)
        slots = self._slots(np.array(codes, dtype=np.int64)).tolist()
        for position, (code, slot) in enumerate(zip(codes, slots, strict=True)):
            while keys[slot] != -1:
                slot = (slot + 1) & self._mask
            keys[slot], values[slot] = code, position
        self._keys = np.array(keys, dtype=np.int64)
        self._values = np.array(values, dtype=np.int64)

    def __len__(self) -> int:
        return self._size

    def _slots(self, codes):
        import numpy as np

        return ((codes.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> self._shift).view(np.int64)

    def find(self, codes):
        """The position of each code (an int64 array), or -1 where it is not in the index."""
        import numpy as np

        slot = self._slots(codes)
        stored = self._keys[slot]
        out = np.where(stored == codes, self._values[slot], -1)
        todo = np.flatnonzero((stored != codes) & (stored != -1))  # another code holds the slot: probe on
        slot = slot[todo]
        while len(todo):
            slot = (slot + 1) & self._mask
            stored = self._keys[slot]
            found = stored == codes[todo]
            out[todo[found]] = self._values[slot[found]]
            more = (stored != -1) & ~found
            todo, slot = todo[more], slot[more]
        return out


def gram_code(gram: str) -> int:
    """One int64 per string of one to three characters (21 bits a code point; lengths never share a code)."""
    if len(gram) == 1:
        return ord(gram)
    if len(gram) == 2:
        return ((ord(gram[0]) + 1) << 21) | ord(gram[1])
    return ((ord(gram[0]) + 1) << 42) | (ord(gram[1]) << 21) | ord(gram[2])


def sorted_unique(values, np):
    """`np.unique(values)` for an int64 array: sorted, each value once (a plain sort, much faster here)."""
    values = np.sort(values)
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _rarest_triples(strings: list[str], sample: list[str] | None, np) -> list[int]:
    """For each string (of four characters or more), the `gram_code` of its three neighbouring characters least
    often seen in the sample (the smallest code among equals)."""
    if not strings:
        return []
    triples = [len(s) - 2 for s in strings]
    owner = np.repeat(np.arange(len(strings)), triples)  # the string each triple is in
    starts = np.cumsum([0, *[len(s) + 1 for s in strings[:-1]]])  # where each string starts in the joined text
    at = np.repeat(starts - (np.cumsum(triples) - triples), triples) + np.arange(sum(triples))
    codes = _gram_codes(_code_points("\0".join(strings), np), 3, np)[at]
    seen = np.zeros(len(codes), dtype=np.int64)
    if sample:
        known, counts = np.unique(_gram_codes(_code_points("\0".join(sample), np), 3, np), return_counts=True)
        if len(known):
            at = np.minimum(np.searchsorted(known, codes), len(known) - 1)
            seen = np.where(known[at] == codes, counts[at], 0)
    order = np.lexsort((codes, seen, owner))  # by string, then how often seen, then code
    first = np.flatnonzero(np.concatenate(([True], owner[order][1:] != owner[order][:-1])))
    return codes[order][first].tolist()


def _code_points(text: str, np):
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


def _gram_codes(codes, n: int, np):
    """`gram_code` of every run of n neighbours in an array of code points (n = 1, 2, 3)."""
    if n == 1:
        return codes
    if n == 2:
        return ((codes[:-1] + 1) << 21) | codes[1:]
    return ((codes[:-2] + 1) << 42) | (codes[1:-1] << 21) | codes[2:]


def _ragged(lists: list[list[int]], np):
    """Lists of ints as (starts, flat): list k is flat[starts[k]:starts[k + 1]]."""
    starts = np.cumsum([0, *map(len, lists)]).astype(np.int64)
    return starts, np.array([x for xs in lists for x in xs], dtype=np.int64)


def _expand(rows, keys, ragged, np):
    """For (row, key) pairs, the (row, item) pairs of every item in the key's list (`_ragged`)."""
    starts, flat = ragged
    lo = starts[keys]
    counts = starts[keys + 1] - lo
    first = np.cumsum(counts) - counts
    at = np.repeat(lo - first, counts) + np.arange(int(counts.sum()))
    return np.repeat(rows, counts), flat[at]
