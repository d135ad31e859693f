"""Accounts: the caller's own (GET/PATCH /me), and operator actions (the CLI and the local bootstrap)."""

from __future__ import annotations

from typing import Any

from bzapper.domain.accounts import Account
from bzapper.domain.errors import BzError
from bzapper.domain.model import Principal, wallet_id
from bzapper.services.container import Services
from bzapper.services.control import command


def account_of(services: Services, principal: Principal) -> Account:
    account = services.accounts.get(principal.account_id)
    if account is None:
        raise BzError("not_found")
    return account


def update_account(services: Services, principal: Principal, *, locale: str | None) -> Account:
    services.accounts.update(principal.account_id, locale=locale)
    return account_of(services, principal)


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
