"""Posting a status (WhatsApp "stories"): a message of type "status" on the one send path (docs/status.md).

Everything a message has, a status post has: the outbox and the number's worker, the Idempotency-Key, one
message's price from the wallet (free in test mode, like every send there), a record `GET /messages/{id}`
shows with its statuses, `message.*` events, and one `status.posted` when WhatsApp accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bzapper.domain.clock import iso
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.events import envelope
from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.domain.media import MediaSource
from bzapper.domain.model import InstanceRef, MessageView, Principal
from bzapper.domain.phones import InvalidRecipient, parse_recipient
from bzapper.domain.sending import SendDraft
from bzapper.domain.status_posts import (
    MEDIA_KINDS,
    POSTED_EVENT,
    STATUS_JID,
    STATUS_TYPE,
    media_content,
    posted_data,
    text_content,
)
from bzapper.services.container import Services
from bzapper.services.sending import SendResult, send_message

AUDIENCE_ENGINES = frozenset({"sandbox"})
"""Engines that post to a chosen audience. whatsmeow (through neonize 0.5.2) sends status@broadcast to the
contacts whatsmeow knows and takes no participant list, so an audience there is refused, never ignored."""

STATUS_ENGINES = frozenset({"sandbox", "whatsmeow"})
"""A Cloud API number has no status: WhatsApp's Cloud API offers none."""


@dataclass(frozen=True, slots=True)
class StatusPost:
    """One POST /status/{kind}, as the client gave it."""

    kind: str
    instance_id: str
    body: str | None = None
    background_color: str | None = None
    font: str | None = None
    caption: str | None = None
    media: MediaSource | None = None
    audience: tuple[str, ...] = ()
    client_reference: str | None = None
    idempotency: IdempotencyRequest | None = None


def post_status(services: Services, principal: Principal, post: StatusPost) -> SendResult:
    if post.kind == "text":
        assert post.body is not None
        content = text_content(post.body, post.background_color, post.font)
    elif post.kind in MEDIA_KINDS:
        content = media_content(post.kind, post.caption)
    else:
        raise validation_failed("kind")
    if post.audience:
        content["audience"] = audience_jids(post.audience)
    draft = SendDraft(
        type=STATUS_TYPE,
        to=STATUS_JID,
        instance_id=post.instance_id,
        content=content,
        client_reference=post.client_reference,
        idempotency=post.idempotency,
        media=post.media,
    )
    return send_message(services, principal, draft)


def audience_jids(audience: tuple[str, ...]) -> list[str]:
    """Each phone or JID as the JID WhatsApp sends to, refused at `audience.<i>` when invalid or repeated."""
    jids: list[str] = []
    for index, value in enumerate(audience):
        try:
            jid = parse_recipient(value).jid
        except InvalidRecipient as error:
            raise validation_failed(f"audience.{index}", "error.invalid_recipient", value=value) from error
        if jid in jids:
            raise validation_failed(f"audience.{index}", "error.status_audience_duplicate", value=value)
        jids.append(jid)
    return jids


def check_status_engine(instance: InstanceRef, content: dict[str, Any]) -> None:
    """422 `not_supported` naming the engine, before anything is locked or charged."""
    if instance.engine not in STATUS_ENGINES:
        raise BzError(
            "not_supported",
            message_key="error.status_engine_unsupported",
            params={"engine": instance.engine},
            status=422,
        )
    if content.get("audience") and instance.engine not in AUDIENCE_ENGINES:
        raise BzError(
            "not_supported",
            message_key="error.status_audience_unsupported",
            params={"engine": instance.engine},
            status=422,
        )


def posted_event(view: MessageView, at: int) -> dict[str, Any]:
    """The one `status.posted` of a status post: its id derives from the post, so a re-publish is the same event."""
    return envelope(
        POSTED_EVENT,
        at_ms=at,
        account_id=view.account_id,
        instance_id=view.instance_id,
        livemode=view.livemode,
        data=posted_data(view.message_id, view.content, view.client_reference, iso(at)),
        identity=(view.message_id,),
    )
