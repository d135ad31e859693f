"""Number health (issue #18 part 9) on both engines, offline: the reach-out time lock (a 463 on a send fails
that message with `reach_out_restricted` and restricts the number, with `until` where known) and a linking
WhatsApp gates behind the phone's passkey (`passkey_required`, sandbox only: neonize does not report it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.sandbox import FakeClock, drain, fake_network, online
from test_calls_and_session_settings import InProcessClient, SettingsHarness
from test_whatsmeow_engine import job

from bzapper.domain.engine import NotConnected, PermanentFailure, SessionSpec
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.engines.whatsmeow.lib import NeonizeError
from bzapper_dev.sandbox.network import Rejected, SandboxNetwork
from bzapper_dev.sandbox.numbers import kind_of

OWN = "+5511955550001"
ORDINARY = "+5511988888888"
LOCKED = "+5511900004512"
PASSKEY_PHONE = "+5511900004801"
TEXT = {"type": "text", "body": "Hi"}


def jid(phone: str) -> str:
    return phone.removeprefix("+") + "@s.whatsapp.net"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def net(clock: FakeClock) -> SandboxNetwork:
    return fake_network(clock, restricted_for=60)


def test_the_number_health_hundreds() -> None:
    assert [kind_of(f"+55119000044{n}9") for n in range(10)] == ["restricts"] * 10  # 4409..4499: as before
    assert kind_of("+5511900004000") == kind_of("+5511900004499") == "restricts"
    assert kind_of("+5511900004500") == kind_of("+5511900004799") == "reach_out_lock"
    assert kind_of("+5511900004800") == kind_of("+5511900004999") == "passkey"


def test_the_reach_out_lock_fails_the_message_and_restricts_the_number_until_it_lifts(
    net: SandboxNetwork, clock: FakeClock
) -> None:
    online(net, "acc_1", "ins_1", OWN)
    online(net, "acc_1", "ins_2", OWN)  # another device of the same number

    with pytest.raises(Rejected) as refused:
        net.send("acc_1", "ins_1", jid(LOCKED), "A", TEXT)

    assert refused.value.code == "reach_out_restricted"  # final: the worker fails it (no false "sent")
    assert net.received("acc_1", LOCKED) == []
    lifts_at = clock.ms() + 60_000
    for instance_id in ("ins_1", "ins_2"):
        [event] = drain(net, instance_id)
        assert (event["state"], event["error"], event["until"]) == ("restricted", "reach_out_restricted", lifts_at)
    # Nothing else goes out meanwhile: other queued messages are held (NotConnected), not failed.
    with pytest.raises(NotConnected):
        net.send("acc_1", "ins_1", jid(ORDINARY), "B", TEXT)
    # A reconnection during the lock says the same, until included.
    net.disconnect("acc_1", "ins_2")
    net.connect("acc_1", "ins_2")
    [again] = drain(net, "ins_2")
    assert (again["state"], again["error"], again["until"]) == ("restricted", "reach_out_restricted", lifts_at)

    clock.advance(60)
    assert [(e["state"], e.get("error"), e.get("until")) for e in drain(net, "ins_1")] == [("connected", None, None)]
    assert net.send("acc_1", "ins_1", jid(ORDINARY), "B", TEXT)["duplicate"] is False


def test_the_plain_restriction_keeps_its_code_and_names_no_until(net: SandboxNetwork) -> None:
    online(net, "acc_1", "ins_1", OWN)
    with pytest.raises(NotConnected):
        net.send("acc_1", "ins_1", jid("+5511900004001"), "A", TEXT)
    [event] = drain(net, "ins_1")
    assert (event["error"], "until" in event) == ("account_restricted", False)


def test_a_passkey_gated_linking_waits_for_the_phone_then_pairs(net: SandboxNetwork) -> None:
    net.connect("acc_1", "ins_1")
    drain(net, "ins_1")

    state = net.scan("acc_1", "ins_1", PASSKEY_PHONE)

    assert (state["state"], state["paired"], state["qr"]) == ("passkey_required", False, None)
    [event] = drain(net, "ins_1")
    assert (event["state"], event["error"]) == ("passkey_required", "passkey_required")
    # The user confirms with the passkey on the phone: a second scan (without naming the phone, too).
    state = net.scan("acc_1", "ins_1")
    assert (state["state"], state["phone"]) == ("connected", PASSKEY_PHONE)
    assert [e["state"] for e in drain(net, "ins_1")] == ["connected"]


def test_a_passkey_gated_pairing_code_needs_the_confirmation_too(net: SandboxNetwork) -> None:
    net.connect("acc_1", "ins_1")
    code = net.pairing_code("acc_1", "ins_1", PASSKEY_PHONE)
    assert net.scan("acc_1", "ins_1", code=code)["state"] == "passkey_required"
    assert net.scan("acc_1", "ins_1", code=code)["state"] == "connected"


def test_the_sandbox_engine_fails_a_locked_send_for_good(net: SandboxNetwork) -> None:
    events: list[dict[str, Any]] = []
    engine = SandboxEngine("http://unused", client=InProcessClient(net))  # type: ignore[arg-type]
    engine.open(SessionSpec("ins_1", "acc_1", False), events.append)
    net.scan("acc_1", "ins_1", OWN)
    sent = {"account_id": "acc_1", "instance_id": "ins_1", "to_jid": jid(LOCKED), "wa_message_id": "W1"}

    # The HTTP client raises SandboxNetworkError for a 422: the in-process one raises Rejected, mapped alike.
    from bzapper.engines.sandbox import engine as sandbox_engine

    def send(*args: Any) -> Any:
        try:
            return net.send(*args)
        except Rejected as rejected:
            raise sandbox_engine.SandboxNetworkError(
                rejected.code, status_code=422, body={"error": {"code": rejected.code}}
            ) from None

    engine.client.send = send  # type: ignore[method-assign]
    with pytest.raises(PermanentFailure) as failed:
        engine.send("ins_1", {**sent, "type": "text", "content": {"body": "hi"}})
    assert failed.value.code == "reach_out_restricted"
    engine.pump(0)
    assert [(e["state"], e.get("error")) for e in events if e["kind"] == "state"][-1] == (
        "restricted",
        "reach_out_restricted",
    )


# -- whatsmeow ------------------------------------------------------------------------------------------------


def test_whatsmeow_maps_a_463_to_a_failed_message_and_a_restricted_number(tmp_path: Path) -> None:
    h = SettingsHarness(tmp_path)
    h.connect()
    h.client.fail_send = NeonizeError("server returned error 463")

    for _ in range(2):
        with pytest.raises(PermanentFailure) as failed:
            h.engine.send("inst_01", job("text", {"body": "hello stranger"}))
        assert failed.value.code == "reach_out_restricted"
    assert h.states() == [("restricted", "reach_out_restricted")]  # once, without an `until` it was not told
    assert "until" not in h.events[0]

    h.client.fail_send = None
    h.engine.send("inst_01", job("text", {"body": "to an old chat"}))
    assert h.states()[-1] == ("connected", None)
