"""The inbox: conversations (contacts and groups) and their messages in both directions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import (
    DEVICE,
    GROUP_JID,
    LID_JID,
    PHONE_SERVER,
    SEPARATOR,
    MessageErrorOut,
    PartyOut,
    StatusChangeOut,
    whole,
)

_CHAT_PHONE = rf"{SEPARATOR}*\+?{SEPARATOR}*[1-9](?:{SEPARATOR}*[0-9]){{7,14}}{SEPARATOR}*"
CHAT_PATTERN = rf"^{_CHAT_PHONE}$|{whole(f'[1-9][0-9]{{7,14}}{DEVICE}@{PHONE_SERVER}|{LID_JID}|{GROUP_JID}')}"
"""A conversation's other side as bzapper.services.inbox.contact_of reads it: a group's JID, or a contact by
`@lid` JID, phone JID or E.164 (any number with a country code: the metadata may not know it yet)."""

_INST = "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"
_PHONE_JID = "5511988888888@s.whatsapp.net"
_LID = "123456789012345@lid"
_GROUP_JID = "120363025246125888@g.us"


class LastMessageOut(BaseModel):
    message_id: str
    direction: Literal["inbound", "outbound"]
    type: str
    text: str | None = Field(description="Body, caption or name, cut at 120 characters; null when it has none.")
    at: str


class ConversationOut(BaseModel):
    jid: str = Field(
        description="The contact's phone JID when its phone is known, else its `@lid` JID; a group's `@g.us` JID."
    )
    type: Literal["contact", "group"] = Field(
        description="`contact`: a one-to-one chat; `group`: a WhatsApp group (each message's `from` is who wrote it)."
    )
    instance_id: str
    phone: str | None = Field(description="E.164, when known; null for a group.")
    lid: str | None = Field(description="The contact's `@lid` JID, when known; null for a group.")
    name: str | None = Field(
        description="The contact's WhatsApp name, as its last message carried it; a group's subject when the "
        "engine reports it (the sandbox does, whatsmeow does not yet), else null."
    )
    unread_count: int
    last_message: LastMessageOut | None
    last_activity: str
    livemode: bool
    created: str


_CONVERSATION_EXAMPLE = {
    "jid": _PHONE_JID,
    "type": "contact",
    "instance_id": _INST,
    "phone": "+5511988888888",
    "lid": _LID,
    "name": "Maria",
    "unread_count": 2,
    "last_message": {
        "message_id": "msg_01JD5V9Q0A1B2C3D4E5F6G7H8J",
        "direction": "inbound",
        "type": "text",
        "text": "Is the order on its way?",
        "at": "2026-11-24T12:03:00.000Z",
    },
    "last_activity": "2026-11-24T12:03:00.000Z",
    "livemode": False,
    "created": "2026-11-24T12:00:00.000Z",
}


_GROUP_CONVERSATION_EXAMPLE = {
    "jid": _GROUP_JID,
    "type": "group",
    "instance_id": _INST,
    "phone": None,
    "lid": None,
    "name": "Orders team",
    "unread_count": 1,
    "last_message": {
        "message_id": "msg_01JD5VB2K3M4N5P6Q7R8S9T0V1",
        "direction": "inbound",
        "type": "text",
        "text": "Shipped the 3 boxes",
        "at": "2026-11-24T11:58:00.000Z",
    },
    "last_activity": "2026-11-24T11:58:00.000Z",
    "livemode": False,
    "created": "2026-11-20T09:00:00.000Z",
}


class ConversationList(BaseModel):
    data: list[ConversationOut] = Field(description="Newest activity first.")
    has_more: bool
    next_cursor: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": [_CONVERSATION_EXAMPLE, _GROUP_CONVERSATION_EXAMPLE],
                "has_more": False,
                "next_cursor": None,
            }
        }
    )


class ConversationReadOut(ConversationOut):
    receipts_sent: int = Field(description="Messages whose read receipts were handed to the number's session.")

    model_config = ConfigDict(
        json_schema_extra={"example": {**_CONVERSATION_EXAMPLE, "unread_count": 0, "receipts_sent": 2}}
    )


InboxStatusName = Literal[
    "received", "queued", "sending", "sent", "delivered", "read", "played", "failed", "expired", "canceled"
]


class InboxMessageOut(BaseModel):
    message_id: str
    wa_message_id: str = Field(description="WhatsApp's id: reactions, replies and edits name their target by it.")
    direction: Literal["inbound", "outbound"]
    sent_from: Literal["api", "phone"] | None = Field(
        description="Outbound only: sent through this API, or from the phone itself (its echo)."
    )
    from_: PartyOut | None = Field(
        alias="from", description="Inbound only: who sent it (in a group, the participant who wrote)."
    )
    chat_jid: str = Field(description="The chat as WhatsApp named it (a phone JID, an `@lid` or a group's `@g.us`).")
    type: str
    content: dict[str, Any] = Field(
        description="As sent; media as `{media_id, url: /media/{id}, mime_type, size, filename?}`; "
        "a verification code masked."
    )
    status: InboxStatusName = Field(description="Inbound: `received` or `read` (by POST …/read); outbound: its status.")
    history: list[StatusChangeOut] = Field(description="Outbound: every status reached, oldest first.")
    error: MessageErrorOut | None = None
    client_reference: str | None
    at: str = Field(description="When WhatsApp has it: received, or sent.")
    imported: bool = Field(
        default=False,
        description="Imported from the history WhatsApp handed the number when it was paired "
        "(`settings.history_sync`, docs/history.md): no event was published for it.",
    )

    model_config = ConfigDict(populate_by_name=True)


class ConversationMessages(BaseModel):
    conversation: ConversationOut
    data: list[InboxMessageOut] = Field(description="Both directions, newest first.")
    has_more: bool
    next_cursor: str | None

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "conversation": _CONVERSATION_EXAMPLE,
                "data": [
                    {
                        "message_id": "msg_01JD5V9Q0A1B2C3D4E5F6G7H8J",
                        "wa_message_id": "3A5F0C1D2E3F4A5B6C7D",
                        "direction": "inbound",
                        "sent_from": None,
                        "from": {"jid": _PHONE_JID, "phone": "+5511988888888", "lid": _LID, "name": "Maria"},
                        "chat_jid": _PHONE_JID,
                        "type": "image",
                        "content": {
                            "caption": "Is the order on its way?",
                            "media": {
                                "media_id": "med_01JD5V9Q0A1B2C3D4E5F6G7H8J",
                                "url": "/media/med_01JD5V9Q0A1B2C3D4E5F6G7H8J",
                                "mime_type": "image/jpeg",
                                "size": 48213,
                            },
                        },
                        "status": "received",
                        "history": [],
                        "error": None,
                        "client_reference": None,
                        "at": "2026-11-24T12:03:00.000Z",
                    },
                    {
                        "message_id": "msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                        "wa_message_id": "3EB0C5A1D2E3F4A5B6C7",
                        "direction": "outbound",
                        "sent_from": "api",
                        "from": None,
                        "chat_jid": _PHONE_JID,
                        "type": "text",
                        "content": {"body": "Hello"},
                        "status": "read",
                        "history": [
                            {"status": "queued", "at": "2026-11-24T12:00:00.000Z"},
                            {"status": "sending", "at": "2026-11-24T12:00:00.050Z"},
                            {"status": "sent", "at": "2026-11-24T12:00:00.120Z"},
                            {"status": "read", "at": "2026-11-24T12:01:00.000Z"},
                        ],
                        "error": None,
                        "client_reference": "lead-42",
                        "at": "2026-11-24T12:00:00.120Z",
                    },
                ],
                "has_more": True,
                "next_cursor": "eyJpIjoiaW5zdF8uLi4iLCJzIjoiLi4uIn0",
            }
        }
    )
