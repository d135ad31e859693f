"""Status posts (WhatsApp "stories"): pure rules shared by the API, the services and the engines (docs/status.md).

A status post is a message of type "status" to `status@broadcast`: it takes the one send path (outbox, the
number's worker, Idempotency-Key, one message's price), has a message record with its statuses, and one
`status.posted` event when WhatsApp accepts it. Its content:

    {"kind": "text", "body", "background_color"?, "font"?, "audience"?}
    {"kind": "image" | "video", "media", "caption"?, "audience"?}

`audience` (JIDs) restricts who sees it; without it, the number's contacts do (what WhatsApp's status privacy
setting on the phone says).
"""

from __future__ import annotations

import re
from typing import Any

from bzapper.domain.errors import validation_failed
from bzapper.domain.phones import Recipient, is_group_jid

STATUS_TYPE = "status"
STATUS_JID = "status@broadcast"
STATUS_RECIPIENT = Recipient(jid=STATUS_JID, phone=None, lid=None)

MEDIA_KINDS = frozenset({"image", "video"})

MAX_TEXT = 700
"""WhatsApp's apps stop a text status at 700 characters."""
MAX_AUDIENCE = 256

COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEFAULT_BACKGROUND = "#128C7E"
"""WhatsApp's own teal: a text status needs a background, and the apps draw this one when none is chosen."""
TEXT_COLOR_ARGB = 0xFFFFFFFF

FONTS = ("sans", "serif", "script", "bold", "rounded", "display", "condensed", "mono")
"""Our names for WhatsApp's status fonts (ExtendedTextMessage.FontType), in its order: SYSTEM, SYSTEM_TEXT,
FB_SCRIPT, SYSTEM_BOLD, MORNINGBREEZE_REGULAR, CALISTOGA_REGULAR, EXO2_EXTRABOLD, COURIERPRIME_BOLD."""

POSTED_EVENT = "status.posted"


def is_status(message_type: str) -> bool:
    return message_type == STATUS_TYPE


def per_recipient(to_jid: str) -> bool:
    """A message whose receipts come per recipient: to a group (its participants) or a status post (its viewers)."""
    return to_jid == STATUS_JID or is_group_jid(to_jid)


def argb(color: str) -> int:
    """`#RRGGBB` as WhatsApp's opaque ARGB integer."""
    if not COLOR.match(color):
        raise ValueError(f"not a #RRGGBB color: {color!r}")
    return 0xFF000000 | int(color[1:], 16)


def _no_nul(value: str | None, param: str) -> None:
    # WhatsApp's apps cut a text at a NUL, and no one means to post one (the contract's pattern says so too).
    if value is not None and "\x00" in value:
        raise validation_failed(param)


def text_content(body: str, background_color: str | None, font: str | None) -> dict[str, Any]:
    _no_nul(body, "text")
    if background_color is not None and not COLOR.match(background_color):
        raise validation_failed("background_color")
    content: dict[str, Any] = {"kind": "text", "body": body}
    if background_color is not None:
        content["background_color"] = background_color.upper()
    if font is not None:
        content["font"] = font
    return content


def media_content(kind: str, caption: str | None) -> dict[str, Any]:
    """The content of an image or video status before its media is resolved (after the idempotency lock)."""
    _no_nul(caption, "caption")
    content: dict[str, Any] = {"kind": kind}
    if caption is not None:
        content["caption"] = caption
    return content


def media_kind(message_type: str, content: dict[str, Any] | None) -> str:
    """The media kind a send's file is checked against: a status carries it in its content."""
    if is_status(message_type):
        return str((content or {}).get("kind"))
    return message_type


def posted_data(message_id: str, content: dict[str, Any], client_reference: str | None, at_iso: str) -> dict[str, Any]:
    """`status.posted`'s payload: which post, its kind, how many it was restricted to (None: all contacts)."""
    audience = content.get("audience")
    return {
        "message_id": message_id,
        "kind": content.get("kind"),
        "audience_size": len(audience) if audience else None,
        "client_reference": client_reference,
        "posted": at_iso,
    }
