"""Checkout sessions (wallet top-ups) and their settlement: credited once per checkout."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import CheckoutModel
from bzapper.adapters.aws.wallets import balance_add, ledger_put
from bzapper.domain.clock import now_ms
from bzapper.domain.model import wallet_id


class CheckoutStore:
    def create(self, item: CheckoutModel) -> None:
        item.save(condition=CheckoutModel.checkout_id.does_not_exist())

    def get(self, checkout_id: str) -> CheckoutModel | None:
        try:
            return CheckoutModel.get(checkout_id, consistent_read=True)
        except DoesNotExist:
            return None

    def attach_session(self, checkout_id: str, provider_session_id: str, url: str) -> None:
        CheckoutModel(checkout_id).update(
            actions=[CheckoutModel.provider_session_id.set(provider_session_id), CheckoutModel.url.set(url)]
        )

    def settle_paid(self, checkout: CheckoutModel) -> bool:
        """Credits the wallet and marks the checkout paid, atomically; False when already settled."""
        try:
            with TransactWrite(connection=dynamodb_connection()) as tx:
                ledger_put(
                    tx,
                    wallet_id(checkout.account_id, checkout.mode),
                    int(checkout.amount),
                    "top_up",
                    checkout.checkout_id,
                    now_ms(),
                    once=f"topup_{checkout.checkout_id}",
                )
                balance_add(tx, wallet_id(checkout.account_id, checkout.mode), int(checkout.amount), rearm=True)
                tx.update(
                    CheckoutModel(checkout.checkout_id),
                    actions=[CheckoutModel.status.set("paid")],
                    condition=CheckoutModel.status.is_in("open", "failed", "expired"),
                )
        except TransactWriteError as error:
            if any(
                reason is not None and reason.code == "ConditionalCheckFailed"
                for reason in error.cancellation_reasons or []
            ):
                return False
            raise
        return True

    def mark_failed(self, checkout_id: str) -> bool:
        return applied(
            lambda: CheckoutModel(checkout_id).update(
                actions=[CheckoutModel.status.set("failed")], condition=CheckoutModel.status == "open"
            )
        )
