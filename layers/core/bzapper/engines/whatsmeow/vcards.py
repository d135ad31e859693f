"""vCards: the contact cards WhatsApp carries, to and from bzapper's contact shape.

contact = {"name", "phones": [{"number", "type"?}], "emails"?, "organization"?}  (bzapper.domain.content)
"""

from __future__ import annotations

import re
from typing import Any

_UNESCAPE = re.compile(r"\\(.)")


def _unescape(value: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _lines(text: str) -> list[str]:
    """Physical lines joined back into logical ones (a line starting with a space or tab continues the last)."""
    logical: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and logical:
            logical[-1] += raw[1:]
        elif raw:
            logical.append(raw)
    return logical


def _params(spec: str) -> tuple[str, dict[str, str]]:
    """ "item1.TEL;type=CELL;waid=5511" -> ("TEL", {"type": "cell", "waid": "5511"})."""
    name, *rest = spec.split(";")
    params: dict[str, str] = {}
    for item in rest:
        key, sep, value = item.partition("=")
        if sep:
            params.setdefault(key.strip().lower(), value.strip().strip('"').lower())
        else:  # vCard 2.1 bare types: "TEL;CELL:..."
            params.setdefault("type", key.strip().lower())
    return name.rpartition(".")[2].upper(), params


def parse(text: str) -> dict[str, Any]:
    """One vCard's text as a contact. Unknown properties are ignored; nothing here raises."""
    name = ""
    structured = ""
    phones: list[dict[str, str]] = []
    emails: list[str] = []
    organization = ""
    for line in _lines(text):
        spec, sep, value = line.partition(":")
        if not sep:
            continue
        prop, params = _params(spec)
        if prop == "FN":
            name = _unescape(value).strip()
        elif prop == "N" and not structured:
            parts = [_unescape(p).strip() for p in re.split(r"(?<!\\);", value)]
            structured = " ".join(p for p in (parts[1:2] + parts[:1]) if p)
        elif prop == "TEL":
            waid = params.get("waid", "")
            number = f"+{waid}" if waid.isdigit() else _unescape(value).strip()
            phone = {"number": number}
            kind = params.get("type", "").split(",")[0]
            if kind:
                phone["type"] = kind
            phones.append(phone)
        elif prop == "EMAIL":
            emails.append(_unescape(value).strip())
        elif prop == "ORG" and not organization:
            organization = _unescape(re.split(r"(?<!\\);", value)[0]).strip()
    contact: dict[str, Any] = {"name": name or structured, "phones": phones}
    if emails:
        contact["emails"] = emails
    if organization:
        contact["organization"] = organization
    return contact


def build(contact: dict[str, Any]) -> str:
    """A vCard 3.0 for a contact, with WhatsApp's `waid` so the card shows a "Message" button."""
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{_escape(contact['name'])}", f"N:;{_escape(contact['name'])};;;"]
    if contact.get("organization"):
        lines.append(f"ORG:{_escape(contact['organization'])}")
    for phone in contact.get("phones", []):
        number = phone["number"]
        digits = "".join(ch for ch in number if ch.isdigit())
        kind = (phone.get("type") or "cell").upper()
        lines.append(f"TEL;type={kind};waid={digits}:{number}")
    for email in contact.get("emails", []):
        lines.append(f"EMAIL:{_escape(email)}")
    lines.append("END:VCARD")
    return "\n".join(lines)
