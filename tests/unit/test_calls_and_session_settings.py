"""Calls and the session's own settings on both engines, offline: whatsmeow against fake runs (goneonize's call
events as it encodes them), the sandbox network's simulated calls, and the sandbox engine rejecting by setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_whatsmeow_engine import INSTANCE, PEER, FakeClient, FakeRun, Harness

from bzapper.adapters.memory.engine import MemoryEngine
from bzapper.domain.engine import NotConnected, SessionSpec
from bzapper.domain.reports import group_and_dedupe
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.engines.whatsmeow import jids, lib, mapping
from bzapper.engines.whatsmeow.lib import neonize_pb2 as pb
from bzapper_dev.sandbox.network import Rejected, SandboxNetwork

CALLER_LID = "333333333333333@lid"


class CallClient(FakeClient):
    def __init__(self, run: FakeRun) -> None:
        super().__init__(run)
        self.rejected: list[tuple[str, str]] = []
        self.presences: list[Any] = []

    def reject_call(self, call_from: pb.JID, call_id: str) -> None:
        self._call()
        self.rejected.append((jids.to_str(call_from), call_id))

    def send_presence(self, presence: Any) -> None:
        self._call()
        self.presences.append(presence)


class ProxyRun(FakeRun):
    def __init__(self, *args: Any, engine: Any, proxy: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, engine=engine, **kwargs)
        self.client = CallClient(self)
        self.proxy = proxy


class SettingsHarness(Harness):
    def __init__(self, tmp_path: Path, settings: dict[str, Any] | None = None, **options: Any) -> None:
        super().__init__(tmp_path, **options)
        self.settings = settings

        def factory(*args: Any, **kwargs: Any) -> ProxyRun:
            run = ProxyRun(*args, engine=self.engine, **kwargs)
            self.runs.append(run)
            return run

        self.engine._run_factory = factory

    def open(self) -> None:
        spec = SessionSpec(instance_id=INSTANCE, account_id="acc_1", livemode=True, settings=self.settings)
        self.engine.open(spec, self.events.append)

    @property
    def client(self) -> CallClient:
        client = self.run.client
        assert isinstance(client, CallClient)
        return client


def offer(call_id: str = "CALLID1", video: bool = False) -> pb.CallOffer:
    meta = pb.BasicCallMeta(
        callCreator=jids.to_proto(PEER),
        callCreatorAlt=jids.to_proto(CALLER_LID),
        callID=call_id,
        timestamp=1_700_000_003,
    )
    offer_node = pb.Node(Tag="offer", Nodes=[pb.Node(Tag="audio"), *([pb.Node(Tag="video")] if video else [])])
    return pb.CallOffer(basicCallMeta=meta, data=offer_node)


def terminate(call_id: str = "CALLID1", reason: str = "timeout") -> pb.CallTerminate:
    meta = pb.BasicCallMeta(callCreator=jids.to_proto(PEER), callID=call_id, timestamp=1_700_000_009)
    return pb.CallTerminate(basicCallMeta=meta, reason=reason)


# -- whatsmeow: mapping ---------------------------------------------------------------------------------


def test_goneonize_sends_the_call_events_it_is_subscribed_to() -> None:
    assert {lib.CALL_OFFER, lib.CALL_TERMINATE} <= set(lib.SUBSCRIBED)
    assert lib.INT_TO_EVENT[lib.CALL_OFFER] is pb.CallOffer
    assert lib.INT_TO_EVENT[lib.CALL_TERMINATE] is pb.CallTerminate


def test_an_offer_maps_to_a_call_event_with_both_identities_of_the_caller() -> None:
    assert mapping.call_offer(INSTANCE, offer(video=True), 5) == {
        "kind": "call",
        "instance_id": INSTANCE,
        "call_id": "CALLID1",
        "phase": "offer",
        "from": {"jid": PEER, "phone": "+5511988887777", "lid": CALLER_LID},
        "is_video": True,
        "at": 1_700_000_003_000,
    }
    assert mapping.call_offer(INSTANCE, offer(), 5)["is_video"] is False


def test_an_end_maps_whatsmeows_reason_and_gives_no_duration_it_does_not_know() -> None:
    ended = mapping.call_ended(INSTANCE, terminate(reason="timeout"), 5)
    assert ended["phase"] == "ended" and ended["reason"] == "missed" and "duration_s" not in ended
    assert mapping.call_ended(INSTANCE, terminate(reason=""), 5)["reason"] == "hangup"
    assert mapping.call_ended(INSTANCE, terminate(reason="weird"), 5)["reason"] == "weird"
    lid_only = pb.CallTerminate(basicCallMeta=pb.BasicCallMeta(callCreator=jids.to_proto(CALLER_LID), callID="X"))
    assert mapping.call_ended(INSTANCE, lid_only, 5)["from"] == {"jid": CALLER_LID, "lid": CALLER_LID}


# -- whatsmeow: the engine ------------------------------------------------------------------------------


def test_a_call_is_reported_and_not_rejected_by_default(tmp_path: Path) -> None:
    h = SettingsHarness(tmp_path)
    h.connect()
    h.event(lib.CALL_OFFER, offer())
    h.event(lib.CALL_TERMINATE, terminate())
    assert [(e["phase"], e.get("rejected")) for e in h.events] == [("offer", None), ("ended", None)]
    assert h.client.rejected == []


def test_reject_calls_rejects_in_the_engine_before_reporting(tmp_path: Path) -> None:
    h = SettingsHarness(tmp_path, settings={"reject_calls": True})
    h.connect()
    h.event(lib.CALL_OFFER, offer())
    assert h.client.rejected == [(PEER, "CALLID1")]  # the creator exactly as delivered
    [reported] = h.events
    assert reported["rejected"] is True
    assert h.violations() == []


def test_a_setting_change_reaches_the_open_session(tmp_path: Path) -> None:
    h = SettingsHarness(tmp_path)
    h.connect()
    h.engine.apply_settings(INSTANCE, {"reject_calls": True, "always_online": True})
    assert h.client.presences == [lib.Presence.AVAILABLE]
    h.event(lib.CALL_OFFER, offer())
    assert h.client.rejected == [(PEER, "CALLID1")]
    h.engine.apply_settings(INSTANCE, {"always_online": False})
    assert h.client.presences == [lib.Presence.AVAILABLE, lib.Presence.UNAVAILABLE]
    assert len(h.runs) == 1  # no reconnect for these
    with pytest.raises(NotConnected):
        h.engine.apply_settings("inst_other", {})


def test_always_online_is_sent_when_the_session_connects(tmp_path: Path) -> None:
    h = SettingsHarness(tmp_path, settings={"always_online": True})
    h.connect()
    assert h.client.presences == [lib.Presence.AVAILABLE]


def test_the_proxy_is_dialled_with_its_unsealed_password_and_a_change_reconnects(tmp_path: Path) -> None:
    settings = {"proxy_url": "socks5://shop@proxy.example.com:1080", "proxy_secret": "sealed"}
    h = SettingsHarness(tmp_path, settings=settings, unseal=lambda sealed: "p@ss" if sealed == "sealed" else "?")
    h.connect()
    assert h.run.proxy == "socks5://shop:p%40ss@proxy.example.com:1080"

    h.engine.apply_settings(INSTANCE, {"proxy_url": None})
    assert len(h.runs) == 2 and h.runs[0].stopped and h.run.started
    assert h.run.proxy is None
    h.engine.apply_settings(INSTANCE, {"proxy_url": "http://proxy.example.com:3128"})
    assert len(h.runs) == 3 and h.run.proxy == "http://proxy.example.com:3128"
    assert h.violations() == []


def test_a_proxy_that_cannot_be_unsealed_fails_the_session_rather_than_connect_around_it(tmp_path: Path) -> None:
    def unseal(sealed: str) -> str:
        raise ValueError("sealed by another key")

    settings = {"proxy_url": "socks5://shop@proxy.example.com:1080", "proxy_secret": "sealed"}
    h = SettingsHarness(tmp_path, settings=settings, unseal=unseal)
    h.open()
    assert h.runs == []
    assert h.states() == [("failed", "proxy_unavailable")]


# -- the sandbox network and engine -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def network() -> SandboxNetwork:
    return SandboxNetwork(clock=Clock(), now_ms=lambda: 1_700_000_000_000)


def paired(network: SandboxNetwork, instance_id: str = "inst_1") -> None:
    network.connect("acc_1", instance_id)
    network.scan("acc_1", instance_id, "+5511955550001")


def drain(network: SandboxNetwork, instance_id: str = "inst_1") -> list[dict[str, Any]]:
    events = network.poll([instance_id])
    network.ack([event["event_id"] for event in events])
    return [event for event in events if event["kind"] != "state"]


def test_a_simulated_call_rings_until_rejected_and_the_caller_sees_it(network: SandboxNetwork) -> None:
    paired(network)
    record = network.call("acc_1", "inst_1", "+5511988887777", video=True)
    [ringing] = drain(network)
    assert ringing["kind"] == "call" and ringing["phase"] == "offer" and ringing["is_video"] is True
    assert ringing["call_id"] == record["call_id"]
    assert ringing["from"]["phone"] == "+5511988887777"

    network.reject_call("acc_1", "inst_1", record["call_id"], ringing["from"]["jid"])
    network.reject_call("acc_1", "inst_1", record["call_id"], ringing["from"]["jid"])  # again: nothing new
    [ended] = drain(network)
    assert (ended["phase"], ended["reason"], ended["duration_s"]) == ("ended", "rejected", 0)
    assert [c["state"] for c in network.calls("acc_1", "inst_1")] == ["rejected"]

    with pytest.raises(Rejected):
        network.reject_call("acc_1", "inst_1", "NOPE", ringing["from"]["jid"])
    with pytest.raises(Rejected):
        network.call("acc_1", "inst_1", "+5511900000123")  # not on WhatsApp


def test_a_caller_who_hangs_up_ends_the_call(network: SandboxNetwork) -> None:
    paired(network)
    record = network.call("acc_1", "inst_1", "+5511988887777")
    network.end_call("acc_1", "inst_1", record["call_id"])
    assert [(e["phase"], e.get("reason")) for e in drain(network)] == [("offer", None), ("ended", "hangup")]


def test_an_unpaired_instance_cannot_be_called(network: SandboxNetwork) -> None:
    with pytest.raises(NotConnected):
        network.call("acc_1", "inst_1", "+5511988887777")


class InProcessClient:
    """The sandbox engine's HTTP client, answered by the network in this process."""

    def __init__(self, network: SandboxNetwork) -> None:
        self.network = network

    def __getattr__(self, name: str) -> Any:
        return getattr(self.network, name)

    def poll(self, instance_ids: list[str], **kwargs: Any) -> list[dict[str, Any]]:
        kwargs.pop("wait_seconds", None)
        return self.network.poll(instance_ids, **kwargs)


def test_the_sandbox_engine_rejects_by_setting_and_records_the_settings(network: SandboxNetwork) -> None:
    engine = SandboxEngine("http://unused", client=InProcessClient(network))  # type: ignore[arg-type]
    events: list[dict[str, Any]] = []
    spec = SessionSpec("inst_1", "acc_1", False, settings={"reject_calls": True, "proxy_secret": "sealed"})
    engine.open(spec, events.append)
    network.scan("acc_1", "inst_1", "+5511955550001")
    settings = network.settings_of("acc_1", "inst_1")
    assert settings["reject_calls"] is True and settings["proxy_authenticated"] is True
    assert "sealed" not in str(settings)  # the network never sees the password, sealed or not

    network.call("acc_1", "inst_1", "+5511988887777")
    engine.pump(0)
    calls = [event for event in events if event["kind"] == "call"]
    assert [(c["phase"], c.get("rejected")) for c in calls] == [("offer", True)]
    engine.pump(0)
    assert [e.get("reason") for e in events if e["kind"] == "call"] == [None, "rejected"]
    assert network.calls("acc_1", "inst_1")[0]["state"] == "rejected"

    engine.apply_settings("inst_1", {"reject_calls": False, "always_online": True})
    assert network.settings_of("acc_1", "inst_1")["always_online"] is True
    network.call("acc_1", "inst_1", "+5511988887777")
    engine.pump(0)
    assert [e.get("rejected") for e in events if e["kind"] == "call"][-1] is None
    assert network.calls("acc_1", "inst_1")[-1]["state"] == "ringing"


def test_the_memory_engine_keeps_what_the_session_applies() -> None:
    engine = MemoryEngine()
    engine.open(SessionSpec("inst_1", "acc_1", False, settings={"always_online": True}), lambda event: None)
    assert engine.settings["inst_1"] == {"always_online": True}
    engine.apply_settings("inst_1", {"always_online": False})
    assert engine.settings["inst_1"] == {"always_online": False}
    with pytest.raises(NotConnected):
        engine.apply_settings("inst_2", {})


def test_a_call_report_keeps_the_instances_order_and_counts_once_per_phase() -> None:
    offer = {"kind": "call", "instance_id": "inst_1", "call_id": "C1", "phase": "offer"}
    ended = {**offer, "phase": "ended"}
    assert group_and_dedupe(offer) == ("inst_1", "call:inst_1:C1:offer")
    assert group_and_dedupe(ended)[0] == "inst_1" and group_and_dedupe(ended)[1] != group_and_dedupe(offer)[1]
