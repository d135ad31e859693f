"""The content of each message type (the shapes of bzapper.domain.content), built from its request model.

Shared by the send endpoints and the sandbox's inbound injection, which checks an injected message against the
same field rules a send obeys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from bzapper.api.schemas.messages import (
    SendButtonsRequest,
    SendContactRequest,
    SendListRequest,
    SendPollRequest,
    SendReactionRequest,
)
from bzapper.domain.composing import render_vcard, valid_reaction
from bzapper.domain.errors import validation_failed

MAX_LIST_ROWS = 10


def _fields(request: BaseModel, *names: str) -> dict[str, Any]:
    """The named fields that were given (None and empty are left out, as the content shapes say)."""
    values = request.model_dump(include=set(names), exclude_none=True, mode="json")
    return {name: values[name] for name in names if name in values and values[name] not in ([], "")}


def poll_content(request: SendPollRequest) -> dict[str, Any]:
    if len({option.strip().casefold() for option in request.options}) != len(request.options):
        raise validation_failed("options", "error.poll_options_unique")
    if request.selectable_count > len(request.options):
        raise validation_failed("selectable_count", "error.poll_selectable_count")
    return _fields(request, "name", "options", "selectable_count")


def contact_content(request: SendContactRequest) -> dict[str, Any]:
    contacts = [
        _fields(card, "name", "phones", "emails", "organization")
        | {"phones": [phone.model_dump(exclude_none=True) for phone in card.phones]}
        for card in request.contacts
    ]
    return {"contacts": contacts, "vcards": [render_vcard(contact) for contact in contacts]}


def reaction_content(request: SendReactionRequest) -> dict[str, Any]:
    if not valid_reaction(request.emoji):
        raise validation_failed("emoji", "error.reaction_emoji")
    return {"emoji": request.emoji}


def _unique(ids: list[str], param: str) -> None:
    if len(set(ids)) != len(ids):
        raise validation_failed(param, "error.duplicate_ids")


def _buttons(request: SendButtonsRequest) -> dict[str, Any]:
    _unique([button.id for button in request.buttons], "buttons")
    return _fields(request, "body", "footer", "buttons")


def _list(request: SendListRequest) -> dict[str, Any]:
    rows = [row for section in request.sections for row in section.rows]
    if len(rows) > MAX_LIST_ROWS:
        raise validation_failed("sections", "error.list_rows", limit=MAX_LIST_ROWS)
    _unique([row.id for row in rows], "sections")
    return _fields(request, "body", "footer", "button_text", "sections")


_CONTENT: dict[str, Callable[[Any], dict[str, Any]]] = {
    "text": lambda request: _fields(request, "body"),
    "image": lambda request: _fields(request, "caption"),
    "video": lambda request: _fields(request, "caption"),
    "document": lambda request: _fields(request, "caption"),
    "audio": lambda request: {"voice": request.voice},
    "sticker": lambda request: {},
    "location": lambda request: _fields(request, "latitude", "longitude", "name", "address"),
    "contact": contact_content,
    "poll": poll_content,
    "reaction": reaction_content,
    "buttons": _buttons,
    "list": _list,
    # Checked against the stored template after the idempotency lock (bzapper.services.templates).
    "template": lambda request: {"template": request.template.model_dump(mode="json")},
}


def content_of(message_type: str, request: Any) -> dict[str, Any]:
    """The stored content of a send of this type (raises the 422 of a rule the request breaks)."""
    return _CONTENT[message_type](request)
