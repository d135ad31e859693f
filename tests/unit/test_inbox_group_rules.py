"""Groups in the inbox's pure rules: which chats are conversations, how a group JID is read (inbox paths
only; never a send's recipient), a group conversation's key, and its message.received shape."""

from __future__ import annotations

import pytest

from bzapper.api.schemas.events import MessageReceivedEvent
from bzapper.domain.inbox import CONTACT, GROUP, Contact, ReceivedMessage, chat_sort, chat_type, conversation_type
from bzapper.domain.phones import InvalidRecipient, is_group_jid, parse_group, parse_recipient
from bzapper.services.inbox import received_event

GROUP_JID = "120363025246125888@g.us"
LID = "123456789012345@lid"


@pytest.mark.parametrize(
    ("value", "jid"),
    [
        (GROUP_JID, GROUP_JID),
        ("  120363025246125888@G.US ", GROUP_JID),
        ("5511988888888-1596040000@g.us", "5511988888888-1596040000@g.us"),  # a group made before 2021
    ],
)
def test_a_group_jid_is_read(value, jid):
    assert parse_group(value) == jid
    assert is_group_jid(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("12ab@g.us", "invalid_group"),
        ("@g.us", "invalid_group"),
        ("1-2-3@g.us", "invalid_group"),
        ("1" * 21 + "@g.us", "invalid_group"),
        ("120363025246125888:1@g.us", "invalid_group"),
        (GROUP_JID.replace("g.us", "s.whatsapp.net"), "unsupported_jid"),
        ("status@broadcast", "unsupported_jid"),
        ("120363025246125888", "unsupported_jid"),
    ],
)
def test_what_is_not_a_group_jid(value, reason):
    with pytest.raises(InvalidRecipient) as info:
        parse_group(value)
    assert info.value.reason == reason


def test_a_group_is_never_a_send_recipient():
    with pytest.raises(InvalidRecipient) as info:
        parse_recipient(GROUP_JID)
    assert info.value.reason == "unsupported_jid"


@pytest.mark.parametrize(
    ("chat", "kind"),
    [
        ("5511988888888@s.whatsapp.net", CONTACT),
        (LID, CONTACT),
        (GROUP_JID, GROUP),
        ("status@broadcast", None),  # status updates
        ("1790000000@broadcast", None),  # a broadcast list
        ("120363000000000009@newsletter", None),  # a channel
        ("12ab@g.us", None),  # unreadable
        ("x@unknown.server", None),
    ],
)
def test_which_chats_are_conversations(chat, kind):
    assert chat_type(chat) == kind


def test_a_group_conversation_has_one_key_and_no_phone():
    group = Contact.group(GROUP_JID, "Orders team")
    assert (group.jid, group.jids, group.type) == (GROUP_JID, (GROUP_JID,), "group")
    assert (group.phone, group.lid, group.name) == (None, None, "Orders team")
    assert Contact(phone="+5511988888888", lid=LID).type == "contact"
    assert conversation_type(GROUP_JID) == "group"
    assert conversation_type("5511988888888@s.whatsapp.net") == conversation_type(LID) == "contact"


def test_a_group_message_received_matches_its_documented_model():
    item = ReceivedMessage(
        message_id="msg_01JD5V9Q0A1B2C3D4E5F6G7H8J",
        account_id="acct_1",
        instance_id="inst_1",
        livemode=False,
        shard=0,
        type="text",
        content={"body": "Shipped"},
        wa_message_id="3A0001",
        chat_jid=GROUP_JID,
        conversation_jid=GROUP_JID,
        sort=chat_sort(1_700_000_000_000, "msg_01JD5V9Q0A1B2C3D4E5F6G7H8J"),
        at=1_700_000_000_000,
        to_phone=None,
        from_me=False,
        sender={"jid": LID, "phone": "+5511988888888", "lid": LID, "name": "Ana"},
    )
    event = received_event(item, Contact.group(GROUP_JID))
    data = MessageReceivedEvent.model_validate(event).data
    assert (data.chat_jid, data.chat_type, data.from_.phone, data.from_.lid) == (
        GROUP_JID,
        "group",
        "+5511988888888",
        LID,
    )
    assert (data.contact.jid, data.contact.phone, data.contact.lid, data.contact.name) == (GROUP_JID, None, None, None)
