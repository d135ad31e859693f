"""GET /usage: hourly counters summed into hours or days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bzapper.domain.errors import validation_failed
from bzapper.domain.model import Principal
from bzapper.domain.usage import COUNTERS
from bzapper.services.container import Services
from bzapper.services.instances import owned_ref

MAX_SPAN = {"hour": timedelta(days=31), "day": timedelta(days=366)}
DEFAULT_SPAN = {"hour": timedelta(hours=24), "day": timedelta(days=30)}
STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def parse_instant(value: str, param: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise validation_failed(param) from error
    if not 2000 <= parsed.year <= 2100:
        raise validation_failed(param)
    return parsed


def _floor(moment: datetime, granularity: str) -> datetime:
    moment = moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if granularity == "day" else moment


@dataclass(frozen=True, slots=True)
class UsageReport:
    granularity: str
    since: datetime
    until: datetime
    instance_id: str | None
    buckets: dict[datetime, dict[str, int]]
    """Every hour (or day) from the first to the last, each with every metric (zeros included)."""
    totals: dict[str, int]

    @property
    def first(self) -> datetime:
        return next(iter(self.buckets))


def usage_report(
    services: Services,
    principal: Principal,
    *,
    start: str | None,
    end: str | None,
    granularity: str,
    instance_id: str | None,
) -> UsageReport:
    until = parse_instant(end, "to") if end else datetime.now(UTC)
    since = parse_instant(start, "from") if start else until - DEFAULT_SPAN[granularity]
    if since >= until:
        raise validation_failed("from")
    if until - since > MAX_SPAN[granularity]:
        raise validation_failed("to")
    # One ownership rule for every filter: another account's instance is a 404 here as in the inbox and the
    # stream, never a report of zeros. Blank = omitted.
    instance_id = instance_id or None
    if instance_id is not None:
        owned_ref(services, principal, instance_id)
    first, last = _floor(since, granularity), _floor(until, granularity)

    buckets: dict[datetime, dict[str, int]] = {}
    cursor = first
    while cursor <= last:
        buckets[cursor] = dict.fromkeys(COUNTERS, 0)
        cursor += STEP[granularity]
    rows = services.usage.hourly(
        principal.account_id, principal.livemode, since.strftime("%Y-%m-%dT%H"), until.strftime("%Y-%m-%dT%H")
    )
    for row in rows:
        if instance_id and row.instance_id != instance_id:
            continue
        if row.instance_id.startswith("inst_") and not principal.may_use(row.instance_id):
            continue  # a key limited to some numbers counts only theirs
        moment = _floor(datetime.strptime(row.hour, "%Y-%m-%dT%H").replace(tzinfo=UTC), granularity)
        if moment in buckets:
            for metric in COUNTERS:
                buckets[moment][metric] += row.counts.get(metric, 0)

    totals = dict.fromkeys(COUNTERS, 0)
    for counts in buckets.values():
        for metric in COUNTERS:
            totals[metric] += counts[metric]
    return UsageReport(granularity, since, until, instance_id, buckets, totals)
