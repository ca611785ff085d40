"""The tier badge: 高风险 / 中风险 / 低风险 in the tier's colour (the suggestion, and a reviewer's decision)."""

from __future__ import annotations

from textual.widgets import Static

from riskclass.tui.i18n import t


class TierBadge(Static):
    """Shows a tier title on the tier's colour; a dim dash when there is no assessment."""

    # The badge owns its colours: the same tiers are red / amber / green everywhere (render.TIER_STYLE on a terminal).
    DEFAULT_CSS = """
    TierBadge {
        width: auto;
        min-width: 10;
        height: 1;
        padding: 0 2;
        text-style: bold;
        content-align: center middle;
        background: $panel;
        color: $text-muted;
        &.-high { background: $error; color: $text; }
        &.-medium { background: $warning; color: black; }
        &.-low { background: $success; color: black; }
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("—", markup=False, **kwargs)
        self.tier: str | None = None

    def show(self, tier: str | None, lang: str, prefix: str = "") -> None:
        """`prefix` says whose tier it is when it is not the suggestion (复核决定：中风险)."""
        self.tier = tier
        for name in ("high", "medium", "low"):
            self.set_class(tier == name, f"-{name}")
        if not tier:
            self.update(t("assess.nothing", lang))
            return
        from riskclass.engine.assessment import TIER_TITLES  # here: the first frame shows no tier

        self.update(prefix + TIER_TITLES[tier].get(lang))
