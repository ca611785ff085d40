"""App-wide messages. Messages that belong to one widget are nested in that widget's class."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass(frozen=True)
class Citation:
    """An article to show, and the sentence of it that was quoted (highlighted in the viewer), if any."""

    article: str  # a label such as 第四十六条
    quote: str = ""


@dataclass(frozen=True)
class ProductRef:
    """The product the Assess screen shows, when it is known by id (from the register): names its report files."""

    id: str
    name: str = ""
    description: str = ""  # the register's current description: a decision about this very text is linked to it


class EngineReady(Message):
    """The engine the app assesses with changed: the rules-only one at start, the one with the model later.

    state: "rules" (rules only, model still loading), "model" (final, with the model), "rules-final" (the factory gave
    a rules-only engine: nothing more will load), "failed" (the model could not load; `error` says why).
    """

    def __init__(self, engine, state: str, error: str = "") -> None:
        super().__init__()
        self.engine = engine
        self.state = state
        self.error = error


class OpenArticles(Message):
    """Show these articles of the draft in the article viewer."""

    def __init__(self, citations: tuple[Citation, ...]) -> None:
        super().__init__()
        self.citations = citations


class OpenDescription(Message):
    """Load a description into the Assess screen and assess it (from a batch result row)."""

    def __init__(self, description: str) -> None:
        super().__init__()
        self.description = description


class ReviewRecorded(Message):
    """A review decision was appended to the audit log (`recorded`, a riskclass.audit.Recorded), or could not be
    (`error`, a one-line reason)."""

    def __init__(self, recorded, error: str = "") -> None:
        super().__init__()
        self.recorded = recorded
        self.error = error


class OpenProduct(Message):
    """Open a product of the register in the Assess screen (`product`, a riskclass.register.Product): its current
    description, saved answers and ticks; answers and ticks changed there are saved back to it."""

    def __init__(self, product) -> None:
        super().__init__()
        self.product = product


class RegisterSaved(Message):
    """Answers, ticks or a description were saved to the register (`error` empty), or could not be (`error`: a
    one-line reason)."""

    def __init__(self, pid: str, what: str, error: str = "", version: int = 0, text: str = "") -> None:
        super().__init__()
        self.pid = pid
        self.what = what  # "answers", "ticks" or "description"
        self.error = error
        self.version = version  # a saved description: its version number, and its text
        self.text = text
