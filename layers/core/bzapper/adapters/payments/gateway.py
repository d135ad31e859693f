"""The payment gateway: the sandbox provider for test keys, Stripe for live ones, and their signed events."""

from __future__ import annotations

import json

from bzapper.adapters.payments.base import sign, verify
from bzapper.adapters.payments.sandbox import SandboxProvider, sandbox_secret
from bzapper.adapters.payments.stripe_provider import StripeProvider, stripe_webhook_secret
from bzapper.domain.billing import Checkout, InvalidSignature, ProviderEvent
from bzapper.domain.clock import now_ms
from bzapper.domain.ids import new_id
from bzapper.domain.keys import Mode
from bzapper.ports.billing import PaymentProvider


class ProviderGateway:
    def provider(self, mode: Mode) -> PaymentProvider:
        return StripeProvider() if mode == "live" else SandboxProvider()

    def verify(self, payload: bytes, signature: str) -> ProviderEvent:
        """The mode an event may touch is decided by the secret that signed it, never by its content."""
        candidates: list[tuple[Mode, str]] = [("test", sandbox_secret())]
        live_secret = stripe_webhook_secret()
        if live_secret:
            candidates.insert(0, ("live", live_secret))
        for mode, secret in candidates:
            try:
                return ProviderEvent(verify(payload, signature, secret), mode)
            except InvalidSignature:
                continue
        raise InvalidSignature("no configured secret signed this event")

    def sandbox_event(self, checkout: Checkout, paid: bool) -> tuple[bytes, str]:
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
                    "amount_total": checkout.amount,
                    "currency": "brl",
                    "payment_status": "paid" if paid else "unpaid",
                }
            },
        }
        payload = json.dumps(event, separators=(",", ":")).encode()
        return payload, sign(payload, sandbox_secret())
