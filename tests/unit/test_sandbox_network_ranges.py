"""The reserved number ranges of the sandbox (docs/sandbox.md): one behaviour each (fake clock, no sockets)."""

from __future__ import annotations

import pytest
from support.sandbox import FakeClock, drain, fake_network, kinds, online

from bzapper.domain.engine import NotConnected
from bzapper.engines.sandbox.derived import phone_message_id
from bzapper_dev.sandbox.network import Rejected, SandboxNetwork
from bzapper_dev.sandbox.numbers import RESERVED_RANGES, kind_of, lid_for

OWN = "+5511955550001"
ORDINARY = "+5511988888888"
TEXT = {"type": "text", "body": "Hi"}
VOICE = {
    "type": "audio",
    "media": {"media_id": "med_1", "key": "k", "mime_type": "audio/ogg", "size": 3, "sha256": "ab"},
    "voice": True,
}


def jid(phone: str) -> str:
    return phone.removeprefix("+") + "@s.whatsapp.net"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def net(clock: FakeClock) -> SandboxNetwork:
    network = fake_network(
        clock, delivered_after=1, read_after=2, played_after=3, reply_after=4, reconnect_after=5, restricted_for=60
    )
    online(network, "acc_1", "ins_1", OWN)
    return network


def test_the_ranges_table() -> None:
    assert {prefix + "xxx": kind for prefix, kind in RESERVED_RANGES.items()} == {
        "+5511900000xxx": "not_on_whatsapp",
        "+5511900001xxx": "offline",
        "+5511900002xxx": "replies",
        "+5511900003xxx": "plays_voice",
        "+5511900004xxx": "restricts",
        "+5511900005xxx": "disconnects",
        "+5511900006xxx": "unmapped_lid",
        "+5511900008xxx": "echo",
        "+5511900010xxx": "invite_required",
    }
    assert kind_of("+5511900001000") == "offline"
    assert kind_of("+5511900001999") == "offline"
    assert kind_of("+5511900007000") == "ordinary"  # kept free for later ranges
    assert kind_of("+5511900009999") == "ordinary"
    assert kind_of("+14155552671") == "ordinary"
    assert kind_of("+5511123") == "not_on_whatsapp"  # no such number


@pytest.mark.parametrize("phone", ["+5511900000000", "+5511900000123", "+5511900000999", "+5511123"])
def test_not_on_whatsapp(net: SandboxNetwork, clock: FakeClock, phone: str) -> None:
    with pytest.raises(Rejected) as rejected:
        net.send("acc_1", "ins_1", jid(phone), "A", TEXT)
    assert rejected.value.code == "not_on_whatsapp"
    assert net.received("acc_1", phone) == []
    clock.advance(60)
    assert drain(net, "ins_1") == []


def test_an_ordinary_contact_delivers_then_reads(net: SandboxNetwork, clock: FakeClock) -> None:
    sent_ms = clock.wall_ms
    net.send("acc_1", "ins_1", jid(ORDINARY), "A", VOICE)
    clock.advance(60)
    events = drain(net, "ins_1")
    assert [(e["kind"], e["status"], e["at"] - sent_ms) for e in events] == [
        ("receipt", "delivered", 1000),
        ("receipt", "read", 2000),
    ]  # a voice note to an ordinary contact is never "played"


def test_offline_contacts_ack_and_never_deliver(net: SandboxNetwork, clock: FakeClock) -> None:
    ack = net.send("acc_1", "ins_1", jid("+5511900001234"), "A", TEXT)
    assert ack["duplicate"] is False
    assert [m["wa_message_id"] for m in net.received("acc_1", "+5511900001234")] == ["A"]  # held by the server
    clock.advance(24 * 3600)
    assert drain(net, "ins_1") == []


def test_replying_contacts_answer_after_reading(net: SandboxNetwork, clock: FakeClock) -> None:
    contact = "+5511900002001"
    net.send("acc_1", "ins_1", jid(contact), "A", TEXT)
    clock.advance(3.9)
    assert kinds(drain(net, "ins_1")) == [("receipt", "delivered"), ("receipt", "read")]
    clock.advance(0.1)

    [reply] = drain(net, "ins_1")

    reply_id = phone_message_id("acc_1", "ins_1", contact, "A", "reply")
    assert reply == {
        "event_id": reply["event_id"],
        "account_id": "acc_1",
        "instance_id": "ins_1",
        "kind": "inbound",
        "wa_message_id": reply_id,
        "chat_jid": jid(contact),
        "from_me": False,
        "sender": {"jid": jid(contact), "phone": contact, "lid": lid_for(contact), "push_name": "Contact 2001"},
        "type": "text",
        "content": {
            "body": "Auto-reply to A",
            "reply_to": {"wa_message_id": "A", "chat_jid": jid(contact), "from_me": True},
        },
        "at": reply["at"],
    }
    assert [(m["wa_message_id"], m["read_at"]) for m in net.sent_by("acc_1", contact)] == [(reply_id, None)]


def test_replying_contacts_do_not_answer_a_reaction(net: SandboxNetwork, clock: FakeClock) -> None:
    reaction = {"type": "reaction", "target": {"wa_message_id": "X", "chat_jid": "c", "from_me": False}, "emoji": "👍"}
    net.send("acc_1", "ins_1", jid("+5511900002001"), "A", reaction)
    clock.advance(60)
    assert [kind for kind, _ in kinds(drain(net, "ins_1"))] == ["receipt", "receipt"]


def test_voice_notes_are_played_by_the_playing_range(net: SandboxNetwork, clock: FakeClock) -> None:
    contact = jid("+5511900003001")
    net.send("acc_1", "ins_1", contact, "V", VOICE)
    net.send("acc_1", "ins_1", contact, "M", {**VOICE, "voice": False})  # plain audio: no "played"
    net.send("acc_1", "ins_1", contact, "T", TEXT)
    clock.advance(60)
    assert [(e["wa_message_id"], e["status"]) for e in drain(net, "ins_1")] == [
        ("V", "delivered"),
        ("M", "delivered"),
        ("T", "delivered"),
        ("V", "read"),
        ("M", "read"),
        ("T", "read"),
        ("V", "played"),
    ]


def test_sending_to_the_restriction_range_restricts_the_number(net: SandboxNetwork, clock: FakeClock) -> None:
    online(net, "acc_1", "ins_2", OWN)  # a second device of the same number
    online(net, "acc_1", "ins_3", "+5511955550003")  # another number of the account

    with pytest.raises(NotConnected) as held:
        net.send("acc_1", "ins_1", jid("+5511900004001"), "A", TEXT)

    assert held.value.state == "restricted"
    assert net.received("acc_1", "+5511900004001") == []
    for instance_id in ("ins_1", "ins_2"):
        [event] = drain(net, instance_id)
        assert (event["state"], event["error"], event["phone"]) == ("restricted", "account_restricted", OWN)
        assert net.instance("acc_1", instance_id)["state"] == "restricted"
    assert drain(net, "ins_3") == []
    # Held, not failed: nothing goes out while restricted, to anyone.
    with pytest.raises(NotConnected):
        net.send("acc_1", "ins_1", jid(ORDINARY), "B", TEXT)
    net.send("acc_1", "ins_3", jid(ORDINARY), "C", TEXT)

    # A restricted number still receives, and reconnecting does not lift it.
    net.inject_inbound("acc_1", "ins_1", ORDINARY, "text", {"body": "hello?"})
    assert kinds(drain(net, "ins_1")) == [("inbound", "text")]
    net.disconnect("acc_1", "ins_2")
    assert net.connect("acc_1", "ins_2")["state"] == "restricted"
    drain(net, "ins_2")

    clock.advance(59.9)
    assert drain(net, "ins_1") == []
    clock.advance(0.1)
    assert [(e["state"], e.get("error")) for e in drain(net, "ins_1")] == [("connected", None)]
    assert [e["state"] for e in drain(net, "ins_2")] == ["connected"]
    assert net.send("acc_1", "ins_1", jid(ORDINARY), "B", TEXT)["duplicate"] is False


def test_a_restriction_lifts_for_a_closed_instance_too(net: SandboxNetwork, clock: FakeClock) -> None:
    with pytest.raises(NotConnected):
        net.send("acc_1", "ins_1", jid("+5511900004001"), "A", TEXT)
    net.disconnect("acc_1", "ins_1")
    clock.advance(61)
    assert [e["state"] for e in drain(net, "ins_1")] == ["restricted"]  # no "connected": nobody is connected
    assert net.connect("acc_1", "ins_1")["state"] == "connected"


def test_a_second_restriction_extends_it(net: SandboxNetwork, clock: FakeClock) -> None:
    with pytest.raises(NotConnected):
        net.send("acc_1", "ins_1", jid("+5511900004001"), "A", TEXT)
    clock.advance(61)
    drain(net, "ins_1")
    with pytest.raises(NotConnected):
        net.send("acc_1", "ins_1", jid("+5511900004002"), "B", TEXT)
    clock.advance(30)
    assert net.instance("acc_1", "ins_1")["state"] == "restricted"
    clock.advance(31)
    assert net.instance("acc_1", "ins_1")["state"] == "connected"


def test_the_disconnection_range_drops_the_connection_after_the_ack(net: SandboxNetwork, clock: FakeClock) -> None:
    contact = "+5511900005001"
    ack = net.send("acc_1", "ins_1", jid(contact), "A", TEXT)

    assert ack["duplicate"] is False
    assert [m["wa_message_id"] for m in net.received("acc_1", contact)] == ["A"]
    assert [(e["state"], e.get("error")) for e in drain(net, "ins_1")] == [("disconnected", None)]
    with pytest.raises(NotConnected) as held:
        net.send("acc_1", "ins_1", jid(ORDINARY), "B", TEXT)
    assert held.value.state == "disconnected"
    clock.advance(4.9)
    assert drain(net, "ins_1") == []  # the receipts wait for the socket

    clock.advance(0.1)

    assert kinds(drain(net, "ins_1")) == [("receipt", "delivered"), ("receipt", "read"), ("state", "connected")]
    assert net.send("acc_1", "ins_1", jid(ORDINARY), "B", TEXT)["duplicate"] is False


def test_a_worker_closing_during_the_drop_cancels_the_reconnect(net: SandboxNetwork, clock: FakeClock) -> None:
    net.send("acc_1", "ins_1", jid("+5511900005001"), "A", TEXT)
    drain(net, "ins_1")
    net.disconnect("acc_1", "ins_1")
    clock.advance(60)
    assert drain(net, "ins_1") == []
    assert (net.instance("acc_1", "ins_1")["state"], net.instance("acc_1", "ins_1")["open"]) == ("disconnected", False)


def test_unmapped_lid_contacts_are_known_by_lid_until_we_write_to_their_phone(
    net: SandboxNetwork, clock: FakeClock
) -> None:
    contact = "+5511900006001"
    lid = lid_for(contact)
    net.inject_inbound("acc_1", "ins_1", contact, "text", {"body": "oi"})
    [before] = drain(net, "ins_1")
    assert (before["chat_jid"], before["sender"]) == (lid, {"jid": lid, "lid": lid, "push_name": "Contact 6001"})
    assert net.check_numbers("acc_1", "ins_1", [contact, lid]) == [
        {"input": contact, "exists": True, "phone": contact, "jid": jid(contact), "lid": None},
        {"input": lid, "exists": True, "phone": None, "jid": lid, "lid": lid},
    ]
    net.send("acc_1", "ins_1", lid, "L", TEXT)  # answering in the LID chat reveals nothing
    clock.advance(60)
    assert [e["kind"] for e in drain(net, "ins_1")] == ["receipt", "receipt"]

    net.send("acc_1", "ins_1", jid(contact), "A", TEXT)
    net.send("acc_1", "ins_1", jid(contact), "B", TEXT)

    events = drain(net, "ins_1")
    assert {k: events[0][k] for k in ("kind", "phone", "lid", "at")} == {
        "kind": "identity",
        "phone": contact,
        "lid": lid,
        "at": clock.wall_ms,
    }
    assert len(events) == 1  # once, although two messages went to that phone (their receipts are not due yet)
    net.inject_inbound("acc_1", "ins_1", lid, "text", {"body": "de novo"})
    [after] = drain(net, "ins_1")
    assert (after["chat_jid"], after["sender"]["phone"], after["sender"]["jid"]) == (lid, contact, lid)
    assert net.check_numbers("acc_1", "ins_1", [contact])[0]["lid"] == lid


def test_the_mapping_is_per_device(net: SandboxNetwork) -> None:
    online(net, "acc_1", "ins_2", "+5511955550002")
    net.send("acc_1", "ins_1", jid("+5511900006001"), "A", TEXT)
    assert net.check_numbers("acc_1", "ins_2", ["+5511900006001"])[0]["lid"] is None


def test_echo_contacts_send_our_message_back_as_from_me(net: SandboxNetwork, clock: FakeClock) -> None:
    contact = "+5511900008001"
    sent_ms = clock.wall_ms
    net.send("acc_1", "ins_1", jid(contact), "A", {"type": "text", "body": "Your code: 123456"})

    [echo] = drain(net, "ins_1")

    assert echo == {
        "event_id": echo["event_id"],
        "account_id": "acc_1",
        "instance_id": "ins_1",
        "kind": "inbound",
        "wa_message_id": "A",
        "chat_jid": jid(contact),
        "from_me": True,
        "sender": {"jid": jid(OWN), "phone": OWN, "lid": lid_for(OWN), "push_name": "Sandbox 0001"},
        "type": "text",
        "content": {"body": "Your code: 123456"},
        "at": sent_ms,
    }
    clock.advance(60)
    assert kinds(drain(net, "ins_1")) == [("receipt", "delivered"), ("receipt", "read")]
    assert net.send("acc_1", "ins_1", jid(contact), "A", TEXT)["duplicate"] is True
    assert drain(net, "ins_1") == []  # a duplicate is not echoed again
