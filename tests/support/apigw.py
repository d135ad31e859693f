"""Genuine API Gateway HTTP API (payload format 2.0) events, as Lambda receives them."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bzapper.topology import match_route


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> dict[str, Any]:
    route, _ = match_route(method, path)
    route_key = f"{route.method} {route.path}" if route else "$default"
    all_headers = {"host": "api.example.com", "user-agent": "pytest", "content-type": "application/json"}
    all_headers.update({name.lower(): value for name, value in (headers or {}).items()})
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    if text is not None:
        all_headers["content-length"] = str(len(text.encode()))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
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
                "userAgent": "pytest",
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


class LambdaContext:
    function_name = "bzapper-test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bzapper-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def call(handler: Any, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """Invoke a Lambda handler; returns (status, lower-cased headers, parsed JSON body)."""
    response = handler(http_event(method, path, **kwargs), LambdaContext())
    body = response.get("body") or ""
    return (
        response["statusCode"],
        {name.lower(): value for name, value in (response.get("headers") or {}).items()},
        json.loads(body) if body else None,
    )
