"""Contacts of a number: presence, blocking and a contact's profile (docs/presence.md, docs/profiles.md).
Every call is a question to the worker holding the number (the engine does the WhatsApp part)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request

from bzapper.api.apps import allowed_methods
from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.event_docs import document_events
from bzapper.api.schemas.common import DESTINATION_PATTERN, IN_NUMBERING_PLAN, RECIPIENT_PATTERN, error_responses
from bzapper.api.schemas.presence import (
    BlockedList,
    BlockRequest,
    BlockState,
    ChatPresenceRequest,
    OwnPresenceRequest,
    PresenceSent,
    PresenceUpdatedEvent,
)
from bzapper.api.schemas.profiles import ContactProfile
from bzapper.bootstrap import services
from bzapper.domain.errors import BzError
from bzapper.domain.model import Principal
from bzapper.services import presence as presence_service
from bzapper.services import profiles

router = APIRouter(tags=["contacts"], route_class=JsonRoute)

# -- presence and blocking (docs/presence.md) ------------------------------------------------------------

CHAT_JID = Path(
    description="The chat: a contact (E.164, phone JID or `@lid`) or a group (`…@g.us`); URL-encode `+` and `@`.",
    json_schema_extra={"pattern": DESTINATION_PATTERN},
    examples=["5511988880001@s.whatsapp.net"],
)
CONTACT_JID = Path(
    description="The contact: a phone (E.164; URL-encode the `+`), a phone JID or an `@lid` JID (never a group)."
    + IN_NUMBERING_PLAN,
    json_schema_extra={"pattern": RECIPIENT_PATTERN},
    examples=["+5511988880001"],
)
PRESENCE_ERRORS = error_responses(401, 403, 404, 409, 422, 503)


@router.post(
    "/chats/{jid}/presence",
    response_model=PresenceSent,
    summary='Show "typing…" or "recording audio…" in a chat, or stop',
    responses=PRESENCE_ERRORS,
)
def chat_presence(body: ChatPresenceRequest, jid: str = CHAT_JID, principal: Principal = Depends(authenticate)) -> Any:
    return presence_service.send_chat_presence(services(), principal, body.instance_id, jid, body.state)


@router.post(
    "/instances/{instance_id}/presence",
    response_model=PresenceSent,
    summary="Show the number online (available) or not (unavailable)",
    responses=PRESENCE_ERRORS,
)
def own_presence(
    body: OwnPresenceRequest,
    instance_id: str = Path(examples=["inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"]),
    principal: Principal = Depends(authenticate),
) -> Any:
    return presence_service.send_presence(services(), principal, instance_id, body.state)


@router.get(
    "/contacts/blocked",
    response_model=BlockedList,
    summary="The contacts a number blocks",
    responses=PRESENCE_ERRORS,
)
def blocked(
    instance_id: str = Query(min_length=1, max_length=64, description="The connected number."),
    principal: Principal = Depends(authenticate),
) -> Any:
    return {"data": presence_service.blocked(services(), principal, instance_id)}


@router.post(
    "/contacts/{jid}/block",
    response_model=BlockState,
    summary="Block a contact (blocking a blocked one answers its state)",
    responses=PRESENCE_ERRORS,
)
def block(body: BlockRequest, jid: str = CONTACT_JID, principal: Principal = Depends(authenticate)) -> Any:
    return presence_service.block(services(), principal, body.instance_id, jid, blocking=True)


@router.post(
    "/contacts/{jid}/unblock",
    response_model=BlockState,
    summary="Unblock a contact (unblocking one not blocked answers its state)",
    responses=PRESENCE_ERRORS,
)
def unblock(body: BlockRequest, jid: str = CONTACT_JID, principal: Principal = Depends(authenticate)) -> Any:
    return presence_service.block(services(), principal, body.instance_id, jid, blocking=False)


# -- a contact's profile (docs/profiles.md): after GET /contacts/blocked, whose literal path wins ------

ASKING = Query(min_length=1, max_length=64, description="The connected number that looks the contact up.")


def _own_path(request: Request) -> None:
    """`/contacts/checkIsOnWhatsApp` (POST) is another route's literal path, the most specific template for it
    (as on API Gateway): a GET there is a 405 naming the methods it has, not a contact of that name."""
    allowed = allowed_methods(request.url.path)
    if request.method not in allowed:
        params = {"method": request.method, "path": request.url.path}
        raise BzError("method_not_allowed", params=params, headers={"Allow": ", ".join(allowed)})


@router.get(
    "/contacts/{jid}",
    response_model=ContactProfile,
    summary="A contact's WhatsApp profile: name, phone, LID, about, business or not, picture",
    # 404: also `not_on_whatsapp`, a number WhatsApp does not know.
    responses=error_responses(401, 403, 404, 409, 422, 503),
    dependencies=[Depends(_own_path)],
)
def get_contact(jid: str = CONTACT_JID, instance_id: str = ASKING, principal: Principal = Depends(authenticate)) -> Any:
    return profiles.contact(services(), principal, instance_id, jid)


# The contacts' events (the contract's `webhooks` section).
webhooks = APIRouter()

_EVENTS = {
    "presence.updated": (
        PresenceUpdatedEvent,
        "A contact's presence (online, typing…, recording…): only with `settings.presence_events` on.",
    ),
}


document_events(webhooks, _EVENTS)
