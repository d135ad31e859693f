"""Idempotency-Key on creates (bzapper.services.idempotent): the first result is replayed, a retry while the
first is still running waits, a failure frees the key, a lost lock stores nothing."""

from __future__ import annotations

import threading

import pytest
from support.memory import open_account

from bzapper.domain.errors import BzError
from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.services.idempotent import once

REQUEST = IdempotencyRequest("key-1", "fingerprint-a")


def _once(fakes, tenant, work, request=REQUEST):
    return once(fakes.services, tenant.principal, request, work, remember=lambda n: {"n": n}, replay=lambda s: s["n"])


def test_the_first_result_is_replayed_and_the_work_runs_once(fakes) -> None:
    tenant = open_account(fakes)
    runs: list[int] = []

    def work() -> int:
        runs.append(1)
        return 41 + len(runs)

    assert _once(fakes, tenant, work) == (42, False)
    assert _once(fakes, tenant, work) == (42, True)
    assert runs == [1]


def test_no_key_means_no_record(fakes) -> None:
    tenant = open_account(fakes)
    assert _once(fakes, tenant, lambda: 7, request=None) == (7, False)
    assert fakes.idempotency.records == {}


def test_a_retry_while_the_first_is_running_is_told_to_wait(fakes) -> None:
    tenant = open_account(fakes)
    inside, release = threading.Event(), threading.Event()

    def slow() -> int:
        inside.set()
        release.wait(5)
        return 1

    first = threading.Thread(target=_once, args=(fakes, tenant, slow))
    first.start()
    inside.wait(5)
    with pytest.raises(BzError) as raised:
        _once(fakes, tenant, lambda: 2)
    release.set()
    first.join(5)
    assert (raised.value.code, raised.value.retry_after) == ("idempotency_in_progress", 1)


def test_a_failed_first_request_frees_the_key(fakes) -> None:
    tenant = open_account(fakes)

    def boom() -> int:
        raise BzError("limit_exceeded")

    with pytest.raises(BzError):
        _once(fakes, tenant, boom)
    assert _once(fakes, tenant, lambda: 3) == (3, False)


def test_another_request_under_the_key_is_a_conflict(fakes) -> None:
    tenant = open_account(fakes)
    _once(fakes, tenant, lambda: 1)
    with pytest.raises(BzError) as raised:
        _once(fakes, tenant, lambda: 2, request=IdempotencyRequest("key-1", "fingerprint-b"))
    assert (raised.value.code, raised.value.param) == ("idempotency_conflict", "Idempotency-Key")
