"""A clock a test moves by hand, shared by the fakes (and, patched in, by the services' `now_ms`)."""

from __future__ import annotations

import threading

JANUARY_15_2025_NOON = 1_736_942_400_000
"""A fixed, realistic start: epoch milliseconds of 2025-01-15T12:00:00Z."""


class ManualClock:
    def __init__(self, start_ms: int = JANUARY_15_2025_NOON) -> None:
        self._now = start_ms
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return self._now

    @property
    def now(self) -> int:
        return self()

    def advance(self, ms: int) -> int:
        """Moves time forward (never back: the stores' conditions assume it); returns the new time."""
        if ms < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += ms
            return self._now

    def time(self) -> float:
        """Seconds, as `time.time()` gives them: lets the clock stand in for the `time` module."""
        return self() / 1000
