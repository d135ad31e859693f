"""bzapper content (bzapper.domain.content) -> the Cloud API's message objects (POST /{phone_number_id}/messages).
Pure: media are uploaded first by the engine, and a builder gets Meta's media id for them.

Buttons and lists are the Cloud API's own interactive messages (reply buttons, list messages), within Meta's
limits: 3 buttons of at most 20 characters, 10 rows of at most 24, a list button of at most 20. Past the limits
a message is refused (`not_supported`), never cut: a button the customer wrote must not silently change.
"""

from __future__ import annotations

from typing import Any

from bzapper.domain.cloud import UNSENDABLE
from bzapper.domain.cloud import UnsupportedCloudContent as UnsupportedContent
from bzapper.domain.content import MEDIA_TYPES

MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_ROWS = 10
MAX_LIST_SECTIONS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BUTTON_TEXT = 20

UNSUPPORTED = UNSENDABLE


def recipient(to_jid: str) -> str:
    """The Cloud API's `to`: the phone's digits (Cloud API numbers cannot write to groups or @lid JIDs here)."""
    user, _, server = to_jid.partition("@")
    if server not in ("s.whatsapp.net", "") or not user.isdigit():
        raise UnsupportedContent("the Cloud API sends to phone numbers only")
    return user


def build(message_type: str, content: dict[str, Any], to_jid: str, media_id: str | None = None) -> dict[str, Any]:
    """The JSON body of a send. `media_id` is Meta's id of the uploaded media, for a media type."""
    if message_type in UNSUPPORTED:
        raise UnsupportedContent(message_type)
    payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient(to_jid)}
    if message_type == "text":
        body = str(content.get("body") or "")
        payload.update(type="text", text={"body": body, "preview_url": "http" in body})
    elif message_type in MEDIA_TYPES:
        if not media_id:
            raise UnsupportedContent("media not uploaded")
        media: dict[str, Any] = {"id": media_id}
        if content.get("caption") and message_type in ("image", "video", "document"):
            media["caption"] = str(content["caption"])
        if message_type == "document":
            media["filename"] = str(content.get("filename") or "document")
        payload.update(type=message_type, **{message_type: media})
    elif message_type == "location":
        location = {"latitude": content["latitude"], "longitude": content["longitude"]}
        location.update({k: content[k] for k in ("name", "address") if content.get(k)})
        payload.update(type="location", location=location)
    elif message_type == "contact":
        payload.update(type="contacts", contacts=[_contact(card) for card in content.get("contacts") or []])
    elif message_type == "reaction":
        target = content.get("target") or {}
        payload.update(
            type="reaction", reaction={"message_id": target.get("wa_message_id"), "emoji": content.get("emoji") or ""}
        )
    elif message_type == "buttons":
        payload.update(type="interactive", interactive=_buttons(content))
    elif message_type == "list":
        payload.update(type="interactive", interactive=_list(content))
    elif message_type == "template":
        template = content.get("template") or {}
        payload.update(
            type="template",
            template={
                "name": template.get("name"),
                "language": {"code": template.get("language")},
                **({"components": template["components"]} if template.get("components") else {}),
            },
        )
    else:
        raise UnsupportedContent(message_type)
    reply = content.get("reply_to")
    if isinstance(reply, dict) and reply.get("wa_message_id") and message_type != "reaction":
        payload["context"] = {"message_id": reply["wa_message_id"]}
    return payload


def _contact(card: dict[str, Any]) -> dict[str, Any]:
    name = str(card.get("name") or "")
    out: dict[str, Any] = {"name": {"formatted_name": name, "first_name": name}}
    phones = []
    for phone in card.get("phones") or []:
        number = str(phone.get("number") or "")
        entry = {"phone": number, "type": phone.get("type") or "CELL"}
        digits = "".join(ch for ch in number if ch.isdigit())
        if digits:
            entry["wa_id"] = digits
        phones.append(entry)
    if phones:
        out["phones"] = phones
    if card.get("emails"):
        out["emails"] = [{"email": email, "type": "WORK"} for email in card["emails"]]
    if card.get("organization"):
        out["org"] = {"company": card["organization"]}
    return out


def _buttons(content: dict[str, Any]) -> dict[str, Any]:
    buttons = content.get("buttons") or []
    if not 1 <= len(buttons) <= MAX_BUTTONS or any(len(str(b.get("title", ""))) > MAX_BUTTON_TITLE for b in buttons):
        raise UnsupportedContent("buttons past the Cloud API's limits")
    interactive: dict[str, Any] = {
        "type": "button",
        "body": {"text": str(content.get("body") or "")},
        "action": {
            "buttons": [{"type": "reply", "reply": {"id": str(b["id"]), "title": str(b["title"])}} for b in buttons]
        },
    }
    if content.get("footer"):
        interactive["footer"] = {"text": str(content["footer"])}
    return interactive


def _list(content: dict[str, Any]) -> dict[str, Any]:
    sections = content.get("sections") or []
    rows = [row for section in sections for row in section.get("rows") or []]
    button = str(content.get("button_text") or "")
    if (
        not rows
        or len(rows) > MAX_LIST_ROWS
        or len(sections) > MAX_LIST_SECTIONS
        or len(button) > MAX_LIST_BUTTON_TEXT
        or any(len(str(row.get("title", ""))) > MAX_ROW_TITLE for row in rows)
        or any(len(str(row.get("description") or "")) > MAX_ROW_DESCRIPTION for row in rows)
    ):
        raise UnsupportedContent("list past the Cloud API's limits")
    interactive: dict[str, Any] = {
        "type": "list",
        "body": {"text": str(content.get("body") or "")},
        "action": {
            "button": button,
            "sections": [
                {
                    **({"title": str(section["title"])} if section.get("title") else {}),
                    "rows": [
                        {
                            "id": str(row["id"]),
                            "title": str(row["title"]),
                            **({"description": str(row["description"])} if row.get("description") else {}),
                        }
                        for row in section.get("rows") or []
                    ],
                }
                for section in sections
            ],
        },
    }
    if content.get("footer"):
        interactive["footer"] = {"text": str(content["footer"])}
    return interactive


def mark_read(wa_message_id: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "status": "read", "message_id": wa_message_id}
