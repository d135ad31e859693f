"""What every send-like POST shares (POST /messages/{type}, POST /status/{kind}): its endpoint built per request
model, the file it names, and its 202 answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request, Response

from bzapper.api.auth import authenticate
from bzapper.api.idempotency import IDEMPOTENCY_HEADER
from bzapper.api.schemas.messages import MessageAccepted
from bzapper.domain.errors import validation_failed
from bzapper.domain.media import MediaSource
from bzapper.domain.model import Principal
from bzapper.services.sending import SendResult

Accept = Callable[[Any, Request, Response, Principal, str | None], MessageAccepted]
"""(the request model, the request, the response, the caller, its Idempotency-Key) → the 202's body."""


def endpoint_of(name: str, model: type, accept: Accept) -> Callable[..., MessageAccepted]:
    """An endpoint whose body is `model` (its own request model in the contract), answered by `accept`."""

    def endpoint(
        request: Any,
        http: Request,
        response: Response,
        principal: Principal = Depends(authenticate),
        idempotency_key: str | None = IDEMPOTENCY_HEADER,
    ) -> MessageAccepted:
        return accept(request, http, response, principal, idempotency_key)

    # Real classes, not strings (postponed annotations): FastAPI reads the body model from here.
    endpoint.__annotations__ = {
        "request": model,
        "http": Request,
        "response": Response,
        "principal": Principal,
        "idempotency_key": str | None,
        "return": MessageAccepted,
    }
    endpoint.__name__ = name
    return endpoint


def media_source(request: Any) -> MediaSource | None:
    """The file a request names: exactly one of `url` and `media_id` (None for a request that takes no file)."""
    if not hasattr(request, "media_id"):
        return None
    if (request.url is None) == (request.media_id is None):
        raise validation_failed("url" if request.url is None else "media_id", "error.media_source")
    return MediaSource(
        url=request.url,
        media_id=request.media_id,
        mime_type=getattr(request, "mime_type", None),
        filename=getattr(request, "filename", None),
        voice=getattr(request, "voice", False),
    )


def accepted(result: SendResult, http: Request, response: Response) -> MessageAccepted:
    """The 202 of a send: its binding rate limit (the account's send bucket) in the headers, a replay flagged."""
    response.status_code = 202
    if result.rate is not None:
        http.state.rate_limit = result.rate
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    sent = result.accepted
    return MessageAccepted(message_id=sent.message_id, status=sent.status, client_reference=sent.client_reference)
