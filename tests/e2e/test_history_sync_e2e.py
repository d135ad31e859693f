"""History on pairing on the booted local stack (issue #18 part 7), over HTTP as a customer sees it: turn
settings.history_sync on, pair with a phone that has N earlier conversations, and they are in GET /conversations
once, marked imported, with no webhook for the old messages and exactly one instance.history_synced; a chunk
handed again and a live message that is also in the history change nothing."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
import requests
from support.stack import Stack
from test_events import Receiver  # the same loopback endpoint as the events e2e
from test_instances import _api, _new_instance, _status_is, _until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("history")]

ANA, BIA, CAIO = "+5511988880101", "+5511988880102", "+5511988880103"
GROUP = "120363025246125999@g.us"
HISTORY = [
    {"contact": ANA, "messages": [{"body": "Did the order ship?", "wa_message_id": "3AHISTLIVE0001"}]},
    {"contact": BIA, "messages": [{"body": "Hello"}, {"body": "Hi Bia, how can we help?", "from_me": True}]},
    {"group": GROUP, "group_name": "Orders", "messages": [{"from": CAIO, "body": "3 boxes today"}]},
]


def _network_settings(stack: Stack, instance_id: str) -> dict:
    url = stack.env["BZ_SANDBOX_URL"].rstrip("/")
    path = f"/v1/accounts/{quote(stack.account_id)}/instances/{quote(instance_id)}/settings"
    return requests.get(url + path, timeout=10).json()


def _events(receiver: Receiver, instance_id: str) -> list[dict]:
    return [e for e in (json.loads(body) for _, body in receiver.received) if e.get("instance_id") == instance_id]


def test_a_new_pairing_with_history_imports_it_once(stack: Stack) -> None:
    instance_id = _new_instance(stack, "History")
    receiver = Receiver()
    hook = _api(
        stack,
        "POST",
        "/webhooks",
        json={"url": receiver.url, "events": ["instance.history_synced", "message.received"]},
    )
    assert hook.status_code == 201, hook.text
    try:
        changed = _api(stack, "PATCH", f"/instances/{instance_id}", json={"settings": {"history_sync": True}})
        assert changed.status_code == 200 and changed.json()["settings"]["history_sync"] is True
        _until(_status_is(stack, instance_id, "pairing"))
        # The session learned it (a settings command to the worker): the device asks for history when it pairs.
        _until(lambda: _network_settings(stack, instance_id).get("history_sync"))

        scanned = _api(stack, "POST", f"/sandbox/instances/{instance_id}/scan", json={"history": HISTORY})
        assert scanned.status_code == 200, scanned.text
        handed = scanned.json()["history"]
        assert (handed["chunks"], handed["conversations"], handed["messages"]) == (2, 3, 4)

        synced = receiver.wait_for(
            lambda _: [e for e in _events(receiver, instance_id) if e["type"] == "instance.history_synced"]
        )
        assert synced
        [event] = [e for e in _events(receiver, instance_id) if e["type"] == "instance.history_synced"]
        assert event["data"] | {"at": None} == {
            "instance_id": instance_id,
            "conversations": 3,
            "messages": 4,
            "at": None,
        }

        def listed() -> list[dict]:
            page = _api(stack, "GET", "/conversations", params={"instance_id": instance_id, "limit": 50}).json()
            return page["data"]

        rows = listed()
        assert sorted(r["jid"] for r in rows) == sorted(
            ["5511988880101@s.whatsapp.net", "5511988880102@s.whatsapp.net", GROUP]
        )
        bia = next(r for r in rows if r["jid"] == "5511988880102@s.whatsapp.net")
        assert bia["last_message"]["text"] == "Hi Bia, how can we help?" and bia["unread_count"] == 0
        thread = _api(
            stack,
            "GET",
            f"/conversations/{quote('5511988880102@s.whatsapp.net')}/messages",
            params={"instance_id": instance_id},
        ).json()["data"]
        assert [(m["direction"], m["imported"]) for m in thread] == [("outbound", True), ("inbound", True)]

        # The phone hands both chunks again; then Ana's message arrives live too, and a new one after it.
        for chunk in (0, 1):
            again = _api(stack, "POST", f"/sandbox/instances/{instance_id}/history/redeliver", json={"chunk": chunk})
            assert again.status_code == 202, again.text
        overlap = _api(
            stack,
            "POST",
            f"/sandbox/instances/{instance_id}/inbound",
            json={"from": ANA, "type": "text", "body": "Did the order ship?", "wa_message_id": "3AHISTLIVE0001"},
        )
        assert overlap.status_code == 202, overlap.text
        fresh = _api(
            stack,
            "POST",
            f"/sandbox/instances/{instance_id}/inbound",
            json={"from": ANA, "type": "text", "body": "Any news?"},
        )
        assert fresh.status_code == 202, fresh.text
        receiver.wait_for(lambda _: [e for e in _events(receiver, instance_id) if e["type"] == "message.received"])
        time.sleep(3)  # anything more (a duplicate) would come now

        events = _events(receiver, instance_id)
        assert [e["type"] for e in events] == ["instance.history_synced", "message.received"], events
        assert events[1]["data"]["wa_message_id"] == fresh.json()["wa_message_id"]  # no webhook for old messages
        ana = _api(
            stack,
            "GET",
            f"/conversations/{quote('5511988880101@s.whatsapp.net')}/messages",
            params={"instance_id": instance_id},
        ).json()["data"]
        assert [(m["content"]["body"], m["imported"]) for m in ana] == [
            ("Any news?", False),
            ("Did the order ship?", True),
        ]
        assert len(listed()) == 3
    finally:
        _api(stack, "DELETE", f"/webhooks/{hook.json()['id']}")
        receiver.close()
        _api(stack, "DELETE", f"/instances/{instance_id}")
