"""The payment-provider port and the webhook signature both providers share (Stripe's scheme)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class ProviderSession:
    session_id: str
    url: str


class PaymentProvider(Protocol):
    name: str

    def create_session(
        self, *, checkout_id: str, account_id: str, amount: int, method: str, expires_at: int, base_url: str
    ) -> ProviderSession: ...


class InvalidSignature(Exception):
    pass


def verify(payload: bytes, header: str, secret: str, tolerance_seconds: int = 300) -> dict[str, Any]:
    """Stripe-Signature verification with the `stripe` library; returns the parsed event."""
    import stripe  # lazy: only the payments function pays for the import

    try:
        stripe.WebhookSignature.verify_header(payload.decode(), header, secret, tolerance_seconds)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise InvalidSignature(str(error)) from error
    return json.loads(payload)


def sign(payload: bytes, secret: str, at: int | None = None) -> str:
    """The Stripe-Signature header for `payload` (what the sandbox provider sends, and tests)."""
    timestamp = at if at is not None else int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
