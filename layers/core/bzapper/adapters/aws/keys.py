"""Managed API keys in DynamoDB: the key (`keys`, by id: name, mode, scopes, numbers, which secrets are its own)
and one item per secret (`api_keys`, by hash: what authenticating a request reads). A key and its secrets change
together, in one transaction each time."""

from __future__ import annotations

import threading

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import ApiKeyModel, KeyModel
from bzapper.domain.clock import now_ms
from bzapper.domain.ids import new_id
from bzapper.domain.keys import ApiKey, Mode, NewKey, generate_key, hash_key, key_hint, last4

TOUCH_INTERVAL_MS = 60_000
"""`last_used` moves at most once a minute per key: no write per request."""


def _key(item: KeyModel, now: int) -> ApiKey:
    previous = int(item.previous_expires) if item.previous_expires and item.previous_hash else None
    return ApiKey(
        key_id=item.key_id,
        account_id=item.account_id,
        name=item.name,
        mode="live" if item.mode == "live" else "test",
        last4=item.last4,
        created_at=int(item.created_at),
        scopes=frozenset(item.scopes) if item.scopes is not None else None,
        instance_ids=frozenset(item.instance_ids) if item.instance_ids is not None else None,
        last_used=int(item.last_used) if item.last_used else None,
        revoked_at=int(item.revoked_at) if item.revoked_at else None,
        previous_expires=previous if previous and previous > now else None,
    )


def _secret_item(secret: str, key: KeyModel, at: int) -> ApiKeyModel:
    return ApiKeyModel(
        hash_key(secret),
        account_id=key.account_id,
        mode=key.mode,
        hint=key_hint(secret),
        created_at=at,
        key_id=key.key_id,
    )


class KeyStore:
    def __init__(self) -> None:
        self._touched: dict[str, int] = {}
        self._touched_lock = threading.Lock()

    def create(
        self,
        account_id: str,
        *,
        name: str,
        mode: Mode,
        scopes: frozenset[str] | None,
        instance_ids: frozenset[str] | None,
    ) -> NewKey:
        secret = generate_key(mode)
        at = now_ms()
        item = KeyModel(
            new_id("key"),
            account_id=account_id,
            name=name,
            mode=mode,
            scopes=set(scopes) if scopes is not None else None,
            instance_ids=set(instance_ids) if instance_ids is not None else None,
            last4=last4(secret),
            created_at=at,
            secret_hash=hash_key(secret),
        )
        with TransactWrite(connection=dynamodb_connection()) as tx:
            tx.save(item, condition=KeyModel.key_id.does_not_exist())
            tx.save(_secret_item(secret, item, at), condition=ApiKeyModel.key_hash.does_not_exist())
        return NewKey(_key(item, at), secret)

    def list_for(self, account_id: str) -> list[ApiKey]:
        now = now_ms()
        return [_key(item, now) for item in KeyModel.by_account.query(account_id, scan_index_forward=False)]

    def get(self, key_id: str) -> ApiKey | None:
        try:
            return _key(KeyModel.get(key_id, consistent_read=True), now_ms())
        except DoesNotExist:
            return None

    def roll(self, key: ApiKey, previous_expires: int) -> NewKey | None:
        try:
            item = KeyModel.get(key.key_id, consistent_read=True)
        except DoesNotExist:
            return None
        if item.revoked_at is not None:
            return None
        at = now_ms()
        secret = generate_key("live" if item.mode == "live" else "test")
        current, older = item.secret_hash, item.previous_hash
        try:
            with TransactWrite(connection=dynamodb_connection()) as tx:
                tx.update(
                    KeyModel(item.key_id),
                    actions=[
                        KeyModel.secret_hash.set(hash_key(secret)),
                        KeyModel.previous_hash.set(current),
                        KeyModel.previous_expires.set(previous_expires),
                        KeyModel.last4.set(last4(secret)),
                    ],
                    # Over what was read: a concurrent roll or revocation makes this one fail, not lose a secret.
                    condition=(KeyModel.secret_hash == current) & KeyModel.revoked_at.does_not_exist(),
                )
                tx.save(_secret_item(secret, item, at), condition=ApiKeyModel.key_hash.does_not_exist())
                tx.update(ApiKeyModel(current), actions=[ApiKeyModel.expires_at.set(previous_expires)])
                if older and older != current:
                    # Rolled again before the last roll's grace ended: that secret stops now.
                    tx.update(ApiKeyModel(older), actions=[ApiKeyModel.expires_at.set(at)])
        except TransactWriteError as error:
            if any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                return None
            raise
        rolled = KeyModel.get(item.key_id, consistent_read=True)
        return NewKey(_key(rolled, at), secret)

    def revoke(self, key_id: str, at: int) -> bool:
        try:
            item = KeyModel.get(key_id, consistent_read=True)
        except DoesNotExist:
            return False
        if item.revoked_at is not None:
            return False
        try:
            with TransactWrite(connection=dynamodb_connection()) as tx:
                tx.update(
                    KeyModel(key_id),
                    actions=[KeyModel.revoked_at.set(at)],
                    condition=KeyModel.revoked_at.does_not_exist(),
                )
                for digest in {item.secret_hash, item.previous_hash} - {None}:
                    tx.update(ApiKeyModel(digest), actions=[ApiKeyModel.revoked.set(True)])
        except TransactWriteError as error:
            if any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
                return False
            raise
        return True

    def touch(self, key_id: str, at: int) -> None:
        with self._touched_lock:
            if at - self._touched.get(key_id, 0) < TOUCH_INTERVAL_MS:
                return
            self._touched[key_id] = at
        # Many warm functions may see the same key: only one write a minute lands, the others fail their condition.
        fresh = KeyModel.last_used.does_not_exist() | (KeyModel.last_used < at - TOUCH_INTERVAL_MS)
        applied(
            lambda: KeyModel(key_id).update(
                actions=[KeyModel.last_used.set(at)], condition=fresh & KeyModel.key_id.exists()
            )
        )
