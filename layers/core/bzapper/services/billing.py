"""Wallet, checkout and the payment provider's webhook: money in, exactly once."""

from __future__ import annotations

import json
import logging
from typing import Any

from bzapper.adapters.aws.models import CheckoutModel
from bzapper.adapters.payments.base import InvalidSignature, PaymentProvider, sign, verify
from bzapper.adapters.payments.sandbox import SandboxProvider, sandbox_secret
from bzapper.adapters.payments.stripe_provider import StripeNotConfigured, StripeProvider, stripe_webhook_secret
from bzapper.domain.clock import iso, now_ms
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.ids import new_id
from bzapper.domain.model import Principal
from bzapper.domain.plans import CURRENCY, plan_named
from bzapper.services.container import Services

logger = logging.getLogger(__name__)

CHECKOUT_TTL_MS = 60 * 60 * 1000
PAGE_SIZE_MAX = 100


def provider_for(principal: Principal) -> PaymentProvider:
    """Test keys pay on the sandbox provider's local page; live keys on Stripe."""
    return StripeProvider() if principal.livemode else SandboxProvider()


def wallet_view(services: Services, principal: Principal, limit: int, cursor: str | None) -> dict[str, Any]:
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise validation_failed("limit")
    entries, next_cursor = services.wallets.entries(principal.wallet_id, limit, cursor)
    return {
        "balance": services.wallets.balance(principal.wallet_id),
        "currency": CURRENCY,
        "low_balance_threshold": plan_named(principal.plan).low_balance_threshold,
        "livemode": principal.livemode,
        "entries": [
            {
                "id": entry.entry_id,
                "amount": entry.amount,
                "reason": entry.reason,
                "reference": entry.reference,
                "created": iso(entry.created_at),
            }
            for entry in entries
        ],
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
    }


def create_checkout(
    services: Services, principal: Principal, amount: int, method: str, base_url: str
) -> dict[str, Any]:
    checkout_id = new_id("chk")
    created = now_ms()
    expires_at = created + CHECKOUT_TTL_MS
    item = CheckoutModel(
        checkout_id,
        account_id=principal.account_id,
        mode=principal.mode,
        amount=amount,
        currency=CURRENCY,
        method=method,
        provider="stripe" if principal.livemode else "sandbox",
        status="open",
        created_at=created,
        expires_at=expires_at,
    )
    services.checkouts.create(item)
    try:
        session = provider_for(principal).create_session(
            checkout_id=checkout_id,
            account_id=principal.account_id,
            amount=amount,
            method=method,
            expires_at=expires_at,
            base_url=base_url,
        )
    except StripeNotConfigured as error:
        raise BzError("not_supported") from error
    services.checkouts.attach_session(checkout_id, session.session_id, session.url)
    return {
        "checkout_id": checkout_id,
        "url": session.url,
        "expires_at": iso(expires_at),
        "amount": amount,
        "currency": CURRENCY,
        "method": method,
    }


def verify_provider_event(payload: bytes, signature: str | None) -> tuple[dict[str, Any], str]:
    """The event and the mode it may touch, decided by the secret that signed it, never by its content."""
    if not signature:
        raise BzError("unauthorized")
    candidates = [("test", sandbox_secret())]
    live_secret = stripe_webhook_secret()
    if live_secret:
        candidates.insert(0, ("live", live_secret))
    for mode, secret in candidates:
        try:
            return verify(payload, signature, secret), mode
        except InvalidSignature:
            continue
        except ValueError as error:  # signed but not JSON
            raise validation_failed("request_body") from error
    raise BzError("unauthorized")


_SETTLING = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
_FAILING = {"checkout.session.async_payment_failed", "checkout.session.expired"}


def process_provider_event(services: Services, payload: bytes, signature: str | None) -> bool:
    """Applies a payment event; True when it changed something. Redeliveries change nothing."""
    event, mode = verify_provider_event(payload, signature)
    data = event.get("data") if isinstance(event, dict) else None
    session = data.get("object") if isinstance(data, dict) else None
    if not isinstance(session, dict):
        raise validation_failed("request_body")  # signed, but not a provider event we can read
    kind = event.get("type")
    metadata = session.get("metadata") if isinstance(session.get("metadata"), dict) else {}
    checkout_id = session.get("client_reference_id") or metadata.get("checkout_id")
    if not isinstance(checkout_id, str):
        return False
    if kind not in _SETTLING | _FAILING or not checkout_id:
        return False  # other event types are acknowledged and ignored
    checkout = services.checkouts.get(checkout_id)
    if checkout is None or checkout.mode != mode:
        logger.warning("payment event for an unknown checkout", extra={"event_type": kind})
        return False
    if kind in _FAILING:
        return services.checkouts.mark_failed(checkout_id)
    if session.get("payment_status") != "paid":
        return False  # Pix: completed but not yet paid; async_payment_succeeded follows
    amount = session.get("amount_total")
    if not isinstance(amount, int) or amount != int(checkout.amount):
        raise validation_failed("amount_total")
    return services.checkouts.settle_paid(checkout)


def sandbox_event(checkout: CheckoutModel, paid: bool) -> tuple[bytes, str]:
    """What the sandbox provider sends when its page completes or fails a payment, signed."""
    event = {
        "id": new_id("evt_sbx"),
        "object": "event",
        "type": "checkout.session.completed" if paid else "checkout.session.async_payment_failed",
        "created": now_ms() // 1000,
        "data": {
            "object": {
                "id": checkout.provider_session_id,
                "object": "checkout.session",
                "client_reference_id": checkout.checkout_id,
                "metadata": {"checkout_id": checkout.checkout_id, "account_id": checkout.account_id},
                "amount_total": int(checkout.amount),
                "currency": "brl",
                "payment_status": "paid" if paid else "unpaid",
            }
        },
    }
    payload = json.dumps(event, separators=(",", ":")).encode()
    return payload, sign(payload, sandbox_secret())
