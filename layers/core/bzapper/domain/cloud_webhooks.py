"""Meta's webhooks (`object: whatsapp_business_account`) as the reports every engine makes. Pure.

A webhook is parsed only after its signature was verified (bzapper.domain.cloud.verify_signature). Each change
of field `messages` names the number it is about (`metadata.phone_number_id`) and carries statuses of messages
it sent and messages it received; `webhook_changes` returns them per number, as the report shapes of
bzapper.domain.engine (`status` reports get Meta's `pricing`, `inbound` ones our content shapes of
bzapper.domain.content). The caller adds what only the stored instance knows (instance_id, account, mode).

Received media come as Meta's media id (`content.media.cloud_media_id`); the reports consumer downloads them
into our media store before the message is recorded. Other fields (template status updates, account
updates) are left to their own readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bzapper.domain.cloud import error_of, meta_error
from bzapper.domain.phones import BSUID_SERVER

STATUSES = frozenset({"sent", "delivered", "read", "failed"})
MEDIA_KINDS = frozenset({"image", "video", "document", "audio", "sticker"})
PHONE_SERVER = "s.whatsapp.net"


@dataclass(slots=True)
class Change:
    """What one change says about one number."""

    phone_number_id: str
    display_phone_number: str | None
    statuses: list[dict[str, Any]] = field(default_factory=list)
    inbound: list[dict[str, Any]] = field(default_factory=list)


class MalformedWebhook(ValueError):
    """The body is not Meta's envelope (a verified body that is not JSON, or not a WhatsApp webhook)."""


def webhook_changes(payload: Any) -> list[Change]:
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise MalformedWebhook("not a WhatsApp Business Account webhook")
    changes = []
    for entry in payload["entry"]:
        for change in _list(_dict(entry).get("changes")):
            if not isinstance(change, dict) or change.get("field") != "messages":
                continue
            value = _dict(change.get("value"))
            metadata = _dict(value.get("metadata"))
            phone_number_id = str(metadata.get("phone_number_id") or "")
            if not phone_number_id:
                continue
            business = _digits(metadata.get("display_phone_number"))
            parsed = Change(phone_number_id, business)
            parsed.statuses = [s for s in (_status(raw) for raw in _list(value.get("statuses"))) if s]
            profiles = _profiles(_list(value.get("contacts")))
            parsed.inbound = [
                m for m in (_inbound(raw, profiles, business) for raw in _list(value.get("messages"))) if m
            ]
            changes.append(parsed)
    return changes


def _dict(value: Any) -> dict[str, Any]:
    """A field Meta documents as an object: anything else (a verified but odd body) reads as empty."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _digits(value: Any) -> str | None:
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return digits or None


def _at(raw: dict[str, Any]) -> int:
    try:
        return int(raw.get("timestamp") or 0) * 1000
    except (TypeError, ValueError):
        return 0


# --- statuses ----------------------------------------------------------------------------------------------


def _status(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or raw.get("status") not in STATUSES or not raw.get("id"):
        return None  # "deleted", "warning" and the like are not statuses of ours
    report: dict[str, Any] = {
        "kind": "status",
        "wa_message_id": str(raw["id"]),
        "status": raw["status"],
        "at": _at(raw),
    }
    pricing = raw.get("pricing")
    if isinstance(pricing, dict) and pricing.get("category"):
        report["pricing"] = {
            "category": str(pricing["category"]),
            "billable": bool(pricing.get("billable", False)),
            "model": pricing.get("pricing_model"),
        }
    if raw["status"] == "failed":
        errors = _list(raw.get("errors"))
        code, title = error_of(_dict(errors[0]) if errors else {})
        mapped = meta_error(code, title)
        report["error_code"] = mapped.code
        if mapped.details:
            report["error_details"] = mapped.details
    return report


# --- inbound -----------------------------------------------------------------------------------------------


def _profiles(contacts: list[Any]) -> dict[str, dict[str, Any]]:
    """Each sender's profile name and business-scoped user id (BSUID), by wa_id (or by BSUID when Meta sends
    no wa_id)."""
    found: dict[str, dict[str, Any]] = {}
    for contact in contacts:
        if not isinstance(contact, dict):
            continue
        key = contact.get("wa_id") or contact.get("user_id")
        if key:
            found[str(key)] = {
                "push_name": _dict(contact.get("profile")).get("name"),
                "bsuid": contact.get("user_id"),
            }
    return found


def _inbound(raw: Any, profiles: dict[str, dict[str, Any]], business: str | None) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    phone = _digits(raw.get("from"))
    bsuid = raw.get("from_user_id") or raw.get("user_id")
    profile = profiles.get(phone or "") or profiles.get(str(bsuid or "")) or {}
    bsuid = bsuid or profile.get("bsuid")
    if phone:
        chat_jid = f"{phone}@{PHONE_SERVER}"
    elif bsuid:
        chat_jid = bsuid_jid(str(bsuid))
    else:
        return None
    sender: dict[str, Any] = {"jid": chat_jid}
    if phone:
        sender["phone"] = f"+{phone}"
    if bsuid:
        sender["bsuid"] = str(bsuid)
    if profile.get("push_name"):
        sender["push_name"] = profile["push_name"]
    message_type, content = inbound_content(raw, chat_jid, business)
    return {
        "kind": "inbound",
        "wa_message_id": str(raw["id"]),
        "chat_jid": chat_jid,
        "from_me": False,
        "sender": sender,
        "type": message_type,
        "content": content,
        "at": _at(raw),
    }


def bsuid_jid(bsuid: str) -> str:
    """The chat of a contact Meta names only by its business-scoped user id (no phone)."""
    return f"{bsuid}@{BSUID_SERVER}"


def inbound_content(raw: dict[str, Any], chat_jid: str, business: str | None) -> tuple[str, dict[str, Any]]:
    """A Meta message as (type, content) in our shapes (bzapper.domain.content)."""
    kind = raw.get("type")
    body = raw.get(kind) if isinstance(kind, str) else None
    body = body if isinstance(body, dict) else {}
    content: dict[str, Any]
    if kind == "text":
        message_type, content = "text", {"body": str(body.get("body") or "")}
    elif kind in MEDIA_KINDS:
        message_type = str(kind)
        media = {"cloud_media_id": str(body.get("id") or ""), "mime_type": body.get("mime_type") or ""}
        content = {"media": media}
        if body.get("caption"):
            content["caption"] = str(body["caption"])
        if kind == "document":
            content["filename"] = str(body.get("filename") or "document")
            media["filename"] = content["filename"]
        if kind == "audio":
            content["voice"] = bool(body.get("voice", False))
    elif kind == "location":
        message_type = "location"
        content = {"latitude": _number(body.get("latitude")), "longitude": _number(body.get("longitude"))}
        content.update({k: str(body[k]) for k in ("name", "address") if body.get(k)})
    elif kind == "contacts":
        message_type, content = "contact", _contacts(_list(raw.get("contacts")))
    elif kind == "reaction":
        message_type = "reaction"
        # Meta does not say whose message was reacted to; a contact reacts to what the number sent it.
        content = {
            "target": {"wa_message_id": str(body.get("message_id") or ""), "chat_jid": chat_jid, "from_me": True},
            "emoji": str(body.get("emoji") or ""),
        }
    elif kind == "interactive":
        reply = _dict(body.get(str(body.get("type") or "")))
        message_type = "text"
        content = {"body": str(reply.get("title") or "")}
        if reply.get("id"):
            content["selected_id"] = str(reply["id"])
    elif kind == "button":  # a quick-reply button of a template
        message_type = "text"
        content = {"body": str(body.get("text") or "")}
        if body.get("payload"):
            content["selected_id"] = str(body["payload"])
    else:
        message_type, content = "unknown", {"raw_type": str(kind or "unknown")}
    context = raw.get("context")
    if isinstance(context, dict) and context.get("id") and message_type != "reaction":
        quoted_from = _digits(context.get("from"))
        from_me = business is not None and quoted_from == business
        reply_to: dict[str, Any] = {"wa_message_id": str(context["id"]), "chat_jid": chat_jid, "from_me": from_me}
        if not from_me:
            reply_to["sender_jid"] = chat_jid
        content["reply_to"] = reply_to
    return message_type, content


def _contacts(cards: list[Any]) -> dict[str, Any]:
    contacts, vcards = [], []
    for card in cards:
        if not isinstance(card, dict):
            continue
        name = _dict(card.get("name")).get("formatted_name") or _dict(card.get("name")).get("first_name") or ""
        phones = [
            {"number": str(p.get("phone") or p.get("wa_id") or ""), **({"type": p["type"]} if p.get("type") else {})}
            for p in _list(card.get("phones"))
            if isinstance(p, dict)
        ]
        entry: dict[str, Any] = {"name": str(name), "phones": phones}
        emails = [str(e.get("email")) for e in _list(card.get("emails")) if isinstance(e, dict) and e.get("email")]
        if emails:
            entry["emails"] = emails
        company = _dict(card.get("org")).get("company")
        if company:
            entry["organization"] = str(company)
        contacts.append(entry)
        lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{name}"]
        lines += [f"TEL;type={p.get('type', 'CELL')}:{p['number']}" for p in phones]
        lines += [f"EMAIL:{email}" for email in emails]
        if company:
            lines.append(f"ORG:{company}")
        vcards.append("\n".join([*lines, "END:VCARD"]))
    return {"contacts": contacts, "vcards": vcards}
