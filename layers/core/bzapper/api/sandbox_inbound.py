"""What a simulated contact may inject: each inbound type's content in the shape WhatsApp delivers it
(bzapper.domain.content), so the inbox and `message.received` never show what no phone could send.

The fields reuse the send endpoints' own rules (their pydantic fields, and the poll, contact and reaction
checks of POST /messages/*): a location injected is bounded as a location sent. Only what has no send
counterpart (a reaction's target, a quote, injected media bytes) is described here.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from bzapper.api.content import contact_content, poll_content, reaction_content
from bzapper.api.schemas.common import Strict
from bzapper.api.schemas.messages import (
    ContactCard,
    MessageEditRequest,
    SendAudioRequest,
    SendDocumentRequest,
    SendImageRequest,
    SendLocationRequest,
    SendPollRequest,
    SendReactionRequest,
    SendTextRequest,
    mentions_field,
)
from bzapper.domain.errors import BzError, validation_failed


class _Target(Strict):
    """The message a reaction, an edit or a revoke points at (as domain/content.py's `target`)."""

    wa_message_id: str = Field(min_length=1, max_length=128)
    chat_jid: str = Field(min_length=1, max_length=128)
    from_me: bool
    sender_jid: str | None = Field(default=None, min_length=1, max_length=128)


class _Quote(_Target):
    preview: str | None = Field(default=None, max_length=300)


class _InjectedMedia(Strict):
    """The bytes the simulated phone sends; the network checks the base64 and keeps them until acked."""

    mime_type: str = Field(min_length=3, max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+")
    data_base64: str = Field(min_length=1)
    filename: str | None = Field(default=None, min_length=1, max_length=240)


def _sent(model: type[BaseModel], name: str) -> tuple[Any, FieldInfo]:
    """A send request's field, rules and all, for the same field of inbound content."""
    info = model.model_fields[name]
    return info.annotation, copy.copy(info)


def _content_model(
    model_name: str, /, *names: str, sent: type[BaseModel] | None = None, **fields: Any
) -> type[BaseModel]:
    """A type's content: its own fields (`names` taken from the `sent` request), plus the quote and mentions
    every type may carry."""
    if sent is not None:
        fields |= {name: _sent(sent, name) for name in names}
    return create_model(  # type: ignore[call-overload,no-any-return]
        model_name,
        __config__=ConfigDict(extra="forbid"),
        reply_to=(_Quote | None, None),
        mentions=(list[str] | None, mentions_field()),
        **fields,
    )


_MEDIA = (_InjectedMedia, ...)
_CAPTION = _sent(SendImageRequest, "caption")

CONTENT_MODELS: dict[str, type[BaseModel]] = {
    "text": _content_model("InboundText", body=_sent(SendTextRequest, "body")),
    "image": _content_model("InboundImage", media=_MEDIA, caption=_CAPTION),
    "video": _content_model("InboundVideo", media=_MEDIA, caption=_CAPTION),
    "document": _content_model(
        "InboundDocument", media=_MEDIA, caption=_CAPTION, filename=_sent(SendDocumentRequest, "filename")
    ),
    "audio": _content_model("InboundAudio", media=_MEDIA, voice=_sent(SendAudioRequest, "voice")),
    "sticker": _content_model("InboundSticker", media=_MEDIA),
    "location": _content_model("InboundLocation", "latitude", "longitude", "name", "address", sent=SendLocationRequest),
    "contact": _content_model(
        "InboundContact",
        contacts=(list[ContactCard], Field(min_length=1, max_length=10)),
        vcards=(list[str] | None, Field(default=None, min_length=1, max_length=10)),
    ),
    "poll": _content_model("InboundPoll", "name", "options", "selectable_count", sent=SendPollRequest),
    "reaction": _content_model("InboundReaction", target=(_Target, ...), emoji=_sent(SendReactionRequest, "emoji")),
    "edit": _content_model("InboundEdit", target=(_Target, ...), body=_sent(MessageEditRequest, "body")),
    "revoke": _content_model("InboundRevoke", target=(_Target, ...)),
    "unknown": _content_model("InboundUnknown", raw_type=(str, Field(min_length=1, max_length=128))),
}


def renamed(error: BzError, param: str) -> BzError:
    """The same refusal, naming the field where the caller wrote it."""
    return BzError(error.code, message_key=error.message_key, param=param, params={**error.params, "param": param})


def _refusal(error: ValidationError) -> BzError:
    first = error.errors()[0]
    param = ".".join(["content", *(str(part) for part in first["loc"])])
    if first["type"] == "missing":
        return validation_failed(param, "error.validation_missing")
    return validation_failed(param)


def inbound_content(message_type: str, content: dict[str, Any]) -> dict[str, Any]:
    """The content to inject, checked against its type's shape (with its defaults filled in, e.g. an audio's
    `voice`); raises a 422 naming the offending field (`content.latitude`)."""
    try:
        checked = CONTENT_MODELS[message_type].model_validate(content)
    except ValidationError as error:
        raise _refusal(error) from None
    try:
        if message_type == "poll":
            poll_content(checked)  # type: ignore[arg-type]
        elif message_type == "reaction":
            reaction_content(checked)  # type: ignore[arg-type]
    except BzError as error:
        raise renamed(error, f"content.{error.param}") from None
    shaped = checked.model_dump(exclude_none=True, mode="json")
    if message_type == "contact" and "vcards" not in shaped:
        shaped["vcards"] = contact_content(checked)["vcards"]  # type: ignore[arg-type]  # WhatsApp carries both
    if message_type == "document" and "filename" not in shaped:
        shaped["filename"] = shaped["media"].get("filename") or "file"  # as a phone names an unnamed file
    return shaped
