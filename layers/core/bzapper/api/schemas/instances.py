"""Request and response bodies of the instances and contacts endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bzapper.api.schemas.cloud import CloudConnect, CloudNumberOut
from bzapper.api.schemas.common import IN_NUMBERING_PLAN, PHONE_PATTERN, Strict
from bzapper.domain.text import DISPLAY_TEXT_PATTERN

InstanceStatusName = Literal[
    "disconnected", "pairing", "connected", "logged_out", "restricted", "failed", "passkey_required"
]


class InstanceRestriction(BaseModel):
    reason: str = Field(
        description="`reach_out_restricted` (WhatsApp's time lock on starting new chats: a 463 on a send), or "
        "`account_restricted`."
    )
    until: str | None = Field(description="When WhatsApp lifts it, when it said (the sandbox does; whatsmeow: null).")


class InstanceCreate(Strict):
    name: str = Field(
        min_length=1, max_length=100, pattern=DISPLAY_TEXT_PATTERN, description="Your label for the number."
    )
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


_SETTINGS_EXAMPLE = {
    "reject_calls": True,
    "reject_call_message": "We cannot take calls here: please write to us.",
    "ignore_groups": False,
    "always_online": False,
    "read_incoming": False,
    "presence_events": False,
    "history_sync": False,
    "proxy_url": "socks5://user:***@proxy.example.com:1080",
}


class InstanceSettingsOut(BaseModel):
    reject_calls: bool = Field(description="Incoming calls are rejected at once (`call.received` still reports them).")
    reject_call_message: str | None = Field(description="Sent to a rejected caller as an ordinary text message.")
    ignore_groups: bool = Field(description="Group messages are dropped: no inbox row, no event.")
    always_online: bool = Field(description="The number shows as online while its session is open.")
    read_incoming: bool = Field(description="Incoming messages are marked read automatically.")
    presence_events: bool = Field(description="Stored; contacts' presence events come with the presence feature.")
    history_sync: bool = Field(description="Stored; history import on pairing comes with that feature.")
    proxy_url: str | None = Field(description="The number's proxy; its password is never shown (`user:***@`).")

    model_config = ConfigDict(json_schema_extra={"example": _SETTINGS_EXAMPLE})


class InstanceSettingsPatch(Strict):
    """Only the keys given change; `null` clears `reject_call_message` or `proxy_url`."""

    reject_calls: bool = None  # type: ignore[assignment]  # omitted: unchanged; null is not a value
    reject_call_message: str | None = Field(default=None, min_length=1, max_length=1024)
    ignore_groups: bool = None  # type: ignore[assignment]  # omitted: unchanged; null is not a value
    always_online: bool = None  # type: ignore[assignment]  # omitted: unchanged; null is not a value
    read_incoming: bool = None  # type: ignore[assignment]  # omitted: unchanged; null is not a value
    presence_events: bool = None  # type: ignore[assignment]  # omitted: unchanged; null is not a value
    history_sync: bool = None  # type: ignore[assignment]  # omitted: unchanged; null is not a value
    proxy_url: str | None = Field(
        default=None,
        max_length=2048,
        description="`http://`, `https://` or `socks5://` with a host and a port, credentials allowed "
        "(`socks5://user:pass@host:1080`); a private, loopback or metadata address is refused.",
    )


class InstanceUpdate(Strict):
    settings: InstanceSettingsPatch

    model_config = ConfigDict(
        json_schema_extra={"example": {"settings": {"reject_calls": True, "reject_call_message": "Please write."}}}
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
    "settings": _SETTINGS_EXAMPLE,
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
    last_error: str | None = Field(
        description="Stable code of the last failure (e.g. `reach_out_restricted`, `passkey_required`)."
    )
    restriction: InstanceRestriction | None = Field(
        default=None, description="With status `restricted`: why, and until when if known."
    )
    livemode: bool
    settings: InstanceSettingsOut
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
