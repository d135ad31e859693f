"""The webhook signature both payment providers use (Stripe's scheme)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from bzapper.domain.billing import InvalidSignature


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
