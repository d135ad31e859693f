"""Genuine Lambda events: API Gateway HTTP API (payload 2.0) requests and SQS batches.

HTTP events come from `bzapper_dev.local.lambda_events.http_event`, the builder the local runtime and the
tests use; SQS records are built from what the SQS API returns, as an event source mapping does.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any


def http_event(method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The local runtime's own builder (the one the tests use), so the bench sends what they send."""
    from bzapper_dev.local.lambda_events import http_event as build

    return build(method, path, body=body, headers=headers, user_agent="bench")


def send_event(api_key: str, instance_id: str, body: str = "Hello from the bench") -> dict[str, Any]:
    return http_event(
        "POST",
        "/messages/text",
        body={"instance_id": instance_id, "to": "+5511988888888", "body": body, "client_reference": "bench"},
        headers={"Authorization": f"Bearer {api_key}"},
    )


def fifo_sqs_message(body: dict[str, Any], group: str, dedupe: str, sequence: int) -> dict[str, Any]:
    """A received FIFO message as the SQS API returns it (ReceiveMessage with all attributes)."""
    now = str(int(time.time() * 1000))
    return {
        "MessageId": str(uuid.uuid4()),
        "ReceiptHandle": uuid.uuid4().hex,
        "Body": json.dumps(body, separators=(",", ":")),
        "Attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now,
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": now,
            "SequenceNumber": str(18849496460467696128 + sequence),
            "MessageGroupId": group,
            "MessageDeduplicationId": dedupe,
        },
    }
