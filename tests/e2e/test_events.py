"""Events as a customer sees them: signed webhooks to a real HTTP receiver, and the resumable SSE stream."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from standardwebhooks.webhooks import Webhook
from support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("events")]


class Receiver:
    """A customer's webhook endpoint on loopback; fails its first `failures` requests with 503."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict, bytes]] = []
        self.accepted: list[str] = []
        """The webhook-ids answered 200."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append((headers, body))
                status = 503 if receiver.failures > 0 else 200
                receiver.failures -= 1
                if status == 200:
                    receiver.accepted.append(headers["webhook-id"])
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, predicate, timeout: float = 60) -> list[tuple[dict, bytes]]:
        deadline = time.monotonic() + timeout
        while not predicate(self.received):
            assert time.monotonic() < deadline, [json.loads(b)["type"] for _, b in self.received]
            time.sleep(0.1)
        return self.received

    def close(self) -> None:
        self.server.shutdown()


def _types(received) -> list[str]:
    return [json.loads(body)["type"] for _, body in received]


def test_every_status_reaches_a_signed_webhook_even_through_failures(stack: Stack):
    receiver = Receiver(failures=2)
    try:
        created = requests.post(
            f"{stack.base_url}/webhooks",
            json={"url": receiver.url, "events": ["message.*"]},
            headers=stack.auth,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        hook = created.json()
        message_id = stack.send(to="+5511955550001", client_reference="hook-1").json()["message_id"]

        wanted = {"message.queued", "message.sent", "message.delivered", "message.read"}
        # Every status delivered with a 200 (the two answered 503 come back later).
        received = receiver.wait_for(
            lambda got: wanted <= {json.loads(b)["type"] for h, b in got if h["webhook-id"] in receiver.accepted}
        )
        verifier = Webhook(hook["secret"])
        for headers, body in received:
            event = verifier.verify(body, headers)  # raises on a bad signature
            assert headers["webhook-id"] == event["id"]
            assert event["data"]["message_id"] == message_id and event["data"]["client_reference"] == "hook-1"
        # The first two requests were answered 503: each of those events came again, same webhook-id.
        failed_ids = [headers["webhook-id"] for headers, _ in received[:2]]
        later_ids = [headers["webhook-id"] for headers, _ in received[2:]]
        assert all(event_id in later_ids for event_id in failed_ids)

        # The dispatcher records an attempt after the receiver answered it: the listing catches up a moment later.
        deliveries = _settled_deliveries(stack, hook["id"], count=len(wanted))
        retried = [d for d in deliveries if d["attempts"][0]["status_code"] == 503]
        assert retried and all(d["status"] == "delivered" for d in deliveries), deliveries
        assert retried[0]["attempts"][-1]["status_code"] == 200

        replay = requests.post(
            f"{stack.base_url}/webhooks/{hook['id']}/deliveries/{retried[0]['id']}/replay",
            headers=stack.auth,
            timeout=10,
        )
        assert replay.status_code == 202
        count = len(received)
        replayed = receiver.wait_for(lambda got: len(got) > count)[count:]
        assert [headers["webhook-id"] for headers, _ in replayed] == [retried[0]["event_id"]]
    finally:
        receiver.close()


def _settled_deliveries(stack: Stack, hook_id: str, count: int, timeout: float = 60) -> list[dict]:
    """The endpoint's deliveries once `count` of them exist and none is still pending or retrying."""
    deadline = time.monotonic() + timeout
    while True:
        deliveries = requests.get(
            f"{stack.base_url}/webhooks/{hook_id}/deliveries", headers=stack.auth, timeout=30
        ).json()["data"]
        if len(deliveries) >= count and all(d["status"] in ("delivered", "failed") for d in deliveries):
            return deliveries
        assert time.monotonic() < deadline, deliveries
        time.sleep(0.2)


def _read_events(response, count: int, to: str, timeout: float = 120) -> list[dict]:
    """Reads `count` events about messages to `to` from an SSE response (ignoring heartbeats and retry lines,
    and events of the module's other messages that the log took late). A loaded machine takes its time."""
    events, current = [], {}
    deadline = time.monotonic() + timeout
    for raw in response.iter_lines(decode_unicode=True):
        assert time.monotonic() < deadline, events
        if raw == "":
            if "id" in current and json.loads(current["data"])["data"].get("to") == to:
                events.append(current)
                if len(events) == count:
                    return events
            current = {}
            continue
        if raw.startswith(":"):
            continue
        field, _, value = raw.partition(": ")
        current[field] = value
    return events


STREAMED_TO = "+5511955550002"


def test_the_stream_resumes_exactly_after_the_last_event_id(stack: Stack):
    types = "message.sent"
    first = requests.get(
        f"{stack.base_url}/stream", params={"types": types}, headers=stack.auth, stream=True, timeout=60
    )
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/event-stream")
    ids_before = [stack.send(to=STREAMED_TO, body=f"before {i}").json()["message_id"] for i in range(2)]
    got = _read_events(first, 2, STREAMED_TO)
    first.close()  # the client goes away
    assert [json.loads(e["data"])["data"]["message_id"] for e in got] == ids_before
    assert all(e["event"] == "message.sent" and e["id"].startswith("evt_") for e in got)

    ids_away = [stack.send(to=STREAMED_TO, body=f"away {i}").json()["message_id"] for i in range(3)]
    for message_id in ids_away:
        stack.wait_for_status(message_id, "sent")

    resumed = requests.get(
        f"{stack.base_url}/stream",
        params={"types": types},
        headers={**stack.auth, "Last-Event-ID": got[-1]["id"]},
        stream=True,
        timeout=60,
    )
    again = _read_events(resumed, 3, STREAMED_TO)
    resumed.close()
    assert [json.loads(e["data"])["data"]["message_id"] for e in again] == ids_away  # no gap, no repeat


def test_unknown_last_event_id_is_422(stack: Stack):
    response = requests.get(f"{stack.base_url}/stream", headers={**stack.auth, "Last-Event-ID": "evt_nope"}, timeout=10)
    assert response.status_code == 422 and response.json()["param"] == "Last-Event-ID"
