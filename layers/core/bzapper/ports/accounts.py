"""Accounts and the keys that act for them."""

from __future__ import annotations

from typing import Protocol

from bzapper.domain.accounts import Account
from bzapper.domain.keys import ApiKey, Mode, NewKey
from bzapper.domain.model import Principal


class AccountStore(Protocol):
    def create_account(
        self,
        name: str,
        locale: str,
        *,
        owner_email: str | None = None,
        owner_id: str | None = None,
        account_id: str | None = None,
    ) -> str:
        """A new account's id; with `account_id`, that account, created once (a repeat finds it and changes
        nothing)."""
        ...

    def create_key(self, account_id: str, mode: Mode) -> str:
        """A new unrestricted key itself (the operator's and the dev bootstrap's), never stored, never shown again."""
        ...

    def principal_for(self, key: str) -> Principal | None:
        """Who a key acts for (None: unknown, revoked, or a rolled secret past its expiry), cached briefly
        (never longer than the revocation bound: docs/accounts.md)."""
        ...

    def principal_of_user(self, user_id: str, mode: Mode) -> Principal | None:
        """The account a signed-in console user owns, acting in `mode` (None: no account yet), cached briefly."""
        ...

    def link_user(self, user_id: str, account_id: str, email: str) -> bool:
        """Makes the user the account's owner; False when the user already owns an account."""
        ...

    def account_of_user(self, user_id: str) -> str | None: ...

    def set_status(self, account_id: str, status: str) -> bool:
        """ "active" or "suspended"; False when there is no such account."""
        ...

    def list_accounts(self, limit: int, cursor: str | None) -> tuple[list[Account], str | None]: ...

    def plan_of(self, account_id: str) -> str | None:
        """The account's plan, cached like principals (consumers have no key to resolve)."""
        ...

    def get(self, account_id: str) -> Account | None: ...

    def update(
        self, account_id: str, *, locale: str | None = None, plan: str | None = None, name: str | None = None
    ) -> None: ...


class KeyStore(Protocol):
    """API keys as their owner manages them (console sessions only)."""

    def create(
        self,
        account_id: str,
        *,
        name: str,
        mode: Mode,
        scopes: frozenset[str] | None,
        instance_ids: frozenset[str] | None,
    ) -> NewKey: ...

    def list_for(self, account_id: str) -> list[ApiKey]:
        """Every key of the account, revoked ones included, newest first."""
        ...

    def get(self, key_id: str) -> ApiKey | None: ...

    def roll(self, key: ApiKey, previous_expires: int) -> NewKey | None:
        """A new secret for the key; the current one keeps working until `previous_expires` (now: at once).
        None when the key changed since it was read (a concurrent roll or revocation)."""
        ...

    def revoke(self, key_id: str, at: int) -> bool:
        """Every secret of the key stops working (within the auth cache's bound); False if already revoked."""
        ...

    def touch(self, key_id: str, at: int) -> None:
        """Records a use, at most once a minute per key (no write per request)."""
        ...
