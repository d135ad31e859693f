"""Per-number pacing: a minimum interval between sends, with jitter, and a priority lane that goes first.

WhatsApp flags numbers that send in machine-regular bursts; a human-like spacing per number protects the
customer's number. OTP must not wait behind a campaign: a priority send takes the number's next slot
ahead of every regular send already waiting. Pure: the clock and randomness are injected.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PacingPolicy:
    min_interval_ms: int = 0
    jitter_ms: int = 0
    """A random extra wait in [0, jitter_ms] after each send."""


class Pacer:
    """Reserves send slots per instance; thread-safe (a worker's groups send concurrently)."""

    def __init__(self, policy: PacingPolicy, clock: Callable[[], float], rng: random.Random | None = None) -> None:
        self.policy = policy
        self._clock = clock
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._slots: dict[str, list[float]] = {}  # reserved send times per instance, ascending

    @property
    def enabled(self) -> bool:
        return self.policy.min_interval_ms > 0 or self.policy.jitter_ms > 0

    def reserve(self, instance_id: str, priority: bool = False) -> float:
        """Seconds to wait before this send.

        A regular send queues behind every reservation of its number; a priority send only keeps the
        spacing from the number's latest send that already happened, so it overtakes the waiting ones.
        """
        if not self.enabled:
            return 0.0
        with self._lock:
            now = self._clock()
            gap = (self.policy.min_interval_ms + self._rng.randint(0, self.policy.jitter_ms)) / 1000
            slots = [slot for slot in self._slots.get(instance_id, []) if slot > now - 3600]
            if priority:
                past = [slot for slot in slots if slot <= now]
                slot = max(now, past[-1] + gap) if past else now
            else:
                slot = max(now, slots[-1] + gap) if slots else now
            slots.append(slot)
            slots.sort()
            self._slots[instance_id] = slots
            return slot - now

    def forget(self, instance_id: str) -> None:
        with self._lock:
            self._slots.pop(instance_id, None)
