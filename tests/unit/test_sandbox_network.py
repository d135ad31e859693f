"""The sandbox WhatsApp network as a pure model: its queue, acks and dedupe (a fake clock; no sockets).

Every instance here is first brought online (connected and paired): the network delivers a sender's
messages, and that instance's receipts, only while its socket is up.
"""

from __future__ import annotations

import threading
import time

import pytest
from support.sandbox import FakeClock, fake_network, online

from bzapper.domain.engine import NotConnected
from bzapper_dev.sandbox.network import Rejected, SandboxNetwork, contact_key
from bzapper_dev.sandbox.numbers import lid_for

JID = "5511988888888@s.whatsapp.net"
PHONE = "+5511988888888"
TEXT = {"type": "text", "body": "Hi"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def net(clock: FakeClock) -> SandboxNetwork:
    network = fake_network(clock)
    for account_id, instance_id in (("acc_1", "ins_1"), ("acc_1", "ins_2"), ("acc_2", "ins_1"), ("acc_2", "ins_2")):
        online(network, account_id, instance_id)
    return network


def statuses(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["wa_message_id"], e["status"]) for e in events]


@pytest.mark.parametrize(
    ("given", "key"),
    [
        (JID, PHONE),
        ("5511988888888:7@s.whatsapp.net", PHONE),
        ("5511988888888@c.us", PHONE),
        ("5511988888888", PHONE),
        (PHONE, PHONE),
        ("+55 11 98888-8888", PHONE),
        ("123456789012345@lid", "123456789012345@lid"),
    ],
)
def test_contact_key(given: str, key: str) -> None:
    assert contact_key(given) == key


def test_contact_key_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        contact_key("not a phone")


def test_send_acks_and_the_contact_receives(net: SandboxNetwork, clock: FakeClock) -> None:
    ack = net.send("acc_1", "ins_1", JID, "3EB0A", TEXT)

    assert ack == {"wa_message_id": "3EB0A", "server_timestamp_ms": clock.wall_ms, "duplicate": False}
    for who in (PHONE, "5511988888888", JID):
        assert net.received("acc_1", who) == [
            {
                "wa_message_id": "3EB0A",
                "instance_id": "ins_1",
                "from_instance": "ins_1",
                "to_jid": JID,
                "message": TEXT,
                "received_at": clock.wall_ms,
            }
        ]


def test_a_lid_names_the_same_contact_as_its_phone(net: SandboxNetwork) -> None:
    net.send("acc_1", "ins_1", lid_for(PHONE), "3EB0A", TEXT)
    net.send("acc_1", "ins_1", JID, "3EB0B", TEXT)
    for who in (PHONE, lid_for(PHONE)):
        assert [m["wa_message_id"] for m in net.received("acc_1", who)] == ["3EB0A", "3EB0B"]
    # The same wa id to the LID and then to the phone is one message to one device.
    assert net.send("acc_1", "ins_1", JID, "3EB0A", TEXT)["duplicate"] is True


def test_an_unknown_lid_is_not_on_whatsapp(net: SandboxNetwork) -> None:
    with pytest.raises(Rejected) as rejected:
        net.send("acc_1", "ins_1", "987654321@lid", "3EB0A", TEXT)
    assert rejected.value.code == "not_on_whatsapp"


def test_an_instance_that_is_not_online_cannot_send(net: SandboxNetwork) -> None:
    with pytest.raises(NotConnected) as never_connected:
        net.send("acc_1", "ins_9", JID, "3EB0A", TEXT)
    assert never_connected.value.state == "disconnected"
    net.disconnect("acc_1", "ins_1")
    with pytest.raises(NotConnected):
        net.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    assert net.received("acc_1", PHONE) == []


def test_repeated_wa_id_is_dropped_by_the_recipient_but_acked_again(net: SandboxNetwork, clock: FakeClock) -> None:
    first = net.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    clock.advance(3)
    again = net.send("acc_1", "ins_1", JID, "3EB0A", {"type": "text", "body": "changed"})

    assert again == {**first, "duplicate": True}
    assert [m["message"] for m in net.received("acc_1", PHONE)] == [TEXT]
    # No second pair of receipts either.
    clock.advance(10)
    assert statuses(net.poll(["ins_1"])) == [("3EB0A", "delivered"), ("3EB0A", "read")]


def test_same_wa_id_from_another_sender_is_not_a_duplicate(net: SandboxNetwork) -> None:
    net.send("acc_1", "ins_1", JID, "3EB0A", TEXT)
    assert net.send("acc_1", "ins_2", JID, "3EB0A", TEXT)["duplicate"] is False
    assert len(net.received("acc_1", PHONE)) == 2


def test_stored_message_is_a_copy(net: SandboxNetwork) -> None:
    message = {"type": "text", "body": "Hi"}
    net.send("acc_1", "ins_1", JID, "3EB0A", message)
    message["body"] = "mutated"
    net.received("acc_1", PHONE)[0]["message"]["body"] = "mutated too"
    assert net.received("acc_1", PHONE)[0]["message"] == TEXT


def test_receipts_come_due_in_order(clock: FakeClock) -> None:
    net = fake_network(clock, delivered_after=1, read_after=3)
    online(net, "acc_1", "ins_1")
    sent_ms = clock.wall_ms
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    clock.advance(1.5)
    net.send("acc_1", "ins_1", JID, "B", TEXT)
    clock.advance(10)

    events = net.poll(["ins_1"])

    assert statuses(events) == [("A", "delivered"), ("B", "delivered"), ("A", "read"), ("B", "read")]
    assert [e["at"] for e in events] == [
        sent_ms + 1000,
        sent_ms + 2500,
        sent_ms + 3000,
        sent_ms + 4500,
    ]
    assert events[0] == {
        "event_id": events[0]["event_id"],
        "instance_id": "ins_1",
        "account_id": "acc_1",
        "kind": "receipt",
        "status": "delivered",
        "wa_message_id": "A",
        "chat_jid": JID,
        "at": sent_ms + 1000,
    }
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == 4
    assert all(isinstance(i, int) for i in ids)


def test_receipts_appear_only_once_due(clock: FakeClock) -> None:
    net = fake_network(clock, delivered_after=1, read_after=3)
    online(net, "acc_1", "ins_1")
    net.send("acc_1", "ins_1", JID, "A", TEXT)

    assert net.poll(["ins_1"]) == []
    clock.advance(0.5)
    assert net.poll(["ins_1"]) == []
    clock.advance(0.5)
    delivered = net.poll(["ins_1"])
    assert statuses(delivered) == [("A", "delivered")]
    assert net.ack([e["event_id"] for e in delivered]) == 1
    clock.advance(1)
    assert net.poll(["ins_1"]) == []
    clock.advance(1)
    assert statuses(net.poll(["ins_1"])) == [("A", "read")]


def test_time_scale_multiplies_the_delays(clock: FakeClock) -> None:
    net = fake_network(clock, delivered_after=2, read_after=6, time_scale=0.25)
    online(net, "acc_1", "ins_1")
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    clock.advance(0.5)
    assert statuses(net.poll(["ins_1"])) == [("A", "delivered")]
    clock.advance(1)
    assert statuses(net.poll(["ins_1"])) == [("A", "read")]


def test_event_ids_increase_globally(net: SandboxNetwork, clock: FakeClock) -> None:
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    net.send("acc_2", "ins_2", JID, "B", TEXT)
    clock.advance(10)
    ids = [e["event_id"] for e in net.poll(["ins_1", "ins_2"])]
    assert sorted(ids) == list(range(ids[0], ids[0] + 4))


def test_unacked_events_reappear_after_the_visibility_timeout(net: SandboxNetwork, clock: FakeClock) -> None:
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    clock.advance(10)
    first = net.poll(["ins_1"], visibility_timeout=5)
    assert len(first) == 2

    assert net.poll(["ins_1"]) == []  # in flight with the (now crashed) worker
    clock.advance(4.9)
    assert net.poll(["ins_1"]) == []
    clock.advance(0.2)
    again = net.poll(["ins_1"], visibility_timeout=5)
    assert again == first  # same ids, same content: whoever picks up can ack them


def test_ack_removes_for_good_and_ignores_unknown_ids(net: SandboxNetwork, clock: FakeClock) -> None:
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    clock.advance(10)
    ids = [e["event_id"] for e in net.poll(["ins_1"], visibility_timeout=1)]

    assert net.ack([*ids, 999_999]) == 2
    assert net.ack(ids) == 0
    clock.advance(60)
    assert net.poll(["ins_1"]) == []


def test_ack_before_poll_of_a_reappeared_event(net: SandboxNetwork, clock: FakeClock) -> None:
    # A slow worker acks after its visibility timeout: the event still goes, and does not come back.
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    clock.advance(10)
    events = net.poll(["ins_1"], max_events=1, visibility_timeout=1)
    clock.advance(2)
    assert net.ack([events[0]["event_id"]]) == 1
    assert statuses(net.poll(["ins_1"])) == [("A", "read")]


def test_max_events_takes_the_oldest(net: SandboxNetwork, clock: FakeClock) -> None:
    for wa_id in ("A", "B", "C"):
        net.send("acc_1", "ins_1", JID, wa_id, TEXT)
        clock.advance(0.01)
    clock.advance(10)
    assert statuses(net.poll(["ins_1"], max_events=2)) == [("A", "delivered"), ("B", "delivered")]
    assert statuses(net.poll(["ins_1"], max_events=2)) == [("C", "delivered"), ("A", "read")]
    assert net.poll(["ins_1"], max_events=0) == []


def test_poll_returns_only_the_given_instances(net: SandboxNetwork, clock: FakeClock) -> None:
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    net.send("acc_1", "ins_2", JID, "B", TEXT)
    clock.advance(10)
    assert {e["wa_message_id"] for e in net.poll(["ins_2"])} == {"B"}
    assert net.poll([]) == []
    assert {e["wa_message_id"] for e in net.poll(["ins_1", "ins_2"])} == {"A"}


def test_events_of_a_dead_workers_instances_wait_for_the_next_poll(net: SandboxNetwork, clock: FakeClock) -> None:
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    clock.advance(24 * 3600)
    assert statuses(net.poll(["ins_1"])) == [("A", "delivered"), ("A", "read")]


def test_accounts_are_separate_worlds(net: SandboxNetwork, clock: FakeClock) -> None:
    net.send("acc_1", "ins_1", JID, "A", {"type": "text", "body": "from 1"})
    net.send("acc_2", "ins_1", JID, "A", {"type": "text", "body": "from 2"})  # not a duplicate

    assert [m["message"]["body"] for m in net.received("acc_1", PHONE)] == ["from 1"]
    assert [m["message"]["body"] for m in net.received("acc_2", PHONE)] == ["from 2"]
    assert net.received("acc_3", PHONE) == []
    clock.advance(10)
    assert sorted(e["account_id"] for e in net.poll(["ins_1"])) == ["acc_1", "acc_1", "acc_2", "acc_2"]


def test_reset_forgets_everything_but_event_ids_keep_increasing(net: SandboxNetwork, clock: FakeClock) -> None:
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    clock.advance(10)
    old_ids = [e["event_id"] for e in net.poll(["ins_1"], visibility_timeout=0)]

    net.reset()

    assert net.received("acc_1", PHONE) == []
    assert net.poll(["ins_1"]) == []
    assert net.instance("acc_1", "ins_1")["paired"] is False
    online(net, "acc_1", "ins_1")
    assert net.send("acc_1", "ins_1", JID, "A", TEXT)["duplicate"] is False
    clock.advance(10)
    assert net.ack(old_ids) == 0  # a stale ack does not hit the new events
    assert min(e["event_id"] for e in net.poll(["ins_1"])) > max(old_ids)


def test_long_poll_returns_when_a_receipt_comes_due(net: SandboxNetwork, clock: FakeClock) -> None:
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    result: list[list[dict]] = []
    started = time.monotonic()
    waiter = threading.Thread(target=lambda: result.append(net.poll(["ins_1"], wait_seconds=20)))
    waiter.start()
    time.sleep(0.1)
    assert waiter.is_alive()  # nothing due yet: it waits

    clock.advance(0.2)
    waiter.join(15)

    assert not waiter.is_alive()
    assert time.monotonic() - started < 10  # woken by the due receipt, long before its 20 s wait ends
    assert statuses(result[0]) == [("A", "delivered")]


def test_long_poll_wakes_on_send(clock: FakeClock) -> None:
    net = fake_network(clock, delivered_after=0, read_after=100)
    online(net, "acc_1", "ins_1")
    result: list[list[dict]] = []
    waiter = threading.Thread(target=lambda: result.append(net.poll(["ins_1"], wait_seconds=20)))
    waiter.start()
    time.sleep(0.05)

    started = time.monotonic()
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    waiter.join(15)

    assert not waiter.is_alive()
    assert time.monotonic() - started < 10  # woken by the send, long before its 20 s wait ends
    assert statuses(result[0]) == [("A", "delivered")]


def test_long_poll_ends_empty_when_the_wait_ends(net: SandboxNetwork) -> None:
    started = time.monotonic()
    assert net.poll(["ins_1"], wait_seconds=0.2) == []
    assert 0.19 <= time.monotonic() - started < 10  # the wait's end, however slow the machine


def test_concurrent_sends_lose_nothing(net: SandboxNetwork, clock: FakeClock) -> None:
    for n in range(8):
        online(net, "acc_1", f"ins_{n}")

    def sender(n: int) -> None:
        for i in range(50):
            net.send("acc_1", f"ins_{n}", JID, f"{n}-{i}", TEXT)
            net.send("acc_1", f"ins_{n}", JID, f"{n}-{i}", TEXT)  # a retry, dropped

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(net.received("acc_1", PHONE)) == 400
    clock.advance(10)
    assert len(net.poll([f"ins_{n}" for n in range(8)], max_events=10_000)) == 800
