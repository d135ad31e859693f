"""Presence and blocking: bodies, answers and the presence.updated event (docs/presence.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import (
    GROUP_JID,
    IN_NUMBERING_PLAN,
    Recipient,
    Strict,
    whole,
)
from bzapper.api.schemas.events import EventBase

_INSTANCE = "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"
_CONTACT = {"jid": "5511988880001@s.whatsapp.net", "phone": "+5511988880001", "lid": "123456789012345678@lid"}


def _example(value: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"example": value})


def _instance_id() -> Any:
    return Field(min_length=1, max_length=64, description="The connected number that acts.")


class ChatPresenceRequest(Strict):
    instance_id: str = _instance_id()
    state: Literal["composing", "recording", "paused"] = Field(
        description='`composing` shows "typing…", `recording` "recording audio…", `paused` stops either.'
    )

    model_config = _example({"instance_id": _INSTANCE, "state": "composing"})


class OwnPresenceRequest(Strict):
    state: Literal["available", "unavailable"] = Field(
        description="`available`: the number shows online; `unavailable`: it does not (WhatsApp then shows the "
        "phone's own presence). `settings.always_online` sets `available` again at every connection."
    )

    model_config = _example({"state": "available"})


class PresenceSent(BaseModel):
    instance_id: str
    jid: str | None = Field(description="The chat it was shown in; null for the number's own presence.")
    state: Literal["composing", "recording", "paused", "available", "unavailable"]

    model_config = _example({"instance_id": _INSTANCE, "jid": _CONTACT["jid"], "state": "composing"})


class BlockRequest(Strict):
    instance_id: str = _instance_id()

    model_config = _example({"instance_id": _INSTANCE})


class BlockedContact(BaseModel):
    jid: str | None
    phone: str | None = Field(description="E.164, when known.")
    lid: str | None = Field(description="Their `@lid` JID, when known.")


class BlockState(BlockedContact):
    blocked: bool = Field(description="Whether the number blocks the contact now.")

    model_config = _example(_CONTACT | {"blocked": True})


class BlockedList(BaseModel):
    data: list[BlockedContact]

    model_config = _example({"data": [_CONTACT]})


# -- the event (the contract's `webhooks` section; GET /stream sends the same envelope) ------------------------


class PresenceUpdatedData(BaseModel):
    jid: str | None = Field(description="The contact, as WhatsApp named them.")
    phone: str | None = Field(description="E.164, when known.")
    lid: str | None = Field(description="Their `@lid` JID, when known.")
    chat: str | None = Field(description="The group's JID when the contact types in a group; null otherwise.")
    state: Literal["available", "unavailable", "composing", "recording", "paused"] = Field(
        description="`available`/`unavailable`: the contact's own presence; `composing`, `recording`, `paused`: "
        "typing, recording audio, or stopped, in a chat with the number."
    )
    last_seen: str | None = Field(description="When the contact was last online, when WhatsApp tells it.")
    at: str


class PresenceUpdatedEvent(EventBase):
    data: PresenceUpdatedData

    model_config = _example(
        {
            "id": "evt_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
            "type": "presence.updated",
            "created": "2026-11-24T12:00:00.400Z",
            "livemode": False,
            "account_id": "acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
            "instance_id": _INSTANCE,
            "data": _CONTACT
            | {"chat": None, "state": "composing", "last_seen": None, "at": "2026-11-24T12:00:00.400Z"},
        }
    )


# -- the sandbox's side (test keys only): what a simulated contact saw, and a contact showing its presence -------


class SandboxPresenceRequest(Strict):
    sender: Recipient = Field(
        alias="from",
        min_length=1,
        max_length=64,
        description="The contact who shows it: E.164, a phone JID or an `@lid` JID." + IN_NUMBERING_PLAN,
    )
    state: Literal["available", "unavailable", "composing", "recording", "paused"]
    chat: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        json_schema_extra={"pattern": whole(GROUP_JID)},
        description="A group (`…@g.us`) the contact types in; without it, its chat with the number. Only with "
        "composing, recording or paused.",
    )

    model_config = _example({"from": "+5511988880001", "state": "composing"})


class SandboxPresenceShown(BaseModel):
    instance_id: str
    delivered: bool = Field(
        description="False when the number blocks the contact (it sees nothing). presence.updated follows only "
        "with the instance's `settings.presence_events` on."
    )

    model_config = _example({"instance_id": _INSTANCE, "delivered": True})


class SandboxContactPresence(BaseModel):
    instance_id: str = Field(description="One of the account's numbers that showed the contact something.")
    blocked: bool = Field(description="The number blocks this contact (then it sees no presence of it).")
    online: Literal["available", "unavailable"] | None = Field(description="The number's own presence, as seen.")
    online_at: str | None
    chat_state: Literal["composing", "recording", "paused"] | None = Field(
        description="The last typing / recording / paused the number showed the contact."
    )
    chat_jid: str | None = Field(description="The group it was shown in; null for the contact's own chat.")
    chat_state_at: str | None


class SandboxContactPresenceList(BaseModel):
    data: list[SandboxContactPresence]

    model_config = _example(
        {
            "data": [
                {
                    "instance_id": _INSTANCE,
                    "blocked": False,
                    "online": "available",
                    "online_at": "2026-11-24T12:00:00.000Z",
                    "chat_state": "composing",
                    "chat_jid": None,
                    "chat_state_at": "2026-11-24T12:00:01.000Z",
                }
            ]
        }
    )
