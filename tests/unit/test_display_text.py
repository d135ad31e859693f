"""Names a person reads back refuse invisible controls, and only those."""

from __future__ import annotations

import pytest

from bzapper.domain.text import displayable


@pytest.mark.parametrize("value", ["Ana Souza", "São Paulo — Ltda.", "عربي", "客服", "😀 Loja", "", "Tab-free"])
def test_visible_text_of_any_script_is_displayable(value):
    assert displayable(value)


@pytest.mark.parametrize(
    "value",
    ["\x00", "a\tb", "a\nb", "\x7f", "\x85", "a\u200bb", "\u200e", "a\u2028b", "\u202e", "\u2066x\u2069", "\ufeff"],
)
def test_controls_zero_widths_separators_and_bidi_overrides_are_not(value):
    assert not displayable(value)
