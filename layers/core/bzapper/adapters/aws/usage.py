"""Usage counters: atomic ADDs into one item per (account, mode, hour, instance)."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.models import UsageModel
from bzapper.domain.usage import COUNTERS, UsageRow, hour_of


def counter_id(account_id: str, livemode: bool) -> str:
    return f"{account_id}:{'live' if livemode else 'test'}"


def usage_add(
    tx: TransactWrite, account_id: str, livemode: bool, instance_id: str, at_ms: int, metrics: Iterable[str]
) -> None:
    """Adds one to each metric, inside the transaction that makes the fact true: counted exactly once."""
    attributes = {name: getattr(UsageModel, name) for name in COUNTERS}
    tx.update(
        UsageModel(counter_id(account_id, livemode), f"{hour_of(at_ms)}#{instance_id}"),
        actions=[attributes[name].add(1) for name in metrics],
    )


class UsageStore:
    def hourly(self, account_id: str, livemode: bool, from_hour: str, to_hour: str) -> list[UsageRow]:
        """Every counter row between the two hours (inclusive), all instances."""
        rows = []
        for item in UsageModel.query(
            counter_id(account_id, livemode), UsageModel.bucket.between(from_hour, to_hour + "#\uffff")
        ):
            hour, _, instance_id = item.bucket.partition("#")
            rows.append(UsageRow(hour, instance_id, {name: int(getattr(item, name) or 0) for name in COUNTERS}))
        return rows

    def increment(
        self, account_id: str, livemode: bool, instance_id: str, at_ms: int, metric: str, by: int = 1
    ) -> None:
        UsageModel(counter_id(account_id, livemode), f"{hour_of(at_ms)}#{instance_id}").update(
            actions=[getattr(UsageModel, metric).add(by)]
        )
