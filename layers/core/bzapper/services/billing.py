"""Wallet, checkout and the payment provider's webhook: money in, exactly once."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from bzapper.domain.billing import Checkout, InvalidSignature, LedgerEntry, PaymentsNotConfigured, ProviderEvent
from bzapper.domain.clock import now_ms
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.domain.ids import is_id, new_id
from bzapper.domain.model import Principal
from bzapper.domain.plans import CURRENCY, plan_named
from bzapper.services.container import Services
from bzapper.services.idempotent import once

logger = logging.getLogger(__name__)

CHECKOUT_TTL_MS = 60 * 60 * 1000
PAGE_SIZE_MAX = 100


@dataclass(frozen=True, slots=True)
class WalletView:
    balance: int
    currency: str
    low_balance_threshold: int
    livemode: bool
    entries: list[LedgerEntry]
    next_cursor: str | None


def wallet_view(services: Services, principal: Principal, limit: int, cursor: str | None) -> WalletView:
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise validation_failed("limit")
    entries, next_cursor = services.wallets.entries(principal.wallet_id, limit, cursor)
    return WalletView(
        balance=services.wallets.balance(principal.wallet_id),
        currency=CURRENCY,
        low_balance_threshold=plan_named(principal.plan).low_balance_threshold,
        livemode=principal.livemode,
        entries=entries,
        next_cursor=next_cursor,
    )


def create_checkout(services: Services, principal: Principal, amount: int, method: str, base_url: str) -> Checkout:
    """A checkout open for an hour, with the provider's page to pay it on (`url`)."""
    created = now_ms()
    checkout = Checkout(
        checkout_id=new_id("chk"),
        account_id=principal.account_id,
        mode=principal.mode,
        amount=amount,
        currency=CURRENCY,
        method=method,
        provider=services.payments.provider(principal.mode).name,
        status="open",
        created_at=created,
        expires_at=created + CHECKOUT_TTL_MS,
    )
    services.checkouts.create(checkout)
    try:
        session = services.payments.provider(principal.mode).create_session(
            checkout_id=checkout.checkout_id,
            account_id=principal.account_id,
            amount=amount,
            method=method,
            expires_at=checkout.expires_at,
            base_url=base_url,
        )
    except PaymentsNotConfigured as error:
        raise BzError("not_supported") from error
    services.checkouts.attach_session(checkout.checkout_id, session.session_id, session.url)
    return replace(checkout, provider_session_id=session.session_id, url=session.url)


def sandbox_checkout(services: Services, checkout_id: str) -> Checkout | None:
    """A checkout the sandbox provider's page may show (None: unknown, or another provider's), its status
    read as of now (an open checkout past its expiry is expired)."""
    checkout = services.checkouts.get(checkout_id) if is_id(checkout_id, "chk") else None
    if checkout is None or checkout.provider != "sandbox":
        return None
    if checkout.status == "open" and checkout.expires_at < now_ms():
        return replace(checkout, status="expired")
    return checkout


def settle_sandbox_checkout(services: Services, checkout: Checkout, paid: bool) -> bool:
    """The sandbox page's answer takes the very path a provider's webhook takes: signed, verified, settled once."""
    payload, signature = services.payments.sandbox_event(checkout, paid)
    return process_provider_event(services, payload, signature)


def verify_provider_event(services: Services, payload: bytes, signature: str | None) -> ProviderEvent:
    """The event and the mode it may touch, decided by the secret that signed it, never by its content."""
    # Not `unauthorized`: no API key is involved, and the provider only needs a non-2xx to retry.
    if not signature:
        raise BzError("invalid_signature")
    try:
        return services.payments.verify(payload, signature)
    except InvalidSignature as error:
        raise BzError("invalid_signature") from error
    except ValueError as error:  # signed but not JSON
        raise validation_failed("request_body") from error


_SETTLING = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
_FAILING = {"checkout.session.async_payment_failed", "checkout.session.expired"}


def process_provider_event(services: Services, payload: bytes, signature: str | None) -> bool:
    """Applies a payment event; True when it changed something. Redeliveries change nothing."""
    verified = verify_provider_event(services, payload, signature)
    event, mode = verified.event, verified.mode
    data = event.get("data") if isinstance(event, dict) else None
    session = data.get("object") if isinstance(data, dict) else None
    if not isinstance(session, dict):
        raise validation_failed("request_body")  # signed, but not a provider event we can read
    kind = event.get("type")
    metadata = session.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
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
    if not isinstance(amount, int) or amount != checkout.amount:
        raise validation_failed("amount_total")
    return services.checkouts.settle_paid(checkout)


def create_checkout_once(
    services: Services,
    principal: Principal,
    idempotency: IdempotencyRequest | None,
    amount: int,
    method: str,
    base_url: str,
) -> tuple[Checkout, bool]:
    """`create_checkout` under an Idempotency-Key: a retry answers the same checkout, never a second charge page."""

    def replay(stored: dict[str, Any]) -> Checkout:
        checkout = services.checkouts.get(str(stored["checkout_id"]))
        if checkout is None:
            raise BzError("not_found")
        return checkout

    return once(
        services,
        principal,
        idempotency,
        lambda: create_checkout(services, principal, amount, method, base_url),
        remember=lambda checkout: {"checkout_id": checkout.checkout_id},
        replay=replay,
    )
