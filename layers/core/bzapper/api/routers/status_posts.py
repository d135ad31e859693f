"""POST /status/{text,image,video}: status posts (WhatsApp "stories", docs/status.md), in the messages group.

Mounted by bzapper.api.routers.messages (the group's module): a status post is a message on the one send path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from bzapper.api.auth import authenticate
from bzapper.api.event_docs import document_event
from bzapper.api.idempotency import IDEMPOTENCY_HEADER, idempotency_request
from bzapper.api.schemas.common import error_responses
from bzapper.api.schemas.messages import MessageAccepted
from bzapper.api.schemas.status_posts import (
    StatusImageRequest,
    StatusMediaRequest,
    StatusPostedEvent,
    StatusTextRequest,
    StatusVideoRequest,
)
from bzapper.bootstrap import services
from bzapper.domain.errors import validation_failed
from bzapper.domain.media import MediaSource
from bzapper.domain.model import Principal
from bzapper.domain.status_posts import COLOR
from bzapper.services.sending import SendResult
from bzapper.services.status_posts import StatusPost, post_status

_POST_422 = (
    "Invalid request (`validation_failed`, with `param`: a color not `#RRGGBB`, a NUL in the text, a media id "
    "of another account or of the wrong kind) or `idempotency_conflict`; `not_supported` on a Cloud API number "
    "(no status there) and for an `audience` on a whatsmeow number (docs/status.md)."
)


def _errors() -> dict[int | str, dict[str, Any]]:
    responses = error_responses(401, 402, 404, 409, 413, 422, 429, 503)
    responses[422] = {**responses[422], "description": _POST_422}
    return responses


def _no_nul(value: str | None, param: str) -> None:
    if value is not None and "\x00" in value:
        raise validation_failed(param)


def _post(kind: str, request: StatusTextRequest | StatusMediaRequest, idempotency_key: str | None) -> StatusPost:
    body: str | None = None
    color: str | None = None
    font: str | None = None
    caption: str | None = None
    media: MediaSource | None = None
    if isinstance(request, StatusTextRequest):
        _no_nul(request.text, "text")
        if request.background_color is not None and not COLOR.match(request.background_color):
            raise validation_failed("background_color")
        body, color, font = request.text, request.background_color, request.font
    else:
        _no_nul(request.caption, "caption")
        if (request.url is None) == (request.media_id is None):
            raise validation_failed("url" if request.url is None else "media_id", "error.media_source")
        media = MediaSource(url=request.url, media_id=request.media_id)
        caption = request.caption
    return StatusPost(
        kind=kind,
        instance_id=request.instance_id,
        body=body,
        background_color=color,
        font=font,
        caption=caption,
        media=media,
        audience=tuple(request.audience or ()),
        client_reference=request.client_reference,
        idempotency=idempotency_request(
            idempotency_key, "POST", f"/status/{kind}", request.model_dump(mode="json", exclude_none=True)
        ),
    )


def _answer(result: SendResult, http: Request, response: Response) -> MessageAccepted:
    response.status_code = 202
    if result.rate is not None:
        http.state.rate_limit = result.rate  # the binding limit of a post, as of a send: the account's send bucket
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    accepted = result.accepted
    return MessageAccepted(
        message_id=accepted.message_id, status=accepted.status, client_reference=accepted.client_reference
    )


def _endpoint(kind: str, model: type[StatusTextRequest | StatusMediaRequest]) -> Callable[..., MessageAccepted]:
    def endpoint(
        request: Any,
        http: Request,
        response: Response,
        principal: Principal = Depends(authenticate),
        idempotency_key: str | None = IDEMPOTENCY_HEADER,
    ) -> MessageAccepted:
        return _answer(post_status(services(), principal, _post(kind, request, idempotency_key)), http, response)

    # Real classes, not strings (postponed annotations): FastAPI reads the body model from here.
    endpoint.__annotations__ = {
        "request": model,
        "http": Request,
        "response": Response,
        "principal": Principal,
        "idempotency_key": str | None,
        "return": MessageAccepted,
    }
    endpoint.__name__ = f"post_status_{kind}"
    return endpoint


POSTS: tuple[tuple[str, type[StatusTextRequest | StatusMediaRequest], str], ...] = (
    ("text", StatusTextRequest, "Post a text status"),
    ("image", StatusImageRequest, "Post an image status"),
    ("video", StatusVideoRequest, "Post a video status"),
)


def register(router: APIRouter, webhooks: APIRouter) -> None:
    """Adds the routes to the messages group's router and `status.posted` to its webhooks (routes of their own,
    not an included router: the app documents error bodies and rate limits route by route)."""
    for kind, model, summary in POSTS:
        router.add_api_route(
            f"/status/{kind}",
            _endpoint(kind, model),
            methods=["POST"],
            status_code=202,
            response_model=MessageAccepted,
            summary=summary,
            description=(
                f"{(model.__doc__ or '').strip()} A message of type `status` to `status@broadcast`, on the send "
                "path of every message (queued, retried, never posted twice; Idempotency-Key honoured), charged as "
                "one message; `GET /messages/{id}` follows it, and `status.posted` tells when WhatsApp accepted it."
            ),
            name=f"post_status_{kind}",
            responses=_errors(),
        )
    document_event(
        webhooks,
        "status.posted",
        StatusPostedEvent,
        "WhatsApp accepted a status post (POST /status/{kind}).",
        description="Signed like every event (docs/webhooks.md). Once per post; its statuses come as `message.*` "
        "events on `data.message_id`.",
    )
