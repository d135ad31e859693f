"""The Groups API's bodies and answers (docs/groups.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import IN_NUMBERING_PLAN, Recipient, Strict
from bzapper.api.schemas.events import EventBase

_INSTANCE = "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"
_JID = "120363025246125888@g.us"
_LINK = "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv"
_GROUP = {
    "jid": _JID,
    "subject": "Orders team",
    "description": "Orders and deliveries",
    "announce": False,
    "locked": True,
    "picture": None,
    "owner": {"jid": "5511955550001@s.whatsapp.net", "phone": "+5511955550001", "lid": "123456789012345678@lid"},
    "created_at": 1790000000000,
    "participants": [
        {
            "jid": "5511955550001@s.whatsapp.net",
            "phone": "+5511955550001",
            "lid": "123456789012345678@lid",
            "role": "superadmin",
        },
        {"jid": "5511988880001@s.whatsapp.net", "phone": "+5511988880001", "lid": None, "role": "member"},
    ],
}
_RESULT = {
    "input": "+5511988880001",
    "jid": "5511988880001@s.whatsapp.net",
    "phone": "+5511988880001",
    "lid": None,
    "status": "added",
    "invite_code": None,
}


def _example(value: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"example": value})


def _instance_id() -> Any:
    return Field(min_length=1, max_length=64, description="The connected number that acts (it must be in the group).")


class Person(BaseModel):
    jid: str | None = None
    phone: str | None = Field(default=None, description="E.164, when WhatsApp names them by phone.")
    lid: str | None = Field(default=None, description="Their `@lid` JID, when known.")


class Participant(Person):
    role: Literal["superadmin", "admin", "member"]


class GroupOut(BaseModel):
    jid: str
    subject: str
    description: str
    announce: bool = Field(description="Only admins send messages.")
    locked: bool = Field(description="Only admins change the group's subject, description and picture.")
    picture: str | None = Field(default=None, description="The picture's media id, when set through this API.")
    owner: Person
    created_at: int = Field(description="Unix time in milliseconds.")
    participants: list[Participant]

    model_config = _example(_GROUP)


class GroupList(BaseModel):
    data: list[GroupOut]

    model_config = _example({"data": [_GROUP]})


class ParticipantResult(Person):
    input: str
    status: str = Field(
        description="`added`/`ok`, `already_participant`, `not_a_participant`, `already_admin`, `not_admin`, "
        "`not_allowed` (the creator), `invite_required` (their privacy settings: they get an invite instead), "
        "`recently_left`, `blocked`, `not_on_whatsapp`, `refused`."
    )
    invite_code: str | None = Field(default=None, description="WhatsApp's add-request code, for `invite_required`.")


class ParticipantResults(BaseModel):
    data: list[ParticipantResult]

    model_config = _example({"data": [_RESULT | {"status": "ok"}]})


class GroupCreated(BaseModel):
    group: GroupOut
    participants: list[ParticipantResult]

    model_config = _example({"group": _GROUP, "participants": [_RESULT]})


SUBJECT_PATTERN = r"\S"
"""A subject with something besides spaces: WhatsApp refuses a blank one."""


class GroupCreate(Strict):
    instance_id: str = _instance_id()
    subject: str = Field(min_length=1, max_length=100, pattern=SUBJECT_PATTERN)
    participants: list[Recipient] = Field(
        default_factory=list, max_length=256, description="Phones or JIDs to add." + IN_NUMBERING_PLAN
    )

    model_config = _example({"instance_id": _INSTANCE, "subject": "Orders team", "participants": ["+5511988880001"]})


class GroupUpdate(Strict):
    """Only the fields sent change; `picture: null` removes the picture, `description: ""` clears the description.
    Null is no subject, description, announce or locked (omit the field to keep it)."""

    instance_id: str = _instance_id()
    subject: str = Field(default=None, min_length=1, max_length=100, pattern=SUBJECT_PATTERN)  # type: ignore[assignment]
    description: str = Field(default=None, max_length=2048)  # type: ignore[assignment]
    picture: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="A media id (`med_…`) of this account's JPEG or PNG (POST /media): a 422 on `picture` otherwise. "
        "`null` removes the picture where the engine can.",
    )
    announce: bool = None  # type: ignore[assignment]  # omitted: unchanged; null is not a value
    locked: bool = None  # type: ignore[assignment]  # omitted: unchanged; null is not a value

    model_config = _example({"instance_id": _INSTANCE, "subject": "Orders team", "announce": True})


class ParticipantsChange(Strict):
    instance_id: str = _instance_id()
    action: Literal["add", "remove", "promote", "demote"]
    participants: list[Recipient] = Field(min_length=1, max_length=256)

    model_config = _example({"instance_id": _INSTANCE, "action": "promote", "participants": ["+5511988880001"]})


class InstanceOnly(Strict):
    instance_id: str = _instance_id()

    model_config = _example({"instance_id": _INSTANCE})


class GroupJoin(Strict):
    instance_id: str = _instance_id()
    invite_link: str = Field(
        min_length=1, max_length=128, description="`https://chat.whatsapp.com/<code>`, or the code alone."
    )

    model_config = _example({"instance_id": _INSTANCE, "invite_link": _LINK})


class InviteLink(BaseModel):
    invite_link: str

    model_config = _example({"invite_link": _LINK})


# -- events (the contract's `webhooks` section; GET /stream sends the same envelopes) ------------------------


class GroupEventData(BaseModel):
    group_jid: str
    by: Person | None = Field(
        description="Who made the change (a participant, or this number itself); null when unknown."
    )


class GroupJoinedData(GroupEventData):
    group: GroupOut | None = Field(default=None, description="The group as this number now sees it.")


class GroupLeftData(GroupEventData):
    reason: Literal["left", "removed"] | None = Field(default=None, description="`removed` when an admin removed it.")


class GroupUpdatedData(GroupEventData):
    changes: dict[str, Any] = Field(
        description="What changed: `subject`, `description`, `picture`, `announce`, `locked` with their new values, "
        'or `{"invite_link": "revoked"}`.'
    )
    group: GroupOut | None = None


class GroupParticipantsChangedData(GroupEventData):
    action: Literal["add", "remove", "promote", "demote", "join", "leave"]
    participants: list[Person]


_EVENT = {
    "id": "evt_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
    "created": "2026-11-24T12:00:00.400Z",
    "livemode": False,
    "account_id": "acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
    "instance_id": _INSTANCE,
}
_BY = {"jid": "5511955550001@s.whatsapp.net", "phone": "+5511955550001", "lid": "123456789012345678@lid"}


class GroupJoinedEvent(EventBase):
    data: GroupJoinedData

    model_config = _example(_EVENT | {"type": "group.joined", "data": {"group_jid": _JID, "by": _BY, "group": _GROUP}})


class GroupLeftEvent(EventBase):
    data: GroupLeftData

    model_config = _example(
        _EVENT | {"type": "group.left", "data": {"group_jid": _JID, "by": _BY, "reason": "removed"}}
    )


class GroupUpdatedEvent(EventBase):
    data: GroupUpdatedData

    model_config = _example(
        _EVENT | {"type": "group.updated", "data": {"group_jid": _JID, "by": _BY, "changes": {"announce": True}}}
    )


class GroupParticipantsChangedEvent(EventBase):
    data: GroupParticipantsChangedData

    model_config = _example(
        _EVENT
        | {
            "type": "group.participants_changed",
            "data": {
                "group_jid": _JID,
                "by": _BY,
                "action": "promote",
                "participants": [{"jid": "5511988880001@s.whatsapp.net", "phone": "+5511988880001", "lid": None}],
            },
        }
    )
