"""The wallet and checkouts, as the API shows them."""

from __future__ import annotations

from typing import Any

from bzapper.domain.billing import Checkout
from bzapper.domain.clock import iso
from bzapper.services.billing import WalletView


def wallet_out(wallet: WalletView) -> dict[str, Any]:
    return {
        "balance": wallet.balance,
        "currency": wallet.currency,
        "low_balance_threshold": wallet.low_balance_threshold,
        "livemode": wallet.livemode,
        "entries": [
            {
                "id": entry.entry_id,
                "amount": entry.amount,
                "reason": entry.reason,
                "reference": entry.reference,
                "created": iso(entry.created_at),
            }
            for entry in wallet.entries
        ],
        "has_more": wallet.next_cursor is not None,
        "next_cursor": wallet.next_cursor,
    }


def checkout_out(checkout: Checkout) -> dict[str, Any]:
    return {
        "checkout_id": checkout.checkout_id,
        "url": checkout.url,
        "expires_at": iso(checkout.expires_at),
        "amount": checkout.amount,
        "currency": checkout.currency,
        "method": checkout.method,
    }
