"""GET /stream: the event log as Server-Sent Events, resumable with Last-Event-ID."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from bzapper.config import settings
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.eventlog import stream_id
from bzapper.domain.model import Principal
from bzapper.domain.webhooks import subscribed, validated_subscriptions
from bzapper.services.container import Services
from bzapper.services.instances import owned_ref

RETRY_MS = 2_000
HEARTBEAT_SECONDS = 15.0
POLL_SECONDS = 0.25
CHECK_SECONDS = 1.0
"""How often an open stream checks its credential again. The check reads through the principal cache (at most
5 s old), so a revoked key or session, an expired session token or a suspension ends a stream within 6 s
(docs/accounts.md), without a table read per event."""

Recheck = Callable[[], Principal]
"""The stream's credential, checked again: the principal it stands for now, or a BzError when it no longer
authenticates or no longer allows the stream (revoked, signed out, expired, suspended, scope removed)."""


def checked_filters(
    services: Services, principal: Principal, instance_id: str | None, types: str | None
) -> tuple[str | None, set[str] | None]:
    """The filters checked as webhooks and the inbox check them, else a stream would stay silent forever.

    `types` is comma-separated event types or families (`message.*`), validated by the webhooks' own rule;
    `instance_id` must be one of the caller's instances (404 otherwise, as the inbox answers). Blank = omitted.
    """
    wanted = None
    if types and types.strip():
        wanted = validated_subscriptions([t.strip() for t in types.split(",") if t.strip()], "types", name_each=False)
    instance = instance_id or None
    if instance is not None:
        owned_ref(services, principal, instance)
    return instance, wanted


def start_position(
    services: Services, principal: Principal, last_event_id: str | None, param: str = "Last-Event-ID"
) -> int:
    """After the given event when resuming, else from the stream's last number now (only new events). `param`
    names where the client gave the id (the Last-Event-ID header or the last_event_id query parameter)."""
    stream = stream_id(principal.account_id, principal.livemode)
    if last_event_id:
        position = services.event_log.position_of(stream, last_event_id)
        if position is None:
            raise validation_failed(param)  # unknown, another account's, or older than 7 days
        return position
    return services.event_log.head(stream)


async def event_stream(
    services: Services,
    principal: Principal,
    position: int,
    *,
    instance_id: str | None,
    types: set[str] | None,
    disconnected: Callable[[], Awaitable[bool]],
    recheck: Recheck,
) -> AsyncIterator[str]:
    stream = stream_id(principal.account_id, principal.livemode)
    ends_at = time.monotonic() + settings().stream_max_seconds
    yield f"retry: {RETRY_MS}\n\n"
    last_output = time.monotonic()
    next_check = last_output + CHECK_SECONDS
    gaps = services.event_log.gap_watch()  # when this reader first saw each missing number
    while time.monotonic() < ends_at and not await disconnected():
        if time.monotonic() >= next_check:
            # Before reading, so nothing is read after a refused check. SSE has no status once the headers are
            # out: the stream ends with a comment saying why, and reconnecting gets the 401/403 itself.
            try:
                principal = await asyncio.to_thread(recheck)
            except BzError as refused:
                yield f": closed {refused.code}\n\n"
                return
            next_check = time.monotonic() + CHECK_SECONDS
        rows, position = await asyncio.to_thread(services.event_log.read_after, stream, position, gaps)
        for row in rows:
            if instance_id and row.instance_id != instance_id:
                continue
            if row.instance_id and not principal.may_use(row.instance_id):
                continue  # a key limited to some numbers gets none of the others' events
            if types and not subscribed(types, row.type):
                continue
            yield f"id: {row.event_id}\nevent: {row.type}\ndata: {row.payload}\n\n"
            last_output = time.monotonic()
        if time.monotonic() - last_output >= HEARTBEAT_SECONDS:
            yield ": heartbeat\n\n"
            last_output = time.monotonic()
        if not rows:
            await asyncio.sleep(POLL_SECONDS)
