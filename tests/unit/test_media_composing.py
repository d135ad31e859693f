"""Composing rules (pure): vCards, reactions, quote previews, and when an edit or a deletion may go."""

from __future__ import annotations

import pytest

from bzapper.domain.composing import (
    EDIT_WINDOW_MS,
    REVOKE_WINDOW_MS,
    change_refusal,
    preview,
    render_vcard,
    valid_reaction,
)

SENT_AT = 1_700_000_000_000
HISTORY = [("queued", SENT_AT - 50), ("sending", SENT_AT - 20), ("sent", SENT_AT)]


def test_a_contact_becomes_the_vcard_whatsapp_reads():
    card = render_vcard(
        {
            "name": "Maria Silva; Jr.",
            "phones": [{"number": "+55 11 97777-0001", "type": "CELL"}, {"number": "ramal 42"}],
            "emails": ["maria@example.com"],
            "organization": "Acme, Ltda",
        }
    )
    lines = card.split("\n")
    assert lines[0:2] == ["BEGIN:VCARD", "VERSION:3.0"] and lines[-1] == "END:VCARD"
    assert "FN:Maria Silva\\; Jr." in lines and "N:;Maria Silva\\; Jr.;;;" in lines
    assert "ORG:Acme\\, Ltda;" in lines
    # A real number carries its waid (so WhatsApp offers "Message"); anything else is kept as text.
    assert "item1.TEL;type=CELL;waid=5511977770001:+5511977770001" in lines
    assert "item2.TEL:ramal 42" in lines
    assert "EMAIL;type=INTERNET:maria@example.com" in lines


@pytest.mark.parametrize("emoji", ["👍", "👍🏽", "❤️", "👨‍👩‍👧", "🇧🇷", ""])
def test_a_reaction_is_one_emoji_or_empty_to_remove_it(emoji):
    assert valid_reaction(emoji)


@pytest.mark.parametrize("text", ["ok", "👍👍", " ", "a👍"])
def test_anything_else_is_not_a_reaction(text):
    assert not valid_reaction(text)


def test_previews_name_the_quoted_message_shortly():
    assert preview("text", {"body": "x" * 500}) == "x" * 100
    assert preview("image", {"media": {"mime_type": "image/png"}, "caption": "Catálogo"}) == "Catálogo"
    assert preview("document", {"media": {"filename": "nota.pdf"}, "filename": "nota.pdf"}) == "nota.pdf"
    assert preview("poll", {"name": "Best day?", "options": ["a", "b"]}) == "Best day?"
    assert preview("contact", {"contacts": [{"name": "Ana"}, {"name": "Bia"}], "vcards": []}) == "Ana, Bia"
    assert preview("sticker", {"media": {"mime_type": "image/webp"}}) is None


def test_edits_only_text_and_captions_within_15_minutes_of_sent():
    assert change_refusal("edit", "text", "read", HISTORY, SENT_AT + EDIT_WINDOW_MS) is None
    assert change_refusal("edit", "image", "sent", HISTORY, SENT_AT + 1) is None
    assert change_refusal("edit", "text", "read", HISTORY, SENT_AT + EDIT_WINDOW_MS + 1) == "window"
    for kind in ("audio", "sticker", "poll", "location", "reaction", "otp"):
        assert change_refusal("edit", kind, "sent", HISTORY, SENT_AT) == "type"


def test_a_message_not_sent_yet_may_change_a_failed_one_never():
    queued = [("queued", SENT_AT)]
    assert change_refusal("edit", "text", "queued", queued, SENT_AT + 3_600_000) is None
    assert change_refusal("revoke", "text", "failed", [*queued, ("failed", SENT_AT + 1)], SENT_AT) == "failed"


def test_deletions_within_2_days_and_12_hours_and_not_of_reactions():
    assert REVOKE_WINDOW_MS == (2 * 24 + 12) * 3600 * 1000
    assert change_refusal("revoke", "poll", "delivered", HISTORY, SENT_AT + REVOKE_WINDOW_MS) is None
    assert change_refusal("revoke", "text", "read", HISTORY, SENT_AT + REVOKE_WINDOW_MS + 1) == "window"
    assert change_refusal("revoke", "reaction", "sent", HISTORY, SENT_AT) == "type"
    assert change_refusal("revoke", "otp", "sent", HISTORY, SENT_AT) == "type"
