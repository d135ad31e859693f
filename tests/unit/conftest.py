"""Unit tests run without a network: every test starts with sockets disabled (pytest-socket).

Two things stay possible, neither of which can reach another machine:
- Unix domain sockets: the worker's host processes talk over multiprocessing pipes (socketpair), and an
  asyncio event loop wakes itself through one (the stream service);
- resolving a literal IP address (`getaddrinfo` with AI_NUMERICHOST: parsing, never a DNS query), which the
  SSRF guard does with every URL; a host name does not resolve.

A test that needs more is listed in NEEDS_NETWORK_SOCKETS with the reason, never let through silently.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
import pytest_socket

from bzapper.adapters.memory import ManualClock
from bzapper.domain import clock as domain_clock

NEEDS_NETWORK_SOCKETS: dict[str, str] = {}

_real_getaddrinfo = socket.getaddrinfo


def _literal_addresses_only(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0):
    return _real_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid in NEEDS_NETWORK_SOCKETS:
            item.add_marker(pytest.mark.enable_socket)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("enable_socket"):
        return
    pytest_socket.disable_socket(allow_unix_socket=True)
    socket.getaddrinfo = _literal_addresses_only


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if socket.getaddrinfo is _literal_addresses_only:
        socket.getaddrinfo = _real_getaddrinfo


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """A clock moved by hand, for the in-memory fakes and the services alike: `now_ms()` reads `time.time()` of
    bzapper.domain.clock. (The sandbox network's tests override it with their own FakeClock.)"""
    manual = ManualClock()
    monkeypatch.setattr(domain_clock, "time", manual)
    return manual
