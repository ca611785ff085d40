"""One exception base for everything riskclass reports to a user, mapped to exit codes (CONTRACT.md)."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    BAD_INPUT = 2
    PARTIAL = 3  # batch finished but some rows carry an error


class Text(NamedTuple):
    """A message built where the language is not known (a core module, a batch summary note): both texts travel
    together and the face that prints it picks one (issue 13: one language at a time)."""

    en: str
    zh: str

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else self.en

    def __str__(self) -> str:
        return self.en


class RiskclassError(Exception):
    """An error with a one-line message a user can act on."""

    exit_code: ExitCode = ExitCode.INTERNAL
    title: str = "error"

    def __init__(self, message: str | Text, title: str | None = None, *, zh: str | None = None) -> None:
        if isinstance(message, Text):  # a message built in both languages (e.g. tables.files.write_failure)
            message, zh = message.en, zh or message.zh
        super().__init__(message)
        self.message = message
        self.zh = zh
        if title is not None:
            self.title = title

    def text(self, lang: str) -> str:
        """The message in the user's language: every raise site gives the English text and, with `zh=`, the
        Chinese one (issue 13: one language at a time); a message without a Chinese text falls back to English."""
        return self.zh if lang == "zh" and self.zh else self.message

    def __str__(self) -> str:
        return self.message


class InputError(RiskclassError):
    """The description, file or arguments cannot be used (exit 2)."""

    exit_code = ExitCode.BAD_INPUT
    title = "unusable input"


class RulebookError(RiskclassError):
    """The rulebook data is invalid: names the file, the rule and what to fix."""

    title = "invalid rulebook"


class LawError(RiskclassError):
    """A citation does not resolve to the shipped draft text."""

    title = "unknown article"


class ModelError(RiskclassError):
    """The model file is missing, tampered with or incompatible."""

    title = "model problem"


class AuditError(InputError):
    """The audit log cannot be used: unwritable, not a riskclass log, or broken where that matters (exit 2).

    A log that `riskclass audit verify` finds broken is a finding, not an error (exit 1 there); this is raised where a
    command cannot go on: appending after a damaged last entry, training from a broken chain.
    """

    title = "audit log"
