"""Pure rules for composing messages beyond text: vCards, reactions, quotes, and what may be edited or
deleted, and until when. The content shapes themselves are fixed in bzapper.domain.content."""

from __future__ import annotations

from typing import Any

from bzapper.domain.content import MEDIA_TYPES
from bzapper.domain.phones import InvalidRecipient, parse_recipient
from bzapper.domain.statuses import TERMINAL_FAILURES, MessageStatus

EDIT_WINDOW_MS = 15 * 60 * 1000
"""WhatsApp lets a sender edit a message for 15 minutes after it was sent."""

REVOKE_WINDOW_MS = 60 * 60 * 60 * 1000
"""…and delete it for everyone for about two and a half days (2 days 12 hours)."""

EDITABLE_FIELD = {"text": "body", "image": "caption", "video": "caption", "document": "caption"}
"""The types WhatsApp can edit, and the content field an edit replaces."""

REVOCABLE = frozenset({"text", *MEDIA_TYPES, "location", "contact", "poll", "buttons", "list"})
"""Deletable for everyone. A reaction is removed by reacting with "" instead; an OTP is two WhatsApp
messages, which one target cannot name."""

PREVIEW_CHARS = 100


def valid_reaction(value: str) -> bool:
    """One emoji (with its modifiers, ZWJ sequence or flag), or "" to remove the reaction."""
    if value == "":
        return True
    # Imported here: Unicode's emoji table costs a cold start tens of ms, and only a reaction reads it.
    import emoji

    return bool(emoji.is_emoji(value))


def preview(message_type: str, content: dict[str, Any]) -> str | None:
    """A short text standing for a message when it is quoted (what WhatsApp shows in the quote bubble)."""
    text = (
        content.get("body")
        or content.get("caption")
        or content.get("name")
        or (content.get("media") or {}).get("filename")
        or ", ".join(contact.get("name", "") for contact in content.get("contacts", []))
    )
    return text[:PREVIEW_CHARS] if text else None


def change_refusal(action: str, message_type: str, status: str, history: list[tuple[str, int]], now: int) -> str | None:
    """Why `action` ("edit" or "revoke") cannot apply to a message right now, or None when it can.

    Answers "type", "failed" (never sent) or "window" (sent too long ago). A message not sent yet may be
    changed: the change travels in the same ordered queue, so it reaches WhatsApp after the message.
    """
    allowed = EDITABLE_FIELD if action == "edit" else REVOCABLE
    if message_type not in allowed:
        return "type"
    if MessageStatus(status) in TERMINAL_FAILURES:
        return "failed"
    sent_at = next((at for name, at in history if name == MessageStatus.SENT), None)
    window = EDIT_WINDOW_MS if action == "edit" else REVOKE_WINDOW_MS
    if sent_at is not None and now - sent_at > window:
        return "window"
    return None


# --- vCards -----------------------------------------------------------------------------------------------


def _escape(value: str) -> str:
    """vCard 3.0 text escaping (RFC 2426 §4): backslash, comma, semicolon, newline."""
    return (
        value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _phone_line(index: int, number: str, kind: str | None) -> str:
    """WhatsApp reads `waid` (the number's digits) to offer "Message" and "Add" on the card."""
    try:
        phone = parse_recipient(number).phone
    except InvalidRecipient:
        phone = None
    params = f";type={kind.upper()}" if kind else ""
    if phone:
        params += f";waid={phone.lstrip('+')}"
    return f"item{index}.TEL{params}:{_escape(phone or number)}"


def render_vcard(contact: dict[str, Any]) -> str:
    """One contact as the vCard 3.0 WhatsApp's apps send and understand."""
    name = contact["name"]
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:;{_escape(name)};;;", f"FN:{_escape(name)}"]
    if contact.get("organization"):
        lines.append(f"ORG:{_escape(contact['organization'])};")
    for index, phone in enumerate(contact.get("phones", []), start=1):
        lines.append(_phone_line(index, phone["number"], phone.get("type")))
    lines += [f"EMAIL;type=INTERNET:{_escape(address)}" for address in contact.get("emails", [])]
    lines.append("END:VCARD")
    return "\n".join(lines)
