"""A small bounded TTL cache for warm processes (auth, plans, instance facts)."""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

V = TypeVar("V")
_MISSING = object()


class TTLCache(Generic[V]):
    """Entries expire after their TTL; when full, the oldest entry goes first, so memory stays bounded."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._items: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, default: object = _MISSING) -> V | object:
        with self._lock:
            entry = self._items.get(key)
            if entry is None or entry[0] <= time.monotonic():
                return default
            return entry[1]

    def put(self, key: str, value: V, ttl_seconds: float) -> None:
        with self._lock:
            self._items.pop(key, None)
            while len(self._items) >= self.max_entries:
                self._items.pop(next(iter(self._items)))
            self._items[key] = (time.monotonic() + ttl_seconds, value)

    def discard(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


MISSING = _MISSING
