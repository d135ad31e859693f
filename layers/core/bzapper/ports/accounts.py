"""Accounts and the keys that act for them."""

from __future__ import annotations

from typing import Protocol

from bzapper.domain.accounts import Account
from bzapper.domain.keys import Mode
from bzapper.domain.model import Principal


class AccountStore(Protocol):
    def create_account(self, name: str, locale: str) -> str:
        """A new account's id."""
        ...

    def create_key(self, account_id: str, mode: Mode) -> str:
        """A new key itself, which is never stored (only its hash) and never shown again."""
        ...

    def principal_for(self, key: str) -> Principal | None:
        """Who a key acts for (None: unknown or revoked), cached briefly."""
        ...

    def plan_of(self, account_id: str) -> str | None:
        """The account's plan, cached like principals (consumers have no key to resolve)."""
        ...

    def get(self, account_id: str) -> Account | None: ...

    def update(self, account_id: str, *, locale: str | None = None, plan: str | None = None) -> None: ...
