"""Failed authentications: strangers who guess keys are throttled per source address and per key prefix, before
any table is read, while a key this process has seen succeed is never held back by someone else's failures.

Each process keeps its own counts (like the per-key limiter): it is the cheap first line, in front of the key
table. A blocked source gets 429 with Retry-After instead of a lookup and a 401 (docs/accounts.md)."""

from __future__ import annotations

import hashlib
import math
import threading
import time

from bzapper.domain.ratelimit import Bucket, Decision, LocalBuckets

FAILURES_PER_ADDRESS = Bucket(20)
"""Failed authentications one source address may make per minute before it waits."""
FAILURES_PER_PREFIX = Bucket(10)
"""The same for one key prefix (the mode and 6 characters), whatever the address: one leaked or revoked key
hammered from many addresses."""
PREFIX_LENGTH = len("bz_test_") + 6
KNOWN_GOOD_SECONDS = 3600.0
"""How long a key that authenticated stays exempt from the throttle in this process (not from being checked)."""
KNOWN_GOOD_MAX = 50_000


def _digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


class FailedAuthentications:
    def __init__(self, max_sources: int = 10_000) -> None:
        self._addresses = LocalBuckets(FAILURES_PER_ADDRESS, max_sources)
        self._prefixes = LocalBuckets(FAILURES_PER_PREFIX, max_sources)
        self._blocked: dict[str, tuple[float, Decision]] = {}
        self._good: dict[str, float] = {}
        self._lock = threading.Lock()

    def refusal(self, address: str, credential: str, now_ms: float | None = None) -> Decision | None:
        """The limit a source has exhausted, when `credential` must wait instead of being looked up; None when it
        may be checked (no source blocked, or the credential authenticated here recently)."""
        now = now_ms if now_ms is not None else time.time() * 1000
        with self._lock:
            if self._good.get(_digest(credential), 0.0) > now:
                return None
            for source in (f"addr:{address}", f"prefix:{credential[:PREFIX_LENGTH]}"):
                blocked = self._blocked.get(source)
                if blocked is not None and blocked[0] > now:
                    until, decision = blocked
                    retry = max(1, math.ceil((until - now) / 1000))
                    return Decision(False, decision.limit, 0, retry, retry)
        return None

    def failed(self, address: str, credential: str, now_ms: float | None = None) -> None:
        """Counts a failure against the address and the prefix. The failure that spends a source's last token
        blocks it until the next token comes, so no guess is ever looked up beyond the budget (a block that
        began only at a refused failure would let one more lookup through each time it ended)."""
        now = now_ms if now_ms is not None else time.time() * 1000
        for source, buckets in (
            (f"addr:{address}", self._addresses),
            (f"prefix:{credential[:PREFIX_LENGTH]}", self._prefixes),
        ):
            decision = buckets.take(source, now)
            if decision.allowed and decision.remaining > 0:
                continue
            wait_ms = buckets.bucket.interval_ms if decision.allowed else decision.retry_after_seconds * 1000
            with self._lock:
                if len(self._blocked) >= buckets.max_keys:
                    self._blocked = {key: value for key, value in self._blocked.items() if value[0] > now}
                self._blocked[source] = (now + wait_ms, decision)

    def succeeded(self, credential: str, now_ms: float | None = None) -> None:
        now = now_ms if now_ms is not None else time.time() * 1000
        with self._lock:
            if len(self._good) >= KNOWN_GOOD_MAX:
                self._good = {key: until for key, until in self._good.items() if until > now}
                if len(self._good) >= KNOWN_GOOD_MAX:
                    self._good.clear()
            self._good[_digest(credential)] = now + KNOWN_GOOD_SECONDS * 1000
