"""Presence and blocking without sockets: the service asks through the control channel, the worker's CommandHandler
calls the sandbox engine, the in-process network answers and its simulated contacts see the outcome; contacts'
presence reports become presence.updated only with settings.presence_events (docs/presence.md)."""

from __future__ import annotations

from typing import Any

import pytest
from support.memory import open_account
from support.sandbox import FakeClock, InProcessClient, drain, fake_network, online

from bzapper.domain.engine import CONTACT_METHODS, GROUP_METHODS, SessionSpec
from bzapper.domain.errors import BzError
from bzapper.domain.reports import group_and_dedupe
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.services import groups, presence
from bzapper.services.reports import apply_worker_report
from bzapper.worker.control import CommandHandler
from bzapper_dev.sandbox.network import SandboxNetwork

OWN = "+5511955550001"
ANA, BIA = "+5511988880001", "+5511988880002"
ANA_JID = "5511988880001@s.whatsapp.net"


@pytest.fixture
def world(fakes) -> dict[str, Any]:
    network: SandboxNetwork = fake_network(FakeClock())
    tenant = open_account(fakes)
    engine = SandboxEngine("http://unused", client=InProcessClient(network))  # type: ignore[arg-type]
    online(network, tenant.principal.account_id, tenant.instance_id, OWN)
    engine.open(SessionSpec(tenant.instance_id, tenant.principal.account_id, False, OWN), lambda event: None)

    def call(instance_id: str, method: str, give_up_after: float | None = None, **kwargs: Any) -> Any:
        return getattr(engine, method)(instance_id, **kwargs)

    handler = CommandHandler(
        fakes.services, open_instance=lambda *a, **k: True, close_instance=lambda *a: None, call=call
    )
    for op in (*GROUP_METHODS, *CONTACT_METHODS):
        fakes.control.respond_to(op, lambda command: handler.handle(command) and None)
    return {"network": network, "tenant": tenant, "services": fakes.services, "fakes": fakes}


def _seen(world: dict[str, Any], contact: str) -> dict[str, Any]:
    tenant = world["tenant"]
    entries = world["network"].contact_presence(tenant.principal.account_id, contact)
    return next(entry for entry in entries if entry["instance_id"] == tenant.instance_id)


def test_typing_recording_and_paused_reach_the_contact_of_the_chat(world):
    services, tenant = world["services"], world["tenant"]
    answer = presence.send_chat_presence(services, tenant.principal, tenant.instance_id, ANA, "composing")
    assert answer == {"instance_id": tenant.instance_id, "jid": ANA_JID, "state": "composing"}
    assert (_seen(world, ANA)["chat_state"], _seen(world, ANA)["chat_jid"]) == ("composing", None)
    presence.send_chat_presence(services, tenant.principal, tenant.instance_id, ANA_JID, "recording")
    assert _seen(world, ANA)["chat_state"] == "recording"
    presence.send_chat_presence(services, tenant.principal, tenant.instance_id, ANA, "paused")
    assert _seen(world, ANA)["chat_state"] == "paused"
    assert world["network"].contact_presence(tenant.principal.account_id, BIA) == []


def test_typing_in_a_group_reaches_every_other_participant_and_a_foreign_group_is_404(world):
    services, tenant = world["services"], world["tenant"]
    created = groups.create(services, tenant.principal, tenant.instance_id, "Orders", [ANA, BIA])
    jid = created["group"]["jid"]
    presence.send_chat_presence(services, tenant.principal, tenant.instance_id, jid, "composing")
    assert {(_seen(world, p)["chat_state"], _seen(world, p)["chat_jid"]) for p in (ANA, BIA)} == {("composing", jid)}
    with pytest.raises(BzError) as refused:
        presence.send_chat_presence(services, tenant.principal, tenant.instance_id, "120363000000000001@g.us", "paused")
    assert refused.value.code == "not_found"


def test_the_numbers_own_presence_is_seen_by_contacts_it_does_not_block(world):
    services, tenant = world["services"], world["tenant"]
    presence.send_presence(services, tenant.principal, tenant.instance_id, "available")
    presence.block(services, tenant.principal, tenant.instance_id, BIA, blocking=True)
    assert _seen(world, ANA)["online"] == "available"
    assert (_seen(world, BIA)["online"], _seen(world, BIA)["blocked"]) == (None, True)
    presence.send_presence(services, tenant.principal, tenant.instance_id, "unavailable")
    assert _seen(world, ANA)["online"] == "unavailable"


def test_block_is_idempotent_listed_and_a_blocked_contacts_messages_do_not_arrive(world):
    services, tenant, network = world["services"], world["tenant"], world["network"]
    account = tenant.principal.account_id
    first = presence.block(services, tenant.principal, tenant.instance_id, ANA, blocking=True)
    again = presence.block(services, tenant.principal, tenant.instance_id, ANA_JID, blocking=True)
    assert first == again == {"jid": ANA_JID, "phone": ANA, "lid": first["lid"], "blocked": True}
    assert presence.blocked(services, tenant.principal, tenant.instance_id) == [
        {"jid": ANA_JID, "phone": ANA, "lid": first["lid"]}
    ]
    assert _seen(world, ANA)["blocked"] is True
    drain(network, tenant.instance_id)
    network.inject_inbound(account, tenant.instance_id, ANA, "text", {"body": "hello?"})
    assert drain(network, tenant.instance_id) == []
    assert network.sent_by(account, ANA)[-1]["blocked"] is True
    assert network.call(account, tenant.instance_id, ANA)["state"] == "blocked"  # its call never rings
    assert drain(network, tenant.instance_id) == []
    # Typing to a blocked contact shows nothing to it.
    presence.send_chat_presence(services, tenant.principal, tenant.instance_id, ANA, "composing")
    assert _seen(world, ANA)["chat_state"] is None

    unblocked = presence.block(services, tenant.principal, tenant.instance_id, ANA, blocking=False)
    assert unblocked["blocked"] is False
    assert presence.block(services, tenant.principal, tenant.instance_id, ANA, blocking=False)["blocked"] is False
    assert presence.blocked(services, tenant.principal, tenant.instance_id) == []
    network.inject_inbound(account, tenant.instance_id, ANA, "text", {"body": "now?"})
    assert [e["content"]["body"] for e in drain(network, tenant.instance_id) if e["kind"] == "inbound"] == ["now?"]


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda s, p, i: presence.send_chat_presence(s, p, i, "not a jid", "composing"), "jid"),
        (lambda s, p, i: presence.send_chat_presence(s, p, i, "123@broadcast", "composing"), "jid"),
        (lambda s, p, i: presence.send_chat_presence(s, p, i, ANA, "available"), "state"),
        (lambda s, p, i: presence.send_presence(s, p, i, "composing"), "state"),
        (lambda s, p, i: presence.block(s, p, i, "120363000000000001@g.us", blocking=True), "jid"),
        (lambda s, p, i: presence.block(s, p, i, "+55\x00119", blocking=True), "jid"),
    ],
)
def test_bad_input_is_a_422_on_its_field(world, call, param):
    with pytest.raises(BzError) as refused:
        call(world["services"], world["tenant"].principal, world["tenant"].instance_id)
    assert (refused.value.code, refused.value.param) == ("validation_failed", param)


def test_a_group_cannot_be_blocked_says_why(world):
    with pytest.raises(BzError) as refused:
        presence.block(
            world["services"], world["tenant"].principal, world["tenant"].instance_id, "1203630@g.us", blocking=True
        )
    assert refused.value.message_key == "error.block_group"


def test_a_disconnected_number_is_not_connected_and_a_cloud_number_is_422_not_supported(fakes):
    offline = open_account(fakes, status="disconnected")
    with pytest.raises(BzError) as refused:
        presence.send_presence(fakes.services, offline.principal, offline.instance_id, "available")
    assert refused.value.code == "not_connected"
    cloud = fakes.instances.create(
        offline.principal.account_id, livemode=False, engine="cloud", name="Cloud", status="connected"
    )
    for call in (
        lambda: presence.send_chat_presence(fakes.services, offline.principal, cloud.instance_id, ANA, "composing"),
        lambda: presence.blocked(fakes.services, offline.principal, cloud.instance_id),
    ):
        with pytest.raises(BzError) as refused:
            call()
        assert (refused.value.code, refused.value.status, refused.value.params["engine"]) == (
            "not_supported",
            422,
            "cloud",
        )


def test_another_accounts_instance_is_404(world, fakes):
    other = open_account(fakes, name="Other")
    with pytest.raises(BzError) as refused:
        presence.block(world["services"], other.principal, world["tenant"].instance_id, ANA, blocking=True)
    assert refused.value.code == "not_found"


def test_an_engine_that_cannot_answers_422_not_supported(world):
    fakes = world["fakes"]
    fakes.control.respond_to("get_blocklist", lambda command: {"error": "not_supported"})
    with pytest.raises(BzError) as refused:
        presence.blocked(world["services"], world["tenant"].principal, world["tenant"].instance_id)
    assert (refused.value.code, refused.value.status, refused.value.message_key) == (
        "not_supported",
        422,
        "error.engine_cannot_yet",
    )


# -- contacts' presence reports ----------------------------------------------------------------------------


def _report(instance_id: str, **extra: Any) -> dict[str, Any]:
    report = {
        "kind": "presence",
        "instance_id": instance_id,
        "from": {"jid": ANA_JID, "phone": ANA, "lid": None},
        "state": "composing",
        "at": 1_790_000_000_000,
    }
    return report | extra


def test_a_presence_report_is_an_event_only_with_presence_events_on(world):
    fakes, tenant = world["fakes"], world["tenant"]
    apply_worker_report(fakes.services, _report(tenant.instance_id))
    assert fakes.services.events.of_type("presence.updated") == []
    fakes.instances.set_settings(tenant.instance_id, {"presence_events": True})
    apply_worker_report(fakes.services, _report(tenant.instance_id))
    apply_worker_report(fakes.services, _report(tenant.instance_id))  # redelivered: the same event id
    events = fakes.services.events.of_type("presence.updated")
    assert len({event["id"] for event in events}) == 1
    assert events[0]["data"] == {
        "jid": ANA_JID,
        "phone": ANA,
        "lid": None,
        "chat": None,
        "state": "composing",
        "last_seen": None,
        "at": "2026-09-21T14:13:20.000Z",
    }
    apply_worker_report(
        fakes.services, _report(tenant.instance_id, state="unavailable", last_seen=1_789_999_990_000, at=1)
    )
    last = fakes.services.events.of_type("presence.updated")[-1]["data"]
    assert (last["state"], last["last_seen"]) == ("unavailable", "2026-09-21T14:13:10.000Z")


def test_presence_reports_are_ordered_per_contact_and_count_once_per_moment():
    one = _report("inst_1")
    group, dedupe = group_and_dedupe(one)
    assert group == f"inst_1:{ANA_JID}"
    assert group_and_dedupe(dict(one))[1] == dedupe
    assert group_and_dedupe(one | {"state": "paused"})[1] != dedupe
    assert len(dedupe) <= 128
