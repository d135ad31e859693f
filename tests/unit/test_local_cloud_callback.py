"""The local stack points the simulated Cloud API's webhooks at its own API's /cloud/webhook route."""

from __future__ import annotations

from pathlib import Path

import pytest

from bzapper_dev.local.dev import DevStack


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080/cloud/webhook"),
        ("0.0.0.0", "http://127.0.0.1:8080/cloud/webhook"),
        ("::", "http://[::1]:8080/cloud/webhook"),
        ("192.168.1.20", "http://192.168.1.20:8080/cloud/webhook"),
        ("localhost", "http://localhost:8080/cloud/webhook"),
    ],
)
def test_the_callback_is_the_local_api_webhook_route(host: str, expected: str, tmp_path: Path) -> None:
    assert DevStack(host, 8080, tmp_path).cloud_callback_url == expected
