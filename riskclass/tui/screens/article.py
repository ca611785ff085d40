"""The article viewer: the cited articles of the shipped draft, the quoted sentence highlighted. Esc goes back."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from riskclass.law.draft import Article, load_draft
from riskclass.tui.i18n import localize_bindings, t
from riskclass.tui.messages import Citation


def article_content(article: Article, quote: str) -> Content:
    """The article body with the quoted sentence (if it is found verbatim) highlighted."""
    text = article.text
    at = text.find(quote) if quote else -1
    if at < 0:
        return Content(text)
    return Content.assemble(text[:at], (quote, "bold reverse"), text[at + len(quote) :])


class ArticleScreen(ModalScreen[None]):
    """Shows one or more articles. Raises LawError (before it is pushed) for a citation the draft does not have."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
    ]

    def __init__(self, citations: tuple[Citation, ...], lang: str) -> None:
        super().__init__()
        draft = load_draft()
        self.lang = lang
        self.title_text = draft.title
        self.articles = [(draft.article(c.article), c.quote) for c in citations]  # LawError here, not mid-compose

    def compose(self) -> ComposeResult:
        with Vertical(id="article-dialog"):
            yield Label(f"{self.title_text}", id="article-draft", markup=False)
            with VerticalScroll(id="article-body"):
                for article, quote in self.articles:
                    yield Label(
                        f"{article.label}（{article.title}）  {article.chapter}",
                        classes="article-heading",
                        markup=False,
                    )
                    yield Static(article_content(article, quote), classes="article-text")
            if any(quote for _, quote in self.articles):
                yield Label(t("article.quote", self.lang), classes="dim-note")
        yield Footer()

    def on_mount(self) -> None:
        localize_bindings(self, self.lang)
        self.query_one("#article-dialog").border_title = t("article.title", self.lang)
        self.query_one("#article-body").focus()

    def action_back(self) -> None:
        self.dismiss(None)
