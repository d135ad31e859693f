"""Checkout sessions (wallet top-ups) and their settlement: credited once per checkout."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import CheckoutModel
from bzapper.adapters.aws.wallets import balance_add, ledger_put
from bzapper.domain.billing import Checkout
from bzapper.domain.clock import now_ms
from bzapper.domain.model import wallet_id


def _checkout(item: CheckoutModel) -> Checkout:
    return Checkout(
        checkout_id=item.checkout_id,
        account_id=item.account_id,
        mode="live" if item.mode == "live" else "test",
        amount=int(item.amount),
        currency=item.currency,
        method=item.method,
        provider=item.provider,
        status=item.status,
        created_at=int(item.created_at),
        expires_at=int(item.expires_at),
        provider_session_id=item.provider_session_id,
        url=item.url,
    )


class CheckoutStore:
    def create(self, checkout: Checkout) -> None:
        item = CheckoutModel(
            checkout.checkout_id,
            account_id=checkout.account_id,
            mode=checkout.mode,
            amount=checkout.amount,
            currency=checkout.currency,
            method=checkout.method,
            provider=checkout.provider,
            status=checkout.status,
            created_at=checkout.created_at,
            expires_at=checkout.expires_at,
        )
        item.save(condition=CheckoutModel.checkout_id.does_not_exist())

    def get(self, checkout_id: str) -> Checkout | None:
        try:
            return _checkout(CheckoutModel.get(checkout_id, consistent_read=True))
        except DoesNotExist:
            return None

    def attach_session(self, checkout_id: str, provider_session_id: str, url: str) -> None:
        CheckoutModel(checkout_id).update(
            actions=[CheckoutModel.provider_session_id.set(provider_session_id), CheckoutModel.url.set(url)]
        )

    def settle_paid(self, checkout: Checkout) -> bool:
        """Credits the wallet and marks the checkout paid, atomically; False when already settled."""
        try:
            with TransactWrite(connection=dynamodb_connection()) as tx:
                ledger_put(
                    tx,
                    wallet_id(checkout.account_id, checkout.mode),
                    checkout.amount,
                    "top_up",
                    checkout.checkout_id,
                    now_ms(),
                    once=f"topup_{checkout.checkout_id}",
                )
                balance_add(tx, wallet_id(checkout.account_id, checkout.mode), checkout.amount, rearm=True)
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
