"""Outbound HTTP to customer URLs keeps one deadline for the whole exchange, against real trickling servers.

No durations are asserted: the server reports how far it got before the client hung up. A client that keeps
its 1 s deadline hangs up after about 10 of the answer's 200 bytes (one every 0.1 s); one that does not takes
the whole answer (20 s). Half of it, as a bound, leaves 9 s for a loaded machine.
"""

from __future__ import annotations

import dataclasses

import pytest
from support.trickle import TRICKLE_BYTES, trickle_server

from bzapper.adapters import http as http_adapter
from bzapper.adapters.http import HttpSender
from bzapper.config import settings
from bzapper.domain.transport import FetchFailed

DEADLINE = 1.0


@pytest.fixture(autouse=True)
def local_urls(monkeypatch):
    """Local mode for customer URLs only: loopback allowed (the test's servers), nothing else."""
    local = dataclasses.replace(settings(), local_mode=True)
    monkeypatch.setattr(http_adapter, "settings", lambda: local)


def _download(url: str) -> bytes:
    with HttpSender().get(url, timeout=DEADLINE) as download:
        return b"".join(download.chunks())


@pytest.mark.parametrize(
    ("mode", "scheme"),
    [
        ("body", "http"),  # headers at once, then a byte every 0.1 s
        ("headers", "http"),  # the status line itself a byte at a time
        ("silent", "http"),  # connected, and nothing ever said
        ("tls", "https"),  # a TLS handshake that trickles and never completes
    ],
)
def test_a_media_download_ends_at_its_deadline_whatever_the_pace_of_the_server(mode, scheme):
    with trickle_server(mode, scheme=scheme) as server, pytest.raises(FetchFailed) as failed:
        _download(server.url)
    assert failed.value.reason == "timeout"
    assert server.hung_up  # the client gave up, not the server
    assert server.sent < TRICKLE_BYTES // 2


@pytest.mark.parametrize("mode", ["body", "headers", "silent"])
def test_a_webhook_post_ends_at_its_deadline_whatever_the_pace_of_the_endpoint(mode):
    with trickle_server(mode) as server:
        outcome = HttpSender().post(server.url, b'{"type": "message.sent"}', {}, DEADLINE)
    assert (outcome.status_code, outcome.error) == (None, "timeout")
    assert server.hung_up
    assert server.sent < TRICKLE_BYTES // 2


def test_a_webhook_answer_with_an_endless_body_is_a_delivery_read_no_further_than_the_cap():
    # The status is all that counts: a 200 whose body never ends is delivered, well within the deadline
    # (generous here: reading it all until the deadline would make this a timeout).
    with trickle_server("endless") as server:
        outcome = HttpSender().post(server.url, b"{}", {}, 30.0)
    assert (outcome.status_code, outcome.error) == (200, None)
    assert server.hung_up  # the client stopped reading and closed, the body still flowing
