"""Accounts and their keys in memory (bzapper.ports.accounts)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from bzapper.adapters.memory.faults import ConditionFailed, Faults
from bzapper.domain.accounts import Account
from bzapper.domain.clock import now_ms
from bzapper.domain.ids import new_id
from bzapper.domain.keys import Mode, generate_key, hash_key
from bzapper.domain.model import Principal
from bzapper.domain.plans import DEFAULT_PLAN


@dataclass(frozen=True, slots=True)
class _Key:
    account_id: str
    mode: Mode
    revoked: bool = False


class MemoryAccountStore(Faults):
    """Keys are kept only as their hash, as in DynamoDB. No cache: every read sees the latest write (the AWS
    store forgets its cached principals on update, so a service observes the same)."""

    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self._keys: dict[str, _Key] = {}

    def create_account(self, name: str, locale: str) -> str:
        self._enter("create_account", name, locale)
        account_id = new_id("acct")
        with self._lock:
            self.accounts[account_id] = Account(account_id, name, locale, DEFAULT_PLAN, frozenset(), self._clock())
        return account_id

    def create_key(self, account_id: str, mode: Mode) -> str:
        self._enter("create_key", account_id, mode)
        key = generate_key(mode)
        with self._lock:
            self._keys[hash_key(key)] = _Key(account_id, mode)
        return key

    def principal_for(self, key: str) -> Principal | None:
        self._enter("principal_for", key)
        digest = hash_key(key)
        with self._lock:
            stored = self._keys.get(digest)
            account = self.accounts.get(stored.account_id) if stored else None
        if stored is None or account is None or stored.revoked:
            return None
        return Principal(
            account_id=account.account_id,
            mode=stored.mode,
            locale=account.locale,
            plan=account.plan,
            features=account.features,
            key_id=digest,
        )

    def plan_of(self, account_id: str) -> str | None:
        self._enter("plan_of", account_id)
        with self._lock:
            account = self.accounts.get(account_id)
        return account.plan if account else None

    def get(self, account_id: str) -> Account | None:
        self._enter("get", account_id)
        with self._lock:
            return self.accounts.get(account_id)

    def update(self, account_id: str, *, locale: str | None = None, plan: str | None = None) -> None:
        self._enter("update", account_id, locale=locale, plan=plan)
        if locale is None and plan is None:
            return  # nothing to write, as the DynamoDB store sends no update
        with self._lock:
            account = self.accounts.get(account_id)
            if account is None:
                raise ConditionFailed(f"account {account_id} does not exist")
            self.accounts[account_id] = replace(
                account, locale=locale if locale is not None else account.locale, plan=plan or account.plan
            )

    # What an operator (or a test) sets directly ------------------------------------------------------

    def revoke(self, key: str) -> None:
        with self._lock:
            digest = hash_key(key)
            self._keys[digest] = replace(self._keys[digest], revoked=True)

    def set_features(self, account_id: str, features: frozenset[str]) -> None:
        with self._lock:
            self.accounts[account_id] = replace(self.accounts[account_id], features=features)
