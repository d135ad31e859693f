"""Accounts, their keys and their console owners in memory (bzapper.ports.accounts)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from bzapper.adapters.memory.faults import ConditionFailed, Faults
from bzapper.domain.accounts import SUSPENDED, Account
from bzapper.domain.clock import now_ms
from bzapper.domain.ids import new_id
from bzapper.domain.keys import ApiKey, Mode, NewKey, generate_key, hash_key, last4
from bzapper.domain.model import Principal
from bzapper.domain.plans import DEFAULT_PLAN


@dataclass(frozen=True, slots=True)
class _Key:
    """One secret, by its hash (the `api_keys` item): its managed key, when it has one, and its expiry."""

    account_id: str
    mode: Mode
    revoked: bool = False
    key_id: str | None = None
    expires_at: int | None = None


class MemoryAccountStore(Faults):
    """Keys are kept only as their hash, as in DynamoDB. No cache: every read sees the latest write (the AWS
    store forgets its cached principals on update, so a service observes the same)."""

    def __init__(self, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self._clock = clock
        self._lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self._keys: dict[str, _Key] = {}
        self.owners: dict[str, tuple[str, str]] = {}
        """user id -> (account id, email)"""
        self.managed: MemoryKeyStore | None = None
        """The managed keys' store, when one shares these secrets (memory_fakes links them)."""

    def create_account(
        self,
        name: str,
        locale: str,
        *,
        owner_email: str | None = None,
        owner_id: str | None = None,
        account_id: str | None = None,
    ) -> str:
        self._enter("create_account", name, locale, owner_email=owner_email, owner_id=owner_id, account_id=account_id)
        chosen = account_id or new_id("acct")
        with self._lock:
            if chosen not in self.accounts:  # a given id is created once: a repeat changes nothing
                self.accounts[chosen] = Account(
                    chosen,
                    name,
                    locale,
                    DEFAULT_PLAN,
                    frozenset(),
                    self._clock(),
                    owner_email=owner_email,
                    owner_id=owner_id,
                )
        return chosen

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
        if stored.expires_at is not None and stored.expires_at <= self._clock():
            return None
        scopes = instance_ids = None
        if stored.key_id is not None:
            managed = self.managed.keys.get(stored.key_id) if self.managed else None
            if managed is None or managed.revoked_at is not None:
                return None
            scopes, instance_ids = managed.scopes, managed.instance_ids
        return Principal(
            account_id=account.account_id,
            mode=stored.mode,
            locale=account.locale,
            plan=account.plan,
            features=account.features,
            key_id=digest,
            scopes=scopes,
            instance_ids=instance_ids,
            api_key_id=stored.key_id,
            suspended=account.status == SUSPENDED,
        )

    def principal_of_user(self, user_id: str, mode: Mode) -> Principal | None:
        self._enter("principal_of_user", user_id, mode)
        with self._lock:
            owned = self.owners.get(user_id)
            account = self.accounts.get(owned[0]) if owned else None
        if account is None:
            return None
        return Principal(
            account_id=account.account_id,
            mode=mode,
            locale=account.locale,
            plan=account.plan,
            features=account.features,
            key_id=f"session:{user_id}",
            user_id=user_id,
            suspended=account.suspended,
        )

    def link_user(self, user_id: str, account_id: str, email: str) -> bool:
        self._enter("link_user", user_id, account_id, email)
        with self._lock:
            if user_id in self.owners:
                return False
            self.owners[user_id] = (account_id, email)
            return True

    def account_of_user(self, user_id: str) -> str | None:
        self._enter("account_of_user", user_id)
        with self._lock:
            owned = self.owners.get(user_id)
        return owned[0] if owned else None

    def set_status(self, account_id: str, status: str) -> bool:
        self._enter("set_status", account_id, status)
        with self._lock:
            account = self.accounts.get(account_id)
            if account is None:
                return False
            self.accounts[account_id] = replace(account, status=status)
            return True

    def list_accounts(self, limit: int, cursor: str | None) -> tuple[list[Account], str | None]:
        self._enter("list_accounts", limit, cursor)
        with self._lock:
            ordered = sorted(self.accounts.values(), key=lambda account: account.account_id)
        start = 0 if cursor is None else next((i + 1 for i, a in enumerate(ordered) if a.account_id == cursor), 0)
        page = ordered[start : start + limit]
        return page, page[-1].account_id if start + limit < len(ordered) and page else None

    def store_secret(self, secret: str, account_id: str, mode: Mode, key_id: str) -> None:
        """A managed key's secret (the key store writes it beside the key, as one DynamoDB transaction does)."""
        with self._lock:
            self._keys[hash_key(secret)] = _Key(account_id, mode, key_id=key_id)

    def expire_secret(self, digest: str, at: int) -> None:
        with self._lock:
            if digest in self._keys:
                self._keys[digest] = replace(self._keys[digest], expires_at=at)

    def revoke_secret(self, digest: str) -> None:
        with self._lock:
            if digest in self._keys:
                self._keys[digest] = replace(self._keys[digest], revoked=True)

    def plan_of(self, account_id: str) -> str | None:
        self._enter("plan_of", account_id)
        with self._lock:
            account = self.accounts.get(account_id)
        return account.plan if account else None

    def get(self, account_id: str) -> Account | None:
        self._enter("get", account_id)
        with self._lock:
            return self.accounts.get(account_id)

    def update(
        self, account_id: str, *, locale: str | None = None, plan: str | None = None, name: str | None = None
    ) -> None:
        self._enter("update", account_id, locale=locale, plan=plan, name=name)
        if locale is None and plan is None and name is None:
            return  # nothing to write, as the DynamoDB store sends no update
        with self._lock:
            account = self.accounts.get(account_id)
            if account is None:
                raise ConditionFailed(f"account {account_id} does not exist")
            self.accounts[account_id] = replace(
                account,
                locale=locale if locale is not None else account.locale,
                plan=plan or account.plan,
                name=name if name is not None else account.name,
            )

    # What an operator (or a test) sets directly ------------------------------------------------------

    def revoke(self, key: str) -> None:
        with self._lock:
            digest = hash_key(key)
            self._keys[digest] = replace(self._keys[digest], revoked=True)

    def set_features(self, account_id: str, features: frozenset[str]) -> None:
        with self._lock:
            self.accounts[account_id] = replace(self.accounts[account_id], features=features)


@dataclass(frozen=True, slots=True)
class _Managed:
    key: ApiKey
    secret_hash: str
    previous_hash: str | None = None


class MemoryKeyStore(Faults):
    """Managed keys; their secrets live in the account store (the `api_keys` table), written with the key."""

    def __init__(self, accounts: MemoryAccountStore, clock: Callable[[], int] = now_ms) -> None:
        super().__init__()
        self._accounts = accounts
        self._clock = clock
        self._lock = threading.RLock()
        self._managed: dict[str, _Managed] = {}
        self.touched: dict[str, int] = {}
        accounts.managed = self

    @property
    def keys(self) -> dict[str, ApiKey]:
        with self._lock:
            return {key_id: self._shown(managed) for key_id, managed in self._managed.items()}

    def _shown(self, managed: _Managed) -> ApiKey:
        previous = managed.key.previous_expires
        expired = previous is not None and previous <= self._clock()
        return replace(managed.key, previous_expires=None if expired else previous)

    def create(
        self,
        account_id: str,
        *,
        name: str,
        mode: Mode,
        scopes: frozenset[str] | None,
        instance_ids: frozenset[str] | None,
    ) -> NewKey:
        self._enter("create", account_id, name=name, mode=mode, scopes=scopes, instance_ids=instance_ids)
        secret = generate_key(mode)
        key = ApiKey(
            key_id=new_id("key"),
            account_id=account_id,
            name=name,
            mode=mode,
            last4=last4(secret),
            created_at=self._clock(),
            scopes=scopes,
            instance_ids=instance_ids,
        )
        with self._lock:
            self._managed[key.key_id] = _Managed(key, hash_key(secret))
            self._accounts.store_secret(secret, account_id, mode, key.key_id)
        return NewKey(key, secret)

    def list_for(self, account_id: str) -> list[ApiKey]:
        self._enter("list_for", account_id)
        with self._lock:
            found = [self._shown(m) for m in self._managed.values() if m.key.account_id == account_id]
        return sorted(found, key=lambda key: key.key_id, reverse=True)

    def get(self, key_id: str) -> ApiKey | None:
        self._enter("get", key_id)
        with self._lock:
            managed = self._managed.get(key_id)
        return self._shown(managed) if managed else None

    def roll(self, key: ApiKey, previous_expires: int) -> NewKey | None:
        self._enter("roll", key, previous_expires)
        with self._lock:
            managed = self._managed.get(key.key_id)
            if managed is None or managed.key.revoked_at is not None:
                return None
            secret = generate_key(managed.key.mode)
            if managed.previous_hash:
                self._accounts.expire_secret(managed.previous_hash, self._clock())  # rolled again: it stops now
            self._accounts.expire_secret(managed.secret_hash, previous_expires)
            self._accounts.store_secret(secret, managed.key.account_id, managed.key.mode, key.key_id)
            rolled = replace(managed.key, last4=last4(secret), previous_expires=previous_expires)
            self._managed[key.key_id] = _Managed(rolled, hash_key(secret), managed.secret_hash)
        return NewKey(self._shown(self._managed[key.key_id]), secret)

    def revoke(self, key_id: str, at: int) -> bool:
        self._enter("revoke", key_id, at)
        with self._lock:
            managed = self._managed.get(key_id)
            if managed is None or managed.key.revoked_at is not None:
                return False
            self._managed[key_id] = replace(managed, key=replace(managed.key, revoked_at=at))
            for digest in (managed.secret_hash, managed.previous_hash):
                if digest:
                    self._accounts.revoke_secret(digest)
        return True

    def touch(self, key_id: str, at: int) -> None:
        self._enter("touch", key_id, at)
        with self._lock:
            if at - self.touched.get(key_id, 0) < 60_000:
                return
            self.touched[key_id] = at
            managed = self._managed.get(key_id)
            if managed is not None:
                self._managed[key_id] = replace(managed, key=replace(managed.key, last_used=at))
