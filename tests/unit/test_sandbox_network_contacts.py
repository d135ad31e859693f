"""Contacts of the sandbox network: number checks, inbound injection (media too), read receipts (no sockets)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from support.sandbox import FakeClock, drain, fake_network, kinds, online

from bzapper.domain.content import INBOUND_TYPES
from bzapper.domain.engine import NotConnected
from bzapper_dev.sandbox.network import InvalidInput, Rejected, SandboxNetwork
from bzapper_dev.sandbox.numbers import lid_for

OWN = "+5511955550001"
PHONE = "+5511988888888"
JID = "5511988888888@s.whatsapp.net"
PNG = b"\x89PNG\r\n\x1a\n fake image"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def net(clock: FakeClock) -> SandboxNetwork:
    network = fake_network(clock)
    online(network, "acc_1", "ins_1", OWN)
    return network


# -- number checks -----------------------------------------------------------------------------------


def test_check_numbers(net: SandboxNetwork) -> None:
    lid = lid_for(PHONE)
    inputs = [PHONE, JID, "5511988888888", lid, "+5511900000001", "123456789012345@lid", "120363@g.us", "garbage"]

    answers = net.check_numbers("acc_1", "ins_1", inputs)

    known = {"exists": True, "phone": PHONE, "jid": JID, "lid": lid}
    assert answers == [
        {"input": PHONE, **known},
        {"input": JID, **known},
        {"input": "5511988888888", **known},
        {"input": lid, **known},
        {"input": "+5511900000001", "exists": False, "phone": "+5511900000001", "jid": None, "lid": None},
        {"input": "123456789012345@lid", "exists": False, "phone": None, "jid": None, "lid": None},
        {"input": "120363@g.us", "exists": False, "phone": None, "jid": None, "lid": None},
        {"input": "garbage", "exists": False, "phone": None, "jid": None, "lid": None},
    ]


def test_check_numbers_needs_a_connection(net: SandboxNetwork) -> None:
    with pytest.raises(NotConnected):
        net.check_numbers("acc_1", "ins_2", [PHONE])
    net.disconnect("acc_1", "ins_1")
    with pytest.raises(NotConnected):
        net.check_numbers("acc_1", "ins_1", [PHONE])


# -- inbound ---------------------------------------------------------------------------------------------


def test_an_inbound_text(net: SandboxNetwork, clock: FakeClock) -> None:
    wa_id = net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "Oi"}, push_name="Maria")

    [event] = drain(net, "ins_1")

    assert event == {
        "event_id": event["event_id"],
        "account_id": "acc_1",
        "instance_id": "ins_1",
        "kind": "inbound",
        "wa_message_id": wa_id,
        "chat_jid": JID,
        "from_me": False,
        "sender": {"jid": JID, "phone": PHONE, "lid": lid_for(PHONE), "push_name": "Maria"},
        "type": "text",
        "content": {"body": "Oi"},
        "at": clock.wall_ms,
    }
    assert wa_id.startswith("3A") and len(wa_id) == 20
    assert [(m["wa_message_id"], m["content"], m["read_at"]) for m in net.sent_by("acc_1", PHONE)] == [
        (wa_id, {"body": "Oi"}, None)
    ]


def test_inbound_ids_are_deterministic(clock: FakeClock) -> None:
    ids = []
    for _ in range(2):
        network = fake_network(clock)
        online(network, "acc_1", "ins_1", OWN)
        ids.append([network.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "x"}) for _ in range(3)])
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == 3


def test_a_given_wa_id_is_delivered_each_time_it_is_injected(net: SandboxNetwork) -> None:
    for _ in range(2):
        assert net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "x"}, wa_message_id="3AFIXED") == "3AFIXED"
    assert [e["wa_message_id"] for e in drain(net, "ins_1")] == ["3AFIXED", "3AFIXED"]


def test_an_inbound_from_a_lid_names_the_contact(net: SandboxNetwork) -> None:
    net.inject_inbound("acc_1", "ins_1", lid_for(PHONE), "text", {"body": "x"})
    [event] = drain(net, "ins_1")
    assert (event["chat_jid"], event["sender"]["phone"]) == (JID, PHONE)


def test_a_from_me_inbound_is_what_the_phone_itself_wrote(net: SandboxNetwork) -> None:
    wa_id = net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "from my phone"}, from_me=True)
    [event] = drain(net, "ins_1")
    assert (event["wa_message_id"], event["chat_jid"], event["from_me"]) == (wa_id, JID, True)
    assert event["sender"] == {
        "jid": "5511955550001@s.whatsapp.net",
        "phone": OWN,
        "lid": lid_for(OWN),
        "push_name": "Sandbox 0001",
    }
    assert net.sent_by("acc_1", PHONE) == []  # the contact did not write it


@pytest.mark.parametrize("sender", ["+5511900000001", "123456789012345@lid", "120363@g.us"])
def test_an_inbound_from_nobody_on_whatsapp_is_refused(net: SandboxNetwork, sender: str) -> None:
    with pytest.raises(Rejected) as refused:
        net.inject_inbound("acc_1", "ins_1", sender, "text", {"body": "x"})
    assert refused.value.code == "not_on_whatsapp"


def test_an_unpaired_instance_has_no_number_to_write_to(net: SandboxNetwork) -> None:
    with pytest.raises(NotConnected):
        net.inject_inbound("acc_1", "ins_2", PHONE, "text", {"body": "x"})
    net.connect("acc_1", "ins_2")
    with pytest.raises(NotConnected) as pairing:
        net.inject_inbound("acc_1", "ins_2", PHONE, "text", {"body": "x"})
    assert pairing.value.state == "pairing"


def test_inbound_waits_while_the_instance_is_offline(net: SandboxNetwork) -> None:
    net.disconnect("acc_1", "ins_1")
    net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "x"})
    assert drain(net, "ins_1") == []
    net.connect("acc_1", "ins_1")
    assert kinds(drain(net, "ins_1")) == [("inbound", "text"), ("state", "connected")]


MEDIA = {"mime_type": "image/png", "data_base64": base64.b64encode(PNG).decode()}
TARGET = {"wa_message_id": "3EB0A", "chat_jid": JID, "from_me": True}
EXAMPLES = {
    "text": {"body": "hi"},
    "image": {"media": MEDIA, "caption": "look"},
    "video": {"media": MEDIA},
    "document": {"media": {**MEDIA, "filename": "a.pdf"}, "filename": "a.pdf"},
    "audio": {"media": MEDIA, "voice": True},
    "sticker": {"media": MEDIA},
    "location": {"latitude": -23.5, "longitude": -46.6, "name": "Sé"},
    "contact": {"contacts": [{"name": "Ana", "phones": [{"number": "+5511977776666"}]}], "vcards": ["BEGIN:VCARD"]},
    "poll": {"name": "Lunch?", "options": ["yes", "no"], "selectable_count": 1},
    "reaction": {"target": TARGET, "emoji": "👍"},
    "edit": {"target": TARGET, "body": "fixed"},
    "revoke": {"target": TARGET},
    "unknown": {"raw_type": "pollUpdateMessage"},
}


def test_the_examples_cover_every_inbound_type() -> None:
    assert set(EXAMPLES) == INBOUND_TYPES


@pytest.mark.parametrize("message_type", sorted(INBOUND_TYPES))
def test_every_inbound_type_is_accepted(net: SandboxNetwork, message_type: str) -> None:
    net.inject_inbound("acc_1", "ins_1", PHONE, message_type, EXAMPLES[message_type])
    [event] = drain(net, "ins_1")
    assert event["type"] == message_type
    assert set(event["content"]) == set(EXAMPLES[message_type])


@pytest.mark.parametrize("message_type", ["otp", "buttons", "list", "nonsense"])
def test_types_that_never_arrive_are_refused(net: SandboxNetwork, message_type: str) -> None:
    with pytest.raises(InvalidInput):
        net.inject_inbound("acc_1", "ins_1", PHONE, message_type, {"body": "x"})


@pytest.mark.parametrize(
    ("message_type", "content"),
    [
        ("text", {}),
        ("text", {"body": 5}),
        ("image", {}),
        ("image", {"media": {"data_base64": MEDIA["data_base64"]}}),
        ("image", {"media": {"mime_type": "image/png", "data_base64": "not base64!"}}),
        ("image", {"media": {"mime_type": "image/png", "data_base64": ""}}),
        ("image", {"media": {**MEDIA, "filename": ""}}),
    ],
)
def test_malformed_inbound_content_is_refused(net: SandboxNetwork, message_type: str, content: dict) -> None:
    with pytest.raises(InvalidInput):
        net.inject_inbound("acc_1", "ins_1", PHONE, message_type, content)
    assert drain(net, "ins_1") == []


def test_inbound_media_keeps_its_bytes_until_the_event_is_acked(net: SandboxNetwork) -> None:
    content = {"media": {**MEDIA, "filename": "photo.png"}, "caption": "look"}
    net.inject_inbound("acc_1", "ins_1", PHONE, "image", content)

    [event] = net.poll(["ins_1"])

    media = event["content"]["media"]
    assert media == {
        "mime_type": "image/png",
        "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "filename": "photo.png",
        "sandbox_media_id": media["sandbox_media_id"],
    }
    assert content["media"]["data_base64"]  # the caller's dict is left alone
    assert net.media(media["sandbox_media_id"]) == ("image/png", PNG)
    net.ack([event["event_id"]])
    assert net.media(media["sandbox_media_id"]) is None


# -- read receipts -------------------------------------------------------------------------------------


def test_mark_read_is_recorded_and_seen_by_the_contact(net: SandboxNetwork, clock: FakeClock) -> None:
    first = net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "1"})
    second = net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "2"})
    online(net, "acc_1", "ins_2", "+5511955550002")
    other = net.inject_inbound("acc_1", "ins_2", PHONE, "text", {"body": "to the other number"})
    clock.advance(5)

    net.mark_read("acc_1", "ins_1", JID, [first, other, "3AUNKNOWN"])

    assert net.reads("acc_1", "ins_1") == [
        {"chat_jid": JID, "wa_message_ids": [first, other, "3AUNKNOWN"], "at": clock.wall_ms}
    ]
    assert net.reads("acc_1", "ins_2") == []
    assert [(m["wa_message_id"], m["read_at"]) for m in net.sent_by("acc_1", PHONE)] == [
        (first, clock.wall_ms),
        (second, None),
        (other, None),  # read receipts of one instance say nothing about another's messages
    ]


def test_mark_read_in_a_lid_chat(net: SandboxNetwork) -> None:
    contact = "+5511900006001"
    wa_id = net.inject_inbound("acc_1", "ins_1", contact, "text", {"body": "x"})
    net.mark_read("acc_1", "ins_1", lid_for(contact), [wa_id])
    assert net.sent_by("acc_1", lid_for(contact))[0]["read_at"] is not None


def test_mark_read_needs_a_connection(net: SandboxNetwork) -> None:
    net.disconnect("acc_1", "ins_1")
    with pytest.raises(NotConnected):
        net.mark_read("acc_1", "ins_1", JID, ["3A"])
    assert net.reads("acc_1", "ins_1") == []
