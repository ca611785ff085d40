"""The Chengdu draft as data: the shipped text parsed into chapters and articles.

Every citation in riskclass resolves through `Draft.article()`, so a rule, an obligation or a report can only cite an
article that exists, and a quote only counts when it is found verbatim in the article it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from riskclass.errors import LawError

DRAFT_FILE = "chengdu-draft.zh-Hans.txt"

_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMERAL = re.compile(r"^[零一二两三四五六七八九十百]+$")
_CHAPTER = re.compile(r"^第([零一二三四五六七八九十百]+)章\s*(.*)$")
_ARTICLE = re.compile(r"^第([零一二三四五六七八九十百]+)条\s*[(（]([^)）]*)[)）]\s*(.*)$")
_LABEL = re.compile(r"^第([零一二三四五六七八九十百]+)条$")


def cn_to_int(numeral: str) -> int:
    """二十三 → 23; 一百零五 → 105. Only what article numbers need."""
    if not _CN_NUMERAL.match(numeral):
        raise ValueError(f"not a Chinese numeral: {numeral!r}")
    total, current = 0, 0
    for ch in numeral:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _DIGITS[ch]
    return total + current


def int_to_cn(n: int) -> str:
    """23 → 二十三, for printing article labels (1–199)."""
    digits = "零一二三四五六七八九"
    if n <= 0 or n >= 200:
        raise ValueError(f"article number out of range: {n}")
    out = ""
    if n >= 100:
        out += "一百"
        n %= 100
        if 0 < n < 10:
            return out + "零" + digits[n]
        if 10 <= n < 20:
            return out + "一十" + (digits[n % 10] if n % 10 else "")
    if n >= 20:
        out += digits[n // 10] + "十"
    elif n >= 10:
        out += "十"
    if n % 10:
        out += digits[n % 10]
    return out


@dataclass(frozen=True)
class Article:
    number: int
    title: str  # the heading in brackets, e.g. 分类监管
    chapter: str  # e.g. 第七章 产业治理与安全
    text: str  # the body, paragraphs joined by newlines

    @property
    def label(self) -> str:
        return f"第{int_to_cn(self.number)}条"

    @property
    def paragraphs(self) -> list[str]:
        return self.text.split("\n")


@dataclass(frozen=True)
class Draft:
    title: str
    articles: dict[int, Article]
    notes: str  # 起草说明, kept for reading but never cited as law

    def article(self, ref: int | str) -> Article:
        """Look an article up by number (46), label (第四十六条) or numeral (四十六); unknown ones name the range."""
        number = parse_article_ref(ref)
        try:
            return self.articles[number]
        except KeyError:
            raise LawError(
                f"the draft has no article {ref!r}: it has 第一条 to {self.articles[max(self.articles)].label} "
                f"(1–{max(self.articles)})",
                zh=f"草案没有第 {ref!r} 条：共有第一条至{self.articles[max(self.articles)].label}"
                f"（1–{max(self.articles)}）",
            ) from None

    def contains_quote(self, ref: int | str, quote: str) -> bool:
        return bool(quote) and quote in self.article(ref).text


def parse_article_ref(ref: int | str) -> int:
    if isinstance(ref, int):
        return ref
    s = str(ref).strip()
    if s.isdigit():
        return int(s)
    m = _LABEL.match(s)
    if m:
        return cn_to_int(m.group(1))
    if _CN_NUMERAL.match(s):
        return cn_to_int(s)
    raise LawError(
        f"not an article reference: {ref!r} (use a number like 46 or a label like 第四十六条)",
        zh=f"不是条文编号：{ref!r}（请用数字如 46 或标签如 第四十六条）",
    )


def parse_draft(text: str) -> Draft:
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise LawError("the draft text is empty", zh="草案文本为空")
    title = lines[0]
    articles: dict[int, Article] = {}
    chapter = ""
    current: tuple[int, str, list[str]] | None = None
    notes_from = len(lines)

    def close() -> None:
        if current is not None:
            number, heading, body = current
            articles[number] = Article(number, heading, chapter_of[number], "\n".join(body))

    chapter_of: dict[int, str] = {}
    for i, line in enumerate(lines[1:], start=1):
        if line.startswith("起草说明"):
            notes_from = i
            break
        if m := _CHAPTER.match(line):
            close()
            current = None
            chapter = f"第{m.group(1)}章 {m.group(2)}".strip()
            continue
        if m := _ARTICLE.match(line):
            close()
            number = cn_to_int(m.group(1))
            chapter_of[number] = chapter
            current = (number, m.group(2), [m.group(3)] if m.group(3) else [])
            continue
        if current is not None:
            current[2].append(line)
    close()
    expected = list(range(1, len(articles) + 1))
    if sorted(articles) != expected:
        missing = sorted(set(range(1, max(articles) + 1)) - set(articles))
        raise LawError(
            f"the draft's articles are not numbered 1…n: missing {missing}",
            zh=f"草案的条文编号不是 1…n：缺少 {missing}",
        )
    return Draft(title=title, articles=articles, notes="\n".join(lines[notes_from:]))


@lru_cache(maxsize=1)
def load_draft() -> Draft:
    """The shipped draft text, read once from the package (never from the network or the working directory)."""
    text = resources.files("riskclass.data").joinpath(DRAFT_FILE).read_text(encoding="utf-8")
    return parse_draft(text)
