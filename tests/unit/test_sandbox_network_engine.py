"""The sandbox engine (port v2) over an in-process network: sessions, sends, events, media (no sockets)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from support.sandbox import FakeClock, InProcessClient, fake_network

from bzapper.domain.engine import NotConnected, PermanentFailure, ServerAck, SessionSpec
from bzapper.engines.sandbox.derived import default_phone, otp_code_message_id
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper_dev.sandbox.network import SandboxNetwork
from bzapper_dev.sandbox.numbers import lid_for

OWN = "+5511955550001"
PHONE = "+5511988888888"
JID = "5511988888888@s.whatsapp.net"


class Sink:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def take(self) -> list[dict[str, Any]]:
        taken, self.events = self.events, []
        return taken


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def net(clock: FakeClock) -> SandboxNetwork:
    return fake_network(clock)


def engine_for(net: SandboxNetwork, **options: Any) -> SandboxEngine:
    return SandboxEngine("http://unused", client=InProcessClient(net), visibility_timeout=5, **options)  # type: ignore[arg-type]


@pytest.fixture
def engine(net: SandboxNetwork) -> SandboxEngine:
    return engine_for(net)


def spec(instance_id: str = "ins_1", phone: str | None = None) -> SessionSpec:
    return SessionSpec(instance_id=instance_id, account_id="acc_1", livemode=False, phone=phone)


def job(wa_id: str = "3EB0A", message_type: str = "text", content: dict | None = None, to: str = JID) -> dict:
    return {
        "message_id": "msg_1",
        "account_id": "acc_1",
        "instance_id": "ins_1",
        "livemode": False,
        "type": message_type,
        "content": content if content is not None else {"body": "Hi"},
        "to_jid": to,
        "wa_message_id": wa_id,
    }


def connected(engine: SandboxEngine, net: SandboxNetwork, sink: Sink) -> None:
    engine.open(spec(phone=OWN), sink)
    engine.pump(0)
    engine.ack([event["ack"] for event in sink.take()])


def test_open_pairs_through_state_events(engine: SandboxEngine, net: SandboxNetwork, clock: FakeClock) -> None:
    sink = Sink()
    engine.open(spec(), sink)
    engine.pump(0)
    [pairing] = sink.take()
    assert pairing == {
        "kind": "state",
        "instance_id": "ins_1",
        "state": "pairing",
        "qr": net.instance("acc_1", "ins_1")["qr"],
        "at": clock.wall_ms,
        "ack": pairing["ack"],
    }

    net.scan("acc_1", "ins_1")
    engine.pump(0)

    phone = default_phone("ins_1")
    [state] = sink.take()
    assert {k: state[k] for k in ("state", "phone", "lid", "push_name")} == {
        "state": "connected",
        "phone": phone,
        "lid": lid_for(phone),
        "push_name": f"Sandbox {phone[-4:]}",
    }
    engine.ack([pairing["ack"], state["ack"]])
    clock.advance(60)
    engine.pump(0)
    assert sink.take() == []


def test_opening_an_open_session_is_a_no_op(engine: SandboxEngine, net: SandboxNetwork) -> None:
    first, second = Sink(), Sink()
    engine.open(spec(phone=OWN), first)
    engine.open(spec(phone=OWN), second)
    engine.pump(0)
    assert [e["state"] for e in first.take()] == ["connected"]
    assert second.take() == []


def test_unacked_events_come_back(engine: SandboxEngine, net: SandboxNetwork, clock: FakeClock) -> None:
    sink = Sink()
    engine.open(spec(phone=OWN), sink)
    engine.pump(0)
    [event] = sink.take()
    clock.advance(5)
    engine.pump(0)
    assert sink.take() == [event]  # same ack value: whoever reports it acks it


def test_send_and_receipts(engine: SandboxEngine, net: SandboxNetwork, clock: FakeClock) -> None:
    sink = Sink()
    connected(engine, net, sink)
    sent_ms = clock.wall_ms

    ack = engine.send("ins_1", job())

    assert ack == ServerAck(wa_message_id="3EB0A", server_timestamp_ms=sent_ms)
    assert [m["message"] for m in net.received("acc_1", PHONE)] == [{"type": "text", "body": "Hi"}]
    clock.advance(10)
    engine.pump(0)
    events = sink.take()
    assert [{k: v for k, v in e.items() if k != "ack"} for e in events] == [
        {
            "kind": "receipt",
            "instance_id": "ins_1",
            "wa_message_id": "3EB0A",
            "chat_jid": JID,
            "status": status,
            "at": sent_ms + delay,
        }
        for status, delay in (("delivered", 200), ("read", 600))
    ]
    assert all(isinstance(e["ack"], int) for e in events)


def test_send_needs_an_open_session(engine: SandboxEngine, net: SandboxNetwork) -> None:
    net.connect("acc_1", "ins_1", OWN)  # connected in the network, but not opened by this engine
    with pytest.raises(NotConnected):
        engine.send("ins_1", job())
    assert net.received("acc_1", PHONE) == []


def test_a_send_while_pairing_is_held(engine: SandboxEngine) -> None:
    engine.open(spec(), Sink())
    with pytest.raises(NotConnected) as held:
        engine.send("ins_1", job())
    assert held.value.state == "pairing"


def test_refusals_and_restrictions(engine: SandboxEngine, net: SandboxNetwork) -> None:
    connected(engine, net, Sink())
    with pytest.raises(PermanentFailure) as refused:
        engine.send("ins_1", job(to="5511900000001@s.whatsapp.net"))
    assert refused.value.code == "not_on_whatsapp"
    with pytest.raises(NotConnected) as held:
        engine.send("ins_1", job(to="5511900004001@s.whatsapp.net"))
    assert held.value.state == "restricted"


def test_a_template_job_fails_as_not_supported_and_reaches_no_one(engine: SandboxEngine, net: SandboxNetwork) -> None:
    """Refused at accept time (templates are the Cloud API's); a job that got here anyway fails, as whatsmeow's."""
    connected(engine, net, Sink())
    template = {"template": {"name": "order_update", "language": "en", "components": []}}
    with pytest.raises(PermanentFailure) as refused:
        engine.send("ins_1", job(message_type="template", content=template))
    assert refused.value.code == "not_supported"


def test_otp_goes_as_two_messages(net: SandboxNetwork) -> None:
    engine = engine_for(net, unseal=lambda sealed: sealed.removeprefix("sealed:"))
    connected(engine, net, Sink())
    content = {"body": "Your code is below.", "code_sealed": "sealed:482913"}

    ack = engine.send("ins_1", job("3EB0OTP", "otp", content))
    again = engine.send("ins_1", job("3EB0OTP", "otp", content))  # a redelivered job

    assert again == ack
    assert [(m["wa_message_id"], m["message"]) for m in net.received("acc_1", PHONE)] == [
        ("3EB0OTP", {"type": "text", "body": "Your code is below."}),
        (otp_code_message_id("3EB0OTP"), {"type": "text", "body": "482913"}),
    ]


def test_otp_without_the_unsealing_hook_never_shows_a_code(engine: SandboxEngine, net: SandboxNetwork) -> None:
    connected(engine, net, Sink())
    engine.send("ins_1", job("3EB0OTP", "otp", {"body": "Code:", "code_sealed": "v1.opaque"}))
    assert [m["message"] for m in net.received("acc_1", PHONE)][1] == {"type": "text", "code_sealed": "v1.opaque"}


def test_inbound_media_arrives_as_a_file(net: SandboxNetwork, tmp_path: Path) -> None:
    engine = engine_for(net, media_dir=str(tmp_path))
    sink = Sink()
    connected(engine, net, sink)
    data = b"OggS fake voice"
    media = {"mime_type": "audio/ogg", "data_base64": base64.b64encode(data).decode()}
    wa_id = net.inject_inbound("acc_1", "ins_1", PHONE, "audio", {"media": media, "voice": True})

    engine.pump(0)

    [event] = sink.take()
    assert event["wa_message_id"] == wa_id
    assert event["content"] == {
        "media": {"mime_type": "audio/ogg", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        "voice": True,
    }
    path = Path(event["media_path"])
    assert path.parent == tmp_path
    assert path.read_bytes() == data
    engine.ack([event["ack"]])
    assert os.path.exists(path)  # the worker deletes the file once stored, not the engine


def test_a_sink_that_fails_leaves_the_event_for_later(engine: SandboxEngine, net: SandboxNetwork, clock: FakeClock):
    calls: list[dict] = []

    def failing(event: dict) -> None:
        calls.append(event)
        raise RuntimeError("pipe closed")

    engine.open(spec(phone=OWN), failing)
    engine.pump(0)
    clock.advance(5)
    engine.pump(0)
    assert [c["ack"] for c in calls] == [calls[0]["ack"]] * 2


def test_close_keeps_events_for_the_next_open(engine: SandboxEngine, net: SandboxNetwork) -> None:
    sink = Sink()
    connected(engine, net, sink)
    engine.close("ins_1")
    net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "while away"})
    engine.pump(0)
    assert sink.take() == []
    assert net.instance("acc_1", "ins_1")["open"] is False

    engine.open(spec(phone=OWN), sink)
    engine.pump(0)
    assert [(e["kind"], e.get("state") or e.get("type")) for e in sink.take()] == [
        ("inbound", "text"),
        ("state", "connected"),
    ]


def test_logout_delivers_logged_out_then_forgets_the_session(engine: SandboxEngine, net: SandboxNetwork) -> None:
    sink = Sink()
    connected(engine, net, sink)

    engine.logout("ins_1")
    with pytest.raises(NotConnected):
        engine.send("ins_1", job())
    engine.pump(0)

    assert [e["state"] for e in sink.take()] == ["logged_out"]
    assert net.instance("acc_1", "ins_1")["paired"] is False
    net.connect("acc_1", "ins_1")  # someone else opens it: this engine no longer listens
    engine.pump(0)
    assert sink.take() == []


def test_logout_of_a_session_that_is_not_open(engine: SandboxEngine) -> None:
    with pytest.raises(NotConnected):
        engine.logout("ins_1")


def test_pairing_code_through_the_engine(engine: SandboxEngine, net: SandboxNetwork) -> None:
    sink = Sink()
    engine.open(spec(), sink)
    code = engine.pairing_code("ins_1", OWN)
    net.scan("acc_1", "ins_1", code=code)
    engine.pump(0)
    assert [(e["state"], e.get("phone")) for e in sink.take()] == [("pairing", None), ("connected", OWN)]
    with pytest.raises(PermanentFailure) as paired:
        engine.pairing_code("ins_1", OWN)
    assert paired.value.code == "already_paired"


def test_check_numbers_and_mark_read(engine: SandboxEngine, net: SandboxNetwork) -> None:
    connected(engine, net, Sink())
    assert engine.check_numbers("ins_1", [PHONE])[0]["lid"] == lid_for(PHONE)
    wa_id = net.inject_inbound("acc_1", "ins_1", PHONE, "text", {"body": "x"})
    engine.mark_read("ins_1", JID, [wa_id])
    assert net.sent_by("acc_1", PHONE)[0]["read_at"] is not None
    with pytest.raises(NotConnected):
        engine.check_numbers("ins_2", [PHONE])


def test_shutdown_closes_every_session(engine: SandboxEngine, net: SandboxNetwork) -> None:
    connected(engine, net, Sink())
    engine.shutdown()
    assert net.instance("acc_1", "ins_1")["open"] is False
    assert net.instance("acc_1", "ins_1")["paired"] is True
