"""POST /status/{text,image,video}: status posts (WhatsApp "stories", docs/status.md), in the messages group.

Mounted by bzapper.api.routers.messages (the group's module): a status post is a message on the one send path.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from bzapper.api.accepted import Accept, accepted, endpoint_of, media_source
from bzapper.api.event_docs import document_event
from bzapper.api.idempotency import idempotency_request
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
from bzapper.domain.model import Principal
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


def _post(kind: str, request: StatusTextRequest | StatusMediaRequest, idempotency_key: str | None) -> StatusPost:
    if isinstance(request, StatusTextRequest):
        body, color, font = request.text, request.background_color, request.font
        caption, media = None, None
    else:
        body, color, font = None, None, None
        caption, media = request.caption, media_source(request)
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


def _accept(kind: str) -> Accept:
    def accept(
        request: Any, http: Request, response: Response, principal: Principal, key: str | None
    ) -> MessageAccepted:
        return accepted(post_status(services(), principal, _post(kind, request, key)), http, response)

    return accept


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
            endpoint_of(f"post_status_{kind}", model, _accept(kind)),
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
