"""GET /stream (bzapper.services.stream): the account's event log as Server-Sent Events, in number order, from now
or resumed after a given event, filtered by instance and type, past a dead writer's number once it waited."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import pytest
from support.memory import open_account

from bzapper.domain.errors import BzError
from bzapper.domain.eventlog import GAP_WAIT_MS, stream_id
from bzapper.domain.events import envelope
from bzapper.services import stream


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "POLL_SECONDS", 0)


def logged(fakes, tenant, event_type: str = "message.sent", instance_id: str | None = None, n: int = 0) -> dict:
    event = envelope(
        event_type,
        at_ms=fakes.clock() + n,
        account_id=tenant.account_id,
        instance_id=instance_id or tenant.instance_id,
        livemode=False,
        data={"n": n},
        identity=(str(n),),
    )
    fakes.event_log.append(event)
    return event


def listen(fakes, tenant, position: int, polls: int, between: Callable[[], None] = lambda: None, **filters) -> list:
    """What the stream sends during `polls` reads of the log; `between` runs before each read."""

    async def run() -> list[str]:
        left = [polls]

        async def disconnected() -> bool:
            left[0] -= 1
            if left[0] >= 0:
                between()
            return left[0] < 0

        filters.setdefault("instance_id", None)
        filters.setdefault("types", None)
        filters.setdefault("recheck", lambda: tenant.principal)
        return [
            chunk
            async for chunk in stream.event_stream(
                fakes.services, tenant.principal, position, disconnected=disconnected, **filters
            )
        ]

    return asyncio.run(run())


def ids(chunks: list[str]) -> list[str]:
    return [chunk.split("\n")[0].removeprefix("id: ") for chunk in chunks if chunk.startswith("id: ")]


def test_the_stream_starts_now_and_sends_what_is_logged_after(fakes):
    tenant = open_account(fakes)
    logged(fakes, tenant, n=1)  # before the client connected
    position = stream.start_position(fakes.services, tenant.principal, None)
    later = [logged(fakes, tenant, n=n) for n in (2, 3)]

    chunks = listen(fakes, tenant, position, polls=1)

    assert chunks[0] == f"retry: {stream.RETRY_MS}\n\n"
    assert ids(chunks) == [event["id"] for event in later]
    assert chunks[1].startswith(f"id: {later[0]['id']}\nevent: message.sent\ndata: {{")


def test_a_client_resumes_after_the_last_event_it_got(fakes):
    tenant = open_account(fakes)
    events = [logged(fakes, tenant, n=n) for n in range(4)]
    position = stream.start_position(fakes.services, tenant.principal, events[1]["id"])
    assert ids(listen(fakes, tenant, position, polls=1)) == [events[2]["id"], events[3]["id"]]


def test_an_unknown_or_foreign_event_id_cannot_be_resumed_from(fakes):
    tenant, other = open_account(fakes), open_account(fakes)
    theirs = logged(fakes, other)
    for last_event_id in ("evt_unknown", theirs["id"]):
        with pytest.raises(BzError) as refused:
            stream.start_position(fakes.services, tenant.principal, last_event_id, param="last_event_id")
        assert refused.value.param == "last_event_id"


def test_filters_by_instance_and_type_are_checked_then_applied(fakes):
    tenant = open_account(fakes)
    second = fakes.instances.create(tenant.account_id, livemode=False, engine="sandbox", name="B", status="connected")
    wanted = logged(fakes, tenant, "message.read", n=1)
    logged(fakes, tenant, "message.read", instance_id=second.instance_id, n=2)
    logged(fakes, tenant, "instance.connected", n=3)

    instance_id, types = stream.checked_filters(fakes.services, tenant.principal, tenant.instance_id, "message.*, ")
    chunks = listen(fakes, tenant, 0, polls=1, instance_id=instance_id, types=types)

    assert ids(chunks) == [wanted["id"]]
    with pytest.raises(BzError) as bad_type:
        stream.checked_filters(fakes.services, tenant.principal, None, "message.*,nope")
    assert bad_type.value.param == "types"
    with pytest.raises(BzError) as foreign:
        stream.checked_filters(fakes.services, tenant.principal, open_account(fakes).instance_id, None)
    assert foreign.value.code == "not_found"
    assert stream.checked_filters(fakes.services, tenant.principal, "", "  ") == (None, None)


def test_a_dead_writers_number_holds_the_stream_for_the_gap_wait_then_is_passed(fakes, clock):
    tenant = open_account(fakes)
    first = logged(fakes, tenant, n=1)
    fakes.event_log.claim(stream_id(tenant.account_id, False), 1)  # claimed by a writer that died
    after = logged(fakes, tenant, n=3)
    reads: list[None] = []

    def wait_a_little() -> None:
        if reads:
            clock.advance(GAP_WAIT_MS // 2)
        reads.append(None)

    chunks = listen(fakes, tenant, 0, polls=3, between=wait_a_little)

    assert ids(chunks) == [first["id"], after["id"]]
    assert fakes.event_log.call_count("read_after") == 3  # held on the gap for two reads, passed on the third


def test_a_quiet_stream_sends_heartbeats(fakes, monkeypatch):
    monkeypatch.setattr(stream, "HEARTBEAT_SECONDS", 0)
    tenant = open_account(fakes)
    assert listen(fakes, tenant, 0, polls=2)[1:] == [": heartbeat\n\n", ": heartbeat\n\n"]


def test_a_credential_refused_on_its_recheck_ends_the_stream_before_another_read(fakes, monkeypatch):
    monkeypatch.setattr(stream, "CHECK_SECONDS", 0)
    tenant = open_account(fakes)
    first = logged(fakes, tenant, n=1)
    checks: list[None] = []

    def recheck():
        checks.append(None)
        if len(checks) > 1:  # revoked, signed out, expired or suspended since the last check
            raise BzError("unauthorized")
        return tenant.principal

    chunks = listen(
        fakes, tenant, 0, polls=5, between=lambda: checks and logged(fakes, tenant, n=10 + len(checks)), recheck=recheck
    )

    assert ids(chunks) == [first["id"]]
    assert chunks[-1] == ": closed unauthorized\n\n"
    assert fakes.event_log.call_count("read_after") == 1


def test_the_credential_is_checked_again_once_per_check_period_not_per_read(fakes, monkeypatch):
    monkeypatch.setattr(stream, "CHECK_SECONDS", 3600)
    tenant = open_account(fakes)
    checks: list[None] = []
    listen(fakes, tenant, 0, polls=3, recheck=lambda: checks.append(None) or tenant.principal)
    assert checks == []


def test_a_key_narrowed_while_open_gets_only_its_numbers_from_the_next_check(fakes, monkeypatch):
    monkeypatch.setattr(stream, "CHECK_SECONDS", 0)
    tenant = open_account(fakes)
    second = fakes.instances.create(tenant.account_id, livemode=False, engine="sandbox", name="B", status="connected")
    narrowed = dataclasses.replace(tenant.principal, instance_ids=frozenset({second.instance_id}))
    logged(fakes, tenant, n=1)
    theirs = logged(fakes, tenant, instance_id=second.instance_id, n=2)
    assert ids(listen(fakes, tenant, 0, polls=1, recheck=lambda: narrowed)) == [theirs["id"]]
