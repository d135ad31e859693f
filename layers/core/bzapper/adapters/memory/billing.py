"""Money in memory (bzapper.ports.billing): wallets and their ledgers, checkouts, the payment gateway, usage.

The wallet, usage and checkout stores share one lock with the send transaction (bzapper.adapters.memory
.messages), so what a commit checks and writes across them happens all at once, as in one DynamoDB
transaction. Their `_…_locked` methods are those transaction steps: call them only with the lock held.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from bzapper.adapters.memory.faults import ConditionFailed, Faults
from bzapper.domain.billing import (
    Checkout,
    InvalidSignature,
    LedgerEntry,
    PaymentsNotConfigured,
    ProviderEvent,
    ProviderSession,
)
from bzapper.domain.clock import now_ms
from bzapper.domain.cursors import decode_cursor, encode_cursor
from bzapper.domain.ids import new_id
from bzapper.domain.keys import Mode
from bzapper.domain.model import wallet_id
from bzapper.domain.usage import COUNTERS, UsageRow, hour_of
from bzapper.ports.billing import PaymentProvider

# Wallets ---------------------------------------------------------------------------------------------


@dataclass
class _Wallet:
    balance: int = 0
    low_notified: bool = False
    entries: list[LedgerEntry] = field(default_factory=list)
    once: set[str] = field(default_factory=set)
    """The `once` keys already used (the DynamoDB store's guard items)."""


class MemoryWalletStore(Faults):
    def __init__(self, clock: Callable[[], int] = now_ms, lock: threading.RLock | None = None) -> None:
        super().__init__()
        self._clock = clock
        self._lock = lock or threading.RLock()
        self._wallets: dict[str, _Wallet] = {}

    def credit(
        self, wallet_id: str, amount: int, reason: str, reference: str | None = None, once: str | None = None
    ) -> bool:
        self._enter("credit", wallet_id, amount, reason, reference, once=once)
        with self._lock:
            if once and self._used_locked(wallet_id, once):
                return False
            self._post_locked(wallet_id, amount, reason, reference, self._clock(), once=once, rearm=amount > 0)
            return True

    def balance(self, wallet_id: str) -> int:
        self._enter("balance", wallet_id)
        with self._lock:
            wallet = self._wallets.get(wallet_id)
            return wallet.balance if wallet else 0

    def entries(self, wallet_id: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        self._enter("entries", wallet_id, limit, cursor)
        after = decode_cursor(cursor, wallet_id, {"e": str})["e"] if cursor else None
        with self._lock:
            wallet = self._wallets.get(wallet_id)
            newest_first = sorted(wallet.entries if wallet else [], key=lambda e: e.entry_id, reverse=True)
        if after is not None:
            newest_first = [entry for entry in newest_first if entry.entry_id < after]
        page = newest_first[:limit]
        if len(newest_first) <= limit:
            return page, None
        return page, encode_cursor(wallet_id, {"e": page[-1].entry_id})

    def low_notice_due(self, wallet_id: str, threshold: int) -> int | None:
        self._enter("low_notice_due", wallet_id, threshold)
        with self._lock:
            wallet = self._wallets.get(wallet_id)
            if wallet is None:
                return None
            return wallet.balance if wallet.balance <= threshold and not wallet.low_notified else None

    def mark_low_notified(self, wallet_id: str, threshold: int) -> bool:
        self._enter("mark_low_notified", wallet_id, threshold)
        with self._lock:
            wallet = self._wallets.get(wallet_id)
            if wallet is None or wallet.balance > threshold or wallet.low_notified:
                return False
            wallet.low_notified = True
            return True

    # The transaction's steps (lock held) -------------------------------------------------------------

    def _can_pay_locked(self, wallet_id: str, amount: int) -> bool:
        wallet = self._wallets.get(wallet_id)
        return wallet is not None and wallet.balance >= amount

    def _used_locked(self, wallet_id: str, once: str) -> bool:
        wallet = self._wallets.get(wallet_id)
        return wallet is not None and once in wallet.once

    def _post_locked(
        self,
        wallet_id: str,
        amount: int,
        reason: str,
        reference: str | None,
        at: int,
        *,
        once: str | None = None,
        rearm: bool = False,
        entry_id: str | None = None,
    ) -> None:
        """A ledger entry and the balance moved by it; money in (not a refund) re-arms the low-balance notice."""
        wallet = self._wallets.setdefault(wallet_id, _Wallet())
        wallet.entries.append(LedgerEntry(entry_id or new_id("le"), amount, reason, reference, at))
        wallet.balance += amount
        if once:
            wallet.once.add(once)
        if rearm:
            wallet.low_notified = False


# Checkouts --------------------------------------------------------------------------------------------


class MemoryCheckoutStore(Faults):
    def __init__(
        self, wallets: MemoryWalletStore, clock: Callable[[], int] = now_ms, lock: threading.RLock | None = None
    ) -> None:
        super().__init__()
        self._wallets = wallets
        self._clock = clock
        self._lock = lock or threading.RLock()
        self.rows: dict[str, Checkout] = {}

    def create(self, checkout: Checkout) -> None:
        self._enter("create", checkout)
        with self._lock:
            if checkout.checkout_id in self.rows:
                raise ConditionFailed(f"checkout {checkout.checkout_id} exists")
            self.rows[checkout.checkout_id] = replace(checkout, provider_session_id=None, url=None)

    def get(self, checkout_id: str) -> Checkout | None:
        self._enter("get", checkout_id)
        with self._lock:
            return self.rows.get(checkout_id)

    def attach_session(self, checkout_id: str, provider_session_id: str, url: str) -> None:
        self._enter("attach_session", checkout_id, provider_session_id, url)
        with self._lock:
            current = self.rows.get(checkout_id)
            if current is not None:
                self.rows[checkout_id] = replace(current, provider_session_id=provider_session_id, url=url)

    def settle_paid(self, checkout: Checkout) -> bool:
        """One transaction: the top-up (once per checkout) and the checkout marked paid; False if either was done."""
        self._enter("settle_paid", checkout)
        wallet = wallet_id(checkout.account_id, checkout.mode)
        once = f"topup_{checkout.checkout_id}"
        with self._lock:
            stored = self.rows.get(checkout.checkout_id)
            if stored is None or stored.status not in ("open", "failed", "expired"):
                return False
            if self._wallets._used_locked(wallet, once):
                return False
            self._wallets._post_locked(
                wallet, checkout.amount, "top_up", checkout.checkout_id, self._clock(), once=once, rearm=True
            )
            self.rows[checkout.checkout_id] = replace(stored, status="paid")
            return True

    def mark_failed(self, checkout_id: str) -> bool:
        self._enter("mark_failed", checkout_id)
        with self._lock:
            stored = self.rows.get(checkout_id)
            if stored is None or stored.status != "open":
                return False
            self.rows[checkout_id] = replace(stored, status="failed")
            return True


# The payment gateway ------------------------------------------------------------------------------------

TEST_SECRET = "whsec_memory_test"  # noqa: S105 - a fake's key, never a real one
LIVE_SECRET = "whsec_memory_live"  # noqa: S105


class MemoryPaymentProvider(Faults):
    """A provider's checkout page: a session per checkout, or PaymentsNotConfigured when it has no key."""

    def __init__(self, name: str, configured: bool = True) -> None:
        super().__init__()
        self.name = name
        self.configured = configured

    def create_session(
        self, *, checkout_id: str, account_id: str, amount: int, method: str, expires_at: int, base_url: str
    ) -> ProviderSession:
        self._enter(
            "create_session",
            checkout_id=checkout_id,
            account_id=account_id,
            amount=amount,
            method=method,
            expires_at=expires_at,
            base_url=base_url,
        )
        if not self.configured:
            raise PaymentsNotConfigured(f"{self.name} has no key")
        return ProviderSession(f"cs_{self.name}_{checkout_id}", f"{base_url.rstrip('/')}/pay/{checkout_id}")


def sign(payload: bytes, secret: str) -> str:
    """The fake providers' signature: an HMAC of the body (the real scheme's timestamps left out)."""
    return "v1=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


class MemoryPaymentGateway(Faults):
    """The sandbox provider for test keys and a Stripe stand-in for live ones. As in the real gateway, the mode an
    event may touch is decided by the secret that signed it; without a live secret only test events verify."""

    def __init__(self, *, live_configured: bool = True, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self.sandbox = MemoryPaymentProvider("sandbox")
        self.stripe = MemoryPaymentProvider("stripe", configured=live_configured)
        self.secrets: dict[Mode, str | None] = {"test": TEST_SECRET, "live": LIVE_SECRET if live_configured else None}
        self._clock = clock

    def provider(self, mode: Mode) -> PaymentProvider:
        self._enter("provider", mode)
        return self.stripe if mode == "live" else self.sandbox

    def verify(self, payload: bytes, signature: str) -> ProviderEvent:
        self._enter("verify", payload, signature)
        for mode in ("live", "test"):
            secret = self.secrets[mode]
            if secret and hmac.compare_digest(sign(payload, secret), signature):
                return ProviderEvent(json.loads(payload), mode)  # ValueError for a signed body that is not JSON
        raise InvalidSignature("no configured secret signed this event")

    def sandbox_event(self, checkout: Checkout, paid: bool) -> tuple[bytes, str]:
        self._enter("sandbox_event", checkout, paid)
        payload = self.event_for(checkout, paid)
        return payload, sign(payload, TEST_SECRET)

    def event_for(self, checkout: Checkout, paid: bool, *, kind: str | None = None, amount: int | None = None) -> bytes:
        """A provider's event about a checkout, as JSON (sign it with `sign` and one of `secrets`)."""
        event = {
            "id": new_id("evt_mem"),
            "object": "event",
            "type": kind or ("checkout.session.completed" if paid else "checkout.session.async_payment_failed"),
            "created": self._clock() // 1000,
            "data": {
                "object": {
                    "id": checkout.provider_session_id,
                    "object": "checkout.session",
                    "client_reference_id": checkout.checkout_id,
                    "metadata": {"checkout_id": checkout.checkout_id, "account_id": checkout.account_id},
                    "amount_total": checkout.amount if amount is None else amount,
                    "currency": "brl",
                    "payment_status": "paid" if paid else "unpaid",
                }
            },
        }
        return json.dumps(event, separators=(",", ":")).encode()


# Usage counters -----------------------------------------------------------------------------------------


def _counter_id(account_id: str, livemode: bool) -> str:
    return f"{account_id}:{'live' if livemode else 'test'}"


class MemoryUsageStore(Faults):
    """One counter row per (account and mode, hour, instance), as the DynamoDB table keeps them."""

    def __init__(self, lock: threading.RLock | None = None) -> None:
        super().__init__()
        self._lock = lock or threading.RLock()
        self._rows: dict[tuple[str, str], dict[str, int]] = {}
        """(counter id, "hour#instance") → metric → count."""

    def hourly(self, account_id: str, livemode: bool, from_hour: str, to_hour: str) -> list[UsageRow]:
        self._enter("hourly", account_id, livemode, from_hour, to_hour)
        counter = _counter_id(account_id, livemode)
        with self._lock:
            rows = sorted((bucket, dict(counts)) for (cid, bucket), counts in self._rows.items() if cid == counter)
        found = []
        for bucket, counts in rows:
            if from_hour <= bucket <= to_hour + "#\uffff":
                hour, _, instance_id = bucket.partition("#")
                found.append(UsageRow(hour, instance_id, {name: counts.get(name, 0) for name in COUNTERS}))
        return found

    def increment(
        self, account_id: str, livemode: bool, instance_id: str, at_ms: int, metric: str, by: int = 1
    ) -> None:
        self._enter("increment", account_id, livemode, instance_id, at_ms, metric)
        with self._lock:
            self._add_locked(account_id, livemode, instance_id, at_ms, (metric,) * by)

    def _add_locked(
        self, account_id: str, livemode: bool, instance_id: str, at_ms: int, metrics: Iterable[str]
    ) -> None:
        counts = self._rows.setdefault((_counter_id(account_id, livemode), f"{hour_of(at_ms)}#{instance_id}"), {})
        for metric in metrics:
            if metric not in COUNTERS:
                raise ValueError(f"unknown usage metric {metric!r}")  # the table has no such attribute
            counts[metric] = counts.get(metric, 0) + 1

    def total(self, account_id: str, livemode: bool, metric: str) -> int:
        """Every hour and instance added up: what a test usually asks."""
        counter = _counter_id(account_id, livemode)
        with self._lock:
            return sum(counts.get(metric, 0) for (cid, _), counts in self._rows.items() if cid == counter)
