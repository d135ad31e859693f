"""The Idempotency-Key header (Stripe semantics), the same on every route that creates something.

A route honours it by declaring IDEMPOTENCY_HEADER; on every other POST, PATCH or DELETE the header is refused
(`refuse_undeclared_idempotency`), so a client retrying after a timeout is never fooled into thinking its retry
was safe when it was not.
"""

from __future__ import annotations

from typing import Any

from fastapi import Header, Request
from fastapi.routing import APIRoute

from bzapper.domain.errors import BzError
from bzapper.domain.idempotency import MAX_KEY_LENGTH, IdempotencyRequest, fingerprint, valid_key

IDEMPOTENCY_KEY_PATTERN = r"^[\u0020-\u007E\u00A1-\u00AC\u00AE-\u00FF]+$"
"""Printable characters (bzapper.domain.idempotency.valid_key) of a header value, which HTTP reads as Latin-1."""

HEADER_NAME = "Idempotency-Key"

IDEMPOTENCY_HEADER = Header(
    default=None,
    alias=HEADER_NAME,
    min_length=1,
    max_length=MAX_KEY_LENGTH,
    json_schema_extra={"pattern": IDEMPOTENCY_KEY_PATTERN},
    examples=["order-1234-attempt"],
    description="Retry safely: the first response is replayed for 24 h; another body with the same key is a 422.",
)

_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def idempotency_request(key: str | None, method: str, path: str, body: Any) -> IdempotencyRequest | None:
    """The client's key bound to this request, or None without a key."""
    if key is None:
        return None
    if not valid_key(key):
        raise BzError("validation_failed", message_key="error.idempotency_key_invalid", param=HEADER_NAME)
    return IdempotencyRequest(key, fingerprint(method, path, body))


def declares_idempotency(route: APIRoute) -> bool:
    return any(param.alias == HEADER_NAME for param in route.dependant.header_params)


def refuse_undeclared_idempotency(request: Request) -> None:
    """An app-wide dependency: runs after routing, so it knows whether the matched route honours the key."""
    if request.method not in _CHANGING or HEADER_NAME.lower() not in request.headers:
        return
    route = request.scope.get("route")
    # Routes outside the contract (the 404/405 fallback) never promised anything: they answer as they do.
    if isinstance(route, APIRoute) and route.include_in_schema and not declares_idempotency(route):
        raise BzError("validation_failed", message_key="error.idempotency_not_supported", param=HEADER_NAME)
