"""Usage counters: atomic ADDs into one item per (account, mode, hour, instance)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.models import UsageModel

METRICS = ("sends", "otps", "delivered", "read", "failed", "inbound", "webhook_deliveries")


def counter_id(account_id: str, livemode: bool) -> str:
    return f"{account_id}:{'live' if livemode else 'test'}"


def hour_of(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H")


def usage_add(
    tx: TransactWrite, account_id: str, livemode: bool, instance_id: str, at_ms: int, metrics: Iterable[str]
) -> None:
    """Adds one to each metric, inside the transaction that makes the fact true: counted exactly once."""
    attributes = {name: getattr(UsageModel, name) for name in METRICS}
    tx.update(
        UsageModel(counter_id(account_id, livemode), f"{hour_of(at_ms)}#{instance_id}"),
        actions=[attributes[name].add(1) for name in metrics],
    )


class UsageStore:
    def hourly(self, account_id: str, livemode: bool, from_hour: str, to_hour: str) -> list[UsageModel]:
        """Every counter row between the two hours (inclusive), all instances."""
        return list(
            UsageModel.query(
                counter_id(account_id, livemode), UsageModel.bucket.between(from_hour, to_hour + "#\uffff")
            )
        )

    def increment(self, account_id: str, livemode: bool, instance_id: str, at_ms: int, metric: str) -> None:
        UsageModel(counter_id(account_id, livemode), f"{hour_of(at_ms)}#{instance_id}").update(
            actions=[getattr(UsageModel, metric).add(1)]
        )
