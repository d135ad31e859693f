"""The token bucket as GCRA: one number per bucket (the theoretical arrival time, TAT).

A bucket of `limit` tokens refilled over `period_ms` admits a request at `now` when
`tat - now <= period_ms - interval`, and moves `tat` to `max(tat, now) + interval`. Storing one number
makes the check a single conditional update in DynamoDB.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bucket:
    limit: int
    period_ms: int = 60_000

    @property
    def interval_ms(self) -> float:
        return self.period_ms / self.limit

    @property
    def tolerance_ms(self) -> float:
        """How far ahead of `now` the TAT may be before a request is refused (the burst)."""
        return self.period_ms - self.interval_ms

    def allows(self, tat: float, now: float) -> bool:
        return max(tat, now) - now <= self.tolerance_ms

    def next_tat(self, tat: float, now: float) -> float:
        return max(tat, now) + self.interval_ms

    def remaining(self, tat: float, now: float) -> int:
        """Requests that would still be admitted right now."""
        return max(0, min(self.limit, math.floor((now + self.period_ms - max(tat, now)) / self.interval_ms)))

    def reset_seconds(self, tat: float, now: float) -> int:
        """Seconds until the bucket is full again."""
        return max(0, math.ceil((max(tat, now) - now) / 1000))

    def retry_after_seconds(self, tat: float, now: float) -> int:
        """Seconds until one request would be admitted."""
        return max(1, math.ceil((max(tat, now) - now - self.tolerance_ms) / 1000))


@dataclass(frozen=True, slots=True)
class BucketTake:
    """One token to take from a stored bucket, as part of a larger write (the send transaction)."""

    bucket_id: str
    bucket: Bucket


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after_seconds: int

    @classmethod
    def of(cls, allowed: bool, bucket: Bucket, tat: float, now: float) -> Decision:
        return cls(
            allowed=allowed,
            limit=bucket.limit,
            remaining=bucket.remaining(tat, now),
            reset_seconds=bucket.reset_seconds(tat, now),
            retry_after_seconds=0 if allowed else bucket.retry_after_seconds(tat, now),
        )


class LocalBuckets:
    """In-memory buckets: a per-key guard each process applies before touching any table."""

    def __init__(self, bucket: Bucket, max_keys: int = 10_000) -> None:
        self.bucket = bucket
        self.max_keys = max_keys
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now_ms: float | None = None) -> Decision:
        now = now_ms if now_ms is not None else time.time() * 1000
        with self._lock:
            if len(self._tats) >= self.max_keys:
                self._tats = {k: tat for k, tat in self._tats.items() if tat > now}  # idle buckets are full
            tat = self._tats.get(key, now)
            allowed = self.bucket.allows(tat, now)
            if allowed:
                tat = self.bucket.next_tat(tat, now)
                self._tats[key] = tat
            return Decision.of(allowed, self.bucket, tat, now)
