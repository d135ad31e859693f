"""Outbound HTTP to customer endpoints: one pooled client, the SSRF guard before every request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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
        deadline = started + timeout
        try:
            # Checked at send time, and the connection goes to the very address checked: a name that
            # resolves elsewhere a moment later (DNS rebinding) cannot redirect the request.
            address = check_url(url, allow_loopback=settings().local_mode)
            parts = urlsplit(url)
            host = f"[{address}]" if ":" in address else address
            pinned = parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host).geturl()
            per_read = httpx.Timeout(min(timeout, 5.0))
            with self._http().stream(
                "POST",
                pinned,
                content=body,
                headers={**headers, "host": parts.netloc.rsplit("@", 1)[-1]},
                timeout=per_read,
                extensions={"sni_hostname": parts.hostname},
            ) as response:
                for _ in response.iter_raw():
                    if time.perf_counter() > deadline:  # a body trickling in does not hold the dispatcher
                        return HttpOutcome(None, _ms(started), "timeout")
            if time.perf_counter() > deadline:
                return HttpOutcome(None, _ms(started), "timeout")
        except UnsafeUrl as error:
            return HttpOutcome(None, _ms(started), f"unsafe_url: {error}")
        except httpx.TimeoutException:
            return HttpOutcome(None, _ms(started), "timeout")
        except httpx.HTTPError as error:
            return HttpOutcome(None, _ms(started), f"network: {type(error).__name__}")
        return HttpOutcome(response.status_code, _ms(started), None)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
