"""Instances (connected WhatsApp numbers) in DynamoDB."""

from __future__ import annotations

import random

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.models import InstanceModel
from bzapper.cache import MISSING, TTLCache
from bzapper.domain.clock import now_ms
from bzapper.domain.ids import new_id
from bzapper.domain.model import InstanceRef
from bzapper.topology import SHARD_COUNT

_REF_TTL_SECONDS = 300.0


def _ref(item: InstanceModel) -> InstanceRef:
    return InstanceRef(
        instance_id=item.instance_id,
        account_id=item.account_id,
        livemode=item.livemode,
        engine=item.engine,
        shard=int(item.shard),
    )


class InstanceStore:
    def __init__(self) -> None:
        self._refs: TTLCache[InstanceRef] = TTLCache()

    def create(
        self,
        account_id: str,
        *,
        livemode: bool,
        engine: str,
        name: str,
        status: str,
        phone: str | None = None,
    ) -> InstanceRef:
        now = now_ms()
        item = InstanceModel(
            new_id("inst"),
            account_id=account_id,
            livemode=livemode,
            engine=engine,
            # Fixed for the instance's life: its messages stay in one FIFO order on one worker.
            shard=random.randrange(SHARD_COUNT),
            name=name,
            status=status,
            phone=phone,
            created_at=now,
            updated_at=now,
        )
        item.save(condition=InstanceModel.instance_id.does_not_exist())
        return _ref(item)

    def get(self, instance_id: str) -> InstanceRef | None:
        """Immutable facts of an instance, cached: the send path's status check happens in its transaction."""
        cached = self._refs.get(instance_id)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        try:
            ref = _ref(InstanceModel.get(instance_id))
        except DoesNotExist:
            return None
        self._refs.put(instance_id, ref, _REF_TTL_SECONDS)
        return ref

    def status(self, instance_id: str) -> str | None:
        try:
            return InstanceModel.get(instance_id, consistent_read=True).status
        except DoesNotExist:
            return None

    def set_status(self, instance_id: str, status: str) -> None:
        InstanceModel(instance_id).update(
            actions=[InstanceModel.status.set(status), InstanceModel.updated_at.set(now_ms())],
            condition=InstanceModel.instance_id.exists(),
        )

    def all_with_engine(self, engine: str) -> list[InstanceRef]:
        return [_ref(item) for item in InstanceModel.scan(InstanceModel.engine == engine)]

    def count_for(self, account_id: str, livemode: bool) -> int:
        return sum(
            1 for _ in InstanceModel.by_account.query(account_id, filter_condition=InstanceModel.livemode == livemode)
        )
