"""The Register screen's detail pane: one product's history — descriptions, assessments, decisions, answers, ticks."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from riskclass.audit.log import printable
from riskclass.register import Product
from riskclass.tui.i18n import t
from riskclass.tui.widgets.cells import TIER_CELL_STYLE, tier_word, yes_no


def when(stamp: str | None) -> str:
    """2026-12-07T08:41:15.123456Z → 2026-12-07 08:41 (UTC, as stored: every process writes UTC)."""
    return (stamp or "")[:16].replace("T", " ")


def _tier(tier: str | None, lang: str) -> tuple[str, str]:
    return (tier_word(tier, lang), TIER_CELL_STYLE.get(tier, "")) if tier else (t("register.none", lang), "dim")


class ProductHistory(Static):
    """Newest first within each part: what a reviewer looks for is what changed last."""

    def show(self, product: Product | None, lang: str, steps: dict[str, str] | None = None) -> None:
        """`steps`: obligation id → its title in `lang` (from the rulebook), so ticks read as the checklist does."""
        if product is None:
            self.update(Content(t("register.no_selection", lang)))
            return
        self.update(history(product, lang, steps or {}))


def history(p: Product, lang: str, steps: dict[str, str] | None = None) -> Content:
    colon = ": " if lang == "en" else "："
    sep = ", " if lang == "en" else "、"
    row, parts = p.row, []

    def heading(key: str) -> None:
        parts.extend(["\n\n", (t(key, lang), "bold $text-accent")])

    parts += [(printable(row.id), "bold"), "  ", printable(row.name)]
    parts += ["\n", t("register.col.tier", lang), colon, _tier(row.tier, lang)]
    parts += [" · ", t("register.col.decided", lang), colon, _tier(row.decided_tier, lang)]
    parts += [" · ", t("register.col.review", lang), colon, yes_no(row.needs_review, lang)]
    if row.error:
        parts += ["\n", (t("register.failed", lang, error=row.error), "$text-error")]
    columns = [(k, v) for k, v in p.columns.items() if v]
    if columns:
        parts += ["\n", (sep.join(f"{printable(k)}={printable(v)}" for k, v in columns), "dim")]

    heading("register.h.descriptions")
    for d in reversed(p.descriptions):
        source = f" · {printable(d.source)}" if d.source else ""
        parts += ["\n", (f"v{d.version}  {when(d.added_at)}{source}", "dim"), "\n", printable(d.text)]

    heading("register.h.assessments")
    for a in reversed(p.assessments):
        criteria = sep.join(a.criteria + a.red_flags) or t("register.none", lang)
        model = a.versions.model_sha256[:12] if a.versions.model_sha256 else t("register.rules_only", lang)
        parts += ["\n", when(a.assessed_at), "  ", _tier(a.tier, lang), f"  {criteria}"]
        parts += [
            ("  " + t("register.made_with", lang, v=a.description_version, rb=a.versions.rulebook, m=model), "dim")
        ]
        if a.answers:
            answered = sep.join(f"{k}={yes_no(v, lang)}" for k, v in a.answers.items())
            parts += ["\n  ", (t("register.with_answers", lang, answers=answered), "dim")]
        if a.error:
            parts += ["\n  ", (a.error, "$text-error")]

    heading("register.h.decisions")
    if not p.decisions:
        parts += ["\n", (t("register.none", lang), "dim")]
    for d in reversed(p.decisions):
        parts += ["\n", when(d.timestamp), "  ", printable(d.reviewer), "  ", _tier(d.decided_tier, lang)]
        if not d.accepted:
            parts += [("  " + t("register.changed_from", lang, tier=tier_word(d.suggested_tier, lang)), "dim")]
        if d.reason:
            parts += ["\n  ", printable(d.reason)]

    if p.answers:
        heading("register.h.answers")
        words = {True: t("questions.yes", lang), False: t("questions.no", lang), None: t("questions.unknown", lang)}
        parts += ["\n", sep.join(f"{k}={words[v]}" for k, v in p.answers.items())]
    if p.ticks:
        heading("register.h.ticks")
        parts += ["\n", sep.join((steps or {}).get(step, step) for step in p.ticks)]
    return Content.assemble(*parts)
