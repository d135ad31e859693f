"""Accounts, API keys and wallets in DynamoDB."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.models import AccountModel, ApiKeyModel
from bzapper.cache import MISSING, TTLCache
from bzapper.config import settings
from bzapper.domain.accounts import Account
from bzapper.domain.clock import now_ms
from bzapper.domain.ids import new_id
from bzapper.domain.keys import Mode, generate_key, hash_key, key_hint
from bzapper.domain.model import Principal


class AccountStore:
    def __init__(self) -> None:
        # Auth runs on every request: a short cache keeps it off DynamoDB on a warm function.
        self._principals: TTLCache[Principal | None] = TTLCache()
        self._plans: TTLCache[str | None] = TTLCache()

    def create_account(self, name: str, locale: str) -> str:
        account_id = new_id("acct")
        AccountModel(account_id, name=name, locale=locale, created_at=now_ms()).save(
            condition=AccountModel.account_id.does_not_exist()
        )
        return account_id

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
        # A miss is cached briefly too, so a flood of bad keys cannot hammer the table (bounded in size).
        ttl = settings().auth_cache_seconds if principal else min(5.0, settings().auth_cache_seconds)
        self._principals.put(digest, principal, ttl)
        return principal

    def _load_principal(self, digest: str) -> Principal | None:
        try:
            key = ApiKeyModel.get(digest)
            account = AccountModel.get(key.account_id)
        except DoesNotExist:
            return None
        if key.revoked:
            return None
        return Principal(
            account_id=key.account_id,
            mode=key.mode,  # type: ignore[arg-type]
            locale=account.locale,
            plan=account.plan,
            features=frozenset(account.features or ()),
            key_id=digest,
        )

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
            item = AccountModel.get(account_id, consistent_read=True)
        except DoesNotExist:
            return None
        return Account(
            account_id=item.account_id,
            name=item.name,
            locale=item.locale,
            plan=item.plan,
            features=frozenset(item.features or ()),
            created_at=int(item.created_at),
        )

    def update(self, account_id: str, *, locale: str | None = None, plan: str | None = None) -> None:
        actions = []
        if locale is not None:
            actions.append(AccountModel.locale.set(locale))
        if plan is not None:
            actions.append(AccountModel.plan.set(plan))
        if actions:
            AccountModel(account_id).update(actions=actions, condition=AccountModel.account_id.exists())
        # The cached principals carry the locale: forget them so the change shows at once here.
        self._principals.clear()
        self._plans.discard(account_id)
