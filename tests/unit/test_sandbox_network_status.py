"""Status posts on the sandbox network: a post reaches the contacts that exchanged a one-to-one message with the
instance (or its audience), each viewer's phone lists it in status@broadcast, viewers online send receipts naming
themselves, and a repeated wa id posts nothing again (no sockets)."""

from __future__ import annotations

import pytest
from support.sandbox import FakeClock, drain, fake_network, online

from bzapper_dev.sandbox.network import SandboxNetwork
from bzapper_dev.sandbox.numbers import lid_for

OWN = "+5511955550001"
WROTE_TO = "+5511988880001"  # the instance wrote to them
WROTE_US = "+5511988880002"  # they wrote to the instance
STRANGER = "+5511988880003"  # never exchanged a message with the instance
IN_GROUP = "+5511988880004"  # only met in a group
OFFLINE = "+5511900001001"  # the offline range: receives, never sends receipts
GROUP = "120363025246125888@g.us"
STATUS = "status@broadcast"
POST = {"type": "status", "kind": "text", "body": "Open Sunday", "background_color": "#25D366"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def net(clock: FakeClock) -> SandboxNetwork:
    network = fake_network(clock)
    online(network, "acc_1", "ins_1", OWN)
    online(network, "acc_1", "ins_2", "+5511955550002")
    network.send("acc_1", "ins_1", "5511988880001@s.whatsapp.net", "3EB0A", {"type": "text", "body": "hi"})
    network.send("acc_1", "ins_1", "5511900001001@s.whatsapp.net", "3EB0B", {"type": "text", "body": "hi"})
    network.inject_inbound("acc_1", "ins_1", WROTE_US, "text", {"body": "oi"})
    network.inject_inbound("acc_1", "ins_1", IN_GROUP, "text", {"body": "all"}, group=GROUP)
    network.send("acc_1", "ins_2", "5511988880003@s.whatsapp.net", "3EB0C", {"type": "text", "body": "hi"})
    drain(network, "ins_1")
    return network


def statuses(net: SandboxNetwork, phone: str) -> list[dict]:
    return [item for item in net.received("acc_1", phone) if item["to_jid"] == STATUS]


def test_a_post_reaches_the_contacts_of_the_instance_only(net: SandboxNetwork, clock: FakeClock) -> None:
    ack = net.send("acc_1", "ins_1", STATUS, "3EB0S1", dict(POST))
    assert ack["duplicate"] is False
    for phone in (WROTE_TO, WROTE_US, OFFLINE):
        [item] = statuses(net, phone)
        assert (item["wa_message_id"], item["instance_id"], item["from_phone"]) == ("3EB0S1", "ins_1", OWN)
        assert item["message"] == POST and item.get("group_jid") is None
    for phone in (STRANGER, IN_GROUP):  # another instance's contact; met only in a group
        assert statuses(net, phone) == []

    clock.advance(5)
    receipts = [e for e in drain(net, "ins_1") if e["kind"] == "receipt" and e["wa_message_id"] == "3EB0S1"]
    assert {(r["participant"]["phone"], r["status"]) for r in receipts} == {
        (WROTE_TO, "delivered"),
        (WROTE_TO, "read"),
        (WROTE_US, "delivered"),
        (WROTE_US, "read"),
    }  # the offline contact got it but sends no receipt
    assert {r["chat_jid"] for r in receipts} == {STATUS}
    assert receipts[0]["participant"]["lid"] == lid_for(receipts[0]["participant"]["phone"])


def test_an_audience_restricts_the_post_and_is_not_shown(net: SandboxNetwork) -> None:
    post = {**POST, "audience": ["5511988880003@s.whatsapp.net", "5511900000001@s.whatsapp.net"]}
    net.send("acc_1", "ins_1", STATUS, "3EB0S2", post)
    [item] = statuses(net, STRANGER)
    assert "audience" not in item["message"]
    assert statuses(net, WROTE_TO) == [] and statuses(net, WROTE_US) == []


def test_a_repeated_post_is_the_same_ack_and_posts_nothing_again(net: SandboxNetwork) -> None:
    first = net.send("acc_1", "ins_1", STATUS, "3EB0S3", dict(POST))
    again = net.send("acc_1", "ins_1", STATUS, "3EB0S3", dict(POST))
    assert again == {**first, "duplicate": True}
    assert len(statuses(net, WROTE_TO)) == 1


def test_a_post_with_no_contacts_is_still_accepted(clock: FakeClock) -> None:
    net = fake_network(clock)
    online(net, "acc_1", "ins_1", OWN)
    assert net.send("acc_1", "ins_1", STATUS, "3EB0S4", dict(POST))["duplicate"] is False
