"""The inbox's pure rules: conversation keys, thread order, ids, previews, public content, cursors."""

from __future__ import annotations

import pytest

from bzapper.api.schemas.events import MessageReceivedEvent
from bzapper.domain.cursors import decode_cursor, encode_cursor
from bzapper.domain.errors import BzError
from bzapper.domain.ids import is_id
from bzapper.domain.inbox import (
    OTP_MASK,
    PREVIEW_CHARS,
    Contact,
    ReceivedMessage,
    chat_sort,
    clean_lid,
    clean_phone,
    counts_as_unread,
    inbound_message_id,
    preview_text,
    public_content,
    sort_time,
    stored_content,
)
from bzapper.services.inbox import received_event

LID = "123456789012345@lid"


def test_a_conversation_is_keyed_by_the_phone_when_known_else_by_the_lid():
    both = Contact(phone="+5511988888888", lid=LID)
    assert both.jid == "5511988888888@s.whatsapp.net"
    assert both.jids == ("5511988888888@s.whatsapp.net", LID)
    assert Contact(phone=None, lid=LID).jid == LID
    assert Contact(phone=None, lid=LID).jids == (LID,)
    with pytest.raises(ValueError):
        _ = Contact(phone=None, lid=None).jid


def test_the_inbound_id_depends_only_on_the_instance_and_whatsapps_id():
    first = inbound_message_id("inst_1", "3A0001")
    assert first == inbound_message_id("inst_1", "3A0001")
    assert first != inbound_message_id("inst_2", "3A0001")
    assert first != inbound_message_id("inst_1", "3A0002")
    assert is_id(first, "msg")  # GET /messages/{id} accepts its shape


def test_the_thread_order_is_by_time_then_id_as_a_string():
    early, late = chat_sort(999, "msg_B"), chat_sort(1_000, "msg_A")
    assert early < late  # 13 digits: a shorter number never sorts after a longer one
    assert chat_sort(1_000, "msg_A") < chat_sort(1_000, "msg_B")
    assert sort_time(late) == 1_000


@pytest.mark.parametrize(
    ("value", "phone"),
    [
        ("+5511988888888", "+5511988888888"),
        ("5511988888888", "+5511988888888"),
        ("5511988888888@s.whatsapp.net", "+5511988888888"),
        ("5511988888888:12@s.whatsapp.net", "+5511988888888"),
        ("", None),
        (None, None),
        ("abc", None),
        (42, None),
    ],
)
def test_engine_phones_are_read_as_e164(value, phone):
    assert clean_phone(value) == phone


@pytest.mark.parametrize(
    ("value", "lid"),
    [
        ("123456789012345@lid", LID),
        ("123456789012345", LID),
        ("123456789012345:3@lid", LID),
        ("x@lid", None),
        ("1" * 21, None),
        (None, None),
    ],
)
def test_engine_lids_are_read_as_lid_jids(value, lid):
    assert clean_lid(value) == lid


def test_reactions_edits_deletions_and_echoes_are_never_unread():
    assert counts_as_unread("text", from_me=False)
    assert counts_as_unread("image", from_me=False)
    assert not counts_as_unread("text", from_me=True)
    for kind in ("reaction", "edit", "revoke"):
        assert not counts_as_unread(kind, from_me=False)


def test_a_quoted_message_of_ours_is_stored_without_its_preview():
    theirs = {"body": "ok", "reply_to": {"wa_message_id": "A", "chat_jid": "x", "from_me": False, "preview": "hi"}}
    ours = {"body": "ok", "reply_to": {"wa_message_id": "B", "chat_jid": "x", "from_me": True, "preview": "123456"}}
    assert stored_content(theirs) == theirs
    assert stored_content(ours)["reply_to"] == {"wa_message_id": "B", "chat_jid": "x", "from_me": True}
    assert "preview" in ours["reply_to"]  # the caller's dict is left alone


def test_media_is_shown_as_a_reference_never_as_the_bucket_key():
    media = {"media_id": "med_1", "key": "acct/test/med_1", "mime_type": "application/pdf", "size": 9, "sha256": "x"}
    shown = public_content("document", {"media": {**media, "filename": "a.pdf"}, "caption": "c"})
    assert shown == {
        "media": {
            "media_id": "med_1",
            "url": "/media/med_1",
            "mime_type": "application/pdf",
            "size": 9,
            "filename": "a.pdf",
        },
        "caption": "c",
    }
    assert public_content("text", {"body": "b"}) == {"body": "b"}


def test_a_verification_code_is_masked_everywhere_it_is_shown():
    content = {"body": "Your code:", "code_sealed": "sealed-bytes"}
    assert public_content("otp", content) == {"body": "Your code:", "code": OTP_MASK}
    assert preview_text("otp", content) == f"Your code: {OTP_MASK}"


@pytest.mark.parametrize(
    ("kind", "content", "text"),
    [
        ("text", {"body": "  hello \n world "}, "hello world"),
        ("image", {"caption": "look", "media": {}}, "look"),
        ("document", {"media": {"filename": "invoice.pdf"}}, "invoice.pdf"),
        ("sticker", {"media": {}}, None),
        ("location", {"latitude": 1, "longitude": 2, "name": "Office"}, "Office"),
        ("contact", {"contacts": [{"name": "Ana"}, {"name": "Bia"}], "vcards": []}, "Ana, Bia"),
        ("poll", {"name": "Lunch?", "options": ["a"], "selectable_count": 1}, "Lunch?"),
        ("reaction", {"target": {}, "emoji": "👍"}, "👍"),
        ("revoke", {"target": {}}, None),
        ("unknown", {"raw_type": "ptv"}, None),
    ],
)
def test_previews(kind, content, text):
    assert preview_text(kind, content) == text


def test_a_preview_is_cut():
    assert len(preview_text("text", {"body": "x" * 1000}) or "") == PREVIEW_CHARS


def test_a_cursor_round_trips_and_one_of_another_listing_is_refused():
    cursor = encode_cursor("inst_1", {"s": "0000000001000#msg_A"})
    assert decode_cursor(cursor, "inst_1", {"s": str})["s"] == "0000000001000#msg_A"
    another = encode_cursor("inst_2", {"s": "x"})
    activity = encode_cursor("inst_1", {"j": "5511@s.whatsapp.net", "t": 1})
    for bad in (another, activity, "%%%", "bm90IGpzb24"):
        with pytest.raises(BzError) as info:
            decode_cursor(bad, "inst_1", {"s": str})
        assert (info.value.code, info.value.param) == ("validation_failed", "cursor")


def test_message_received_matches_its_documented_model():
    item = ReceivedMessage(
        message_id="msg_01JD5V9Q0A1B2C3D4E5F6G7H8J",
        account_id="acct_1",
        instance_id="inst_1",
        livemode=False,
        shard=0,
        type="image",
        content={"media": {"media_id": "med_1", "key": "k", "mime_type": "image/png", "size": 3, "sha256": "s"}},
        wa_message_id="3A0001",
        chat_jid=LID,
        conversation_jid="5511988888888@s.whatsapp.net",
        sort=chat_sort(1_700_000_000_000, "msg_01JD5V9Q0A1B2C3D4E5F6G7H8J"),
        at=1_700_000_000_000,
        to_phone=None,
        from_me=False,
        sender={"jid": LID, "phone": None, "lid": LID, "name": "Maria"},
    )
    event = received_event(item, Contact(phone="+5511988888888", lid=LID, name="Maria"))
    parsed = MessageReceivedEvent.model_validate(event)
    assert parsed.type == "message.received" and parsed.data.contact.jid == "5511988888888@s.whatsapp.net"
    assert event["data"]["content"]["media"]["url"] == "/media/med_1"
    assert "key" not in event["data"]["content"]["media"]
    assert event["id"] == received_event(item, Contact(phone=None, lid=LID))["id"]  # the id names the message
