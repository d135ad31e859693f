"""Money records: a wallet's ledger entries, checkouts (top-ups) and the payment provider's session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bzapper.domain.keys import Mode


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    entry_id: str
    amount: int
    reason: str
    reference: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class Checkout:
    """A top-up, from its creation (open) until the provider says it was paid, failed or expired."""

    checkout_id: str
    account_id: str
    mode: Mode
    amount: int
    currency: str
    method: str
    provider: str
    status: str
    created_at: int
    expires_at: int
    provider_session_id: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderSession:
    session_id: str
    url: str


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A payment provider's webhook event, verified: `mode` is decided by the secret that signed it."""

    event: dict[str, Any]
    mode: Mode


class InvalidSignature(Exception):
    """A provider event whose signature no configured secret verifies."""


class PaymentsNotConfigured(RuntimeError):
    """This deployment has no provider for the mode (e.g. no Stripe key): checkouts are not supported."""
