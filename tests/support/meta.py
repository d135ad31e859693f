"""Meta-shaped Cloud API payloads as Meta documents them (webhooks, Graph answers and errors), recorded here so
the tests of our side never depend on the simulated Graph API (an independent model of Meta)."""

from __future__ import annotations

import json
from typing import Any

from bzapper.domain.cloud import sign

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
BUSINESS_DISPLAY = "15550783881"
CONTACT = "16315551181"
TEST_SECRET = "bzapper-sandbox-cloud-app-secret"
LIVE_SECRET = "live-app-secret-for-tests"


def envelope(value: dict[str, Any], phone_number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": BUSINESS_DISPLAY, "phone_number_id": phone_number_id},
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def status(wamid: str, state: str, *, at: int = 1_700_000_000, category: str = "service", **extra: Any) -> dict:
    body: dict[str, Any] = {"id": wamid, "status": state, "timestamp": str(at), "recipient_id": CONTACT, **extra}
    if state in ("sent", "delivered"):
        body["conversation"] = {"id": "conv-1", "origin": {"type": category}}
    body["pricing"] = {"billable": category != "service", "pricing_model": "PMP", "category": category}
    return body


def failed(wamid: str, code: int, title: str, at: int = 1_700_000_000) -> dict:
    return {
        "id": wamid,
        "status": "failed",
        "timestamp": str(at),
        "recipient_id": CONTACT,
        "errors": [{"code": code, "title": title, "message": title, "error_data": {"details": title}}],
    }


def contacts(name: str = "Kerry Fisher", wa_id: str | None = CONTACT, user_id: str | None = None) -> list[dict]:
    contact: dict[str, Any] = {"profile": {"name": name}}
    if wa_id:
        contact["wa_id"] = wa_id
    if user_id:
        contact["user_id"] = user_id
    return [contact]


def text_message(body: str, wamid: str = "wamid.IN1", at: int = 1_700_000_000, **extra: Any) -> dict:
    return {"from": CONTACT, "id": wamid, "timestamp": str(at), "type": "text", "text": {"body": body}, **extra}


def graph_error(code: int, message: str, subcode: int | None = None) -> dict:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message},
        "fbtrace_id": "AazQ9Hh9aSfZ",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def signed(payload: dict[str, Any], secret: str = TEST_SECRET) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    return body, sign(body, secret)
