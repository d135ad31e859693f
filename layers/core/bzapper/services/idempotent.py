"""Idempotency-Key on the routes that create something other than a message (a send keeps its key inside its
own transaction: bzapper.services.sending).

The key is locked before the work and completed with what the replay needs after it, so a retry answers the
first result instead of creating a second endpoint, number or checkout. The one window left: a process that
dies between the work and `complete` leaves a lock that frees itself after LOCK_SECONDS, and a retry after
that does the work again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bzapper.domain.clock import now_ms
from bzapper.domain.errors import BzError
from bzapper.domain.idempotency import IdempotencyRequest, StoredResponse
from bzapper.domain.model import Principal
from bzapper.services.container import Services

T = TypeVar("T")


def once(
    services: Services,
    principal: Principal,
    request: IdempotencyRequest | None,
    work: Callable[[], T],
    *,
    remember: Callable[[T], dict[str, Any]],
    replay: Callable[[dict[str, Any]], T],
) -> tuple[T, bool]:
    """`work()`'s result and False, or with a key already used for this request, `replay(remember(result))` of
    the first one and True. The same key with another request is a 422, one still in flight a 409."""
    if request is None:
        return work(), False
    scope = f"{principal.account_id}:{principal.mode}:{request.key}"
    acquired = services.idempotency.acquire(scope, request.fingerprint, now_ms() // 1000)
    if isinstance(acquired, StoredResponse):
        if acquired.fingerprint != request.fingerprint:
            raise BzError("idempotency_conflict", param="Idempotency-Key")
        if not acquired.done:
            raise BzError("idempotency_in_progress", retry_after=1)
        return replay(acquired.body), True
    try:
        result = work()
    except BaseException:
        services.idempotency.release(acquired)
        raise
    services.idempotency.complete(acquired, remember(result))
    return result, False
