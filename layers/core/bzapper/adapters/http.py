"""Outbound HTTP to customer endpoints: one pooled client, the SSRF guard before every request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from bzapper.config import settings
from bzapper.net import UnsafeUrl, check_url


@dataclass(frozen=True, slots=True)
class HttpOutcome:
    status_code: int | None
    latency_ms: int
    error: str | None


class HttpSender:
    def __init__(self) -> None:
        self._client: Any = None
        self._lock = threading.Lock()

    def _http(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx  # lazy: only the dispatcher pays for it

                # No redirects: a 3xx to an internal address must not be followed.
                self._client = httpx.Client(follow_redirects=False, headers={"user-agent": "bzapper-webhooks/1"})
            return self._client

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpOutcome:
        import httpx

        started = time.perf_counter()
        try:
            # Checked at send time too: the name may resolve elsewhere than when the URL was registered.
            check_url(url, allow_loopback=settings().local_mode)
            response = self._http().post(url, content=body, headers=headers, timeout=timeout)
        except UnsafeUrl as error:
            return HttpOutcome(None, _ms(started), f"unsafe_url: {error}")
        except httpx.TimeoutException:
            return HttpOutcome(None, _ms(started), "timeout")
        except httpx.HTTPError as error:
            return HttpOutcome(None, _ms(started), f"network: {type(error).__name__}")
        return HttpOutcome(response.status_code, _ms(started), None)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
