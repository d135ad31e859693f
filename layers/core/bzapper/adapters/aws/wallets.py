"""Wallets: a balance item and immutable ledger entries in one partition, always written together."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import WalletModel
from bzapper.domain.billing import LedgerEntry
from bzapper.domain.clock import now_ms
from bzapper.domain.cursors import decode_cursor, encode_cursor
from bzapper.domain.ids import new_id

BALANCE_ENTRY = "balance"
ENTRY_PREFIX = "entry#"
ONCE_PREFIX = "once#"


def ledger_entry_key(entry_id: str) -> str:
    return f"{ENTRY_PREFIX}{entry_id}"


def ledger_put(
    tx: TransactWrite,
    wallet_id: str,
    amount: int,
    reason: str,
    reference: str | None,
    at: int,
    *,
    entry_id: str | None = None,
    once: str | None = None,
) -> None:
    """A ledger entry, its key sorting by time. With `once`, a guard item makes it happen at most once:
    a redelivered refund or payment finds the guard, and the whole transaction is cancelled."""
    entry = WalletModel(
        wallet_id,
        ledger_entry_key(entry_id or new_id("le")),
        amount=amount,
        reason=reason,
        reference=reference,
        created_at=at,
    )
    tx.save(entry, condition=WalletModel.entry.does_not_exist())
    if once:
        guard = WalletModel(wallet_id, f"{ONCE_PREFIX}{once}", created_at=at)
        tx.save(guard, condition=WalletModel.entry.does_not_exist())


def balance_add(
    tx: TransactWrite, wallet_id: str, amount: int, *, require_funds: bool = False, rearm: bool = False
) -> None:
    actions = [WalletModel.balance.add(amount)]
    if rearm:
        actions.append(WalletModel.low_notified.set(False))  # money in (not a refund) re-arms the notice
    tx.update(
        WalletModel(wallet_id, BALANCE_ENTRY),
        actions=actions,
        condition=(WalletModel.balance >= -amount) if require_funds else None,
    )


class WalletStore:
    def credit(
        self, wallet_id: str, amount: int, reason: str, reference: str | None = None, once: str | None = None
    ) -> bool:
        """Adds `amount` with its ledger entry. With `once`, at most once per that key: False if already done."""
        try:
            with TransactWrite(connection=dynamodb_connection()) as tx:
                ledger_put(tx, wallet_id, amount, reason, reference, now_ms(), once=once)
                balance_add(tx, wallet_id, amount, rearm=amount > 0)
        except TransactWriteError as error:
            if once and any(
                r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []
            ):
                return False
            raise
        return True

    def balance(self, wallet_id: str) -> int:
        try:
            return int(WalletModel.get(wallet_id, BALANCE_ENTRY, consistent_read=True).balance or 0)
        except DoesNotExist:
            return 0

    def entries(self, wallet_id: str, limit: int, cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
        """Newest first, `limit` at a time; the cursor is opaque to clients."""
        start = None
        if cursor:
            after = decode_cursor(cursor, wallet_id, {"e": str})["e"]
            # Always under the entry prefix: a start key outside the query's range is a DynamoDB error.
            start = {"wallet_id": {"S": wallet_id}, "entry": {"S": ledger_entry_key(after)}}
        # One more than asked: a full page is only "has more" when something really follows.
        items = list(
            WalletModel.query(
                wallet_id,
                WalletModel.entry.startswith(ENTRY_PREFIX),
                scan_index_forward=False,
                limit=limit + 1,
                last_evaluated_key=start,
            )
        )
        entries = [
            LedgerEntry(
                entry_id=item.entry[len(ENTRY_PREFIX) :],
                amount=int(item.amount or 0),
                reason=item.reason or "",
                reference=item.reference,
                created_at=int(item.created_at or 0),
            )
            for item in items[:limit]
        ]
        if len(items) <= limit:
            return entries, None
        last = items[limit - 1]
        return entries, encode_cursor(wallet_id, {"e": last.entry[len(ENTRY_PREFIX) :]})

    def low_notice_due(self, wallet_id: str, threshold: int) -> int | None:
        """The balance when it is at or below `threshold` and no notice went out since the last top-up."""
        try:
            item = WalletModel.get(wallet_id, BALANCE_ENTRY, consistent_read=True)
        except DoesNotExist:
            return None
        balance = int(item.balance or 0)
        return balance if balance <= threshold and not item.low_notified else None

    def mark_low_notified(self, wallet_id: str, threshold: int) -> bool:
        """True once per crossing below `threshold` (the caller then emits wallet.low_balance)."""
        due = (WalletModel.balance <= threshold) & (WalletModel.low_notified != True)  # noqa: E712
        return applied(
            lambda: WalletModel(wallet_id, BALANCE_ENTRY).update(
                actions=[WalletModel.low_notified.set(True)], condition=due
            )
        )
