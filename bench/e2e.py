"""End to end on the booted local stack: send → sent (delivered, read), → webhook, → SSE, at a steady load.

Open loop: sends leave on a fixed schedule (`rate` per second) whatever the answers' latency, each
from a pool thread. Send time is the client's clock just before the POST; every arrival below is
stamped with this machine's clock too.

- "sent" etc.: the moment the status's event is published on the bus. A tap (an EventBridge rule on
  the stack's bus → an SQS queue of the harness) records it; SQS's SentTimestamp says when.
- webhook: a customer endpoint on loopback, registered through the API (POST /webhooks); the moment
  the signed POST of `message.sent` arrives.
- SSE: a client of GET /stream opened before the first send; the moment `message.sent` arrives.

Every collector also keeps each event's own `created` (the envelope's ISO timestamp, in ms: for a status,
the moment the WhatsApp server, here the sandbox network, stamped it), so the latencies from the event
itself, created → bus, bus → webhook, created → webhook and created → SSE, are computed too: the
clocks are this machine's, the same for the stack and the harness. `message.queued` is left out of
those: its `created` is the send's acceptance (its event leaves when a worker takes the job).

Rows for what a build lacks (no /webhooks or /stream route) say "n/a (not built yet)".
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from bench.stats import summary_ms

TAP = "bench-tap"
# The events whose `created` is when they happened (a status stamped by WhatsApp), not when a send was accepted.
STATUS_EVENTS = ("message.sent", "message.delivered", "message.read")


def _created_ms(event: dict[str, Any]) -> int | None:
    created = event.get("created")
    if not isinstance(created, str):
        return None
    try:
        return int(datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


class Tap(threading.Thread):
    def __init__(self, stack: Any) -> None:
        super().__init__(name="bench-tap", daemon=True)
        self.sqs = stack.client("sqs")
        events = stack.client("events")
        bus = "bzapper-local-events"
        self.url = self.sqs.create_queue(QueueName=TAP)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=TAP, EventBusName=bus, EventPattern=json.dumps({"source": ["bzapper"]}))
        events.put_targets(Rule=TAP, EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
        self.seen: dict[tuple[str, str], int] = {}
        self.created: dict[tuple[str, str], int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                # A long poll: the harness's own receives land on the stack's moto, whose CPU the figures count.
                answer = self.sqs.receive_message(
                    QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=5, AttributeNames=["SentTimestamp"]
                )
            except Exception:  # the stack is going away
                time.sleep(0.2)
                continue
            messages = answer.get("Messages", [])
            for message in messages:
                event = json.loads(message["Body"])
                detail = event.get("detail") or {}
                message_id = (detail.get("data") or {}).get("message_id")
                if message_id:
                    key = (message_id, detail.get("type", ""))
                    self.seen.setdefault(key, int(message["Attributes"]["SentTimestamp"]))
                    _note_created(self.created, key, detail)
            if messages:
                self.sqs.delete_message_batch(
                    QueueUrl=self.url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )


def _event_key(event: dict[str, Any]) -> tuple[str, str] | None:
    message_id = (event.get("data") or {}).get("message_id")
    return (message_id, event.get("type", "")) if message_id else None


def _note_created(created: dict[tuple[str, str], int], key: tuple[str, str], event: dict[str, Any]) -> None:
    at = _created_ms(event)
    if at is not None:
        created.setdefault(key, at)


class WebhookEndpoint:
    """The customer's endpoint: records when each event's POST arrived (the first time)."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        endpoint = self
        self.seen: dict[tuple[str, str], int] = {}
        self.created: dict[tuple[str, str], int] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                at = int(time.time() * 1000)
                try:
                    event = json.loads(body)
                    key = _event_key(event)
                except ValueError:
                    key = None
                if key:
                    endpoint.seen.setdefault(key, at)
                    _note_created(endpoint.created, key, event)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/bench"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def register(self, stack: Any) -> None:
        """Subscribed to everything through the API, like a typical customer."""
        import httpx

        auth = {"Authorization": f"Bearer {stack.key}"}
        created = httpx.post(f"{stack.base_url}/webhooks", json={"url": self.url}, headers=auth, timeout=30)
        if created.status_code >= 300:
            raise RuntimeError(f"could not register the bench's webhook: {created.status_code} {created.text}")
        self.webhook_id = created.json().get("id")

    def unregister(self, stack: Any) -> None:
        """Once closed: a later section's events must not be retried against an endpoint that is gone."""
        import httpx

        if getattr(self, "webhook_id", None):
            auth = {"Authorization": f"Bearer {stack.key}"}
            httpx.delete(f"{stack.base_url}/webhooks/{self.webhook_id}", headers=auth, timeout=30)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class StreamReader(threading.Thread):
    """A GET /stream client: records when each event arrived on the stream (the first time)."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        super().__init__(name="bench-sse", daemon=True)
        import httpx

        self.client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(10.0, read=None))
        self.headers = headers
        self.seen: dict[tuple[str, str], int] = {}
        self.created: dict[tuple[str, str], int] = {}
        self.opened = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with self.client.stream("GET", "/stream", headers=self.headers) as response:
                self.opened.set()
                data = []
                for line in response.iter_lines():
                    if self.stop.is_set():
                        return
                    if line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif not line and data:
                        at = int(time.time() * 1000)
                        try:
                            event = json.loads("\n".join(data))
                            key = _event_key(event)
                        except ValueError:
                            key = None
                        if key:
                            self.seen.setdefault(key, at)
                            _note_created(self.created, key, event)
                        data = []
        except Exception:  # closed from outside, or the stack went away
            self.opened.set()

    def close(self) -> None:
        self.stop.set()
        self.client.close()


def _has_route(stack: Any, method: str, path: str) -> bool:
    import httpx

    response = httpx.request(method, f"{stack.base_url}{path}", timeout=10)
    return response.status_code not in (404, 405)


def _cpu_delta(before: dict[str, float], after: dict[str, float], lives: int) -> dict[str, float]:
    """CPU-s per message life, by process role (bench.stack.DevStack.cpu_by_process) and in total."""
    spent = {role: max(0.0, after.get(role, 0.0) - before.get(role, 0.0)) for role in after}
    per = {role: round(seconds / lives, 3) for role, seconds in spent.items()}
    return {**per, "total": round(sum(spent.values()) / lives, 3)}


def _warm(stack: Any, tap: Tap, client: Any, payload: dict[str, Any], headers: dict[str, str], timeout: float) -> None:
    """One message life before anything is measured: the stack's first message builds every client and cache of
    the API, the worker and each consumer, a cost paid once per process, not per message."""
    response = client.post("/messages/text", json=payload, headers=headers)
    message_id = response.json().get("message_id") if response.status_code == 202 else None
    deadline = time.monotonic() + timeout
    while message_id and (message_id, "message.read") not in tap.seen and time.monotonic() < deadline:
        time.sleep(0.1)


def steady(stack: Any, rate: float, seconds: float, drain_timeout: float) -> dict[str, Any]:
    import httpx

    tap = Tap(stack)
    tap.start()
    auth = {"Authorization": f"Bearer {stack.key}"}
    endpoint = stream = None
    if _has_route(stack, "GET", "/webhooks"):
        endpoint = WebhookEndpoint()
        endpoint.register(stack)
    if _has_route(stack, "GET", "/stream"):
        stream = StreamReader(stack.base_url, auth)
        stream.start()
        stream.opened.wait(10)
    total = int(rate * seconds)
    payload = {"instance_id": stack.instance_id, "to": "+5511988888888", "body": "Hello, steady"}
    headers = {"Authorization": f"Bearer {stack.key}"}
    sent: list[dict[str, Any]] = []
    lock = threading.Lock()
    client = httpx.Client(base_url=stack.base_url, timeout=30)

    def post() -> None:
        at_ms = time.time() * 1000
        started = time.perf_counter()
        response = client.post("/messages/text", json=payload, headers=headers)
        record = {
            "at_ms": at_ms,
            "latency_s": time.perf_counter() - started,
            "status": response.status_code,
            "message_id": response.json().get("message_id") if response.status_code == 202 else None,
        }
        with lock:
            sent.append(record)

    _warm(stack, tap, client, payload, headers, drain_timeout)
    cpu_before = stack.cpu_seconds()
    roles_before = stack.cpu_by_process()
    begin = time.monotonic()
    lateness = []
    with ThreadPoolExecutor(8) as pool:
        for index in range(total):
            due = begin + index / rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            lateness.append(max(0.0, -wait))
            pool.submit(post)
    offered_s = time.monotonic() - begin
    accepted = [r for r in sent if r["message_id"]]
    deadline = time.monotonic() + drain_timeout
    wanted = {(r["message_id"], "message.read") for r in accepted}

    def complete() -> bool:
        return all(wanted <= set(seen.seen) for seen in (tap, endpoint, stream) if seen is not None)

    while time.monotonic() < deadline and not complete():
        time.sleep(0.2)
    cpu_after = stack.cpu_seconds()
    roles_after = stack.cpu_by_process()
    stack_cpu = sum(cpu_after.values()) - sum(cpu_before.get(pid, 0.0) for pid in cpu_after)
    tap.stop.set()
    tap.join(timeout=6)
    client.close()
    for closing in (endpoint, stream):
        if closing is not None:
            closing.close()
    if endpoint is not None:
        endpoint.unregister(stack)

    def latency(kind: str, seen: dict[tuple[str, str], int] | None = None) -> dict[str, Any] | str:
        if seen is None:
            return "n/a (not built yet)"
        samples = [
            (seen[(r["message_id"], kind)] - r["at_ms"]) / 1000 for r in accepted if (r["message_id"], kind) in seen
        ]
        return {**summary_ms(samples), "missing": len(accepted) - len(samples)}

    def since_created(collector: Any) -> dict[str, Any] | str:
        """Arrival minus the event's own `created`, over every status event of this run's messages."""
        if collector is None:
            return "n/a (not built yet)"
        keys = [(r["message_id"], kind) for r in accepted for kind in STATUS_EVENTS]
        samples = [
            (collector.seen[key] - collector.created[key]) / 1000
            for key in keys
            if key in collector.seen and key in collector.created
        ]
        return {**summary_ms(samples), "missing": len(keys) - len(samples)}

    def after_bus(collector: Any) -> dict[str, Any] | str:
        """Arrival minus the moment the tap's queue got the event from the bus (its publication)."""
        if collector is None:
            return "n/a (not built yet)"
        keys = [(r["message_id"], kind) for r in accepted for kind in STATUS_EVENTS]
        samples = [
            (collector.seen[key] - tap.seen[key]) / 1000 for key in keys if key in collector.seen and key in tap.seen
        ]
        return {**summary_ms(samples), "missing": len(keys) - len(samples)}

    reads = [tap.seen[key] for key in wanted if key in tap.seen]  # the bus, not a consumer of it
    window_s = (max(reads) - min(r["at_ms"] for r in accepted)) / 1000 if reads and accepted else None
    return {
        "offered_per_second": rate,
        "completed_per_second": round(len(reads) / window_s, 2) if window_s else None,
        # Everything the stack's processes burnt (API, worker, consumers, moto, the sandbox network)
        # for these lives: what a core can finish, whatever else the machine is doing.
        "stack_cpu_s_per_message": round(stack_cpu / len(reads), 3) if reads else None,
        # The same, by process (runner: API, pollers and consumers, sandbox network; moto; worker and its hosts).
        "cpu_s_per_message_by_process": _cpu_delta(roles_before, roles_after, len(reads)) if reads else None,
        "offered_for_s": round(offered_s, 1),
        "requests": total,
        "accepted": len(accepted),
        "refused": len(sent) - len(accepted),
        "schedule_lateness_p99_ms": summary_ms(lateness).get("p99_ms"),
        "accept_latency": summary_ms([r["latency_s"] for r in sent]),
        "send_to_sent": latency("message.sent", tap.seen),
        "send_to_delivered": latency("message.delivered", tap.seen),
        "send_to_read": latency("message.read", tap.seen),
        "send_to_webhook_sent": latency("message.sent", endpoint.seen if endpoint else None),
        "send_to_webhook_read": latency("message.read", endpoint.seen if endpoint else None),
        "send_to_sse_sent": latency("message.sent", stream.seen if stream else None),
        "send_to_sse_read": latency("message.read", stream.seen if stream else None),
        # From the event itself (sent, delivered, read pooled), issue #5's figures.
        "event_to_bus": since_created(tap),
        "bus_to_webhook": after_bus(endpoint),
        "event_to_webhook": since_created(endpoint),
        "bus_to_sse": after_bus(stream),
        "event_to_sse": since_created(stream),
    }


def drain(stack: Any, sends: int, timeout: float) -> dict[str, Any]:
    """How fast one number drains a backlog: `sends` messages to one recipient from one instance, posted at once
    (4 clients), then the time until every one is `read` (on the bus, like the tap of `steady`).

    One number's jobs are one FIFO group: the worker sends them one after the other, paced by the number's
    pacing policy (BZ_SEND_INTERVAL_MS, 0 on the local stack), so this is the per-number throughput of the whole
    pipeline: worker, statuses, event publication, the event log and a webhook subscriber."""
    import httpx

    tap = Tap(stack)
    tap.start()
    endpoint = None
    if _has_route(stack, "GET", "/webhooks"):
        endpoint = WebhookEndpoint()  # a message life with one subscriber, as in `steady`
        endpoint.register(stack)
    payload = {"instance_id": stack.instance_id, "to": "+5511977777777", "body": "Hello, backlog"}
    headers = {"Authorization": f"Bearer {stack.key}"}
    client = httpx.Client(base_url=stack.base_url, timeout=30)
    try:
        _warm(stack, tap, client, payload, headers, timeout)
        ids: list[str] = []
        refused = 0
        lock = threading.Lock()

        def post(_: int) -> None:
            nonlocal refused
            response = client.post("/messages/text", json=payload, headers=headers)
            with lock:
                if response.status_code == 202:
                    ids.append(response.json()["message_id"])
                else:
                    refused += 1

        roles_before = stack.cpu_by_process()
        first_ms = time.time() * 1000
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(post, range(sends)))
        posted_s = time.time() - first_ms / 1000
        deadline = time.monotonic() + timeout
        wanted = {(message_id, "message.read") for message_id in ids}
        while time.monotonic() < deadline and not wanted <= set(tap.seen):
            time.sleep(0.1)
        roles_after = stack.cpu_by_process()
    finally:
        tap.stop.set()
        tap.join(timeout=6)
        client.close()
        if endpoint is not None:
            endpoint.close()
            endpoint.unregister(stack)
    reads = sorted(tap.seen[key] for key in wanted if key in tap.seen)
    all_read_s = (reads[-1] - first_ms) / 1000 if reads and len(reads) == len(ids) else None
    return {
        "sends": sends,
        "accepted": len(ids),
        "refused": refused,
        "posted_in_s": round(posted_s, 2),
        "read": len(reads),
        "first_send_to_all_read_s": round(all_read_s, 2) if all_read_s else None,
        # The figure asked for: N sends to one number / the time until all are read.
        "messages_per_second": round(len(ids) / all_read_s, 2) if all_read_s else None,
        # Between the first and the last read: the pipeline's pace, without one message's own latency.
        "reads_per_second": round((len(reads) - 1) / ((reads[-1] - reads[0]) / 1000), 2)
        if len(reads) > 1 and reads[-1] > reads[0]
        else None,
        "cpu_s_per_message_by_process": _cpu_delta(roles_before, roles_after, len(reads)) if reads else None,
    }
