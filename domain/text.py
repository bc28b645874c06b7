"""The one character rule for text callers send (names, addresses, reasons, notes, queries).

Refused, wherever the text comes from (a mutation or a CSV import): control and format
characters (Unicode categories Cc and Cf, which take in the bidirectional controls
U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069 and the zero-width characters
U+200B-U+200D, U+2060, U+FEFF), private-use (Co), surrogate (Cs) and unassigned (Cn)
code points, and the line and paragraph separators (Zl, Zp). Multi-line free text may
also hold newlines and tabs. Accepted text is returned in NFC, so one name is stored one
way however it was typed.
"""

from __future__ import annotations

import unicodedata

from domain.errors import BadUserInput

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
REFUSED_CATEGORIES = {
    "Cc": "control character",
    "Cf": "format character",
    "Co": "private-use character",
    "Cs": "surrogate code point",
    "Cn": "unassigned code point",
    "Zl": "line separator",
    "Zp": "paragraph separator",
}
MULTILINE_EXTRA = frozenset("\n\t")


def clean_text(value: str, field: str, *, multiline: bool = False) -> str:
    """`value` in NFC, or BadUserInput naming `field` and the first refused character
    (by code point only: the text itself is never echoed)."""
    for char in value:
        if multiline and char in MULTILINE_EXTRA:
            continue
        if char in BIDI_CONTROLS:
            what = "bidirectional control character"
        elif char in ZERO_WIDTH:
            what = "zero-width character"
        else:
            category = unicodedata.category(char)
            if category not in REFUSED_CATEGORIES:
                continue
            what = REFUSED_CATEGORIES[category]
        raise BadUserInput(f"{field}: {what} U+{ord(char):04X} is not allowed", field=field)
    return unicodedata.normalize("NFC", value)
