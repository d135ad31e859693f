"""Accounts: the caller's own (GET/PATCH /me), and operator actions (the CLI and the local bootstrap)."""

from __future__ import annotations

from typing import Any

from bzapper.config import settings
from bzapper.domain.accounts import ACTIVE, SUSPENDED, Account
from bzapper.domain.errors import BzError
from bzapper.domain.identity import NewUser
from bzapper.domain.ids import derived_id
from bzapper.domain.model import InstanceRef, Principal, wallet_id
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


SANDBOX_INSTANCE_NAME = "Sandbox"


def provision_owner(services: Services, user: NewUser) -> str:
    """The account a confirmed console user owns, opened once whatever is retried: a test wallet with free
    credits, one connected sandbox number (as `bzapper dev` gives its account), no key (the user makes one).
    Every step is safe to repeat: the account's id is derived from the user, the credits are given once per
    account, the number is made only when the account has none."""
    account_id = derived_id("acct", "owner", user.user_id)
    services.accounts.create_account(
        user.name or user.email.split("@")[0],
        user.locale,
        owner_email=user.email,
        owner_id=user.user_id,
        account_id=account_id,
    )
    credits = settings().identity.signup_test_credits
    if credits > 0:
        services.wallets.credit(
            wallet_id(account_id, "test"), credits, reason="test_credits", once=f"signup_{account_id}"
        )
    _connected_sandbox_number(services, account_id)
    services.accounts.link_user(user.user_id, account_id, user.email)
    return account_id


def _connected_sandbox_number(services: Services, account_id: str) -> InstanceRef | None:
    """The account's first test number, connected; None when it has one (a retried sign-up): its first plan slot
    makes that check and the create one step."""
    instance = services.instances.create(
        account_id, livemode=False, engine="sandbox", name=SANDBOX_INSTANCE_NAME, status="connected", limit=1
    )
    if instance is None:
        return None
    if services.sandbox.enabled:
        # "Connected" must be true in the simulated world too: its phone is linked, as if the QR was scanned.
        services.sandbox.scan(account_id, instance.instance_id)
    command(services, instance, "open")  # the shard's holder connects it now, not at its next sweep
    return instance


def create_test_account(services: Services, *, name: str, locale: str, credits: int) -> dict[str, Any]:
    """A new account with a test key, test credits and a connected sandbox instance."""
    account_id = services.accounts.create_account(name, locale)
    api_key = services.accounts.create_key(account_id, "test")
    if credits > 0:
        services.wallets.credit(wallet_id(account_id, "test"), credits, reason="test_credits")
    instance = _connected_sandbox_number(services, account_id)
    assert instance is not None  # a new account has no number yet
    return {"account_id": account_id, "api_key": api_key, "instance_id": instance.instance_id}


def credit_wallet(services: Services, account_id: str, mode: str, amount: int, reason: str) -> int:
    """An operator's credit (or debit, when negative); returns the new balance."""
    if services.accounts.get(account_id) is None:
        raise LookupError(account_id)
    wallet = wallet_id(account_id, mode)  # type: ignore[arg-type]
    services.wallets.credit(wallet, amount, reason=reason, reference="operator")
    return services.wallets.balance(wallet)


# --- Operators (the CLI) -------------------------------------------------------------------------------------


def set_suspended(services: Services, account_id: str, suspended: bool) -> Account:
    """A suspended account's keys and sessions are refused (403 account_restricted) within the auth cache's
    bound, its owner cannot sign in, and its queued sends are held by the workers until it is active again.

    The owner stays enabled at the identity service, which signs out its sessions instead: a disabled user is
    refused whatever the password, so sign-in could not keep a wrong password's answer the same as for any other
    account; sign-in and refresh check the suspension themselves (only the right password learns of it)."""
    account = services.accounts.get(account_id)
    if account is None:
        raise LookupError(account_id)
    services.accounts.set_status(account_id, SUSPENDED if suspended else ACTIVE)
    if account.owner_id is not None and services.identity is not None:
        if not suspended:
            services.identity.set_enabled(account.owner_id, True)  # a user an earlier version disabled
        elif account.owner_email:
            services.identity.sign_out_everywhere(account.owner_email)
    refreshed = services.accounts.get(account_id)
    assert refreshed is not None
    return refreshed
