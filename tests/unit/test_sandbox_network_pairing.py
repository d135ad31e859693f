"""Devices of the sandbox network: QR pairing, pairing codes, connect/disconnect/logout (fake clock, no sockets)."""

from __future__ import annotations

import re

import pytest
from support.sandbox import FakeClock, drain, fake_network, kinds, online

from bzapper.domain.engine import NotConnected
from bzapper.engines.sandbox.derived import default_phone
from bzapper_dev.sandbox.network import Rejected, SandboxNetwork
from bzapper_dev.sandbox.numbers import ORDINARY, RESERVED_PREFIX, kind_of, lid_for

JID = "5511988888888@s.whatsapp.net"
TEXT = {"type": "text", "body": "Hi"}
OWN = "+5511955550001"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def net(clock: FakeClock) -> SandboxNetwork:
    return fake_network(clock, qr_interval=20, qr_refreshes=2)


def test_connecting_an_unpaired_instance_shows_a_qr(net: SandboxNetwork, clock: FakeClock) -> None:
    state = net.connect("acc_1", "ins_1")

    assert state["state"] == "pairing"
    assert state["paired"] is False
    events = drain(net, "ins_1")
    assert events == [
        {
            "event_id": events[0]["event_id"],
            "account_id": "acc_1",
            "instance_id": "ins_1",
            "kind": "state",
            "state": "pairing",
            "qr": state["qr"],
            "at": clock.wall_ms,
        }
    ]
    # Shaped like WhatsApp's: "2@ref,noise key,identity key,adv secret".
    assert re.fullmatch(r"2@[A-Za-z0-9+/=]+(,[A-Za-z0-9+/=]+){3}", state["qr"])


def test_the_qr_is_refreshed_then_pairing_gives_up(net: SandboxNetwork, clock: FakeClock) -> None:
    first = net.connect("acc_1", "ins_1")["qr"]
    drain(net, "ins_1")

    clock.advance(19.9)
    assert drain(net, "ins_1") == []
    clock.advance(0.1)
    second = drain(net, "ins_1")
    clock.advance(20)
    third = drain(net, "ins_1")
    assert kinds(second + third) == [("state", "pairing"), ("state", "pairing")]
    qrs = [first, second[0]["qr"], third[0]["qr"]]
    assert len(set(qrs)) == 3
    # Only the ref changes within one pairing round, as on WhatsApp.
    assert {qr.split(",", 1)[1] for qr in qrs} == {first.split(",", 1)[1]}

    clock.advance(20)
    gave_up = drain(net, "ins_1")
    assert [(e["state"], e.get("error")) for e in gave_up] == [("disconnected", "qr_timeout")]
    assert (net.instance("acc_1", "ins_1")["qr"], net.instance("acc_1", "ins_1")["open"]) == (None, False)
    clock.advance(600)
    assert drain(net, "ins_1") == []
    with pytest.raises(NotConnected):
        net.send("acc_1", "ins_1", JID, "A", TEXT)


def test_refresh_times_keep_their_spacing_when_applied_late(net: SandboxNetwork, clock: FakeClock) -> None:
    net.connect("acc_1", "ins_1")
    start_ms = clock.wall_ms
    drain(net, "ins_1")
    clock.advance(45)  # two refreshes are due by now: both come, at their own times
    assert [e["at"] - start_ms for e in drain(net, "ins_1")] == [20_000, 40_000]


def test_qr_strings_are_deterministic(clock: FakeClock) -> None:
    one, two = fake_network(clock), fake_network(clock)
    assert one.connect("acc_1", "ins_1")["qr"] == two.connect("acc_1", "ins_1")["qr"]
    assert one.connect("acc_1", "ins_2")["qr"] != two.connect("acc_1", "ins_1")["qr"]


def test_connecting_again_while_pairing_repeats_the_qr(net: SandboxNetwork) -> None:
    qr = net.connect("acc_1", "ins_1")["qr"]
    assert net.connect("acc_1", "ins_1")["qr"] == qr
    assert [e["qr"] for e in drain(net, "ins_1")] == [qr, qr]


def test_scanning_pairs_with_a_default_number_and_connects(net: SandboxNetwork, clock: FakeClock) -> None:
    net.connect("acc_1", "ins_1")
    drain(net, "ins_1")

    state = net.scan("acc_1", "ins_1")

    phone = default_phone("ins_1")
    assert phone.startswith("+551197") and not phone.startswith(RESERVED_PREFIX)
    assert kind_of(phone) == ORDINARY
    assert state | {"qr": None} == {
        "instance_id": "ins_1",
        "state": "connected",
        "open": True,
        "paired": True,
        "phone": phone,
        "lid": lid_for(phone),
        "push_name": f"Sandbox {phone[-4:]}",
        "error": None,
        "qr": None,
    }
    events = drain(net, "ins_1")
    assert [{k: e[k] for k in ("state", "phone", "lid", "push_name")} for e in events] == [
        {"state": "connected", "phone": phone, "lid": lid_for(phone), "push_name": f"Sandbox {phone[-4:]}"}
    ]
    clock.advance(600)
    assert drain(net, "ins_1") == []  # no more QR refreshes
    assert net.send("acc_1", "ins_1", JID, "A", TEXT)["duplicate"] is False


def test_scanning_with_a_phone_and_push_name(net: SandboxNetwork) -> None:
    net.connect("acc_1", "ins_1")
    state = net.scan("acc_1", "ins_1", "5511955550001@s.whatsapp.net", push_name="Loja")
    assert (state["phone"], state["push_name"]) == (OWN, "Loja")


def test_scanning_again_changes_nothing_but_another_phone_is_refused(net: SandboxNetwork) -> None:
    online(net, "acc_1", "ins_1", OWN)
    assert net.scan("acc_1", "ins_1")["phone"] == OWN
    assert net.scan("acc_1", "ins_1", OWN)["phone"] == OWN
    assert drain(net, "ins_1") == []
    with pytest.raises(Rejected) as refused:
        net.scan("acc_1", "ins_1", "+5511955550002")
    assert refused.value.code == "already_paired"


def test_scanning_a_number_not_on_whatsapp_is_refused(net: SandboxNetwork) -> None:
    net.connect("acc_1", "ins_1")
    with pytest.raises(Rejected) as refused:
        net.scan("acc_1", "ins_1", "+5511900000001")
    assert refused.value.code == "not_on_whatsapp"
    assert net.instance("acc_1", "ins_1")["state"] == "pairing"


def test_scanning_before_any_worker_connected_pairs_for_later(net: SandboxNetwork) -> None:
    state = net.scan("acc_1", "ins_1", OWN)
    assert (state["state"], state["open"], state["paired"]) == ("disconnected", False, True)
    assert drain(net, "ins_1") == []
    with pytest.raises(NotConnected):
        net.send("acc_1", "ins_1", JID, "A", TEXT)

    assert net.connect("acc_1", "ins_1")["state"] == "connected"
    assert [(e["state"], e["phone"]) for e in drain(net, "ins_1")] == [("connected", OWN)]


def test_pairing_code_then_confirming_it(net: SandboxNetwork) -> None:
    net.connect("acc_1", "ins_1")
    drain(net, "ins_1")

    code = net.pairing_code("acc_1", "ins_1", "+55 11 95555-0001")

    assert re.fullmatch(r"[1-9A-HJ-NP-TV-Z]{4}-[1-9A-HJ-NP-TV-Z]{4}", code)
    with pytest.raises(Rejected) as wrong:
        net.scan("acc_1", "ins_1", code="AAAA-AAAA")
    assert wrong.value.code == "invalid_pairing_code"
    with pytest.raises(Rejected):
        net.scan("acc_1", "ins_1", "+5511955550002", code=code)  # the code belongs to another phone
    assert net.instance("acc_1", "ins_1")["paired"] is False

    state = net.scan("acc_1", "ins_1", code=code.replace("-", "").lower())

    assert (state["state"], state["phone"]) == ("connected", OWN)
    assert [(e["state"], e["phone"]) for e in drain(net, "ins_1")] == [("connected", OWN)]


def test_pairing_code_is_deterministic_and_per_round(clock: FakeClock) -> None:
    one, two = fake_network(clock), fake_network(clock)
    for network in (one, two):
        network.connect("acc_1", "ins_1")
    assert one.pairing_code("acc_1", "ins_1", OWN) == two.pairing_code("acc_1", "ins_1", OWN)
    one.disconnect("acc_1", "ins_1")
    one.connect("acc_1", "ins_1")  # a new pairing round
    assert one.pairing_code("acc_1", "ins_1", OWN) != two.pairing_code("acc_1", "ins_1", OWN)


def test_pairing_code_needs_a_pairing_instance(net: SandboxNetwork) -> None:
    with pytest.raises(NotConnected) as closed:
        net.pairing_code("acc_1", "ins_1", OWN)
    assert closed.value.state == "disconnected"
    net.connect("acc_1", "ins_1")
    with pytest.raises(Rejected) as not_on_whatsapp:
        net.pairing_code("acc_1", "ins_1", "+5511900000001")
    assert not_on_whatsapp.value.code == "not_on_whatsapp"
    net.scan("acc_1", "ins_1", OWN)
    with pytest.raises(Rejected) as paired:
        net.pairing_code("acc_1", "ins_1", OWN)
    assert paired.value.code == "already_paired"


def test_a_code_dies_with_its_pairing_round(net: SandboxNetwork, clock: FakeClock) -> None:
    net.connect("acc_1", "ins_1")
    code = net.pairing_code("acc_1", "ins_1", OWN)
    clock.advance(60)  # 1 QR + 2 refreshes of 20 s: pairing gave up
    with pytest.raises(Rejected):
        net.scan("acc_1", "ins_1", code=code)


def test_disconnect_keeps_the_pairing(net: SandboxNetwork, clock: FakeClock) -> None:
    online(net, "acc_1", "ins_1", OWN)

    state = net.disconnect("acc_1", "ins_1")

    assert (state["state"], state["open"], state["paired"]) == ("disconnected", False, True)
    assert drain(net, "ins_1") == []  # nobody is listening: no event
    with pytest.raises(NotConnected):
        net.send("acc_1", "ins_1", JID, "A", TEXT)
    clock.advance(3600)
    assert net.connect("acc_1", "ins_1")["state"] == "connected"
    assert kinds(drain(net, "ins_1")) == [("state", "connected")]


def test_connecting_a_connected_instance_reports_it_again(net: SandboxNetwork) -> None:
    online(net, "acc_1", "ins_1", OWN)
    net.connect("acc_1", "ins_1")
    assert kinds(drain(net, "ins_1")) == [("state", "connected")]


def test_logout_forgets_the_pairing(net: SandboxNetwork) -> None:
    online(net, "acc_1", "ins_1", OWN)
    first_qr_round = net.instance("acc_1", "ins_1")

    state = net.logout("acc_1", "ins_1")

    assert (state["state"], state["paired"], state["phone"], state["open"]) == ("logged_out", False, None, False)
    # A state event reaches the instance even though its socket is down.
    assert kinds(drain(net, "ins_1")) == [("state", "logged_out")]
    with pytest.raises(NotConnected) as refused:
        net.send("acc_1", "ins_1", JID, "A", TEXT)
    assert refused.value.state == "logged_out"
    # Connecting again starts a new pairing, even with the phone the device once had.
    again = net.connect("acc_1", "ins_1", OWN)
    assert again["state"] == "pairing"
    assert again["qr"] != first_qr_round["qr"]


def test_a_device_that_still_holds_its_session_restores_it(net: SandboxNetwork) -> None:
    # E.g. the network restarted: the worker's spec still names the phone it was connected with.
    state = net.connect("acc_1", "ins_1", OWN)
    assert (state["state"], state["phone"]) == ("connected", OWN)
    assert [(e["state"], e["phone"]) for e in drain(net, "ins_1")] == [("connected", OWN)]


def test_restoring_never_replaces_a_known_pairing(net: SandboxNetwork) -> None:
    online(net, "acc_1", "ins_1", OWN)
    net.disconnect("acc_1", "ins_1")
    assert net.connect("acc_1", "ins_1", "+5511955550002")["phone"] == OWN


def test_a_timed_out_pairing_starts_over_on_connect(net: SandboxNetwork, clock: FakeClock) -> None:
    first = net.connect("acc_1", "ins_1")["qr"]
    clock.advance(60)
    drain(net, "ins_1")
    again = net.connect("acc_1", "ins_1")
    assert again["state"] == "pairing"
    assert again["qr"] != first


def test_pairings_are_per_account(net: SandboxNetwork) -> None:
    online(net, "acc_1", "ins_1", OWN)
    assert net.instance("acc_2", "ins_1")["paired"] is False


def test_receipts_wait_while_the_socket_is_down(net: SandboxNetwork, clock: FakeClock) -> None:
    online(net, "acc_1", "ins_1", OWN)
    net.send("acc_1", "ins_1", JID, "A", TEXT)
    net.disconnect("acc_1", "ins_1")
    clock.advance(10)
    assert drain(net, "ins_1") == []
    net.connect("acc_1", "ins_1")
    assert kinds(drain(net, "ins_1")) == [("receipt", "delivered"), ("receipt", "read"), ("state", "connected")]
