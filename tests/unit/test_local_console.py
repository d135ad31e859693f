"""The local stack's console route (dev/bzapper_dev/local/console.py): hostile paths and methods are answered, never
a 500, and nothing outside the console's folder is served."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from bzapper_dev.local.console import console_app


def answer(folder: Path, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    asyncio.run(console_app(scope, receive, send, directory=folder))
    start, body = sent[0], sent[1]
    headers = {key.decode().lower(): value.decode() for key, value in start["headers"]}
    return start["status"], headers, body["body"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "secret.txt").write_text("outside the console")
    return tmp_path / "dist"


@pytest.mark.parametrize(
    "path",
    [
        "/console/\x00",
        "/console/index.html\x00.js",
        "/console/a\x7fb",
        "/console/../secret.txt",
        "/console/..\\secret.txt",
    ],
    ids=["nul", "nul-suffix", "del", "dot-dot", "backslash"],
)
def test_a_hostile_path_gets_the_console_page_never_a_file_outside_it_nor_a_500(folder: Path, path: str):
    status, headers, body = answer(folder, path)
    assert status == 200 and headers["content-type"] == "text/html"
    assert b"outside the console" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_console_answers_only_reads(folder: Path, method: str):
    status, headers, body = answer(folder, "/console/", method)
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert json.loads(body)["code"] == "method_not_allowed"
