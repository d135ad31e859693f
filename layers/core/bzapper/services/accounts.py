"""Operator actions on accounts (the CLI and the local bootstrap)."""

from __future__ import annotations

from typing import Any

from bzapper.domain.model import wallet_id
from bzapper.services.container import Services
from bzapper.services.control import command


def create_test_account(services: Services, *, name: str, locale: str, credits: int) -> dict[str, Any]:
    """A new account with a test key, test credits and a connected sandbox instance."""
    account_id = services.accounts.create_account(name, locale)
    api_key = services.accounts.create_key(account_id, "test")
    if credits > 0:
        services.wallets.credit(wallet_id(account_id, "test"), credits, reason="test_credits")
    instance = services.instances.create(
        account_id, livemode=False, engine="sandbox", name="Sandbox", status="connected"
    )
    if services.sandbox.enabled:
        # "Connected" must be true in the simulated world too: its phone is linked, as if the QR was scanned.
        services.sandbox.scan(account_id, instance.instance_id)
    command(services, instance, "open")  # the shard's holder connects it now, not at its next sweep
    return {"account_id": account_id, "api_key": api_key, "instance_id": instance.instance_id}


def credit_wallet(services: Services, account_id: str, mode: str, amount: int, reason: str) -> int:
    """An operator's credit (or debit, when negative); returns the new balance."""
    if services.accounts.get(account_id) is None:
        raise LookupError(account_id)
    wallet = wallet_id(account_id, mode)  # type: ignore[arg-type]
    services.wallets.credit(wallet, amount, reason=reason, reference="operator")
    return services.wallets.balance(wallet)
