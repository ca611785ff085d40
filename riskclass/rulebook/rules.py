"""The rulebook: criteria, rules, obligations and 第五十条 triggers, kept as YAML data in the package.

Loading validates everything against the schema below and against the shipped draft: an unknown key, a missing field,
a bad pattern, a duplicate id, an unknown criterion or a quote not found verbatim in the article it cites each stop the
load with a message naming the file, the record and what to fix. Adding a rule is adding one record.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from riskclass.errors import LawError, RulebookError
from riskclass.law.draft import Draft, load_draft

RULEBOOK_FILE = "rulebook.yaml"
OBLIGATIONS_FILE = "obligations.yaml"
TIERS = ("high", "medium", "low")
TIER_OF_PREFIX = {"H": "high", "M": "medium", "R": "flag"}


@dataclass(frozen=True)
class Text:
    """A short text in both languages the UI speaks."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Citation:
    article: str  # label as in the draft, e.g. 第四十九条
    quote: str  # verbatim from that article


@dataclass(frozen=True)
class Criterion:
    """H1–H7, M1–M5 (tier criteria) and R1–R4 (red flags) as the rubric defines them."""

    id: str
    tier: str  # high | medium | flag
    title: Text
    question: Text  # asked when the evidence for this criterion is weak or missing
    articles: tuple[Citation, ...]

    @property
    def is_red_flag(self) -> bool:
        return self.tier == "flag"


# Where one phrase ends (after NFKC, so ，。；！？ are these too): an exclusion speaks only about its own phrase.
PHRASE_BREAK = re.compile(r"[。;!?,\n]")


def phrases(text: str) -> Callable[[int], int]:
    """Position → number of the phrase it is in."""
    breaks = [m.start() for m in PHRASE_BREAK.finditer(text)]
    return lambda pos: bisect.bisect_left(breaks, pos)


class Pattern:
    """A rule pattern compiled the first time it runs.

    Compiling the rulebook's ~700 regular expressions takes about half a second, and one description can match only
    a few of them (the engine's screens know which from the strings each one needs), so `classify` compiles those
    alone. The source is the one `compile_pattern` compiles (`\\b` already made an ASCII boundary); a source the
    committed index vouches for was compiled when the index was generated, any other is compiled at load, so a bad
    pattern still stops the load (`_Checker.patterns`).
    """

    __slots__ = ("_compiled", "pattern")
    flags = re.UNICODE  # what re.compile gives a str pattern compiled without flags, as compile_pattern does

    def __init__(self, source: str, compiled: re.Pattern[str] | None = None) -> None:
        self.pattern = source
        self._compiled = compiled

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return self._compiled

    def finditer(self, text: str, *bounds: int):
        return self.compiled.finditer(text, *bounds)

    def search(self, text: str, *bounds: int) -> re.Match[str] | None:
        return self.compiled.search(text, *bounds)

    def __getstate__(self) -> str:
        return self.pattern  # a copy in another process compiles its own when it first runs

    def __setstate__(self, source: str) -> None:
        self.pattern, self._compiled = source, None

    def __eq__(self, other: object) -> bool:
        # As re.Pattern compares: by source (and flags, always the same here), so two loads of one rulebook are equal
        # whether or not a pattern has been compiled yet.
        return isinstance(other, Pattern) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r})"


_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")  # the text is lower-cased before matching


def on_word_boundaries(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """`span` widened to whole English words: a pattern written as a stem (`credit scor`, `resume screen`) matches
    inside a word, and the evidence shown should be the word the description used ("credit scoring"). CJK text has no
    spaces between words, so only runs of ASCII letters and digits are widened."""
    start, end = span
    if 0 < start < end and text[start] in _ASCII_WORD:
        while start > 0 and text[start - 1] in _ASCII_WORD:
            start -= 1
    if start < end < len(text) and text[end - 1] in _ASCII_WORD:
        while end < len(text) and text[end] in _ASCII_WORD:
            end += 1
    return start, end


# Around a piece of evidence, characters that are not words: trimmed once the gaps are taken out.
_EDGE = " \t,;.:!?、·-—'\"“”‘’()（）「」《》"
_QUANTIFIER = re.compile(r"\{(\d*),(\d*)\}\??|[*+]\??")


def _with_gaps_marked(source: str) -> str | None:
    """`source` with every gap — a negated class or `.` repeated more than once (`[^。;!?]{0,12}`, `.*?`) — made a
    named group `_gapN`, so a match tells where the pattern's own words are and where it only let them stand apart.
    The marked pattern matches exactly what the source matches. None when there is no gap."""
    out: list[str] = []
    i, n = 0, 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            out.append(source[i : i + 2])
            i += 2
            continue
        if ch == "[":
            j = i + 1
            negated = source[j : j + 1] == "^"
            j += 1 if negated else 0
            j += 1 if source[j : j + 1] == "]" else 0  # a "]" first is a member, not the end
            while j < len(source) and source[j] != "]":
                j += 2 if source[j] == "\\" else 1
            token, gap_able = source[i : j + 1], negated
            i = j + 1
        else:
            token, gap_able = ch, ch == "."
            i += 1
        q = _QUANTIFIER.match(source, i) if gap_able else None
        if q is not None and (q.group(0)[0] in "*+" or q.group(2) == "" or int(q.group(2)) > 1):
            out.append(f"(?P<_gap{n}>{token}{q.group(0)})")
            n += 1
            i = q.end()
        else:
            out.append(token)
    return "".join(out) if n else None


@lru_cache(maxsize=4096)  # every pattern of the shipped rulebook (about 400) and room for a team's own
def _gapped(source: str, flags: int) -> re.Pattern[str] | None:
    """The compiled `_with_gaps_marked` form of a pattern (None without gaps, or when it cannot be compiled)."""
    marked = _with_gaps_marked(source)
    if marked is None:
        return None
    try:
        return re.compile(marked, flags)
    except re.error:  # a construct the marking does not know: the evidence stays the whole match
        return None


def evidence_pieces(
    text: str, span: tuple[int, int], patterns: tuple[re.Pattern[str], ...], clause_of: Callable[[int], int]
) -> list[tuple[int, int]]:
    """The evidence within a match `span` of one of `patterns`: its words, on English word boundaries.

    A match within one clause is kept whole (贷款申请人的评分). A match that runs across clause breaks
    (`症状，比如头疼……，ai会推荐两三种非处方药`) is cut at the breaks, and a clause the pattern only crossed — all of it
    inside a gap such as `[^。;!?]{0,30}` — is dropped: the evidence is 症状 and ai会推荐两三种非处方药, not the
    sentence between them. `clause_of` is `phrases(text)`.
    """
    start, end = span
    pieces = [span]
    if clause_of(start) != clause_of(end - 1):
        breaks = [i for i in range(start, end) if PHRASE_BREAK.match(text, i)]
        pieces = [(a + (a > start), b) for a, b in zip([start, *breaks], [*breaks, end], strict=True)]
        gaps: list[tuple[int, int]] = []
        for p in patterns:
            g = _gapped(p.pattern, p.flags)
            m = g.fullmatch(text, start, end) if g is not None else None
            if m is not None:
                gaps = [m.span(k) for k, v in m.groupdict().items() if k.startswith("_gap") and v]
                break

        def only_gap(a: int, b: int) -> bool:
            return any(ga <= a and b <= gb for ga, gb in gaps)

        pieces = [(a, b) for a, b in pieces if not only_gap(a, b)]
    out = []
    for a, b in pieces:
        while a < b and text[a] in _EDGE:
            a += 1
        while b > a and text[b - 1] in _EDGE:
            b -= 1
        if a < b:
            out.append(on_word_boundaries(text, (a, b)))
    return out or [on_word_boundaries(text, span)]


@dataclass(frozen=True)
class Rule:
    id: str
    criterion: str
    tier: str
    title: Text
    articles: tuple[Citation, ...]
    patterns: tuple[Pattern, ...]
    requires: tuple[Pattern, ...] = ()
    exclusions: tuple[Pattern, ...] = ()
    strength: str = "strong"  # strong: sets the tier; weak: raises a question instead
    question: Text | None = None
    # "phrase": an exclusion defeats only matches in the phrase it stands in (后勤 in one clause does not undo a
    # diagnosis in another); "description": it speaks about the whole product (a stated domain of a generator).
    exclusion_scope: str = "phrase"
    # Exclusions that speak about the whole product wherever they stand, whatever `exclusion_scope` says: the rubric's
    # "unless the text confines them to closed sites" is said anywhere in a description, not beside the vehicle.
    exclusions_anywhere: tuple[Pattern, ...] = ()
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    note: str = ""

    def match(self, text: str, candidates: dict | None = None) -> RuleMatch:
        """Where the patterns matched: counted spans, and spans a negation right before them cancels.

        `candidates` (from the engine's batch screen) maps the `id()` of each pattern that can match this text to
        what to run in its place (the pattern, or those of its alternatives that can match: the same matches); the
        other patterns are skipped. Keyed by id() because hashing a compiled pattern hashes its whole program.
        """
        found: list[tuple[int, int]] = []
        negated: list[tuple[tuple[int, int], tuple[int, int]]] = []
        for p in self.patterns:
            if candidates is not None and (p := candidates.get(id(p))) is None:
                continue
            for m in p.finditer(text):
                if m.end() > m.start():
                    if (cue := negation_before(text, m.start())) is not None:
                        negated.append((m.span(), cue))
                    else:
                        found.append(m.span())
        if found and self.requires:
            context = [
                m.span()
                for p in self.requires
                if candidates is None or id(p) in candidates
                for m in (p if candidates is None else candidates[id(p)]).finditer(text)
                if m.end() > m.start()
            ]
            if not context:
                return RuleMatch([], negated)
            return RuleMatch(sorted(set(found + context)), negated, sorted(set(found)))
        return RuleMatch(sorted(set(found)), negated)

    def evidence(
        self, text: str, spans: list[tuple[int, int]], clause_of: Callable[[int], int] | None = None
    ) -> list[tuple[int, int]]:
        """What of the matched `spans` to show as evidence: each match's own words (`evidence_pieces`)."""
        clause_of = clause_of or phrases(text)
        patterns = self.patterns + self.requires
        return [piece for span in spans for piece in evidence_pieces(text, span, patterns, clause_of)]

    def exclusion_spans(
        self, text: str, candidates: dict | None = None, patterns: tuple[Pattern, ...] | None = None
    ) -> list[tuple[int, int]]:
        """Every span where an exclusion matched (`candidates` as for `match`), in order; `patterns`: these instead
        of the rule's `exclusions`."""
        out: list[tuple[int, int]] = []
        for p in self.exclusions if patterns is None else patterns:
            if candidates is not None and (p := candidates.get(id(p))) is None:
                continue
            out += [m.span() for m in p.finditer(text) if m.end() > m.start()]
        return sorted(out)

    def unexcluded(
        self,
        text: str,
        spans: list[tuple[int, int]],
        candidates: dict | None = None,
        phrase_of: Callable[[int], int] | None = None,
        own: list[tuple[int, int]] | None = None,
    ) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
        """The spans no exclusion defeats, and — when none is left — the exclusion that defeated the first.

        An exclusion defeats a match only in the phrase it stands in (宠物医院的诊断助手); in another phrase it speaks
        about something else (…以图搜图，项目预算800万元), unless the rule declares that its exclusions describe the
        whole product (`exclusion_scope: description`). `exclusions_anywhere` always speak about the whole product.
        `phrase_of` (from `phrases`) may be shared between rules. `own`: the spans of the rule's patterns among
        `spans` (`RuleMatch.own`); the context its `requires` found does not keep a rule whose every pattern span an
        exclusion defeated (摄像头 is not an age estimate once 不识别性别年龄 took the estimate back).
        """
        if spans and self.exclusions_anywhere:
            anywhere = self.exclusion_spans(text, candidates, self.exclusions_anywhere)
            if anywhere:
                return [], anywhere[0]
        by_all = self.exclusion_spans(text, candidates) if self.exclusions else []
        if not by_all or not spans:
            return spans, None
        phrase_of = phrase_of or phrases(text)

        def phrases_of(span: tuple[int, int]) -> range:
            return range(phrase_of(span[0]), phrase_of(span[1] - 1) + 1)

        kept: list[tuple[int, int]] = []
        if self.exclusion_scope == "phrase":
            excluded = {phrase_of(a) for a, _ in by_all}
            kept = [sp for sp in spans if excluded.isdisjoint(phrases_of(sp))]
        if kept and (own is None or not set(own).isdisjoint(kept)):
            return kept, None
        first = phrases_of(spans[0])
        return [], next((b for b in by_all if phrase_of(b[0]) in first), by_all[0])


# How many strings an exactly known piece of a pattern may stand for (机[器械]人 → 机器人, 机械人) before it is kept
# only as what it requires: enough for the alternations of whole words the rules are made of, small enough to be cheap.
_EXACT_STRINGS = 64
_EXACT_ALTERNATIVES = 4096  # an alternation of known words (疾病|病情|…) stays exact up to this many
_ALTERNATIVES = 32  # alternatives a requirement keeps before it is summarised as one set of strings

Requirement = tuple[frozenset[frozenset[str]], ...]  # alternatives, each a set of sets of strings
_ALWAYS: Requirement = (frozenset(),)  # one alternative that needs nothing


def _weight(strings: frozenset[str]) -> float:
    """A rough chance that some string of the set is in a text: a longer string is rarer."""
    return sum(8.0 ** (1 - len(s)) for s in strings)


def _summary(req: Requirement) -> Requirement:
    """One set of strings implied by `req`: the most telling set of each alternative, joined."""
    if any(not alt for alt in req):
        return _ALWAYS
    # Among sets as telling as each other, the first in sorted order: the committed index is the same on every run.
    best = (min(alt, key=lambda strings: (_weight(strings), sorted(strings))) for alt in req)
    return (frozenset({frozenset().union(*best)}),)


def _both(a: Requirement, b: Requirement) -> Requirement:
    """What a match of both needs."""
    if a == _ALWAYS or b == _ALWAYS:
        return b if a == _ALWAYS else a
    if len(a) * len(b) > _ALTERNATIVES:
        b = _summary(b)
        if len(a) * len(b) > _ALTERNATIVES:
            a = _summary(a)
    return tuple(dict.fromkeys(x | y for x in a for y in b))


def _either(reqs: list[Requirement]) -> Requirement:
    """What a match of one of them needs."""
    out = tuple(dict.fromkeys(alt for req in reqs for alt in req))
    if any(not alt for alt in out):
        return _ALWAYS
    return _summary(out) if len(out) > _ALTERNATIVES else out


def _spelled(exact: frozenset[str] | None, req: Requirement) -> Requirement:
    """`req`, and one of the strings `exact` says a piece spells, when it cannot spell nothing."""
    if exact is None or "" in exact:
        return req
    return _both(req, (frozenset({exact}),))


def required_literals(pattern: re.Pattern[str] | str, flags: int = 0) -> Requirement | None:
    """Alternatives of sets of strings: every match of `pattern` holds, for at least one alternative, a string of each
    of its sets. None when nothing is known (the pattern must always run). `pattern` may also be the source of one,
    compiled with `flags`.

    Read off the parsed pattern: a run of pieces whose text is known exactly (literals, small classes, alternations of
    words, optional letters) stands for the few strings it can spell, and one of them must be in the match; a sequence
    needs what each of its pieces needs; an alternation needs what one of its branches needs (`A…B|C…D`: A and B, or C
    and D); a repeat of at least once needs what its contents need; assertions consume nothing and so leave a run
    unbroken. Anything else (negated classes, `.`, open gaps) needs nothing. Sound by construction: a text that holds
    no alternative in full cannot match, so the pattern need not run. Used for batches, where parsing once pays.
    """
    from re import _constants as c
    from re import _parser

    source, flags = (pattern, flags) if isinstance(pattern, str) else (pattern.pattern, pattern.flags)
    if flags & re.IGNORECASE:
        return None
    zero_width = (c.AT, c.ASSERT, c.ASSERT_NOT)
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None))

    def seq(items) -> tuple[frozenset[str] | None, Requirement]:
        run: set[str] = {""}  # the strings the current run of exactly known pieces can spell
        exact_all = True
        req = _ALWAYS
        for op, av in items:
            exact, more = node(op, av)
            req = _both(req, more)
            if exact is not None and len(run) * len(exact) <= _EXACT_STRINGS:
                run = {a + b for a in run for b in exact}
                continue
            exact_all = False
            req = _spelled(frozenset(run), req)
            run = set(exact) if exact is not None else {""}
        if exact_all:
            return frozenset(run), req
        return None, _spelled(frozenset(run), req)

    def node(op, av) -> tuple[frozenset[str] | None, Requirement]:
        if op is c.LITERAL:
            return frozenset(chr(av)), _ALWAYS
        if op in zero_width:
            return frozenset({""}), _ALWAYS
        if op is c.IN:
            chars: set[str] = set()
            for o, a in av:
                if o is c.LITERAL:
                    chars.add(chr(a))
                elif o is c.RANGE and a[1] - a[0] < _EXACT_STRINGS:
                    chars.update(map(chr, range(a[0], a[1] + 1)))
                else:
                    return None, _ALWAYS
            return frozenset(chars), _ALWAYS
        if op is c.SUBPATTERN:
            return (None, _ALWAYS) if av[1] & re.IGNORECASE else seq(av[3])
        if op is getattr(c, "ATOMIC_GROUP", None):
            return seq(av)
        if op is c.BRANCH:
            branches = [seq(b) for b in av[1]]
            if all(e is not None for e, _ in branches) and sum(len(e) for e, _ in branches) <= _EXACT_ALTERNATIVES:
                return frozenset().union(*(e for e, _ in branches)), _ALWAYS
            return None, _either([_spelled(e, r) for e, r in branches])
        if op in repeats:
            low, high, item = av
            exact, more = seq(item)
            if low == 0:
                return (exact | {""} if exact is not None and high == 1 else None), _ALWAYS
            if low == high == 1:
                return exact, more
            return None, _spelled(exact, more)
        return None, _ALWAYS

    try:
        exact, req = seq(_parser.parse(source, flags))
    except Exception:  # a parser this code does not know: run the pattern, always
        return None
    req = _spelled(exact, req)
    if req == _ALWAYS:
        return None
    # A string containing another of the same set adds nothing: wherever it is, the shorter one is too.
    return tuple(
        frozenset(frozenset(s for s in strings if not any(o != s and o in s for o in strings)) for strings in alt)
        for alt in req
    )


def top_level_alternatives(pattern: re.Pattern[str]) -> list[str] | None:
    """The sources of the top-level alternatives of `pattern` (`a…b|c(d|e)|f` → `a…b`, `c(d|e)`, `f`), or None.

    Only when each can run on its own exactly as it runs inside the pattern: no backreference, conditional, comment
    or inline flag, and no alternative that can match the empty string. Then, on a text where some alternatives cannot
    match at all, the others give the pattern's matches (see the engine's `Alternatives`).
    """
    from re import _parser

    source = pattern.pattern
    if pattern.flags & re.VERBOSE or re.search(r"\(\?[#(P]|\(\?[aiLmsux-]+[:)]|\\[1-9]", source):
        return None
    pieces: list[str] = []
    depth, start, i, in_class, class_start = 0, 0, 0, False, 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]" or i == class_start
        elif ch == "[":
            in_class = True
            class_start = i + 2 if source[i + 1 : i + 2] == "^" else i + 1  # a "]" first is a member, not the end
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            pieces.append(source[start:i])
            start = i + 1
        i += 1
    pieces.append(source[start:])
    if len(pieces) < 2 or "|".join(pieces) != source:
        return None
    try:
        if any(_parser.parse(p, pattern.flags).getwidth()[0] == 0 for p in pieces):
            return None
    except Exception:  # not a valid pattern on its own: the split was wrong, so keep the pattern whole
        return None
    return pieces


Plan = tuple[list[str] | None, list[Requirement | None]]  # top-level alternatives (or None), what each needs


def plan_of(pattern: Pattern | re.Pattern[str]) -> Plan:
    """Its `top_level_alternatives` (or None) and the `required_literals` of each (of the pattern when not split)."""
    parts = top_level_alternatives(pattern)
    if parts:
        return parts, [required_literals(s, pattern.flags) for s in parts]
    return None, [required_literals(pattern)]


def screening_plan(patterns: list, known: dict[str, list] | None = None) -> list[Plan]:
    """`plan_of` each pattern: from `known` (the committed index, `Rulebook.plans`) where it has the source, else
    remembered in the user cache: parsing the rulebook's patterns again takes most of a second, and every worker
    process of a batch needs them.

    The cache file is keyed by the patterns, the Python version (its parser) and the compiled code of the analysis
    itself, so a changed rulebook or analysis never reads an old answer; the file carries its sha256
    (`riskclass.cache`), so a damaged one is rebuilt rather than trusted (a garbled literal would silently skip a
    rule); an unreadable or unwritable cache only costs time.
    """
    import hashlib
    import marshal
    import sys

    from riskclass.cache import cache_dir, read_sealed, write_sealed

    known = known or {}
    missing = [p for p in patterns if p.pattern not in known]
    if not missing:
        return [plan_from_json(known[p.pattern]) for p in patterns]
    analysis = (plan_of, top_level_alternatives, required_literals, _weight, _summary, _both, _either, _spelled)
    key = hashlib.sha256(f"{sys.version}\0{_EXACT_STRINGS}\0{_EXACT_ALTERNATIVES}\0{_ALTERNATIVES}".encode())
    for f in analysis:
        key.update(marshal.dumps(f.__code__))
    for p in missing:
        key.update(f"\0{p.flags}\0{p.pattern}".encode("utf-8", "surrogatepass"))
    path = cache_dir() / f"rule-screen-{key.hexdigest()[:16]}.marshal"
    found = None
    if (payload := read_sealed(path)) is not None:
        try:
            found = marshal.loads(payload)
        except (ValueError, EOFError, TypeError):
            found = None
        if not isinstance(found, list) or len(found) != len(missing):
            found = None
    if found is None:
        found = [plan_of(p) for p in missing]
        write_sealed(path, marshal.dumps(found))
    computed = {p.pattern: plan for p, plan in zip(missing, found, strict=True)}
    return [plan_from_json(known[p.pattern]) if p.pattern in known else computed[p.pattern] for p in patterns]


@dataclass(frozen=True)
class RuleMatch:
    spans: list[tuple[int, int]]
    negated: list[tuple[tuple[int, int], tuple[int, int]]]  # (matched span, negation cue span)
    # With `requires`: the spans of the patterns themselves (the rest of `spans` is context). None: all of `spans`.
    own: list[tuple[int, int]] | None = None


# Evidence right after a negation does not count, whatever the rule: 不做员工画像, 不接入控制系统, 不涉及病人数据,
# "does not use face recognition". The cue may be followed by a few verbs (不会接入, 不直接控制) but nothing else, so
# 无需排队刷脸 or 不仅识别人脸 still count; 未经同意 (without consent), 未成年, 不良 and bare 无 (无人机) are not cues.
# Also negated: what follows an object and its verb (不对员工进行评分), a modifier after an action verb
# (不进行人物面部替换), and each item of a negated list (不会自行提出诊断或用药建议, 不采集人脸、声纹) — a list only
# after a verb, so 无需排队刷脸 still counts.
_NEG_CUE = (
    r"(?:不(?![仅但断同良少久错满足光只适稳法当安便停再宜准住力好利合])"  # 不仅, 不同, 不良… are not denials
    r"|没有|没|并未|并非|从未|未(?![来成经知])|无需|无须|并无|绝不)"
)
_NEG_VERB = (
    r"(?:会|能|得|是|必|需要|做|接|接入|涉及|使用|采集|进行|提供|含|包含|包括|记录|保存|收集|处理|参与|用于|读取|连接|接触|"
    r"存储|生成|给出|输出|识别|判断|作|对|影响|改变|直接|自动|上传|调用|联网|联通|留存|存|根据|按照|按|基于|依据|依|"
    r"与|和|跟|提出|出具|作出|做出|建立|创建|开展|实施|自行|主动|擅自|替代|代替|取代|构成|对接|联动|下达|作为|"
    r"取自|来自|源自|出自)"
)
_NEG_GAP = (
    r"(?:(?:对|向|为|给)[\u4e00-\u9fff]{1,6}?(?:进行|作出|做出|作|做|开展|实施)"  # 不对员工进行…
    r"|(?:进行|开展|实施|涉及)[\u4e00-\u9fff]{1,3}?)"  # 不进行人物…
)
_NEG_LIST = r"(?:(?:[\u4e00-\u9fff]{1,6}?(?:或者|或|和|及|与|、)){1,4})"  # 不生成诊断、检查或用药建议
_NEG_DET = r"(?:任何|这类|相关|其他|的)?"
_NEG_ZH = re.compile(_NEG_CUE + rf"(?:{_NEG_VERB}+{_NEG_GAP}?{_NEG_DET}[:：]?{_NEG_LIST}?|{_NEG_GAP}?{_NEG_DET})$")
# English: the cue, up to two words, and the earlier items of a list (does not suggest diagnoses or prescriptions).
_NEG_EN = re.compile(
    r"(?:(?<![a-z])(?:no|not(?!\s+only)|never|without)|n't)\s+(?:[a-z'’-]+\s+){0,2}(?:[a-z'’-]+,?\s+(?:or|and|nor)\s+)?$"
)
_CLAUSE_BREAKS = "。;!?,\n"


def negation_before(text: str, start: int) -> tuple[int, int] | None:
    """The span of a negation cue just before `start` in the same clause, if there is one."""
    lo = max(0, start - 48)  # the longest cue the patterns allow: a verb, an object, a list of four, in one clause
    window = text[lo:start]
    cut = max(window.rfind(c) for c in _CLAUSE_BREAKS)
    if cut >= 0:
        lo, window = lo + cut + 1, window[cut + 1 :]
    m = _NEG_ZH.search(window) or _NEG_EN.search(window)
    return (lo + m.start(), lo + m.end()) if m else None


@dataclass(frozen=True)
class EvidenceKind:
    """One side of a broad criterion that a duty follows (obligations.yaml `evidence`): H5 is recognising a face and
    also swapping one, but only a swap is generated content to label; M2 is any personal information, but only
    recommending or personalising owes a non-personalised option. Told by the rules that fired for the criterion
    (`rules`) or by its evidence words (`patterns`)."""

    name: str
    title: Text
    patterns: tuple[Pattern, ...]
    rules: frozenset[str] = frozenset()  # rules whose every match is evidence of this kind

    def shown_by(self, words: str) -> bool:
        return any(p.search(words) for p in self.patterns)


@dataclass(frozen=True)
class EvidenceNeed:
    """A criterion counts for a duty only with evidence of one of `kinds` (or, `negate`d, with some evidence that is
    not of that kind: code completion alone is not content for the public)."""

    kinds: tuple[EvidenceKind, ...]
    negate: bool = False

    def describe(self) -> str:
        names = " or ".join(k.name for k in self.kinds)
        return f"not {names}" if self.negate else names


@dataclass(frozen=True)
class Obligation:
    id: str
    tiers: tuple[str, ...]
    title: Text
    detail: Text
    articles: tuple[Citation, ...]
    when_criteria: tuple[str, ...] = ()  # shown only when one of these criteria holds (empty: always for its tiers)
    evidence: dict[str, EvidenceNeed] = field(default_factory=dict)  # criterion → the evidence it needs to count


@dataclass(frozen=True)
class Article50Item:
    item: int  # (一)…(四)
    title: Text
    quote: str
    criteria: tuple[str, ...]  # criteria whose presence triggers the item
    patterns: tuple[Pattern, ...]  # words that trigger it on their own
    why: Text
    evidence: dict[str, EvidenceNeed] = field(default_factory=dict)  # criterion → the evidence it needs to count


@dataclass(frozen=True)
class NationalPointer:
    law: str
    article: str | None
    topic: Text
    criteria: tuple[str, ...]
    evidence: dict[str, EvidenceNeed] = field(default_factory=dict)  # criterion → the evidence it needs to count


@dataclass(frozen=True)
class Rulebook:
    version: str
    criteria: dict[str, Criterion]
    rules: tuple[Rule, ...]
    obligations: tuple[Obligation, ...]
    article50: tuple[Article50Item, ...]
    national: tuple[NationalPointer, ...]
    evidence_kinds: dict[str, EvidenceKind]
    low_signals: tuple[Pattern, ...]
    generic_terms: tuple[str, ...]
    thin_questions: tuple[str, ...]  # criteria asked about when a description is too thin to judge
    # What each pattern source needs (`plan_of`, in the JSON form of `plan_from_json`), from the committed index when
    # it matches the YAML: the engine's screens read it instead of parsing every pattern again.
    plans: dict[str, list] = field(default_factory=dict, compare=False, repr=False)

    def all_patterns(self) -> list[Pattern]:
        """Every pattern of the rulebook once, in a fixed order: rules (patterns, requires, both exclusions), low
        signals, 第五十条 items, evidence kinds."""
        found = [p for r in self.rules for p in (*r.patterns, *r.requires, *r.exclusions, *r.exclusions_anywhere)]
        found += [*self.low_signals, *(p for item in self.article50 for p in item.patterns)]
        found += [p for kind in self.evidence_kinds.values() for p in kind.patterns]
        return list({id(p): p for p in found}.values())

    def criterion(self, cid: str) -> Criterion:
        try:
            return self.criteria[cid]
        except KeyError:
            raise RulebookError(
                f"unknown criterion {cid!r}{_did_you_mean(cid, self.criteria)}; valid: {', '.join(self.criteria)}",
                zh=f"未知的判断标准 {cid!r}{_did_you_mean(cid, self.criteria, 'zh')}；可用：{', '.join(self.criteria)}",
            ) from None

    def rule(self, rid: str) -> Rule:
        for r in self.rules:
            if r.id == rid:
                return r
        raise RulebookError(
            f"unknown rule {rid!r}{_did_you_mean(rid, [r.id for r in self.rules])}",
            zh=f"未知的规则 {rid!r}{_did_you_mean(rid, [r.id for r in self.rules], 'zh')}",
        )


# ---- validation ---------------------------------------------------------------------------------------------------


# In rule patterns `\b` means an ASCII word boundary: Python's own treats CJK characters as word characters, so
# `\bagv\b` would never match in 仓库里的agv调度.
ASCII_BOUNDARY = r"(?:(?<![a-z0-9])(?=[a-z0-9])|(?<=[a-z0-9])(?![a-z0-9]))"


def compile_pattern(src: str) -> re.Pattern[str]:
    return re.compile(src.replace(r"\b", ASCII_BOUNDARY))


def _did_you_mean(word: str, choices, lang: str = "en") -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    if not close:
        return ""
    return f"（是不是 {close[0]!r}？）" if lang == "zh" else f" (did you mean {close[0]!r}?)"


class _Checker:
    """Walks the raw YAML with a path, so every message says where the problem is."""

    def __init__(self, filename: str, draft: Draft, vouched: dict[str, list] | None = None) -> None:
        self.filename = filename
        self.draft = draft
        self.vouched = vouched or {}  # pattern sources the committed index compiled when it was generated

    def fail(self, where: str, message: str) -> RulebookError:
        return RulebookError(f"{self.filename}: {where}: {message}", zh=f"{self.filename}：{where}：{message}")

    def mapping(self, raw: Any, where: str, required: set[str], optional: set[str] = frozenset()) -> dict:
        if not isinstance(raw, dict):
            raise self.fail(where, f"expected a mapping with keys {sorted(required)}, got {type(raw).__name__}")
        allowed = required | set(optional)
        for key in raw:
            if key not in allowed:
                raise self.fail(
                    where,
                    f"unknown key {key!r}{_did_you_mean(key, allowed)}; allowed keys: {', '.join(sorted(allowed))}",
                )
        for key in sorted(required):
            if key not in raw or raw[key] in (None, "", [], {}):
                raise self.fail(where, f"missing field {key!r}: add it")
        return raw

    def string(self, raw: Any, where: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(where, "expected a non-empty string")
        return raw

    def strings(self, raw: Any, where: str, allow_empty: bool = True) -> tuple[str, ...]:
        if raw is None:
            raw = []
        if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
            raise self.fail(where, "expected a list of non-empty strings")
        if not raw and not allow_empty:
            raise self.fail(where, "expected at least one entry")
        return tuple(raw)

    def text(self, raw: Any, where: str) -> Text:
        m = self.mapping(raw, where, {"zh", "en"})
        return Text(self.string(m["zh"], f"{where}.zh"), self.string(m["en"], f"{where}.en"))

    def patterns(self, raw: Any, where: str, allow_empty: bool = True) -> tuple[Pattern, ...]:
        """Lazy patterns: compiled now (to validate them) unless the committed index vouches for their source."""
        out = []
        for i, src in enumerate(self.strings(raw, where, allow_empty)):
            if src != src.lower():
                raise self.fail(
                    f"{where}[{i}]",
                    f"pattern {src!r} has upper-case letters; text is lower-cased "
                    "before matching, so write it in lower case",
                )
            source = src.replace(r"\b", ASCII_BOUNDARY)
            if source in self.vouched:
                out.append(Pattern(source))
                continue
            try:
                out.append(Pattern(source, compile_pattern(src)))
            except re.error as exc:
                raise self.fail(f"{where}[{i}]", f"pattern {src!r} is not a valid regular expression: {exc}") from None
        return tuple(out)

    def citation(self, raw: Any, where: str) -> Citation:
        """An {article, quote} pair whose quote is in the article verbatim. A citation without a quote is refused with
        the start of the article's text, so the author can copy the words the rule rests on (or drop the citation
        when the article does not say it)."""
        if isinstance(raw, str) and raw.strip():
            raw = {"article": raw}  # a bare label: say what it lacks, with the article's text to copy from
        m = self.mapping(raw, where, {"article"}, {"quote"})
        label = self.string(m["article"], f"{where}.article")
        try:
            article = self.draft.article(label)
        except LawError as exc:
            raise self.fail(where, str(exc)) from None
        if article.label != label:
            raise self.fail(where, f"write the article as it appears in the draft: {article.label!r}, not {label!r}")
        if not isinstance(m.get("quote"), str) or not m["quote"].strip():
            raise self.fail(
                where,
                f"{label} is cited without a quote: add `quote:` with the words of {label} ({article.title}) this "
                "rests on, copied verbatim from the draft, or drop the citation if the article does not say it; "
                f"{label} reads: {_opening(article.text)!r}",
            )
        quote = m["quote"]
        if quote not in article.text:
            raise self.fail(
                where,
                f"quote {quote!r} is not found verbatim in {label} ({article.title}); "
                f"{_closest_sentence(quote, article.text)}",
            )
        return Citation(label, quote)

    def citations(self, raw: Any, where: str) -> tuple[Citation, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail(where, "expected a list of {article, quote} citations (at least one)")
        return tuple(self.citation(c, f"{where}[{i}]") for i, c in enumerate(raw))


QUOTE_HINT_CHARS = 60  # of an article shown when a quote is missing: enough to find the passage, one line


def _opening(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_HINT_CHARS else text[: QUOTE_HINT_CHARS - 1] + "…"


def _closest_sentence(quote: str, text: str) -> str:
    sentences = [s for s in re.split(r"(?<=[。;;:：])|\n", text) if s.strip()]
    best = max(sentences, key=lambda s: difflib.SequenceMatcher(None, quote, s).ratio(), default="")
    return f"closest text there: {best.strip()!r}" if best else "copy the quote from the draft"


def parse_rulebook(
    raw_rules: Any,
    raw_obligations: Any,
    draft: Draft,
    rules_file: str = RULEBOOK_FILE,
    obligations_file: str = OBLIGATIONS_FILE,
    plans: dict[str, list] | None = None,
) -> Rulebook:
    """Validate the raw YAML data into a Rulebook. `plans` (the committed index's, for exactly this data) vouches for
    the patterns it has: they are compiled when first run instead of now."""
    plans = plans or {}
    c = _Checker(rules_file, draft, plans)
    top = c.mapping(
        raw_rules, "top level", {"version", "criteria", "rules", "low_signals", "generic_terms", "thin_questions"}
    )
    version = c.string(str(top["version"]), "version")

    criteria: dict[str, Criterion] = {}
    for i, raw in enumerate(top["criteria"]):
        where = f"criteria[{i}]"
        m = c.mapping(raw, where, {"id", "tier", "title", "question", "articles"})
        cid = c.string(m["id"], f"{where}.id")
        where = f"criterion {cid}"
        if not re.fullmatch(r"[HMR][1-9]", cid):
            raise c.fail(where, "criterion ids are H1–H7, M1–M5 and R1–R4")
        if cid in criteria:
            raise c.fail(where, "duplicate criterion id")
        if m["tier"] != TIER_OF_PREFIX[cid[0]]:
            raise c.fail(where, f"tier must be {TIER_OF_PREFIX[cid[0]]!r} for an {cid[0]} criterion, not {m['tier']!r}")
        criteria[cid] = Criterion(
            cid,
            m["tier"],
            c.text(m["title"], f"{where}.title"),
            c.text(m["question"], f"{where}.question"),
            c.citations(m["articles"], f"{where}.articles"),
        )

    def known_criterion(cid: Any, where: str) -> str:
        if cid not in criteria:
            raise c.fail(
                where, f"unknown criterion {cid!r}{_did_you_mean(cid, criteria)}; valid: {', '.join(criteria)}"
            )
        return cid

    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(top["rules"]):
        rid = raw.get("id", f"#{i}") if isinstance(raw, dict) else f"#{i}"
        where = f"rule {rid}"
        m = c.mapping(
            raw,
            where,
            {"id", "criterion", "tier", "title", "articles", "patterns", "examples"},
            {"requires", "exclusions", "exclusions_anywhere", "exclusion_scope", "strength", "question", "note"},
        )
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", rid):
            raise c.fail(where, "rule ids are lower-case words joined by '-', e.g. h4-credit-decision")
        if rid in seen:
            raise c.fail(where, "duplicate rule id: every rule needs its own")
        seen.add(rid)
        cid = known_criterion(m["criterion"], f"{where}.criterion")
        if m["tier"] != criteria[cid].tier:
            raise c.fail(where, f"tier {m['tier']!r} contradicts criterion {cid} (tier {criteria[cid].tier!r})")
        strength = m.get("strength", "strong")
        if strength not in ("strong", "weak"):
            raise c.fail(f"{where}.strength", f"must be 'strong' or 'weak', not {strength!r}")
        question = c.text(m["question"], f"{where}.question") if "question" in m else None
        if strength == "weak" and question is None:
            raise c.fail(where, "a weak rule needs a follow-up 'question' that would settle it")
        scope = m.get("exclusion_scope", "phrase")
        if scope not in ("phrase", "description"):
            raise c.fail(f"{where}.exclusion_scope", f"must be 'phrase' or 'description', not {scope!r}")
        ex = c.mapping(m["examples"], f"{where}.examples", {"positive", "negative"})
        rules.append(
            Rule(
                id=rid,
                criterion=cid,
                tier=m["tier"],
                title=c.text(m["title"], f"{where}.title"),
                articles=c.citations(m["articles"], f"{where}.articles"),
                patterns=c.patterns(m["patterns"], f"{where}.patterns", allow_empty=False),
                requires=c.patterns(m.get("requires"), f"{where}.requires"),
                exclusions=c.patterns(m.get("exclusions"), f"{where}.exclusions"),
                strength=strength,
                question=question,
                exclusion_scope=scope,
                exclusions_anywhere=c.patterns(m.get("exclusions_anywhere"), f"{where}.exclusions_anywhere"),
                positive=c.strings(ex["positive"], f"{where}.examples.positive", allow_empty=False),
                negative=c.strings(ex["negative"], f"{where}.examples.negative", allow_empty=False),
                note=str(m.get("note", "")),
            )
        )
    covered = {r.criterion for r in rules}
    if missing := [cid for cid in criteria if cid not in covered]:
        raise c.fail("rules", f"no rule covers criteria {missing}: add at least one rule for each")

    thin = tuple(known_criterion(x, "thin_questions") for x in c.strings(top["thin_questions"], "thin_questions"))

    o = _Checker(obligations_file, draft, plans)
    otop = o.mapping(raw_obligations, "top level", {"obligations", "article50", "national"}, {"evidence"})
    kinds: dict[str, EvidenceKind] = {}
    raw_kinds = otop.get("evidence") or {}
    if not isinstance(raw_kinds, dict):
        raise o.fail("evidence", "expected a mapping of kind name → {title, patterns}")
    for name, raw in raw_kinds.items():
        where = f"evidence {name}"
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z-]*", name):
            raise o.fail(where, "evidence kinds are named in lower-case words joined by '-', e.g. synthesis")
        m = o.mapping(raw, where, {"title"}, {"patterns", "rules"})
        if not m.get("patterns") and not m.get("rules"):
            raise o.fail(where, "add `patterns` (words of this kind) or `rules` (rules whose matches are of this kind)")
        kind_rules = o.strings(m.get("rules"), f"{where}.rules")
        for rid in kind_rules:
            if rid not in seen:
                raise o.fail(f"{where}.rules", f"unknown rule {rid!r}{_did_you_mean(rid, seen)}")
        kinds[name] = EvidenceKind(
            name,
            o.text(m["title"], f"{where}.title"),
            o.patterns(m.get("patterns"), f"{where}.patterns"),
            frozenset(kind_rules),
        )

    def needs(raw: Any, listed: tuple[str, ...], where: str) -> dict[str, EvidenceNeed]:
        """`evidence: {H5: synthesis, M2: [recommendation, profiling], M3: not code}` of one record, checked."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise o.fail(where, "expected a mapping of criterion → evidence kind, e.g. {H5: synthesis}")
        out = {}
        for cid, spec in raw.items():
            known_criterion(cid, f"{where} ({cid})")
            if cid not in listed:
                raise o.fail(
                    where,
                    f"{cid} needs evidence here but is not among the criteria {list(listed)}: add it there or "
                    "remove it here",
                )
            negate = isinstance(spec, str) and spec.startswith("not ")
            names = [spec.removeprefix("not ")] if isinstance(spec, str) else spec
            if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
                raise o.fail(f"{where}.{cid}", "expected a kind, a list of kinds, or 'not KIND'")
            for n in names:
                if n not in kinds:
                    raise o.fail(
                        f"{where}.{cid}",
                        f"unknown evidence kind {n!r}{_did_you_mean(n, kinds)}; defined under `evidence:`: "
                        + (", ".join(kinds) or "none"),
                    )
            out[cid] = EvidenceNeed(tuple(kinds[n] for n in names), negate)
        return out

    obligations = []
    for i, raw in enumerate(otop["obligations"]):
        oid = raw.get("id", f"#{i}") if isinstance(raw, dict) else f"#{i}"
        where = f"obligation {oid}"
        m = o.mapping(raw, where, {"id", "tiers", "title", "detail", "articles"}, {"when_criteria", "when_evidence"})
        tiers = o.strings(m["tiers"], f"{where}.tiers", allow_empty=False)
        for t in tiers:
            if t not in TIERS:
                raise o.fail(f"{where}.tiers", f"unknown tier {t!r}{_did_you_mean(t, TIERS)}")
        when = tuple(known_criterion(x, f"{where}.when_criteria") for x in o.strings(m.get("when_criteria"), where))
        obligations.append(
            Obligation(
                oid,
                tiers,
                o.text(m["title"], f"{where}.title"),
                o.text(m["detail"], f"{where}.detail"),
                o.citations(m["articles"], f"{where}.articles"),
                when,
                needs(m.get("when_evidence"), when, f"{where}.when_evidence"),
            )
        )
    items = []
    a50 = draft.article(50)
    for i, raw in enumerate(otop["article50"]):
        where = f"article50[{i}]"
        m = o.mapping(raw, where, {"item", "title", "quote", "criteria", "why"}, {"patterns", "evidence"})
        if m["item"] not in (1, 2, 3, 4):
            raise o.fail(where, "item must be 1, 2, 3 or 4 (第五十条 has four items)")
        if m["quote"] not in a50.text:
            raise o.fail(where, f"quote {m['quote']!r} is not in 第五十条; {_closest_sentence(m['quote'], a50.text)}")
        listed = tuple(known_criterion(x, f"{where}.criteria") for x in m["criteria"])
        items.append(
            Article50Item(
                m["item"],
                o.text(m["title"], f"{where}.title"),
                m["quote"],
                listed,
                o.patterns(m.get("patterns"), f"{where}.patterns"),
                o.text(m["why"], f"{where}.why"),
                needs(m.get("evidence"), listed, f"{where}.evidence"),
            )
        )
    if sorted(x.item for x in items) != [1, 2, 3, 4]:
        raise o.fail("article50", "describe each of the four items of 第五十条 exactly once")
    national = []
    for i, raw in enumerate(otop["national"]):
        where = f"national[{i}]"
        m = o.mapping(raw, where, {"law", "topic", "criteria"}, {"article", "evidence"})
        listed = tuple(known_criterion(x, f"{where}.criteria") for x in m["criteria"])
        national.append(
            NationalPointer(
                o.string(m["law"], f"{where}.law"),
                m.get("article"),
                o.text(m["topic"], f"{where}.topic"),
                listed,
                needs(m.get("evidence"), listed, f"{where}.evidence"),
            )
        )
    return Rulebook(
        version=version,
        criteria=criteria,
        rules=tuple(rules),
        obligations=tuple(obligations),
        article50=tuple(items),
        national=tuple(national),
        evidence_kinds=kinds,
        low_signals=c.patterns(top["low_signals"], "low_signals", allow_empty=False),
        generic_terms=c.strings(top["generic_terms"], "generic_terms"),
        thin_questions=thin,
        plans=plans,
    )


INDEX_FILE = "rulebook-index.json"  # generated from the two YAML files: python -m riskclass.rulebook.index
INDEX_SCHEMA = "riskclass-rulebook-index/1"


def _yaml_bytes() -> tuple[bytes, bytes]:
    data = resources.files("riskclass.data")
    return data.joinpath(RULEBOOK_FILE).read_bytes(), data.joinpath(OBLIGATIONS_FILE).read_bytes()


def yaml_digest(rules: bytes, obligations: bytes) -> str:
    """What the committed index is keyed on: the bytes of both YAML files."""
    import hashlib

    return hashlib.sha256(hashlib.sha256(rules).digest() + hashlib.sha256(obligations).digest()).hexdigest()


def _parse_yaml(name: str, raw: bytes) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: several times faster
    try:
        return yaml.load(raw.decode("utf-8"), Loader=loader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise RulebookError(
            f"{name}: not valid YAML: {exc}".replace("\n", " "), zh=f"{name}：不是有效的 YAML：{exc}".replace("\n", " ")
        ) from None


def _read_yaml(name: str) -> Any:
    return _parse_yaml(name, resources.files("riskclass.data").joinpath(name).read_bytes())


def plan_from_json(entry: list) -> Plan:
    """A `Plan` from its JSON form in the index (sorted lists for frozensets)."""
    parts, requirements = entry
    return (
        parts,
        [
            None if req is None else tuple(frozenset(frozenset(strings) for strings in alt) for alt in req)
            for req in requirements
        ],
    )


def read_index(digest: str) -> dict | None:
    """The committed index when it was generated from YAML files with this digest, else None (the YAML is read)."""
    import json

    try:
        index = json.loads(resources.files("riskclass.data").joinpath(INDEX_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(index, dict) or index.get("schema") != INDEX_SCHEMA or index.get("yaml_sha256") != digest:
        return None
    return index


@lru_cache(maxsize=1)
def load_rulebook() -> Rulebook:
    """The shipped rulebook, validated against the shipped draft. Cached: loaded at most once per process.

    When the committed index (`riskclass.rulebook.index`) was generated from these very YAML files, their data and
    the patterns' plans come from it: no YAML parser, and patterns compiled only when they run. Otherwise the YAML is
    parsed and every pattern compiled, as the index would have been built: slower, never different.
    """
    rules, obligations = _yaml_bytes()
    index = read_index(yaml_digest(rules, obligations))
    if index is None:
        raw_rules, raw_obligations = _parse_yaml(RULEBOOK_FILE, rules), _parse_yaml(OBLIGATIONS_FILE, obligations)
        return parse_rulebook(raw_rules, raw_obligations, load_draft())
    return parse_rulebook(index["rulebook"], index["obligations"], load_draft(), plans=index["plans"])
