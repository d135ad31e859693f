"""Genuine Lambda events: API Gateway HTTP API (payload 2.0) requests and SQS batches.

The same shapes as tests/support/apigw.py and bzapper.local.lambda_events (which the local runtime
uses); kept here so the harness does not import the test tree.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bzapper.topology import match_route


def http_event(method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    route, _ = match_route(method, path)
    route_key = f"{route.method} {route.path}" if route else "$default"
    all_headers = {"host": "api.example.com", "user-agent": "bench", "content-type": "application/json"}
    all_headers.update({name.lower(): value for name, value in (headers or {}).items()})
    text = json.dumps(body) if body is not None else None
    if text is not None:
        all_headers["content-length"] = str(len(text.encode()))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "bench",
            },
            "requestId": uuid.uuid4().hex[:16] + "=",
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if text is not None:
        event["body"] = text
    return event


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
