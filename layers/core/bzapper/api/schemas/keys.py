"""API keys, managed by a signed-in owner (a console session token): never by a key."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.common import Strict
from bzapper.domain.keys import KEY_NAME_MAX, ROLL_HOURS_MAX, SCOPES
from bzapper.domain.text import DISPLAY_TEXT_PATTERN

Scope = Literal[tuple(SCOPES)]  # type: ignore[valid-type]


class KeyCreate(Strict):
    name: str = Field(
        min_length=1, max_length=KEY_NAME_MAX, pattern=DISPLAY_TEXT_PATTERN, examples=["Production server"]
    )
    mode: Literal["live", "test"]
    scopes: list[Scope] | None = Field(  # type: ignore[valid-type]
        default=None,
        min_length=1,
        max_length=len(SCOPES),
        description="Restrict the key to these scopes (docs/accounts.md has the table); omitted: every scope.",
    )
    instance_ids: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Restrict the key to these numbers (of the key's mode); any other number is a 404 to it.",
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"name": "Order notifications", "mode": "live", "scopes": ["messages:write", "messages:read"]}
        },
    )


class KeyRoll(Strict):
    expires_in_hours: int = Field(
        default=0,
        ge=0,
        le=ROLL_HOURS_MAX,
        description="How long the current secret keeps working (0: it stops now; at most 7 days).",
    )

    model_config = ConfigDict(json_schema_extra={"example": {"expires_in_hours": 24}})


class KeyOut(BaseModel):
    id: str
    object: Literal["api_key"]
    name: str
    mode: Literal["live", "test"]
    key: str | None = Field(description="The secret: only in the answer that made it (creation, roll).")
    last4: str
    scopes: list[str] | None = Field(description="None: every scope.")
    instance_ids: list[str] | None = Field(description="None: every number.")
    created: str
    last_used: str | None = Field(description="Within a minute.")
    expires: str | None = Field(description="When the key stops working (keys do not expire: null).")
    previous_expires: str | None = Field(description="Until when the secret before the last roll still works.")
    revoked: str | None = Field(description="When it was revoked.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "key_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "object": "api_key",
                "name": "Order notifications",
                "mode": "live",
                "key": None,
                "last4": "x9Q2",
                "scopes": ["messages:write", "messages:read"],
                "instance_ids": None,
                "created": "2026-12-06T12:00:00.000Z",
                "last_used": "2026-12-06T12:30:00.000Z",
                "expires": None,
                "previous_expires": None,
                "revoked": None,
            }
        }
    )


class KeyList(BaseModel):
    data: list[KeyOut]

    model_config = ConfigDict(
        json_schema_extra={"example": {"data": [KeyOut.model_config["json_schema_extra"]["example"]]}}  # type: ignore[index]
    )
