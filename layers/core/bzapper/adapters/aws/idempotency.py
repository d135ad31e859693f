"""Idempotency records: a lock taken before the work, completed inside the send's transaction."""

from __future__ import annotations

import secrets
from typing import Any

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import IdempotencyModel
from bzapper.domain.idempotency import LOCK_SECONDS, TTL_SECONDS, IdempotencyLock, StoredResponse


class IdempotencyStore:
    def acquire(self, idempotency_id: str, fingerprint: str, now_s: int) -> IdempotencyLock | StoredResponse:
        """Either the lock for a first request, or what an earlier request with this key left."""
        token = secrets.token_hex(16)
        item = IdempotencyModel(
            idempotency_id,
            fingerprint=fingerprint,
            state="in_progress",
            lock_token=token,
            locked_until=now_s + LOCK_SECONDS,
            expires_at=now_s + TTL_SECONDS,
        )
        free = (
            IdempotencyModel.idempotency_id.does_not_exist()
            | (IdempotencyModel.expires_at < now_s)
            # A lock whose holder died is free again; a finished record never is (until it expires).
            | ((IdempotencyModel.state == "in_progress") & (IdempotencyModel.locked_until < now_s))
        )
        if applied(lambda: item.save(condition=free)):
            return IdempotencyLock(idempotency_id, token)
        try:
            stored = IdempotencyModel.get(idempotency_id, consistent_read=True)
        except DoesNotExist:  # released between our put and our read: the caller may simply retry
            return StoredResponse(fingerprint=fingerprint, done=False, body=None)
        return StoredResponse(
            fingerprint=stored.fingerprint,
            done=stored.state == "done" and stored.response_body is not None,
            body=stored.response_body,
        )

    def release(self, lock: IdempotencyLock) -> None:
        """A request that failed before committing frees its key so the client can retry it."""
        mine = (IdempotencyModel.lock_token == lock.token) & (IdempotencyModel.state == "in_progress")
        applied(lambda: IdempotencyModel(lock.idempotency_id).delete(condition=mine))

    def complete(self, lock: IdempotencyLock, body: dict[str, Any]) -> None:
        mine = (IdempotencyModel.lock_token == lock.token) & (IdempotencyModel.state == "in_progress")
        applied(
            lambda: IdempotencyModel(lock.idempotency_id).update(
                actions=[IdempotencyModel.state.set("done"), IdempotencyModel.response_body.set(body)],
                condition=mine,
            )
        )
