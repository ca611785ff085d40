"""The batch screen: which rule patterns could match a text, decided for a whole chunk at once.

A speed device, not law: skipping a pattern the screen rules out never changes a result (tests compare).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from typing import Any

from riskclass.rulebook.rules import (
    Requirement,
    Rulebook,
    _weight,
    negation_before,
)
from riskclass.text.grams import (
    SLICE_TEXTS,
    CodeIndex,
    _code_points,
    _expand,
    _gram_codes,
    _ragged,
    _rarest_triples,
    gram_code,
    sorted_unique,
)


class Candidates:
    """What can match one text: for each pattern that can, what to run in its place, and the rules they belong to.

    `run` maps the id() of a pattern (hashing a compiled pattern hashes its whole program: microseconds for the long
    ones) to the pattern itself, or, when only some of its top-level alternatives can match this text, to those
    alone (a compiled alternative, or `Alternatives`), which give exactly the pattern's matches, faster.
    """

    __slots__ = ("rules", "run")

    def __init__(self, run: dict[int, Any], rules: list[int]) -> None:
        self.run = run
        self.rules = rules  # indices of the rules with a pattern that can match, in rulebook order

    def __contains__(self, pattern: object) -> bool:
        return id(pattern) in self.run

    def __len__(self) -> int:
        return len(self.run)


def _first_affirmed(pattern, text: str) -> str | None:
    """The first match of `pattern` in `text` that no negation cue stands right before."""
    for m in pattern.finditer(text):
        if negation_before(text, m.start()) is None:
            return m.group(0)
    return None


class Alternatives:
    """Some top-level alternatives of a pattern, run as the pattern runs them: the match starting earliest, and
    among those starting at the same place the one of the first alternative (the others cannot match this text)."""

    __slots__ = ("patterns",)

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        self.patterns = patterns

    def finditer(self, text: str):
        patterns = self.patterns
        pending = [p.search(text) for p in patterns]  # the next match of each alternative
        pos = 0
        while True:
            best = None
            for k, m in enumerate(pending):
                if m is not None and m.start() < pos:  # overlapped by the last match: look again from its end
                    m = pending[k] = patterns[k].search(text, pos)
                if m is not None and (best is None or m.start() < best.start()):
                    best = m
            if best is None:
                return
            yield best
            pos = best.end()  # never empty: an alternative that can match nothing is never split off

    def search(self, text: str):
        return next(self.finditer(text), None)


class _Units:
    """The units a screen decides about: a whole pattern, or one top-level alternative of one, by number, and what to
    run for the units of a text that can match."""

    def __init__(self) -> None:
        # For each unit: the pattern's id, the pattern, the alternative's source ("" for a whole pattern) and how many
        # alternatives the pattern was split into (0).
        self._unit_pattern: list[int] = []
        self._unit_whole: list[Any] = []
        self._unit_source: list[str] = []
        self._unit_parts: list[int] = []
        self._compiled: dict[int, re.Pattern[str]] = {}  # unit number → its alternative, compiled when first run

    def _add_units(self, pattern, parts: list[str] | None) -> None:
        for part in parts or [""]:
            self._unit_pattern.append(id(pattern))
            self._unit_whole.append(pattern)
            self._unit_source.append(part)
            self._unit_parts.append(len(parts) if parts else 0)

    def _runners(self, units: list[int]) -> dict[int, Any]:
        """Pattern id → what to run for it, from the units that can match (in order, a pattern's units together)."""
        run: dict[int, Any] = {}
        parts: list[int] = []
        unit_pattern, unit_parts = self._unit_pattern, self._unit_parts
        for i, unit in enumerate(units):
            if not unit_parts[unit]:
                run[unit_pattern[unit]] = self._unit_whole[unit]
                continue
            parts.append(unit)
            if i + 1 < len(units) and unit_pattern[units[i + 1]] == unit_pattern[unit]:
                continue  # more alternatives of the same pattern follow
            if len(parts) == unit_parts[unit]:
                run[unit_pattern[unit]] = self._unit_whole[unit]  # every alternative can match: the pattern itself
            elif len(parts) == 1:
                run[unit_pattern[unit]] = self._alternative(unit)
            else:
                run[unit_pattern[unit]] = Alternatives([self._alternative(u) for u in parts])
            parts = []
        return run

    def _alternative(self, unit: int) -> re.Pattern[str]:
        compiled = self._compiled.get(unit)
        if compiled is None:
            compiled = self._compiled[unit] = re.compile(self._unit_source[unit], self._unit_whole[unit].flags)
        return compiled


class TextScreen(_Units):
    """For one description (`classify`, the terminal app): which patterns could match it, in plain Python.

    The same decision as `Screen` — a unit is a candidate when, for one alternative of its requirement, the text holds
    a string of each set (`required_literals`) — made with `in` on the text, without NumPy or an index: a few hundred
    microseconds, against the half second it takes to compile every pattern. Only the candidates are ever compiled.
    """

    def __init__(self, rulebook: Rulebook) -> None:
        from riskclass.rulebook.rules import screening_plan

        super().__init__()
        patterns = rulebook.all_patterns()
        self._rule_of: dict[int, list[int]] = {}
        for i, rule in enumerate(rulebook.rules):
            for p in rule.patterns:
                self._rule_of.setdefault(id(p), []).append(i)
        plans = rulebook.plans
        if any(p.pattern not in plans for p in patterns):  # a rulebook the committed index does not describe
            found = screening_plan(patterns, plans)
        else:  # the index's own JSON form: lists where a plan has sets, iterated alike
            found = [plans[p.pattern] for p in patterns]
        self._needs: list = []  # by unit: its requirement's alternatives (None: always a candidate)
        for p, (parts, requirements) in zip(patterns, found, strict=True):
            self._add_units(p, parts)
            self._needs += requirements

    def candidates(self, text: str) -> Candidates:
        seen: dict[str, bool] = {}

        def holds(strings) -> bool:
            for s in strings:
                there = seen.get(s)
                if there is None:
                    there = seen[s] = s in text
                if there:
                    return True
            return False

        units = [
            unit
            for unit, need in enumerate(self._needs)
            if need is None or any(all(holds(strings) for strings in alt) for alt in need)
        ]
        run = self._runners(units)
        rules = sorted({i for pid in run for i in self._rule_of.get(pid, ())})
        return Candidates(run, rules)


class Screen(_Units):
    """For a batch: which patterns could match a text, from the strings each one needs (see required_literals).

    A pattern is screened as a whole, or, when it is an alternation (`top_level_alternatives`), alternative by
    alternative. Every string some of them needs is indexed by a code (`gram_code`): its own if it has one to three
    characters, else that of its rarest three characters in the sample. For a whole chunk at once, NumPy codes every
    character, pair and triple of the texts and looks them up (`CodeIndex`); `in` confirms the longer strings; a
    pattern (or alternative) is a candidate when one of its requirement's alternatives has a string of each of its
    sets present. What is not a candidate cannot match, so skipping it changes nothing; the screen costs some
    microseconds a text, against ~20 µs for each regular expression it spares.
    """

    def __init__(self) -> None:
        super().__init__()
        self.need: dict = {}  # pattern → required_literals(pattern) (None: always run)
        self.rule_of: dict[int, list[int]] = {}  # id of a rule's pattern → indices of the rules it is in
        self._rules = 0  # how many rules there are
        self._always: list[int] = []  # units that always run
        self._rules_of_unit = None  # (starts, rule indices) by unit number
        self._always_rules: set[int] = set()
        self._sets = 0  # how many sets of strings there are
        # Alternatives of requirements by number: (starts, ids) of their sets, the unit each belongs to, and, for
        # each set, the alternatives for which it is the set least often present (looked at only when it is)
        self._sets_of_alternative = None
        self._unit_of_alternative = None
        self._alternatives_of_set = None
        self._index: CodeIndex | None = None  # codes of the keys → key number
        self._sets_of_key = None  # (starts, ids): the sets holding exactly key k are ids[starts[k]:starts[k + 1]]
        self._longer_of_key = None  # (starts, numbers): the longer strings indexed under key k
        self._longer: list[str] = []  # longer string by number
        self._sets_of_longer = None  # (starts, ids): the sets holding longer string n

    @classmethod
    def build(cls, rulebook: Rulebook, sample: list[str] | None = None) -> Screen:
        import numpy as np

        from riskclass.rulebook.rules import screening_plan

        screen = cls()
        patterns = rulebook.all_patterns()
        for i, rule in enumerate(rulebook.rules):
            for p in rule.patterns:
                screen.rule_of.setdefault(id(p), []).append(i)
        needs: list[Requirement | None] = []
        for p, (parts, requirements) in zip(patterns, screening_plan(patterns, rulebook.plans), strict=True):
            screen.need[p] = None if None in requirements else tuple(alt for r in requirements for alt in r)
            screen._add_units(p, parts)
            needs += requirements
        ids: dict[frozenset[str], int] = {}
        holders: dict[str, list[int]] = {}
        alternatives: list[tuple[int, frozenset[int]]] = []  # (unit, ids of its sets)
        for unit, need in enumerate(needs):
            if need is None:
                screen._always.append(unit)
                continue
            for alt in need:
                for strings in alt:
                    if strings not in ids:
                        ids[strings] = len(ids)
                        for s in strings:
                            holders.setdefault(s, []).append(ids[strings])
                alternatives.append((unit, frozenset(ids[strings] for strings in alt)))

        exact: dict[int, list[int]] = {}
        for s, where in holders.items():
            if len(s) <= 3:
                exact.setdefault(gram_code(s), []).extend(where)
        screen._longer = [s for s in holders if len(s) > 3]
        longer: dict[int, list[int]] = {}
        for number, code in enumerate(_rarest_triples(screen._longer, sample, np)):
            longer.setdefault(code, []).append(number)
        codes = sorted({*exact, *longer})
        screen._index = CodeIndex(codes)
        screen._sets_of_key = _ragged([exact.get(c, []) for c in codes], np)
        screen._longer_of_key = _ragged([longer.get(c, []) for c in codes], np)
        screen._sets_of_longer = _ragged([holders[s] for s in screen._longer], np)
        screen._sets = len(ids)
        # Each alternative is looked at when its set least often present in the sample is (without a sample: the set
        # whose strings look rarest).
        if sample:
            weights = Counter((screen._present(sample) % screen._sets).tolist())
        else:
            weights = Counter({i: _weight(strings) for strings, i in ids.items()})
        keyed: list[list[int]] = [[] for _ in ids]
        for a, (_, alt) in enumerate(alternatives):
            keyed[min(alt, key=lambda i: (weights[i], i))].append(a)
        screen._rules = len(rulebook.rules)
        screen._rules_of_unit = _ragged([screen.rule_of.get(p, []) for p in screen._unit_pattern], np)
        screen._always_rules = {i for u in screen._always for i in screen.rule_of.get(screen._unit_pattern[u], [])}
        screen._sets_of_alternative = _ragged([sorted(alt) for _, alt in alternatives], np)
        screen._unit_of_alternative = np.array([unit for unit, _ in alternatives], dtype=np.int64)
        screen._alternatives_of_set = _ragged(keyed, np)
        return screen

    def candidates(self, text: str) -> Candidates:
        return self.candidates_many([text])[0]

    def candidates_many(self, texts: list[str]) -> list[Candidates]:
        """`candidates` of each text, for the whole list at once (in slices of SLICE_TEXTS)."""
        import numpy as np

        if not texts:
            return []
        if len(texts) > SLICE_TEXTS:
            step = SLICE_TEXTS
            return [c for i in range(0, len(texts), step) for c in self.candidates_many(texts[i : i + step])]
        sets = self._sets
        present = self._present(texts)  # row × sets + set, sorted
        # The alternatives keyed by a present set, then whether every set of each of them is present.
        rows, alternatives = _expand(present // sets, present % sets, self._alternatives_of_set, np)
        pair, needed = _expand(np.arange(len(rows)), alternatives, self._sets_of_alternative, np)
        wanted = rows[pair] * sets + needed
        there = present[np.minimum(np.searchsorted(present, wanted), len(present) - 1)] == wanted
        whole = np.ones(len(rows), dtype=bool)
        whole[pair[~there]] = False
        units = self._unit_of_alternative[alternatives[whole]]
        count = len(self._unit_pattern)
        chosen = sorted_unique(rows[whole] * count + units, np)
        chosen_rows, chosen = chosen // count, chosen % count
        rule_rows, rules = _expand(chosen_rows, chosen, self._rules_of_unit, np)
        ruled = sorted_unique(rule_rows * self._rules + rules, np)
        bounds = np.arange(len(texts) + 1)
        u_cuts = np.searchsorted(chosen_rows, bounds).tolist()
        r_cuts = np.searchsorted(ruled // self._rules, bounds).tolist()
        chosen = chosen.tolist()
        rules = (ruled % self._rules).tolist()
        always_rules = self._always_rules
        return [
            Candidates(
                self._runners(self._always + chosen[a:b] if self._always else chosen[a:b]),
                sorted(always_rules.union(rules[c:d])) if always_rules else rules[c:d],
            )
            for (a, b), (c, d) in zip(itertools.pairwise(u_cuts), itertools.pairwise(r_cuts), strict=True)
        ]

    def _present(self, texts: list[str]):
        """Which sets of strings each text holds a string of: sorted int64 codes row × (number of sets) + set."""
        import numpy as np

        # Every character, pair and triple of neighbours, for the whole chunk at once; "\0" between texts keeps them
        # from spanning two texts (no string a pattern needs holds one).
        codes = _code_points("\0".join(texts), np)
        grams = np.concatenate([_gram_codes(codes, n, np) for n in (1, 2, 3)])
        at = np.concatenate([np.arange(len(codes) - n + 1) for n in (1, 2, 3)])
        key = self._index.find(grams)
        hit = key >= 0
        row_of = np.repeat(np.arange(len(texts)), [len(t) + 1 for t in texts])
        width = len(self._index)
        pairs = sorted_unique(row_of[at[hit]] * width + key[hit], np)
        rows, keys = pairs // width, pairs % width
        set_rows, set_ids = _expand(rows, keys, self._sets_of_key, np)
        long_rows, numbers = _expand(rows, keys, self._longer_of_key, np)
        if len(numbers):
            strings = self._longer
            ok = [strings[n] in texts[r] for r, n in zip(long_rows.tolist(), numbers.tolist(), strict=True)]
            ok = np.array(ok, dtype=bool)
            more_rows, more_ids = _expand(long_rows[ok], numbers[ok], self._sets_of_longer, np)
            set_rows = np.concatenate((set_rows, more_rows))
            set_ids = np.concatenate((set_ids, more_ids))
        return sorted_unique(set_rows * self._sets + set_ids, np)
