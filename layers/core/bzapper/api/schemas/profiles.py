"""Profiles: the number's own (GET/PATCH /instances/{id}/profile) and a contact's (GET /contacts/{jid})
(docs/profiles.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import Strict
from bzapper.domain.profiles import MAX_ABOUT, MAX_PUSH_NAME
from bzapper.domain.text import DISPLAY_TEXT_PATTERN

_PICTURE = {"media_id": "med_01JD5V9Q0A1B2C3D4E5F6G7H8J", "url": "/media/med_01JD5V9Q0A1B2C3D4E5F6G7H8J"}
_NO_CONTROL = DISPLAY_TEXT_PATTERN
"""No control, zero-width or bidi character (NUL, a line break, U+202E…): WhatsApp shows a name or an about text
on one line, as a person reads it."""


def _example(value: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"example": value})


class Picture(BaseModel):
    media_id: str = Field(description="Our media id for this picture: the same while the picture stays the same.")
    url: str = Field(description="`/media/{media_id}`: a stable link (GET it with a key with `media:read`).")


class ProfileOut(BaseModel):
    jid: str = Field(description="The number's phone JID.")
    phone: str | None = Field(description="E.164.")
    lid: str | None = Field(default=None, description="The number's `@lid` JID, when known.")
    push_name: str | None = Field(description="The name contacts see (WhatsApp's push name).")
    about: str | None = Field(description="The About text.")
    business: bool = Field(description="A WhatsApp Business account (it has a verified business name).")
    picture: Picture | None = Field(description="The profile picture, or null when there is none.")

    model_config = _example(
        {
            "jid": "5511955550001@s.whatsapp.net",
            "phone": "+5511955550001",
            "lid": "123456789012345678@lid",
            "push_name": "Acme Support",
            "about": "Mon-Fri 9-18h",
            "business": False,
            "picture": _PICTURE,
        }
    )


class ProfileUpdate(Strict):
    # Omitted: unchanged; null is no name or text (an empty `about` clears it).
    push_name: str = Field(  # type: ignore[assignment]
        default=None,
        min_length=1,
        max_length=MAX_PUSH_NAME,
        pattern=_NO_CONTROL,
        description=f"At most {MAX_PUSH_NAME} characters, not blank.",
    )
    about: str = Field(  # type: ignore[assignment]
        default=None,
        max_length=MAX_ABOUT,
        pattern=_NO_CONTROL,
        description=f"At most {MAX_ABOUT} characters (empty clears it).",
    )
    picture_media_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="A JPEG or PNG of this account (`med_…`, uploaded with POST /media), up to 5 MiB; null removes "
        "the picture (where the engine can: docs/profiles.md).",
    )

    model_config = _example({"push_name": "Acme Support", "about": "Mon-Fri 9-18h"})


class ContactProfile(BaseModel):
    jid: str = Field(description="Where WhatsApp has them: their phone JID, or their `@lid` when the number is hidden.")
    phone: str | None = Field(description="E.164, when known (a LID this number cannot map shows none).")
    lid: str | None = Field(description="Their `@lid` JID, when known.")
    name: str | None = Field(description="Their push name (or verified business name), when known.")
    about: str | None = Field(description="Their About text, when their privacy settings show it.")
    business: bool = Field(description="A WhatsApp Business account.")
    verified_name: str | None = Field(default=None, description="A business's verified name.")
    picture: Picture | None = Field(description="Their profile picture, or null (none, or hidden from this number).")

    model_config = _example(
        {
            "jid": "5511988880001@s.whatsapp.net",
            "phone": "+5511988880001",
            "lid": "100000000000000001@lid",
            "name": "Ana",
            "about": "Hey there! I am using WhatsApp.",
            "business": False,
            "verified_name": None,
            "picture": _PICTURE,
        }
    )


class SandboxContactProfileUpdate(Strict):
    """What a simulated contact shows (test mode): a test's control."""

    # Omitted: unchanged; null is not a value.
    name: str = Field(default=None, min_length=1, max_length=MAX_PUSH_NAME, pattern=_NO_CONTROL)  # type: ignore[assignment]
    about: str = Field(default=None, max_length=MAX_ABOUT, pattern=_NO_CONTROL)  # type: ignore[assignment]
    business: bool = None  # type: ignore[assignment]
    picture: bool = Field(  # type: ignore[assignment]
        default=None, description="true: a new generated picture (a new id); false: none."
    )

    model_config = _example({"name": "Ana", "about": "At work", "business": True, "picture": True})


class SandboxContactProfile(BaseModel):
    """What every user of the sandbox network sees of a phone (a simulated contact, or one of your numbers)."""

    jid: str
    phone: str | None
    lid: str | None
    name: str | None
    about: str | None
    business: bool
    verified_name: str | None = None
    picture_id: str | None = Field(
        description="WhatsApp's id of the current picture (it changes with the picture); null: none."
    )

    model_config = _example(
        {
            "jid": "5511988880001@s.whatsapp.net",
            "phone": "+5511988880001",
            "lid": "100000000000000001@lid",
            "name": "Contact 0001",
            "about": "Hey there! I am using WhatsApp.",
            "business": False,
            "verified_name": None,
            "picture_id": "740193118",
        }
    )
