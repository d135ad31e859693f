"""Signed-out sessions and refresh tokens, remembered until they would have expired (DynamoDB TTL deletes them;
reads filter on the expiry too, since TTL is lazy and moto never deletes)."""

from __future__ import annotations

import hashlib

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.models import RevocationModel
from bzapper.cache import MISSING, TTLCache
from bzapper.domain.clock import now_ms

_CACHE_SECONDS = 5.0
"""A sign-out takes effect everywhere within this long (the same bound as a revoked key)."""


def _refresh_key(refresh_token: str) -> str:
    return "refresh#" + hashlib.sha256(refresh_token.encode()).hexdigest()


class SessionRevocations:
    def __init__(self) -> None:
        self._seen: TTLCache[bool] = TTLCache()

    def revoke(self, session_id: str | None, refresh_token: str | None, until: int) -> None:
        keys = ([f"session#{session_id}"] if session_id else []) + (
            [_refresh_key(refresh_token)] if refresh_token else []
        )
        for key in keys:
            RevocationModel(key, expires_at=until // 1000).save()
            self._seen.discard(key)

    def session_revoked(self, session_id: str) -> bool:
        return self._revoked(f"session#{session_id}")

    def refresh_revoked(self, refresh_token: str) -> bool:
        return self._revoked(_refresh_key(refresh_token))

    def _revoked(self, key: str) -> bool:
        cached = self._seen.get(key)
        if cached is not MISSING:
            return bool(cached)
        try:
            revoked = RevocationModel.get(key).expires_at * 1000 > now_ms()
        except DoesNotExist:
            revoked = False
        self._seen.put(key, revoked, _CACHE_SECONDS)
        return revoked
