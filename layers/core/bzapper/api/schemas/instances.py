"""Request and response bodies of the instances and contacts endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.cloud import CloudConnect, CloudNumberOut
from bzapper.api.schemas.common import IN_NUMBERING_PLAN, PHONE_PATTERN, Strict

InstanceStatusName = Literal["disconnected", "pairing", "connected", "logged_out", "restricted", "failed"]


class InstanceCreate(Strict):
    name: str = Field(min_length=1, max_length=100, description="Your label for the number.")
    engine: Literal["sandbox", "whatsmeow", "cloud"] | None = Field(
        default=None,
        description="`sandbox` (the simulated network), `whatsmeow` (a real number linked as a device; live keys "
        "only) or `cloud` (Meta's WhatsApp Cloud API: give `cloud`; with a test key, a simulated Cloud API number). "
        "Omitted: `sandbox` for a test key, `whatsmeow` for a live one.",
    )
    cloud: CloudConnect | None = Field(
        default=None, description="Engine `cloud` only: the number's ids and token, checked against the Graph API."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"name": "Support", "engine": "sandbox"},
            "examples": [
                {"name": "Support", "engine": "sandbox"},
                {
                    "name": "Official",
                    "engine": "cloud",
                    "cloud": {
                        "phone_number_id": "106540352242922",
                        "waba_id": "102290129340398",
                        "access_token": "EAAG…",
                    },
                },
            ],
        }
    )


_INSTANCE_EXAMPLE = {
    "id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
    "object": "instance",
    "name": "Support",
    "engine": "sandbox",
    "status": "connected",
    "phone": "+5511970001234",
    "lid": "123456789012345@lid",
    "push_name": "Support",
    "last_error": None,
    "livemode": False,
    "created": "2026-11-24T12:00:00Z",
    "updated": "2026-11-24T12:00:05Z",
}


class InstanceOut(BaseModel):
    id: str
    object: Literal["instance"] = "instance"
    name: str
    engine: str
    status: InstanceStatusName
    phone: str | None = Field(description="E.164 of the linked number, once known.")
    lid: str | None = Field(description="The number's own `@lid` identity, once known.")
    push_name: str | None
    last_error: str | None = Field(description="Stable code of the last failure (e.g. `account_restricted`).")
    livemode: bool
    created: str
    updated: str
    cloud: CloudNumberOut | None = Field(
        default=None, description="Engine `cloud`: the Cloud API number (its token is never shown, only its last 4)."
    )

    model_config = ConfigDict(json_schema_extra={"example": _INSTANCE_EXAMPLE})


class InstanceList(BaseModel):
    object: Literal["list"] = "list"
    data: list[InstanceOut]

    model_config = ConfigDict(json_schema_extra={"example": {"object": "list", "data": [_INSTANCE_EXAMPLE]}})


class InstanceQr(BaseModel):
    instance_id: str
    qr: str = Field(description="Render it as a QR code (or ask `?format=png`); it rotates about every 20 s.")
    status: Literal["pairing"] = "pairing"

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "qr": "2@sandbox,AbCdEfGh,IjKlMnOp,QrStUvWx",
                "status": "pairing",
            }
        }
    )


class PairingCodeRequest(Strict):
    phone: str = Field(
        min_length=8,
        max_length=32,
        json_schema_extra={"pattern": PHONE_PATTERN},
        description="E.164 of the number to link." + IN_NUMBERING_PLAN,
    )

    model_config = ConfigDict(json_schema_extra={"example": {"phone": "+5511988887777"}})


class PairingCode(BaseModel):
    instance_id: str
    code: str = Field(description="Type it on the phone: WhatsApp › Linked devices › Link with phone number.")

    model_config = ConfigDict(
        json_schema_extra={"example": {"instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q", "code": "ABCD-EFGH"}}
    )


class CheckNumbersRequest(Strict):
    instance_id: str
    numbers: list[str] = Field(min_length=1, max_length=50, description="E.164 numbers or JIDs (`@lid` included).")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "instance_id": "inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
                "numbers": ["+5511988888888", "123456789012345@lid"],
            }
        }
    )


class NumberCheck(BaseModel):
    input: str
    exists: bool
    phone: str | None
    jid: str | None
    lid: str | None


class CheckNumbersResult(BaseModel):
    data: list[NumberCheck]

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": [
                    {
                        "input": "+5511988888888",
                        "exists": True,
                        "phone": "+5511988888888",
                        "jid": "5511988888888@s.whatsapp.net",
                        "lid": "198765432109876@lid",
                    },
                    {"input": "+5511900000001", "exists": False, "phone": "+5511900000001", "jid": None, "lid": None},
                ]
            }
        }
    )
