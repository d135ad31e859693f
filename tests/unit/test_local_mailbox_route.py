"""The local mailbox route (GET /sandbox/mailbox?to=, local stack only) refuses in the API's error shape: a request id,
the method's own code, the caller's language."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bzapper_dev.local.mailbox import mailbox_app


def answer(directory: Path, method: str, query: bytes, language: bytes = b"pt-BR") -> tuple[int, dict[str, str], dict]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": method,
        "path": "/sandbox/mailbox",
        "query_string": query,
        "headers": [(b"accept-language", language)],
    }
    asyncio.run(mailbox_app(directory, scope, receive, send))
    headers = {key.decode().lower(): value.decode() for key, value in sent[0]["headers"]}
    return sent[0]["status"], headers, json.loads(sent[1]["body"])


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_a_write_is_405_method_not_allowed(tmp_path: Path, method: str):
    status, headers, body = answer(tmp_path, method, b"to=a@example.com")
    assert (status, body["code"], body["locale"]) == (405, "method_not_allowed", "pt-BR")
    assert body["request_id"] == headers["x-request-id"] and body["request_id"].startswith("req_")
    assert headers["allow"] == "GET, HEAD"


def test_without_an_address_it_names_the_missing_parameter(tmp_path: Path):
    status, headers, body = answer(tmp_path, "GET", b"")
    assert (status, body["code"], body["param"]) == (422, "validation_failed", "to")
    assert body["request_id"] == headers["x-request-id"]


def test_an_empty_mailbox_is_an_empty_list(tmp_path: Path):
    status, _, body = answer(tmp_path, "GET", b"to=nobody@example.com")
    assert (status, body) == (200, {"data": []})
