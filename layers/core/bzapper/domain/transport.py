"""What outbound HTTP to customer endpoints reports: a webhook POST's outcome, a media download's failure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HttpOutcome:
    status_code: int | None
    latency_ms: int
    error: str | None


class FetchFailed(Exception):
    """`reason` is stable (unsafe_url, timeout, network, http_<status>, redirects); `detail` refines it (the
    UnsafeUrl code of an unsafe_url, the exception type of a network failure)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
