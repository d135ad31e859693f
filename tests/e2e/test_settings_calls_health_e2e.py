"""Issue #18 parts 5, 8 and 9 on the booted local stack, through the worker holding each number: a simulated call
rejected by the setting, its caller getting the message once; the reach-out time lock failing a send and
restricting the number; a passkey-gated linking that pairs once the phone confirms."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from support.stack import Stack
from test_instances import StreamCollector, _api, _new_instance, _pair, _status_is, _until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("settings")]


@pytest.fixture
def instance_id(stack: Stack):
    """A new sandbox number, deleted afterwards (the test plan allows 3 per account)."""
    created = _new_instance(stack, "Health")
    yield created
    _api(stack, "DELETE", f"/instances/{created}")


CALLER = "+5511988887711"


def test_a_simulated_call_is_rejected_and_the_caller_gets_the_message_once(stack: Stack, instance_id: str) -> None:
    _pair(stack, instance_id)
    changed = _api(
        stack,
        "PATCH",
        f"/instances/{instance_id}",
        json={"settings": {"reject_calls": True, "reject_call_message": "We only take messages here."}},
    )
    assert changed.status_code == 200, changed.text
    stream = StreamCollector(stack, "call.received,call.ended")
    try:
        # The worker gets the settings by a command: a call made before they land rings (not rejected).
        def rejected_call():
            rung = _api(stack, "POST", f"/sandbox/instances/{instance_id}/call", json={"from": CALLER})
            assert rung.status_code == 202, rung.text
            call_id = rung.json()["call_id"]
            received = _until(
                lambda: [e for e in stream.events if e["type"] == "call.received" and e["data"]["call_id"] == call_id]
            )
            return received[0] if received[0]["data"]["rejected"] else None

        received = _until(rejected_call, timeout=60, every=1)
        call_id = received["data"]["call_id"]
        assert received["data"]["from"]["phone"] == CALLER
        ended = _until(
            lambda: [e for e in stream.events if e["type"] == "call.ended" and e["data"]["call_id"] == call_id]
        )
        assert ended[0]["data"]["reason"] == "rejected"
    finally:
        stream.close()

    def texts():
        got = _api(stack, "GET", f"/sandbox/contacts/{quote(CALLER)}/messages").json()["data"]
        return [m for m in got if m["message"].get("body") == "We only take messages here."]

    assert len(_until(texts)) >= 1
    # Exactly one per rejected call, however often the call's report comes.
    assert len(texts()) == len([e for e in stream.events if e["type"] == "call.received" and e["data"]["rejected"]])


def test_the_reach_out_lock_fails_the_send_and_restricts_the_number(stack: Stack, instance_id: str) -> None:
    _pair(stack, instance_id)
    sent = _api(
        stack, "POST", "/messages/text", json={"instance_id": instance_id, "to": "+5511900004501", "body": "hello"}
    )
    assert sent.status_code == 202, sent.text
    failed = _until(
        lambda: (m := _api(stack, "GET", f"/messages/{sent.json()['message_id']}").json())["status"] == "failed" and m
    )
    assert failed["error"]["code"] == "reach_out_restricted"
    restricted = _until(_status_is(stack, instance_id, "restricted"))
    assert restricted["restriction"]["reason"] == "reach_out_restricted"
    assert restricted["restriction"]["until"]


def test_a_passkey_gated_linking_pairs_once_the_phone_confirms(stack: Stack, instance_id: str) -> None:
    _until(_status_is(stack, instance_id, "pairing"))
    path = f"/sandbox/instances/{instance_id}/scan"
    first = _api(stack, "POST", path, json={"phone": "+5511900004801"})
    assert first.status_code == 200 and first.json()["state"] == "passkey_required", first.text
    waiting = _until(_status_is(stack, instance_id, "passkey_required"))
    assert waiting["last_error"] == "passkey_required"
    assert _api(stack, "GET", f"/instances/{instance_id}/qr").json()["code"] == "passkey_required"
    assert _api(stack, "POST", path, json={}).json()["state"] == "connected"
    assert _until(_status_is(stack, instance_id, "connected"))["phone"] == "+5511900004801"
