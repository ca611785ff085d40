"""Text shown inert: characters that would act on a terminal or reorder what a reader sees, made visible instead.

A description may carry terminal escape sequences (ESC, CSI, OSC: clear the screen, set the window title, write to
the clipboard), a carriage return that overwrites the line, or bidi controls that show "exe.jpg" for "gpj.exe"
(Trojan Source, CVE-2021-42574). Wherever riskclass shows text it did not write, these are replaced by a visible
escape: \\x1b for a control character, <U+202E> for a bidi control, \\xff for an undecodable input byte. Newlines and
tabs are ordinary text and stay.
"""

from __future__ import annotations

import re

# Bidi controls (Unicode's Bidi_Control property: ALM, LRM, RLM, LRE…RLO, LRI…PDI) and the line/paragraph separators
# some terminals treat as line breaks.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
# C0 controls but tab and newline, DEL, C1 controls (\x9b is an 8-bit CSI), bidi controls, lone surrogates.
_ACTIVE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")


def _visible(m: re.Match[str]) -> str:
    o = ord(m.group())
    if o < 0x100:
        return f"\\x{o:02x}"
    if 0xDC80 <= o <= 0xDCFF:  # a byte that was not valid text, kept by Python's surrogateescape
        return f"\\x{o - 0xDC00:02x}"
    return f"<U+{o:04X}>"


def inert(text: str) -> str:
    """`text` with every character that could act on a terminal or reorder the display shown as a visible escape."""
    return _ACTIVE.sub(_visible, text)


def inert_json(dumped: str) -> str:
    """JSON text (from json.dumps(..., ensure_ascii=False)) with the same characters written as \\uXXXX escapes: the
    same value for a parser, nothing active for a terminal. json already escapes C0 controls, not DEL, C1, bidi
    controls or lone surrogates."""
    return _ACTIVE.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
