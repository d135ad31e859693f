"""Accounts, the keys that act for them, and the console users who own them, in DynamoDB."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import AccountModel, ApiKeyModel, KeyModel, UserModel
from bzapper.cache import MISSING, TTLCache
from bzapper.config import settings
from bzapper.domain.accounts import SUSPENDED, Account
from bzapper.domain.clock import now_ms
from bzapper.domain.cursors import decode_cursor, encode_cursor
from bzapper.domain.ids import new_id
from bzapper.domain.keys import Mode, generate_key, hash_key, key_hint
from bzapper.domain.model import Principal

REVOCATION_BOUND_SECONDS = 5.0
"""A revoked key, a rolled key's expired secret or a suspension is refused everywhere within this long: no
principal is cached longer, whatever BZ_AUTH_CACHE_SECONDS says (docs/accounts.md)."""


def _account(item: AccountModel) -> Account:
    return Account(
        account_id=item.account_id,
        name=item.name,
        locale=item.locale,
        plan=item.plan,
        features=frozenset(item.features or ()),
        created_at=int(item.created_at),
        status=item.status or "active",
        owner_email=item.owner_email,
        owner_id=item.owner_id,
    )


def _mode(value: str) -> Mode:
    return "live" if value == "live" else "test"


class AccountStore:
    def __init__(self) -> None:
        # Auth runs on every request: a short cache keeps it off DynamoDB on a warm function.
        self._principals: TTLCache[Principal | None] = TTLCache()
        self._owners: TTLCache[str | None] = TTLCache()
        self._plans: TTLCache[str | None] = TTLCache()

    @staticmethod
    def _principal_ttl(found: bool) -> float:
        ttl = min(settings().auth_cache_seconds, REVOCATION_BOUND_SECONDS)
        # A miss is cached briefly too, so a flood of bad keys cannot hammer the table (bounded in size).
        return ttl if found else min(ttl, 5.0)

    def create_account(
        self,
        name: str,
        locale: str,
        *,
        owner_email: str | None = None,
        owner_id: str | None = None,
        account_id: str | None = None,
    ) -> str:
        chosen = account_id or new_id("acct")
        item = AccountModel(
            chosen, name=name, locale=locale, created_at=now_ms(), owner_email=owner_email, owner_id=owner_id
        )
        created = applied(lambda: item.save(condition=AccountModel.account_id.does_not_exist()))
        if not created and account_id is None:
            raise RuntimeError("a new account id collided")  # a fresh ULID: never, in practice
        return chosen

    def create_key(self, account_id: str, mode: Mode) -> str:
        """Returns the key itself, which is never stored and never shown again."""
        key = generate_key(mode)
        ApiKeyModel(hash_key(key), account_id=account_id, mode=mode, hint=key_hint(key), created_at=now_ms()).save(
            condition=ApiKeyModel.key_hash.does_not_exist()
        )
        return key

    def principal_for(self, key: str) -> Principal | None:
        digest = hash_key(key)
        cached = self._principals.get(digest)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        principal = self._load_principal(digest)
        self._principals.put(digest, principal, self._principal_ttl(principal is not None))
        return principal

    def _load_principal(self, digest: str) -> Principal | None:
        try:
            secret = ApiKeyModel.get(digest)
        except DoesNotExist:
            return None
        now = now_ms()
        if secret.revoked or (secret.expires_at is not None and secret.expires_at <= now):
            return None
        scopes = instance_ids = None
        if secret.key_id:
            try:
                managed = KeyModel.get(secret.key_id)
            except DoesNotExist:
                return None
            is_current = managed.secret_hash == digest
            is_previous = managed.previous_hash == digest and (managed.previous_expires or 0) > now
            if managed.revoked_at is not None or not (is_current or is_previous):
                return None
            scopes = frozenset(managed.scopes) if managed.scopes is not None else None
            instance_ids = frozenset(managed.instance_ids) if managed.instance_ids is not None else None
        try:
            account = AccountModel.get(secret.account_id)
        except DoesNotExist:
            return None
        return Principal(
            account_id=secret.account_id,
            mode=_mode(secret.mode),
            locale=account.locale,
            plan=account.plan,
            features=frozenset(account.features or ()),
            key_id=digest,
            scopes=scopes,
            instance_ids=instance_ids,
            api_key_id=secret.key_id,
            suspended=account.status == SUSPENDED,
        )

    def principal_of_user(self, user_id: str, mode: Mode) -> Principal | None:
        cache_key = f"user:{user_id}:{mode}"
        cached = self._principals.get(cache_key)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        principal = None
        account_id = self.account_of_user(user_id)
        account = self.get(account_id) if account_id else None
        if account is not None:
            principal = Principal(
                account_id=account.account_id,
                mode=mode,
                locale=account.locale,
                plan=account.plan,
                features=account.features,
                key_id=f"session:{user_id}",
                user_id=user_id,
                suspended=account.suspended,
            )
        self._principals.put(cache_key, principal, self._principal_ttl(principal is not None))
        return principal

    def link_user(self, user_id: str, account_id: str, email: str) -> bool:
        item = UserModel(user_id, account_id=account_id, email=email, created_at=now_ms())
        linked = applied(lambda: item.save(condition=UserModel.user_id.does_not_exist()))
        self._owners.discard(user_id)
        return linked

    def account_of_user(self, user_id: str) -> str | None:
        cached = self._owners.get(user_id)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        try:
            account_id: str | None = UserModel.get(user_id, consistent_read=True).account_id
        except DoesNotExist:
            account_id = None
        # Who owns what never changes once linked: only a miss needs to expire soon (a confirmation in flight).
        self._owners.put(user_id, account_id, settings().auth_cache_seconds if account_id else 1.0)
        return account_id

    def plan_of(self, account_id: str) -> str | None:
        """The account's plan, cached like principals (consumers have no key to resolve)."""
        cached = self._plans.get(account_id)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        account = self.get(account_id)
        plan = account.plan if account else None
        self._plans.put(account_id, plan, settings().auth_cache_seconds)
        return plan

    def get(self, account_id: str) -> Account | None:
        try:
            return _account(AccountModel.get(account_id, consistent_read=True))
        except DoesNotExist:
            return None

    def update(
        self, account_id: str, *, locale: str | None = None, plan: str | None = None, name: str | None = None
    ) -> None:
        actions: list[Any] = []
        if locale is not None:
            actions.append(AccountModel.locale.set(locale))
        if plan is not None:
            actions.append(AccountModel.plan.set(plan))
        if name is not None:
            actions.append(AccountModel.name.set(name))
        if actions:
            AccountModel(account_id).update(actions=actions, condition=AccountModel.account_id.exists())
        # The cached principals carry the locale: forget them so the change shows at once here.
        self._principals.clear()
        self._plans.discard(account_id)

    def set_status(self, account_id: str, status: str) -> bool:
        done = applied(
            lambda: AccountModel(account_id).update(
                actions=[AccountModel.status.set(status)], condition=AccountModel.account_id.exists()
            )
        )
        self._principals.clear()
        return done

    def list_accounts(self, limit: int, cursor: str | None) -> tuple[list[Account], str | None]:
        """An operator's listing (a Scan: the CLI only, never a request path)."""
        start = None
        if cursor:
            start = {"account_id": {"S": decode_cursor(cursor, "accounts", {"a": str})["a"]}}
        scan = AccountModel.scan(limit=limit, last_evaluated_key=start)
        items = [_account(item) for item in scan]
        last = scan.last_evaluated_key
        return items, encode_cursor("accounts", {"a": last["account_id"]["S"]}) if last else None
