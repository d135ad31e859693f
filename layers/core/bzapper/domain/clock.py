"""Time in one place, so tests can reason about it."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    """RFC 3339 in UTC with milliseconds: what every timestamp of the API looks like."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
