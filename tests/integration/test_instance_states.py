"""What the workers observe about instances becomes their stored state and instance.* events, exactly once."""

from __future__ import annotations

import pytest

from bzapper.services.instances import apply_state, learn_identity


class Captured:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def publish(self, events):
        self.events.extend(events)


def _state(account, state, at, **extra):
    return {"instance_id": account.instance_id, "state": state, "at": at, **extra}


def test_states_are_stored_newest_wins_with_one_event_per_change(svc, account):
    svc.events = Captured()
    apply_state(svc, _state(account, "pairing", 10, qr="qr-1"))
    apply_state(svc, _state(account, "pairing", 20, qr="qr-2"))
    apply_state(svc, _state(account, "pairing", 20, qr="qr-2"))  # a redelivery
    apply_state(svc, _state(account, "connected", 30, phone="+5511970000001", lid="123@lid", push_name="Shop"))
    apply_state(svc, _state(account, "pairing", 25, qr="qr-old"))  # older than what is stored: ignored

    view = svc.instances.view(account.instance_id)
    assert (view.status, view.phone, view.lid, view.push_name, view.qr) == (
        "connected",
        "+5511970000001",
        "123@lid",
        "Shop",
        None,
    )
    types = [event["type"] for event in svc.events.events]
    assert types == ["instance.qr", "instance.qr", "instance.connected", "contact.identity_resolved"]
    connected = svc.events.events[2]
    assert connected["data"]["phone"] == "+5511970000001" and connected["instance_id"] == account.instance_id

    apply_state(svc, _state(account, "restricted", 40, error="account_restricted"))
    assert svc.instances.view(account.instance_id).last_error == "account_restricted"
    assert svc.events.events[-1]["data"]["error"] == {"code": "account_restricted"}


def test_a_mapping_is_announced_once_and_a_republish_keeps_its_id(svc, account):
    svc.events = Captured()
    view = svc.instances.view(account.instance_id)
    learn_identity(svc, view, "+5511988880000", "555@lid", 100)
    learn_identity(svc, view, "+5511988880000", "555@lid", 200)
    assert [event["type"] for event in svc.events.events] == ["contact.identity_resolved"]
    assert svc.identities.phone_of(account.account_id, "555@lid") == "+5511988880000"

    class Failing(Captured):
        def publish(self, events):
            super().publish(events)
            raise ConnectionError("bus down")

    failing = svc.events = Failing()
    with pytest.raises(ConnectionError):
        learn_identity(svc, view, "+5511988881111", "666@lid", 300)
    assert svc.identities.lid_of(account.account_id, "+5511988881111") is None  # not stored: it is retried
    svc.events = Captured()
    learn_identity(svc, view, "+5511988881111", "666@lid", 300)
    assert [event["type"] for event in svc.events.events] == ["contact.identity_resolved"]
    assert svc.events.events[0]["id"] == failing.events[0]["id"]  # the retry is the same event
