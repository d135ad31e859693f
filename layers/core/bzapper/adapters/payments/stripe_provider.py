"""Stripe Checkout Sessions (Pix and card, BRL) for live keys."""

from __future__ import annotations

from bzapper.config import settings
from bzapper.domain.billing import PaymentsNotConfigured, ProviderSession


def stripe_webhook_secret() -> str | None:
    return settings().payments.stripe_webhook_secret


class StripeProvider:
    name = "stripe"

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key or settings().payments.stripe_secret_key

    def create_session(
        self, *, checkout_id: str, account_id: str, amount: int, method: str, expires_at: int, base_url: str
    ) -> ProviderSession:
        if not self.api_key:
            raise PaymentsNotConfigured("BZ_STRIPE_SECRET_KEY is not set")
        import stripe

        session = stripe.checkout.Session.create(
            api_key=self.api_key,
            mode="payment",
            payment_method_types=[method],
            line_items=[
                {
                    "price_data": {
                        "currency": "brl",
                        "unit_amount": amount,
                        "product_data": {"name": "bzapper credits"},
                    },
                    "quantity": 1,
                }
            ],
            client_reference_id=checkout_id,
            metadata={"checkout_id": checkout_id, "account_id": account_id},
            expires_at=expires_at // 1000,
            success_url=settings().payments.checkout_success_url,
            cancel_url=settings().payments.checkout_cancel_url,
            idempotency_key=checkout_id,
        )
        return ProviderSession(session_id=session.id, url=session.url)
