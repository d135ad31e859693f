"""Accounts, API keys and wallets in DynamoDB."""

from __future__ import annotations

import time

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.models import AccountModel, ApiKeyModel, WalletModel
from bzapper.config import settings
from bzapper.domain.clock import now_ms
from bzapper.domain.ids import new_id
from bzapper.domain.keys import Mode, generate_key, hash_key, key_hint
from bzapper.domain.model import Principal

BALANCE_ENTRY = "balance"


def ledger_entry_key(entry_id: str) -> str:
    return f"entry#{entry_id}"


class AccountStore:
    def __init__(self) -> None:
        # Auth runs on every request: a short cache keeps it off DynamoDB on a warm function.
        self._principals: dict[str, tuple[float, Principal | None]] = {}

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
        if cached and cached[0] > time.monotonic():
            return cached[1]
        principal = self._load_principal(digest)
        # A miss is cached briefly too, so a flood of bad keys cannot hammer the table.
        ttl = settings().auth_cache_seconds if principal else min(5.0, settings().auth_cache_seconds)
        self._principals[digest] = (time.monotonic() + ttl, principal)
        return principal

    def _load_principal(self, digest: str) -> Principal | None:
        try:
            key = ApiKeyModel.get(digest)
            account = AccountModel.get(key.account_id)
        except DoesNotExist:
            return None
        if key.revoked:
            return None
        return Principal(account_id=key.account_id, mode=key.mode, locale=account.locale)  # type: ignore[arg-type]

    def account_locale(self, account_id: str) -> str | None:
        try:
            return AccountModel.get(account_id).locale
        except DoesNotExist:
            return None

    def credit(self, wallet: str, amount: int, reason: str, reference: str | None = None) -> None:
        """Adds credits and writes the ledger entry in one transaction: the balance is their sum."""
        with TransactWrite(connection=Connection(region=settings().region)) as tx:
            tx.update(
                WalletModel(wallet, BALANCE_ENTRY),
                actions=[WalletModel.balance.add(amount), WalletModel.created_at.set(now_ms())],
            )
            tx.save(
                WalletModel(
                    wallet,
                    ledger_entry_key(new_id("le")),
                    amount=amount,
                    reason=reason,
                    reference=reference,
                    created_at=now_ms(),
                ),
                condition=WalletModel.entry.does_not_exist(),
            )

    def balance(self, wallet: str) -> int:
        try:
            return int(WalletModel.get(wallet, BALANCE_ENTRY, consistent_read=True).balance or 0)
        except DoesNotExist:
            return 0
