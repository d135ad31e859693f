"""Genuine API Gateway HTTP API (payload format 2.0) events, as Lambda receives them."""

from __future__ import annotations

import json
from typing import Any

from bzapper_dev.local import lambda_events


def http_event(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    return lambda_events.http_event(method, path, user_agent="pytest", **kwargs)


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
