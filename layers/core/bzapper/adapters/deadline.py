"""One deadline for a whole outbound HTTP exchange, which httpx has no setting for.

httpx's timeouts apply to each network operation, so a server sending a byte every few seconds never trips
them and holds the caller for as long as it likes (encode/httpx#1450). Here the deadline of the exchange in
progress sits in a context variable, and the network backend under the client cuts the timeout of every
operation (connect, TLS handshake, each send, each receive) to what is left of it, and fails the operation
once it has passed. A plain receive returns as soon as any byte arrives, and CPython bounds a whole TLS
handshake, TLS read or TLS write by the socket's timeout, so no operation outlives the deadline whatever the
peer's pace: connect, TLS, the status line and headers, every byte of the body, every hop of a redirect.

Two residues. Name resolution (the SSRF guard's getaddrinfo, before connecting) cannot be cut short: the
resolver's own timeouts bound it, and what it takes is gone from the budget. httpcore sends a plain-http
request body with repeated sends, each given what is left, so a peer reading a large body slowly could stretch
it; plain http reaches only local mode (the SSRF guard wants https elsewhere) and our request bodies are small.

Imported lazily with httpx (its import costs cold starts tens of milliseconds).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

_deadline: ContextVar[float | None] = ContextVar("bzapper_http_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Every network operation of a client built on `transport()` inside the block, in this thread, ends by
    `seconds` from now, or fails with a timeout. Yields the deadline (a `time.perf_counter()` instant)."""
    at = time.perf_counter() + seconds
    outer = _deadline.get()
    token = _deadline.set(at if outer is None else min(outer, at))
    try:
        yield at
    finally:
        _deadline.reset(token)


def _budget(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """An operation's own timeout, cut to what is left of the deadline; raises `expired` once it has passed."""
    at = _deadline.get()
    if at is None:
        return timeout
    left = at - time.perf_counter()
    if left <= 0:
        raise expired("the deadline of the request passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _budget(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _budget(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        budget = _budget(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, budget))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        budget = _budget(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, budget, local_address, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def transport() -> httpx.HTTPTransport:
    """httpx's transport (httpx's defaults: verification, limits) over a pool on the deadline's backend.

    httpx offers no public way to hand its transport a network backend, so its pool is replaced by an
    httpcore pool (public API) built on ours; if a later httpx stops keeping its pool there, this fails loudly
    rather than letting requests run without their deadline."""
    ssl_context = httpx.create_ssl_context()
    built = httpx.HTTPTransport(verify=ssl_context)
    if not isinstance(getattr(built, "_pool", None), httpcore.ConnectionPool):
        raise RuntimeError("httpx.HTTPTransport no longer keeps its pool in `_pool`: the deadline cannot be set")
    built._pool = httpcore.ConnectionPool(
        ssl_context=ssl_context,
        max_connections=100,  # httpx's default limits
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_Backend(),
    )
    return built
