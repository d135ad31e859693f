"""Token buckets in DynamoDB: GCRA, so admitting a request is one conditional update."""

from __future__ import annotations

import time

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import RateLimitModel
from bzapper.domain.ratelimit import Bucket, Decision


class RateLimitStore:
    def __init__(self) -> None:
        # The last TAT seen per bucket: it picks the right update first, and refuses a flood locally.
        self._seen: dict[str, tuple[float, float]] = {}

    def take(self, bucket_id: str, bucket: Bucket, now_ms: float | None = None) -> Decision:
        now = now_ms if now_ms is not None else time.time() * 1000
        refused = self.refused_locally(bucket_id, bucket, now)
        if refused is not None:
            return refused
        busy_first = self.busy_first(bucket_id, now)
        for busy in (busy_first, not busy_first):
            item, actions, condition = self.update_of(bucket_id, bucket, now, busy)
            if applied(lambda: item.update(actions=actions, condition=condition)):  # noqa: B023 - called at once
                self.remember(bucket_id, float(item.tat))
                return Decision.of(True, bucket, float(item.tat), now)
        # Both conditions failed: the bucket is over its burst (or raced); read it to say when to retry.
        try:
            current = float(RateLimitModel.get(bucket_id, consistent_read=True).tat)
        except DoesNotExist:
            current = now
        self.remember(bucket_id, current)
        return Decision.of(False, bucket, current, now)

    # The parts of a take, for a write that carries one inside a larger transaction (the send's commit).

    def refused_locally(self, bucket_id: str, bucket: Bucket, now: float) -> Decision | None:
        """The refusal, when the TAT seen less than a second ago is already past the burst: no request made."""
        cached = self._seen.get(bucket_id)
        if cached and time.monotonic() - cached[1] < 1.0 and not bucket.allows(cached[0], now):
            return Decision.of(False, bucket, cached[0], now)
        return None

    def busy_first(self, bucket_id: str, now: float) -> bool:
        """Whether the busy update is the likelier to apply (the TAT last seen is still ahead of now)."""
        cached = self._seen.get(bucket_id)
        return bool(cached and cached[0] > now)

    def seen(self, bucket_id: str) -> float | None:
        cached = self._seen.get(bucket_id)
        return cached[0] if cached else None

    def remember(self, bucket_id: str, tat: float) -> None:
        self._seen[bucket_id] = (tat, time.monotonic())

    @staticmethod
    def update_of(
        bucket_id: str, bucket: Bucket, now: float, busy: bool
    ) -> tuple[RateLimitModel, list[Action], Condition]:
        """Busy bucket: TAT moves on by one interval if within the burst. Idle: TAT restarts from now."""
        item = RateLimitModel(bucket_id)
        expires = int(now / 1000) + 2 * bucket.period_ms // 1000 + 60
        if busy:
            actions = [RateLimitModel.tat.add(bucket.interval_ms), RateLimitModel.expires_at.set(expires)]
            condition = (RateLimitModel.tat >= now) & (RateLimitModel.tat <= now + bucket.tolerance_ms)
        else:
            actions = [RateLimitModel.tat.set(now + bucket.interval_ms), RateLimitModel.expires_at.set(expires)]
            condition = RateLimitModel.tat.does_not_exist() | (RateLimitModel.tat < now)
        return item, actions, condition

    def give_back(self, bucket_id: str, bucket: Bucket) -> None:
        """One atomic subtraction, only while the bucket is busy (an idle bucket is full: nothing to return).
        Concurrent takes and give-backs commute, so each reservation is counted exactly once."""
        now = time.time() * 1000
        item = RateLimitModel(bucket_id)
        actions = [RateLimitModel.tat.add(-bucket.interval_ms)]
        condition = RateLimitModel.tat >= now  # an idle bucket is full: no token banked in advance
        applied(lambda: item.update(actions=actions, condition=condition))
        self._seen.pop(bucket_id, None)

    def used(self, bucket_id: str, limit: int) -> int:
        """Requests counted against a per-minute bucket right now, without taking one."""
        bucket = Bucket(limit)
        now = time.time() * 1000
        try:
            tat = float(RateLimitModel.get(bucket_id, consistent_read=True).tat)
        except DoesNotExist:
            return 0
        return bucket.limit - bucket.remaining(tat, now)
