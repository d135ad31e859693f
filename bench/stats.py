"""Summaries of samples: median and p99 are what the report shows, never a mean alone."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); `q` in [0, 100]."""
    if not sorted_values:
        return math.nan
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    position = (len(sorted_values) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return float(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low))


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    """Latencies in seconds → {n, p50, p99, mean, min, max} in milliseconds."""
    values = sorted(seconds)
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "mean_ms": round(sum(values) / len(values) * 1000, 2),
        "min_ms": round(values[0] * 1000, 2),
        "max_ms": round(values[-1] * 1000, 2),
    }


def median(values: Sequence[float]) -> float:
    return percentile(sorted(values), 50)
