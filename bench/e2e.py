"""End to end on the booted local stack: send → sent (and delivered, read) at a steady offered load.

Open loop: sends leave on a fixed schedule (`rate` per second) whatever the answers' latency, each
from a pool thread. The moment a status becomes true for the customer is the moment its event is
published: a tap (an EventBridge rule on the stack's bus → an SQS queue of the harness) records it,
and SQS's SentTimestamp says when. Send time is the client's clock just before the POST; both clocks
are this machine's.

Webhook delivery and the SSE stream are not built yet: their rows say so, and take their figure from
this same schedule when they land (a receiver on loopback, a stream reader).
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.stats import summary_ms

TAP = "bench-tap"


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
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                answer = self.sqs.receive_message(
                    QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["SentTimestamp"]
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
                    self.seen.setdefault(
                        (message_id, detail.get("type", "")), int(message["Attributes"]["SentTimestamp"])
                    )
            if messages:
                self.sqs.delete_message_batch(
                    QueueUrl=self.url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )


def steady(stack: Any, rate: float, seconds: float, drain_timeout: float) -> dict[str, Any]:
    import httpx

    tap = Tap(stack)
    tap.start()
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
    while time.monotonic() < deadline and not wanted <= set(tap.seen):
        time.sleep(0.2)
    tap.stop.set()
    tap.join(timeout=5)
    client.close()

    def latency(kind: str) -> dict[str, Any]:
        samples = [
            (tap.seen[(r["message_id"], kind)] - r["at_ms"]) / 1000
            for r in accepted
            if (r["message_id"], kind) in tap.seen
        ]
        return {**summary_ms(samples), "missing": len(accepted) - len(samples)}

    return {
        "offered_per_second": rate,
        "offered_for_s": round(offered_s, 1),
        "requests": total,
        "accepted": len(accepted),
        "refused": len(sent) - len(accepted),
        "schedule_lateness_p99_ms": summary_ms(lateness).get("p99_ms"),
        "accept_latency": summary_ms([r["latency_s"] for r in sent]),
        "send_to_sent": latency("message.sent"),
        "send_to_delivered": latency("message.delivered"),
        "send_to_read": latency("message.read"),
        "send_to_webhook": "n/a (not built yet)",
        "send_to_sse": "n/a (not built yet)",
    }
