"""Money: wallets and their ledgers, checkouts, the payment providers, usage counters."""

from __future__ import annotations

from typing import Protocol

from bzapper.domain.billing import Checkout, LedgerEntry, ProviderEvent, ProviderSession
from bzapper.domain.keys import Mode
from bzapper.domain.usage import UsageRow


class WalletStore(Protocol):
    def credit(
        self, wallet_id: str, amount: int, reason: str, reference: str | None = None, once: str | None = None
    ) -> bool:
        """Adds `amount` with its ledger entry. With `once`, at most once per that key: False if already done."""
        ...

    def balance(self, wallet_id: str) -> int: ...

    def entries(self, wallet_id: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        """Newest first; the cursor is opaque to clients."""
        ...

    def low_notice_due(self, wallet_id: str, threshold: int) -> int | None:
        """The balance when it is at or below `threshold` and no notice went out since the last top-up."""
        ...

    def mark_low_notified(self, wallet_id: str, threshold: int) -> bool: ...


class CheckoutStore(Protocol):
    def create(self, checkout: Checkout) -> None: ...

    def get(self, checkout_id: str) -> Checkout | None: ...

    def attach_session(self, checkout_id: str, provider_session_id: str, url: str) -> None: ...

    def settle_paid(self, checkout: Checkout) -> bool:
        """Credits the wallet and marks the checkout paid, atomically; False when already settled."""
        ...

    def mark_failed(self, checkout_id: str) -> bool: ...


class PaymentProvider(Protocol):
    name: str

    def create_session(
        self, *, checkout_id: str, account_id: str, amount: int, method: str, expires_at: int, base_url: str
    ) -> ProviderSession:
        """Raises PaymentsNotConfigured when this deployment cannot take payments in the provider's mode."""
        ...


class PaymentGateway(Protocol):
    """The providers of each mode (the sandbox page for test keys, Stripe for live ones) and their events."""

    def provider(self, mode: Mode) -> PaymentProvider: ...

    def verify(self, payload: bytes, signature: str) -> ProviderEvent:
        """The event, with the mode whose secret signed it. Raises InvalidSignature, or ValueError for a
        signed body that is not JSON."""
        ...

    def sandbox_event(self, checkout: Checkout, paid: bool) -> tuple[bytes, str]:
        """What the sandbox provider's page sends when it completes or fails a payment, and its signature."""
        ...


class UsageStore(Protocol):
    def hourly(self, account_id: str, livemode: bool, from_hour: str, to_hour: str) -> list[UsageRow]:
        """Every counter row between the two hours (inclusive), all instances."""
        ...

    def increment(
        self, account_id: str, livemode: bool, instance_id: str, at_ms: int, metric: str, by: int = 1
    ) -> None: ...
