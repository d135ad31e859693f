"""The outermost layer of every API app: request ids, body size, and the last-resort 500."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bzapper.api.errors import error_bytes, error_headers, rate_limit_headers, resolve_locale
from bzapper.domain.errors import BzError
from bzapper.domain.ids import new_id
from bzapper.domain.media import UPLOAD_BODY_MAX

logger = logging.getLogger("bzapper.api")

MAX_BODY_BYTES = 256 * 1024

LARGER_BODIES = {("POST", "/media"): UPLOAD_BODY_MAX}
"""The routes whose body is a file (multipart upload), with their own limit."""


SINGLE_VALUED = {
    b"authorization": "Authorization",
    b"idempotency-key": "Idempotency-Key",
    b"bz-mode": "Bz-Mode",
    b"last-event-id": "Last-Event-ID",
    b"content-type": "Content-Type",
}
"""Headers whose one value decides what a request means (who calls, which retry, which mode, where a stream resumes,
how the body is read): sent twice (or, for the credential, two values joined by
a comma, as API Gateway joins repeated headers), the request is ambiguous and refused rather than read as its first."""


def ambiguous_header(scope: Scope) -> str | None:
    seen: set[bytes] = set()
    for key, value in scope.get("headers", ()):
        name = key.lower()
        if name not in SINGLE_VALUED:
            continue
        if name in seen or (name == b"authorization" and b"," in value):
            return SINGLE_VALUED[name]
        seen.add(name)
    return None


def repeated_query_parameter(scope: Scope) -> str | None:
    """Every query parameter of the API takes one value: a repeated one (`?limit=1&limit=3`) is ambiguous (frameworks
    read the last, proxies and logs the first), so it is refused like a repeated header."""
    seen: set[str] = set()
    for name, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        if name in seen:
            return name
        seen.add(name)
    return None


def encoded_body(scope: Scope) -> bool:
    """A body sent compressed (`Content-Encoding: gzip`…): read as it is, it would be garbage or, worse, a plain
    body labelled compressed would pass; neither API Gateway nor we decompress requests."""
    value = _header(scope, b"content-encoding")
    return value is not None and value.strip().lower() not in ("", "identity")


def ambiguous_request(scope: Scope) -> BzError | None:
    """400 `bad_request` naming what came twice (a single-valued header, or a query parameter), or a body
    encoding we do not read."""
    if encoded_body(scope):
        return BzError("bad_request", message_key="error.content_encoding", param="Content-Encoding")
    for message_key, name in (
        ("error.duplicate_header", ambiguous_header(scope)),
        ("error.duplicate_query", repeated_query_parameter(scope)),
    ):
        if name is not None:
            return BzError("bad_request", message_key=message_key, param=name, params={"param": name})
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def request_id_for(scope: Scope) -> str:
    """API Gateway's own id when there is one, so our logs and AWS's access logs join."""
    event: dict[str, Any] | None = scope.get("aws.event")
    if event:
        gateway_id = (event.get("requestContext") or {}).get("requestId")
        if gateway_id:
            return f"req_{gateway_id}"
    return new_id("req")


async def send_error(send: Send, scope: Scope, error: BzError, request_id: str) -> None:
    locale = resolve_locale(_header(scope, b"accept-language"), None)
    payload = error_bytes(error, locale, request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-request-id", request_id.encode()),
    ] + [(key.lower().encode(), value.encode()) for key, value in error_headers(error).items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                # Every authenticated response says where the caller stands (IETF RateLimit fields).
                decision = scope["state"].get("rate_limit")
                present = {name.lower() for name, _ in headers}
                if decision is not None:
                    headers += [
                        (name.lower().encode(), value.encode())
                        for name, value in rate_limit_headers(decision).items()
                        if name.lower().encode() not in present
                    ]
                message["headers"] = headers
            await send(message)

        ambiguity = ambiguous_request(scope)
        if ambiguity is not None:
            await send_error(send, scope, ambiguity, request_id)
            return
        limit = LARGER_BODIES.get((scope["method"], scope["path"]), MAX_BODY_BYTES)
        length = _header(scope, b"content-length")
        if length and length.isdigit() and int(length) > limit:
            await send_error(send, scope, BzError("payload_too_large"), request_id)
            return
        # Read the whole body first (it is small by design): a chunked body has no Content-Length,
        # so only counting what arrives enforces the limit.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await send_error(send, scope, BzError("payload_too_large"), request_id)
                return
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        replayed = False

        async def receive_buffered() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        head = scope["method"] == "HEAD"
        if head:  # answered as the GET it mirrors, without the body
            scope = {**scope, "method": "GET"}

        async def send_final(message: Message) -> None:
            if head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send_with_id(message)

        try:
            await self.app(scope, receive_buffered, send_final)
        except Exception:
            logger.exception("unhandled error", extra={"request_id": request_id})
            if not started:
                error = BzError("internal_error", params={"request_id": request_id})
                await send_error(send, scope, error, request_id)
