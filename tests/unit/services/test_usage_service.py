"""GET /usage (bzapper.services.usage): the hourly counters summed into hours or days over a bounded span, every
bucket present (zeros included), one instance or all."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support.memory import open_account

from bzapper.api.presenters.account import usage_out
from bzapper.domain.errors import BzError
from bzapper.domain.usage import METRICS, pricing_summary
from bzapper.services.usage import usage_report

HOUR = 3600 * 1000
NOON = 1_736_942_400_000  # 2025-01-15T12:00Z


def counted(fakes, tenant, metric: str, at: int, instance_id: str | None = None, times: int = 1) -> None:
    for _ in range(times):
        fakes.usage.increment(tenant.account_id, False, instance_id or tenant.instance_id, at, metric)


def report(fakes, tenant, start: str | None, end: str | None, granularity: str = "hour", instance_id=None) -> dict:
    """The report as GET /usage shows it."""
    return usage_out(
        usage_report(
            fakes.services, tenant.principal, start=start, end=end, granularity=granularity, instance_id=instance_id
        )
    )


def test_hours_are_summed_per_bucket_with_the_empty_ones_shown(fakes):
    tenant = open_account(fakes)
    counted(fakes, tenant, "sends", NOON + 5 * 60_000, times=3)
    counted(fakes, tenant, "delivered", NOON + HOUR + 1)
    counted(fakes, tenant, "sends", NOON + HOUR, instance_id="-")  # no instance (an account event)
    counted(fakes, tenant, "sends", NOON - 10 * HOUR)  # before the span

    found = report(fakes, tenant, "2025-01-15T12:00:00Z", "2025-01-15T14:30:00Z")

    assert [bucket["start"] for bucket in found["data"]] == [
        "2025-01-15T12:00:00.000Z",
        "2025-01-15T13:00:00.000Z",
        "2025-01-15T14:00:00.000Z",
    ]
    assert [(b["sends"], b["delivered"]) for b in found["data"]] == [(3, 0), (1, 1), (0, 0)]
    assert found["totals"] == {
        "start": "2025-01-15T12:00:00.000Z",
        **dict.fromkeys(METRICS, 0),
        "sends": 4,
        "delivered": 1,
        "pricing": pricing_summary({}),  # no Cloud API message: every category at zero
    }
    assert (found["from"], found["to"], found["granularity"]) == (
        "2025-01-15T12:00:00.000Z",
        "2025-01-15T14:30:00.000Z",
        "hour",
    )


def test_days_and_one_instance(fakes):
    tenant = open_account(fakes)
    counted(fakes, tenant, "inbound", NOON)
    counted(fakes, tenant, "inbound", NOON + 24 * HOUR, instance_id="inst_other")

    days = report(fakes, tenant, "2025-01-15T00:00:00Z", "2025-01-16T23:00:00Z", "day")
    mine = report(fakes, tenant, "2025-01-15T00:00:00Z", "2025-01-16T23:00:00Z", "day", tenant.instance_id)

    assert [b["inbound"] for b in days["data"]] == [1, 1]
    assert [b["inbound"] for b in mine["data"]] == [1, 0] and mine["instance_id"] == tenant.instance_id


def test_without_a_start_the_span_is_the_day_before_its_end(fakes):
    tenant = open_account(fakes)
    found = report(fakes, tenant, None, "2025-01-15T12:00:00Z")
    assert len(found["data"]) == 25 and found["from"] == "2025-01-14T12:00:00.000Z"


def test_another_mode_or_account_sees_none_of_it(fakes):
    tenant, other = open_account(fakes), open_account(fakes)
    counted(fakes, tenant, "sends", NOON)
    assert report(fakes, other, "2025-01-15T12:00:00Z", "2025-01-15T13:00:00Z")["totals"]["sends"] == 0


@pytest.mark.parametrize("whose", ["another account's", "another mode's", "not an instance id", "unknown"])
def test_an_instance_filter_the_caller_does_not_own_is_not_found(fakes, whose):
    tenant, other, live = open_account(fakes), open_account(fakes), open_account(fakes, mode="live")
    counted(fakes, other, "sends", NOON)
    instance_id = {
        "another account's": other.instance_id,
        "another mode's": live.instance_id,
        "not an instance id": "../inst",
        "unknown": "inst_01J00000000000000000000000",
    }[whose]
    with pytest.raises(BzError) as refused:
        report(fakes, tenant, "2025-01-15T12:00:00Z", "2025-01-15T13:00:00Z", instance_id=instance_id)
    assert refused.value.code == "not_found"


def test_a_key_limited_to_some_numbers_counts_only_theirs(fakes):
    tenant = open_account(fakes)
    second = fakes.instances.create(
        tenant.principal.account_id, livemode=False, engine="sandbox", name="Two", status="connected"
    )
    counted(fakes, tenant, "sends", NOON)
    counted(fakes, tenant, "sends", NOON, instance_id=second.instance_id, times=2)
    counted(fakes, tenant, "sends", NOON, instance_id="-")  # the account's own (no number): every key sees it
    limited = replace(tenant.principal, instance_ids=frozenset({tenant.instance_id}))

    found = usage_out(
        usage_report(
            fakes.services,
            limited,
            start="2025-01-15T12:00:00Z",
            end="2025-01-15T13:00:00Z",
            granularity="hour",
            instance_id=None,
        )
    )
    assert found["totals"]["sends"] == 2
    with pytest.raises(BzError):
        usage_report(fakes.services, limited, start=None, end=None, granularity="hour", instance_id=second.instance_id)


@pytest.mark.parametrize(
    ("start", "end", "granularity", "param"),
    [
        ("2025-01-15T12:00:00Z", "2025-01-15T12:00:00Z", "hour", "from"),  # empty
        ("2025-01-01T00:00:00Z", "2025-02-02T00:00:00Z", "hour", "to"),  # past 31 days of hours
        ("2024-01-01T00:00:00Z", "2025-01-02T00:00:00Z", "day", "to"),  # past 366 days
        ("yesterday", "2025-01-15T12:00:00Z", "hour", "from"),
        ("1999-12-31T00:00:00Z", "2000-01-01T00:00:00Z", "hour", "from"),
    ],
)
def test_a_span_that_cannot_be_reported_names_its_bound(fakes, start, end, granularity, param):
    tenant = open_account(fakes)
    with pytest.raises(BzError) as refused:
        report(fakes, tenant, start, end, granularity)
    assert (refused.value.code, refused.value.param) == ("validation_failed", param)
