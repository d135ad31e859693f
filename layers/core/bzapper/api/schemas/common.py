"""What every group's schemas share: the strict request base, the error body and the responses helpers of
the routers, and the shapes more than one group shows (a message status, a party of a conversation)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from bzapper.domain.errors import ERROR_CODES
from bzapper.domain.webhooks import EVENT_TYPES

ErrorCode = Literal[ERROR_CODES]  # type: ignore[valid-type]


REQUEST_CONFIG = ConfigDict(extra="forbid", strict=True)
"""Every request model's rules (through `Strict`, or given to `create_model`):

- an unknown field is a client bug worth reporting, not something to ignore silently;
- a value has its field's JSON type, never a conversion: an integer is a JSON integer (not `"6"`, `6.0` or `6e0`),
  a number a JSON number (an integer is one), a boolean `true`/`false` (not `1` or `"true"`). FastAPI validates
  the body once parsed, as Python data, so strict mode is exactly that; it would also refuse a string for a
  datetime, UUID or Enum field (Python mode wants the object): such a field would need `Field(strict=False)`.
  tests/unit/test_strict_request_types.py walks every request model to keep it so.
"""


class Strict(BaseModel):
    model_config = REQUEST_CONFIG


class ErrorBody(BaseModel):
    code: ErrorCode = Field(description="Stable, neutral code: branch on this.")  # type: ignore[valid-type]
    message: str = Field(description="Human-readable, translated by Accept-Language or the account's locale.")
    locale: Literal["en", "pt-BR", "es"]
    request_id: str | None = Field(description="Quote it to support.")
    param: str | None = Field(default=None, description="The offending field, on validation errors.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "code": "instance_not_connected",
                "message": "The number is disconnected. Reconnect it and try again.",
                "locale": "en",
                "request_id": "req_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
            }
        }
    )


Locale = Literal["en", "pt-BR", "es"]


MessageStatusName = Literal[
    "queued", "sending", "sent", "delivered", "read", "played", "failed", "expired", "canceled", "received"
]
"""`received` is the status of an incoming message (direction `inbound`); the others are of the ones you send."""


class StatusChangeOut(BaseModel):
    status: MessageStatusName
    at: str = Field(description="RFC 3339, UTC.")


class MessageErrorOut(BaseModel):
    code: str
    details: dict[str, Any] | None = Field(
        default=None,
        # Absent rather than null when unknown, as in the `message.failed` event's `error`.
        exclude_if=lambda value: value is None,
        description="Engine `cloud`, for a Meta error we have no stable code for (`cloud_api_error`): Meta's "
        "`meta_code` and `meta_title`. Absent otherwise (as in the `message.failed` event's `error`).",
    )


class PartyOut(BaseModel):
    jid: str | None
    phone: str | None
    lid: str | None
    name: str | None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: (
            "Malformed request (`bad_request`: a header that must come once came twice, or holds two values), or a "
            "missing or invalid signature (`invalid_signature`, on signed callbacks)."
        ),
        401: "Missing or invalid API key (`unauthorized`).",
        402: "Not enough credits (`insufficient_balance`).",
        403: "Not allowed for this key (`forbidden`).",
        404: "No such resource in this account (`not_found`).",
        409: "Conflict with the resource's state.",
        413: "Request body too large (`payload_too_large`).",
        422: "Invalid request (`validation_failed`, with `param`) or `idempotency_conflict`.",
        429: "Too many requests (`rate_limited`); wait `Retry-After` seconds.",
        500: "Unexpected error (`internal_error`); quote `request_id`.",
        503: "Busy (`temporarily_unavailable`): retry after `Retry-After` seconds; nothing was charged.",
    }
    # Every operation can refuse a malformed request (400) or its input (422), or fail unexpectedly (500), in the
    # one error shape.
    wanted = sorted({*statuses, 400, 422, 500})
    return {status: {ERROR_BODY: True, "description": descriptions[status]} for status in wanted}


ERROR_BODY = "x-bz-error-body"
"""Marks a router's error response whose body is `ErrorBody`. Only the contract app turns the mark into the
response's model (`with_error_body`): FastAPI builds a serializer for every response model of every route, about
170 in the messages function alone, and a function never renders its OpenAPI (issue #20, cold start)."""


def with_error_body(response: dict[str, Any]) -> dict[str, Any]:
    """The response as the contract documents it: the mark replaced, in place, by the `ErrorBody` model."""
    if not response.get(ERROR_BODY):
        return response
    return {
        ("model" if key == ERROR_BODY else key): (ErrorBody if key == ERROR_BODY else value)
        for key, value in response.items()
    }


def html_responses(*statuses: int, example: str) -> dict[int | str, dict[str, Any]]:
    """An HTML page (200 and the given error statuses, each a page too), plus the JSON errors of any route."""
    pages: dict[int | str, dict[str, Any]] = {
        status: {
            "description": "An HTML page." if status == 200 else f"An HTML page explaining the refusal ({status}).",
            "content": {"text/html": {"schema": {"type": "string"}, **({"example": example} if status == 200 else {})}},
        }
        for status in (200, *statuses)
    }
    return {**pages, **error_responses()}


def event_stream_response(
    description: str, example: str, item_schema: dict[str, Any]
) -> dict[int | str, dict[str, Any]]:
    """The 200 of a Server-Sent Events operation (`text/event-stream`), for the contract.

    `item_schema` describes one parsed block (`{id, event, data, retry}`, the fields it carries), as OpenAPI 3.2's
    `itemSchema`; there is no `schema`, which in 3.2 would describe the whole stream. `example` is a stretch of
    the stream as sent.
    """
    return {
        200: {
            "description": description,
            "content": {"text/event-stream": {"itemSchema": item_schema, "example": example}},
        }
    }


# --- Shapes several groups accept ----------------------------------------------------------------------------


def documented(**keywords: Any) -> Any:
    """JSON Schema keywords for the contract alone: the domain checks the same rule later, with its own message
    (`'x' is not an E.164 number…`) and its own place in the order of checks (an unknown instance is still a 404
    before a malformed phone). Each states what the rule needs at least, so valid input always matches it."""
    return Field(json_schema_extra=keywords)


ULID = "[0-9A-HJKMNP-TV-Z]{26}"
"""The tail of our ids (`msg_…`): a ULID in Crockford's base 32, as bzapper.domain.ids.is_id checks it."""

SPACE = r"[ \t\n\r\f\v]"
"""Whitespace around a value, which the parsers strip (ASCII's here: JSON Schema's regex dialect reads `\\s` apart)."""
SEPARATOR = r"[-.() \t\n\r\f\v]"
PHONE = rf"{SEPARATOR}*\+?(?:{SEPARATOR}*[0-9]){{8,15}}{SEPARATOR}*"
"""E.164 digits (8 to 15, the country code first), maybe written with spaces, dots, hyphens or parentheses."""
PHONE_SERVER = r"(?:[sS]\.[wW][hH][aA][tT][sS][aA][pP][pP]\.[nN][eE][tT]|[cC]\.[uU][sS])"
DEVICE = r"(?:[._][0-9]+)?(?::[0-9]+)?"
PHONE_JID = rf"[0-9]{{8,15}}{DEVICE}@{PHONE_SERVER}"
LID_JID = rf"[0-9]{{1,20}}{DEVICE}@[lL][iI][dD]"
GROUP_JID = r"[0-9]{1,20}(?:-[0-9]{1,12})?@[gG]\.[uU][sS]"
"""A group's JID, as bzapper.domain.phones.parse_group reads it."""


def whole(alternatives: str) -> str:
    """A pattern for the whole value: one of `alternatives`, maybe surrounded by whitespace."""
    return rf"^{SPACE}*(?:{alternatives}){SPACE}*$"


RECIPIENT_PATTERN = rf"^{PHONE}$|{whole(f'{PHONE_JID}|{LID_JID}')}"
PHONE_PATTERN = rf"^{PHONE}$"
IN_NUMBERING_PLAN = (
    " The number must also exist in the numbering plan (per country and range, which no pattern states): "
    "a 422 on this field otherwise."
)
Recipient = Annotated[str, documented(pattern=RECIPIENT_PATTERN)]
"""Whom a message goes to, or comes from: bzapper.domain.phones.parse_recipient's input."""
DESTINATION_PATTERN = rf"^{PHONE}$|{whole(f'{PHONE_JID}|{LID_JID}|{GROUP_JID}')}"
Destination = Annotated[str, documented(pattern=DESTINATION_PATTERN)]
"""Where a message is sent: a person or a group (bzapper.domain.phones.parse_destination's input)."""

_PORT = r"0*(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_HOST = rf"(?:[^/?#@:\[\]\s%\\{_CONTROL}]+|\[[0-9A-Fa-f:.]+\])"
HTTP_URL_PATTERN = rf"^[hH][tT][tT][pP][sS]?://{_HOST}(?::{_PORT})?(?:[/?#][^\s{_CONTROL}]*)?$"
"""An http(s) URL with a host name, an IPv4 address or a bracketed IPv6 address, a port from 1 to 65535, no
credentials, no whitespace or control characters: what bzapper.net.read_url reads. The guard's finer rules on the
host (DNS labels, IDNA, no IPv4 shorthand such as 127.1) and where the host resolves are beyond a pattern:
docs/ssrf.md."""

EVENT_SUBSCRIPTIONS = (*EVENT_TYPES, *dict.fromkeys(f"{event.split('.')[0]}.*" for event in EVENT_TYPES))
"""What webhooks and the stream subscribe to: an event type, or a family (`message.*`)."""


def _decimal_digits(value: Any) -> Any:
    """A query string's integer as written: digits only. The framework's lax parsing reads `" 1"` and `"+1"` as 1,
    so a client's padding bug would pass unseen."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("query_digits", "an integer of decimal digits")
    return value


PageLimit = Annotated[
    int, BeforeValidator(_decimal_digits), Query(ge=1, le=100, description="Items per page (1 to 100).")
]
"""How many items a page holds: `limit: PageLimit = PAGE_LIMIT` (the validator runs only when the Query is in
the Annotated, not the default)."""
PAGE_LIMIT = 25
