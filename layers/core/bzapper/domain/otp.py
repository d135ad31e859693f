"""Verification codes (POST /messages/otp): the pure rules. No I/O (docs/otp.md).

A code exists in clear only in the API's request (or its 202 answer, when we generated it), sealed in
the shard job, and in clear again in the engine's host process for the moment it is sent. Everything
else, the message record first, holds the mask. Echoes of the code bubble (the phone's own device, a
history sync) are masked by `guard_event` before the worker reports them, and again by `guard_content`
before the inbox stores them.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from bzapper import i18n
from bzapper.domain.clock import iso
from bzapper.domain.inbox import OTP_MASK, stored_content

CODE_LENGTH_MIN = 4
CODE_LENGTH_MAX = 10
CODE_LENGTH_DEFAULT = 6

TTL_MIN_SECONDS = 60
TTL_MAX_SECONDS = 3600
TTL_DEFAULT_SECONDS = 600

BRAND_MAX_CHARS = 60
"""The account's name as it appears in a generated text (a longer one is cut)."""

NOT_RESENDABLE = frozenset({"otp"})
"""Types whose job holds what the record does not (the sealed code): the outbox never rebuilds them."""

EXPIRED = "otp_expired"
"""The error code of an OTP that reached no worker before its expiry (it is never sent late)."""
UNSEALABLE = "otp_unsealable"
"""The error code of an OTP whose sealed code cannot be opened (another stack's key, tampered)."""
NOT_QUEUED = "not_queued"
"""The error code of an OTP whose job could not be queued: it fails at once, refunded."""

_CODE = re.compile(rf"[0-9]{{{CODE_LENGTH_MIN},{CODE_LENGTH_MAX}}}")


def generate_code(length: int = CODE_LENGTH_DEFAULT) -> str:
    """A uniformly random code of `length` digits from the operating system's CSPRNG."""
    if not CODE_LENGTH_MIN <= length <= CODE_LENGTH_MAX:
        raise ValueError(f"a code has {CODE_LENGTH_MIN} to {CODE_LENGTH_MAX} digits")
    return f"{secrets.randbelow(10**length):0{length}d}"


def valid_code(code: str) -> bool:
    return bool(_CODE.fullmatch(code))


def looks_like_a_code(text: Any) -> bool:
    """A text that is a verification code alone, as our code bubble is (spaces around it ignored)."""
    return isinstance(text, str) and bool(_CODE.fullmatch(text.strip()))


# --- What is stored, what crosses the queue ----------------------------------------------------------


def stored(body: str, expires_at_ms: int) -> dict[str, Any]:
    """The OTP's content in its message record: the text, the mask, and when the code expires."""
    return {"body": body, "code": OTP_MASK, "expires": iso(expires_at_ms)}


def queued(stored_content: dict[str, Any], code_sealed: str) -> dict[str, Any]:
    """The OTP's content in its shard job (bzapper.domain.content): the text and the sealed code, nothing else."""
    return {"body": stored_content["body"], "code_sealed": code_sealed}


def expires_at_ms(content: dict[str, Any]) -> int | None:
    """The expiry a stored OTP content names, or None (a record written without one)."""
    value = content.get("expires")
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value).timestamp() * 1000)
    except ValueError:
        return None


# --- The generated text ----------------------------------------------------------------------------------


def expiry_text(ttl_seconds: int, locale: str) -> str:
    """The TTL in words ("10 minutes", "1 hora", "90 segundos"): the largest unit that says it exactly."""
    if ttl_seconds % 3600 == 0:
        unit, count = "hours", ttl_seconds // 3600
    elif ttl_seconds % 60 == 0:
        unit, count = "minutes", ttl_seconds // 60
    else:
        unit, count = "seconds", ttl_seconds
    return i18n.translate(f"otp.expiry.{unit}.{'one' if count == 1 else 'other'}", locale, count=count)


def default_body(brand: str | None, ttl_seconds: int, locale: str) -> str:
    """The first message when the request has no `body`: names the account (its brand) and the expiry,
    and never holds the code (the code is the second message, alone)."""
    expiry = expiry_text(ttl_seconds, locale)
    name = " ".join((brand or "").split())[:BRAND_MAX_CHARS].strip()
    if not name:
        return i18n.translate("otp.body_unbranded", locale, expiry=expiry)
    return i18n.translate("otp.body", locale, brand=name, expiry=expiry)


# --- Echoguard ---------------------------------------------------------------------------------------------


def guard_content(message_type: str, content: dict[str, Any], from_me: bool) -> dict[str, Any]:
    """An inbound content with no verification code left in it.

    A fromMe text that is a code alone is the echo of a code bubble (from the phone's own device, or a
    history sync): its body becomes the mask. A quoted message of ours loses its preview (it may be the
    code bubble). Idempotent: a guarded content comes out as it went in.
    """
    guarded = stored_content(content)
    if from_me and message_type == "text" and looks_like_a_code(guarded.get("body")):
        guarded = {**guarded, "body": OTP_MASK}
    return guarded


def guard_event(event: dict[str, Any]) -> dict[str, Any]:
    """An engine event as it may leave the engine's host: inbound contents guarded, the rest untouched."""
    content = event.get("content")
    if event.get("kind") == "history":  # a history's messages are inbound messages (echoes of the phone too)
        return {
            **event,
            "conversations": [
                {**c, "messages": [_guard_message(m) for m in c.get("messages") or []]} if isinstance(c, dict) else c
                for c in event.get("conversations") or []
            ],
        }
    if event.get("kind") != "inbound" or not isinstance(content, dict):
        return event
    guarded = guard_content(str(event.get("type") or ""), content, bool(event.get("from_me")))
    return event if guarded == content else {**event, "content": guarded}


def _guard_message(message: Any) -> Any:
    if not isinstance(message, dict) or not isinstance(message.get("content"), dict):
        return message
    guarded = guard_content(str(message.get("type") or ""), message["content"], bool(message.get("from_me")))
    return message if guarded == message["content"] else {**message, "content": guarded}


class Unsealable(Exception):
    """This sealed code will never be opened here: `reason` is `otp_expired` or `otp_unsealable`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
