"""The description editor: a TextArea that stays responsive when something enormous is pasted into it."""

from __future__ import annotations

from textual import events, on
from textual.message import Message
from textual.widgets import TextArea

from riskclass.errors import InputError

# Textual's TextArea re-wraps the edited line on every keystroke: ~30 µs per character of that line on this machine
# (a 20,000-character line costs 0.7 s a key). Above this line length soft wrap is turned off (0.1 s a key at 20,000),
# and back on once no line is that long. Descriptions people write are paragraphs far shorter than this.
WRAP_LINE_LIMIT = 5_000


class DescriptionArea(TextArea):
    """Refuses a paste that would make the description longer than the engine reads (the text already there stays),
    and turns soft wrap off while a line is too long to re-wrap at typing speed."""

    class PasteRefused(Message):
        """A paste was not inserted; `message` is the engine's one-line reason (InputError)."""

        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

    async def _on_paste(self, event: events.Paste) -> None:
        if self.read_only:
            return
        # Imported here, not with the screen: the tokenizer's module is not needed for the first frame (~8 ms).
        from riskclass.text.normalise import MAX_DESCRIPTION_CHARS, check_description

        start, end = sorted(self.selection)
        text = self.text
        i, j = self.document.get_index_from_location(start), self.document.get_index_from_location(end)
        if len(text) - (j - i) + len(event.text) <= MAX_DESCRIPTION_CHARS:
            self._wrap_for(event.text)
            return  # TextArea's own handler inserts it
        event.prevent_default()  # not inserted: a megabyte in the editor freezes typing, and it cannot be assessed
        try:
            check_description(text[:i] + event.text + text[j:])  # the engine's own message, with the real count
        except InputError as exc:
            self.post_message(self.PasteRefused(exc.text(getattr(self.app, "lang", "zh"))))

    def _wrap_for(self, inserted: str) -> None:
        if self.soft_wrap and any(len(line) > WRAP_LINE_LIMIT for line in inserted.splitlines()):
            self.soft_wrap = False

    @on(TextArea.Changed)
    def _rewrap(self) -> None:
        too_long = any(len(line) > WRAP_LINE_LIMIT for line in self.document.lines)
        if self.soft_wrap == too_long:
            self.soft_wrap = not too_long

    def load_description(self, text: str) -> None:
        """Replace the whole text (from a batch row), choosing the wrap mode before the text is laid out."""
        self.soft_wrap = all(len(line) <= WRAP_LINE_LIMIT for line in text.splitlines())
        self.load_text(text)
