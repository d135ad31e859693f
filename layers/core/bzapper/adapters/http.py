"""Outbound HTTP to customer endpoints: one pooled client, the SSRF guard before every request, and one
deadline for each exchange as a whole (bzapper.adapters.deadline), whatever the pace of the other end."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bzapper.config import settings
from bzapper.domain.transport import FetchFailed, HttpOutcome
from bzapper.net import UnsafeUrl, check_url, read_url

RESPONSE_BODY_CAP = 4 * 1024
"""What a webhook POST takes of the answer's body: only the status counts, and reading a short body whole lets
its connection be reused; past this the rest is left unread and the connection closed."""


class HttpSender:
    def __init__(self) -> None:
        self._client: Any = None
        self._lock = threading.Lock()

    def _http(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx  # lazy: only the dispatcher pays for it

                from bzapper.adapters.deadline import transport

                # No redirects: a 3xx to an internal address must not be followed. No proxy or .netrc from
                # the environment: a customer's URL gets no credentials of ours, and every byte goes through
                # the transport that keeps the deadline.
                self._client = httpx.Client(
                    transport=transport(),
                    follow_redirects=False,
                    trust_env=False,
                    headers={"user-agent": "bzapper-webhooks/1"},
                )
            return self._client

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> HttpOutcome:
        """POSTs `body`; the whole exchange (connect, TLS, sending, the answer's status and headers, and up to
        RESPONSE_BODY_CAP bytes of its body) must end within `timeout` seconds, else the outcome is "timeout"."""
        import httpx

        from bzapper.adapters.deadline import deadline

        started = time.perf_counter()
        try:
            with deadline(timeout):
                # Checked at send time, and the connection goes to the very address checked: a name that
                # resolves elsewhere a moment later (DNS rebinding) cannot redirect the request.
                target = pin(url)
                with self._http().stream(
                    "POST",
                    target.url,
                    content=body,
                    headers={**headers, "host": target.host},
                    timeout=httpx.Timeout(timeout),
                    extensions={"sni_hostname": target.sni_hostname},
                ) as response:
                    read_at_most(response.iter_raw(), RESPONSE_BODY_CAP)
        except UnsafeUrl as error:
            return HttpOutcome(None, _ms(started), f"unsafe_url: {error}")
        except httpx.TimeoutException:
            return HttpOutcome(None, _ms(started), "timeout")
        except httpx.HTTPError as error:
            return HttpOutcome(None, _ms(started), f"network: {type(error).__name__}")
        return HttpOutcome(response.status_code, _ms(started), None)

    @contextmanager
    def get(self, url: str, *, timeout: float, max_redirects: int = 3) -> Iterator[Download]:
        """A GET of a customer's URL (media by URL), streamed: every hop of a redirect is checked and
        pinned like the first, and the whole download (every hop: connect, TLS, headers, every byte of the
        body) must end within `timeout` seconds in all.

        Raises FetchFailed with a stable reason (unsafe_url, timeout, network, http_<status>, redirects).
        """
        import httpx

        from bzapper.adapters.deadline import deadline

        with deadline(timeout) as at:
            for _ in range(max_redirects + 1):
                try:
                    target = pin(url)
                except UnsafeUrl as error:
                    raise FetchFailed("unsafe_url", error.code) from error
                try:
                    with self._http().stream(
                        "GET",
                        target.url,
                        headers={"host": target.host, "user-agent": "bzapper-media/1", "accept": "*/*"},
                        # The pool's wait; every network operation is cut to the deadline beneath.
                        timeout=httpx.Timeout(max(0.001, at - time.perf_counter())),
                        extensions={"sni_hostname": target.sni_hostname},
                    ) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = str(httpx.URL(url).join(response.headers["location"]))
                            continue
                        if response.status_code != 200:
                            raise FetchFailed(f"http_{response.status_code}")
                        yield Download(response, at)
                        return
                except httpx.TimeoutException as error:
                    raise FetchFailed("timeout") from error
                except httpx.HTTPError as error:
                    raise FetchFailed("network", type(error).__name__) from error
            raise FetchFailed("redirects")


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    url: str
    """The URL with its host replaced by the one address checked."""
    host: str
    """The Host header: the name (and port) the URL had."""
    sni_hostname: str | None


def pin(url: str) -> PinnedTarget:
    """Checks `url` (SSRF guard) and names the address to connect to, so a name that resolves elsewhere a
    moment later (DNS rebinding) cannot redirect the request. Raises UnsafeUrl."""
    local = settings().local_mode
    address = check_url(url, allow_loopback=local)
    target = read_url(url, allow_http=local)  # the host as checked, in ASCII (an IDN's A-labels): header-safe
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    pinned = parts._replace(netloc=f"{host}:{target.port}" if target.port else host).geturl()
    return PinnedTarget(pinned, target.netloc, target.host)


class Download:
    """An answered GET: its declared type and length, and its body in chunks, cut off at the deadline."""

    def __init__(self, response: Any, deadline: float) -> None:
        self._response = response
        self._deadline = deadline
        self.content_type: str | None = response.headers.get("content-type")
        length = response.headers.get("content-length", "")
        self.content_length: int | None = int(length) if length.isdigit() else None

    def chunks(self, size: int = 256 * 1024) -> Iterator[bytes]:
        for chunk in self._response.iter_bytes(size):
            if time.perf_counter() > self._deadline:
                raise FetchFailed("timeout")
            yield chunk


def read_at_most(chunks: Iterator[bytes], cap: int) -> int:
    """Reads a body until `cap` bytes have come (one network read may bring more, up to 64 KiB, dropped with
    the rest) or it ends; the number of bytes read."""
    taken = 0
    for chunk in chunks:
        taken += len(chunk)
        if taken >= cap:
            break
    return taken


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
