"""An open GET /stream checks its credential again while it runs (the real app on moto, driven over ASGI): a
revoked key, a signed-out session or a suspended account ends the stream, and nothing logged after that is
sent; a stream whose credential still works stays open. The check period is 0 here (every read), so nothing
waits on a clock: the bound in real time is the principal cache (5 s) plus services.stream.CHECK_SECONDS."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest
from support.apigw import call
from support.identity import PASSWORD, open_by_sign_up, start_pool

from bzapper import bootstrap
from bzapper.domain.clock import now_ms
from bzapper.domain.events import envelope
from bzapper.services import stream as stream_service
from bzapper.services.accounts import set_suspended
from bzapper.services.auth import sign_out
from bzapper_dev.local.functions import load_function

EMAIL = "streamer@acme.com.br"
_numbers = itertools.count()


@pytest.fixture
def owner(aws, environment, tmp_path, monkeypatch):
    environment.set("BZ_AUTH_CACHE_SECONDS", "0")  # every check reads the tables: a change shows at the next one
    monkeypatch.setattr(stream_service, "CHECK_SECONDS", 0)
    monkeypatch.setattr(stream_service, "POLL_SECONDS", 0)
    pool = start_pool(environment, tmp_path)
    bootstrap.services.cache_clear()
    tokens, account_id = open_by_sign_up(pool, EMAIL, PASSWORD)
    status, _, key = call(
        load_function("keys").handler,
        "POST",
        "/keys",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        body={"name": "streamer", "mode": "test"},
    )
    assert status == 201
    return {"account_id": account_id, "tokens": tokens, "key": key}


def _log_event(account_id: str) -> str:
    n = next(_numbers)
    event = envelope(
        "message.received",
        at_ms=now_ms() + n,
        account_id=account_id,
        instance_id=None,
        livemode=False,
        data={"body": f"inbound {n}"},
        identity=("stream-credential", str(n)),
    )
    bootstrap.services().event_log.append(event)
    return str(event["id"])


def _stream(token: str, on_chunk: Callable[[str], bool]) -> tuple[int, list[str]]:
    """GET /stream on the stream function's app; `on_chunk` sees each chunk as it is sent and returns True to
    hang up. Returns the status and every chunk sent until the app ended the response."""
    app = load_function("stream").app
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/stream",
        "raw_path": b"/stream",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"stream.test"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("stream.test", 80),
    }

    async def run() -> tuple[int, list[str]]:
        hung_up = asyncio.Event()
        requested = False
        status: list[int] = []
        chunks: list[str] = []

        async def receive() -> dict:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await hung_up.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message.get("body"):
                chunks.append(message["body"].decode())
                if on_chunk(chunks[-1]):
                    hung_up.set()

        await app(scope, receive, send)
        return status[0], chunks

    return asyncio.run(run())


def _ids(chunks: list[str]) -> list[str]:
    return [chunk.split("\n")[0].removeprefix("id: ") for chunk in chunks if chunk.startswith("id: ")]


def _ended_by(owner, token: str, take_away: Callable[[], None]) -> tuple[list[str], list[str]]:
    """Open a stream with `token`; once it is open, log an event, wait until it arrives, take the credential away
    and log another. Hangs up itself only if an event arrives after that (what the defect did)."""
    before: list[str] = []
    after: list[str] = []

    def on_chunk(chunk: str) -> bool:
        if chunk.startswith("retry: "):
            before.append(_log_event(owner["account_id"]))
        elif chunk.startswith("id: ") and len(after) == 0 and chunk.startswith(f"id: {before[0]}"):
            take_away()
            after.append(_log_event(owner["account_id"]))
        elif chunk.startswith("id: "):
            return True  # an event sent after the credential was taken away
        return False

    status, chunks = _stream(token, on_chunk)
    assert status == 200
    assert before and after, "the stream did not deliver while its credential worked"
    return chunks, after


def test_a_revoked_key_ends_its_open_stream(owner, svc):
    key = owner["key"]
    chunks, after = _ended_by(owner, key["key"], lambda: svc.keys.revoke(key["id"], now_ms()))
    assert not set(after) & set(_ids(chunks))
    assert chunks[-1] == ": closed unauthorized\n\n"


def test_a_signed_out_session_ends_its_open_stream(owner, svc):
    tokens = owner["tokens"]

    def logout() -> None:
        sign_out(svc, refresh_token=tokens["refresh_token"], access_token=tokens["access_token"])

    chunks, after = _ended_by(owner, tokens["access_token"], logout)
    assert not set(after) & set(_ids(chunks))
    assert chunks[-1] == ": closed unauthorized\n\n"


@pytest.mark.parametrize("credential", ["key", "session"])
def test_a_suspended_account_ends_its_open_streams(owner, svc, credential):
    token = owner["key"]["key"] if credential == "key" else owner["tokens"]["access_token"]
    chunks, after = _ended_by(owner, token, lambda: set_suspended(svc, owner["account_id"], True))
    assert not set(after) & set(_ids(chunks))
    assert chunks[-1] == ": closed account_restricted\n\n"


@pytest.mark.parametrize("credential", ["key", "session"])
def test_a_stream_whose_credential_still_works_stays_open(owner, credential):
    token = owner["key"]["key"] if credential == "key" else owner["tokens"]["access_token"]
    logged: list[str] = []

    def on_chunk(chunk: str) -> bool:
        # Each event is logged after the previous one arrived: the credential is checked again in between.
        if chunk.startswith("retry: ") or (chunk.startswith("id: ") and len(logged) < 3):
            logged.append(_log_event(owner["account_id"]))
            return False
        return chunk.startswith("id: ")  # the third arrived: the client hangs up

    status, chunks = _stream(token, on_chunk)
    assert status == 200
    assert _ids(chunks) == logged and len(logged) == 3
    assert not [chunk for chunk in chunks if chunk.startswith(": closed")]
