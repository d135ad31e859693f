"""What a simulated contact may inject: each inbound type's content in the shape WhatsApp delivers it
(bzapper.domain.content), so the inbox and `message.received` never show what no phone could send.

The fields reuse the send endpoints' own rules (their pydantic fields, and the poll, contact and reaction
checks of POST /messages/*): a location injected is bounded as a location sent. Only what has no send
counterpart (a reaction's target, a quote, injected media bytes) is described here. api/sandbox_inbound.py
checks an injection against these models.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from bzapper.api.schemas.common import REQUEST_CONFIG, Strict
from bzapper.api.schemas.messages import (
    SELECTABLE_AT_MOST_OPTIONS,
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

BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$"
"""Standard base64 with its padding, at least one byte: what the sandbox network decodes (strictly)."""


class InboundTarget(Strict):
    """The message a reaction, an edit or a revoke points at (as domain/content.py's `target`)."""

    wa_message_id: str = Field(min_length=1, max_length=128)
    chat_jid: str = Field(min_length=1, max_length=128)
    from_me: bool
    sender_jid: str | None = Field(default=None, min_length=1, max_length=128)


class InboundQuote(InboundTarget):
    preview: str | None = Field(default=None, max_length=300)


class InjectedMedia(Strict):
    """The bytes the simulated phone sends; the network checks the base64 and keeps them until acked."""

    mime_type: str = Field(min_length=3, max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+")
    data_base64: str = Field(min_length=1, json_schema_extra={"pattern": BASE64})
    filename: str | None = Field(default=None, min_length=1, max_length=240)


def _sent(model: type[BaseModel], name: str) -> tuple[Any, FieldInfo]:
    """A send request's field, rules and all, for the same field of inbound content."""
    info = model.model_fields[name]
    return info.annotation, copy.copy(info)


def _content_model(
    model_name: str, /, *names: str, sent: type[BaseModel] | None = None, rules: dict | None = None, **fields: Any
) -> type[BaseModel]:
    """A type's content: its own fields (`names` taken from the `sent` request), plus the quote and mentions
    every type may carry. `rules` are the schema keywords across its fields (as the send's)."""
    if sent is not None:
        fields |= {name: _sent(sent, name) for name in names}
    return create_model(  # type: ignore[call-overload,no-any-return]
        model_name,
        __config__=ConfigDict(**REQUEST_CONFIG, json_schema_extra=rules),
        reply_to=(InboundQuote | None, None),
        mentions=(list[str] | None, mentions_field()),
        **fields,
    )


_MEDIA = (InjectedMedia, ...)
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
    "poll": _content_model(
        "InboundPoll", "name", "options", "selectable_count", sent=SendPollRequest, rules=SELECTABLE_AT_MOST_OPTIONS
    ),
    "reaction": _content_model(
        "InboundReaction", target=(InboundTarget, ...), emoji=_sent(SendReactionRequest, "emoji")
    ),
    "edit": _content_model("InboundEdit", target=(InboundTarget, ...), body=_sent(MessageEditRequest, "body")),
    "revoke": _content_model("InboundRevoke", target=(InboundTarget, ...)),
    "unknown": _content_model("InboundUnknown", raw_type=(str, Field(min_length=1, max_length=128))),
}

BODY_SHORTCUT = ("text", "edit")
"""The types whose `content.body` may come as the request's own `body` instead."""


def beside_body(model: type[BaseModel]) -> type[BaseModel]:
    """The content beside the request's own `body` (for the contract only): the same fields, `body` left out."""
    fields = {name: _sent(model, name) for name in model.model_fields if name != "body"}
    return create_model(f"{model.__name__}BesideBody", __config__=REQUEST_CONFIG, **fields)  # type: ignore[call-overload,no-any-return]


CONTENT_BESIDE_BODY = {message_type: beside_body(CONTENT_MODELS[message_type]) for message_type in BODY_SHORTCUT}
