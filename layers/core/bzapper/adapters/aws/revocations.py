"""Signed-out sessions and refresh tokens, and the sessions a password reset ended, remembered until they would
have expired (DynamoDB TTL deletes them; reads filter on the expiry too, since TTL is lazy and moto never
deletes)."""

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
        self._ended: TTLCache[int] = TTLCache()

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

    def end_sessions(self, user_id: str, until: int) -> int:
        ended_at = now_ms()
        key = f"user#{user_id}"
        # A later reset only moves the moment on: a plain put of the newest one (every earlier mark is older).
        RevocationModel(key, expires_at=until // 1000, ended_at=ended_at).save()
        self._ended.discard(key)
        return ended_at

    def sessions_ended_at(self, user_id: str) -> int:
        key = f"user#{user_id}"
        cached = self._ended.get(key)
        if isinstance(cached, int):
            return cached
        try:
            item = RevocationModel.get(key)
            ended_at = int(item.ended_at or 0) if item.expires_at * 1000 > now_ms() else 0
        except DoesNotExist:
            ended_at = 0
        self._ended.put(key, ended_at, _CACHE_SECONDS)
        return ended_at

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
