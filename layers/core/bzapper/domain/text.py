"""Text a person reads back (a name in the console, in an email's greeting): no invisible controls. Pure."""

from __future__ import annotations

import re

HIDDEN_CHARACTERS = r"\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
"""C0/C1 controls (NUL, newlines, escape), zero-width characters, line/paragraph separators and the bidi
embeddings, overrides and isolates (U+202E turns "exe.txt" into "txt.exe" on screen)."""
DISPLAY_TEXT_PATTERN = rf"^[^{HIDDEN_CHARACTERS}]*$"
"""The same rule as a JSON Schema pattern (Python, ECMAScript and Rust regexes read these escapes alike)."""


def displayable(value: str) -> bool:
    return re.fullmatch(DISPLAY_TEXT_PATTERN, value) is not None
