"""Instances (connected WhatsApp numbers) in DynamoDB."""

from __future__ import annotations

import random
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from bzapper.adapters.aws.clients import dynamodb_connection
from bzapper.adapters.aws.conditions import applied, created_in_slot
from bzapper.adapters.aws.models import InstanceModel, InstanceSlotModel
from bzapper.cache import MISSING, TTLCache
from bzapper.domain.clock import now_ms
from bzapper.domain.cloud import CloudNumber
from bzapper.domain.ids import new_id
from bzapper.domain.model import InstanceRef, InstanceView
from bzapper.topology import CLOUD_SHARD, SHARD_COUNT

_REF_TTL_SECONDS = 300.0


def _view(item: InstanceModel) -> InstanceView:
    return InstanceView(
        instance_id=item.instance_id,
        account_id=item.account_id,
        livemode=item.livemode,
        engine=item.engine,
        shard=int(item.shard),
        name=item.name,
        status=item.status,
        phone=item.phone,
        lid=item.lid,
        push_name=item.push_name,
        last_error=item.last_error,
        qr=item.qr,
        state_at=int(item.state_at or 0),
        active=item.active is not False,
        created_at=int(item.created_at),
        updated_at=int(item.updated_at),
        cloud=CloudNumber.from_json(item.cloud) if item.cloud else None,
        restricted_until=int(item.restricted_until) if item.restricted_until is not None else None,
        settings=dict(item.settings or {}),
    )


def _ref(item: InstanceModel) -> InstanceRef:
    return _view(item).ref


_SLOT_PREFIX = "slot#"


def _slot_key(account_id: str, livemode: bool, slot: int) -> str:
    return f"{_SLOT_PREFIX}{account_id}#{'live' if livemode else 'test'}#{slot}"


def _read(instance_id: str, *, consistent: bool) -> InstanceModel | None:
    """The instance's item; None for an unknown id or a plan slot's key (never an instance)."""
    if instance_id.startswith(_SLOT_PREFIX):
        return None
    try:
        return InstanceModel.get(instance_id, consistent_read=consistent)
    except DoesNotExist:
        return None


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
        push_name: str | None = None,
        cloud: CloudNumber | None = None,
        limit: int | None = None,
    ) -> InstanceRef | None:
        now = now_ms()
        item = InstanceModel(
            new_id("inst"),
            account_id=account_id,
            livemode=livemode,
            engine=engine,
            # Fixed for the instance's life: its messages stay in one FIFO order on one worker.
            shard=CLOUD_SHARD if cloud else random.randrange(SHARD_COUNT),
            name=name,
            status=status,
            phone=phone,
            push_name=push_name,
            cloud=cloud.to_json() if cloud else None,
            created_at=now,
            updated_at=now,
        )
        if limit is None:
            item.save(condition=InstanceModel.instance_id.does_not_exist())
            return _ref(item)
        held = [
            stored.slot
            for stored in InstanceModel.by_account.query(
                account_id, filter_condition=InstanceModel.livemode == livemode
            )
        ]
        if len(held) >= limit:
            return None
        # The index is eventually consistent: a slot it shows free may have just been taken; then the
        # transaction's condition refuses it and the next one is tried.
        taken = {int(slot) for slot in held if slot is not None}
        for slot in range(limit):
            if slot not in taken and self._create_in_slot(item, slot):
                return _ref(item)
        return None

    def _create_in_slot(self, item: InstanceModel, slot: int) -> bool:
        item.slot = slot
        holder = InstanceSlotModel(_slot_key(item.account_id, item.livemode, slot), holder=item.instance_id)
        return created_in_slot(holder, item)

    def get(self, instance_id: str) -> InstanceRef | None:
        """Immutable facts of an instance, cached: the send path's status check happens in its transaction."""
        cached = self._refs.get(instance_id)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        item = _read(instance_id, consistent=False)
        if item is None:
            return None
        ref = _ref(item)
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

    def view(self, instance_id: str) -> InstanceView | None:
        item = _read(instance_id, consistent=True)
        return _view(item) if item is not None else None

    def of_account(self, account_id: str, livemode: bool) -> list[InstanceView]:
        return [
            _view(item)
            for item in InstanceModel.by_account.query(account_id, filter_condition=InstanceModel.livemode == livemode)
        ]

    def of_shard(self, shard: int) -> list[InstanceView]:
        """What a worker opens when it takes the shard (deleted instances are gone from the table)."""
        return [_view(item) for item in InstanceModel.by_shard.query(shard)]

    def apply_state(
        self,
        instance_id: str,
        *,
        status: str,
        at: int,
        qr: str | None,
        phone: str | None,
        lid: str | None,
        push_name: str | None,
        error: str | None,
        until: int | None = None,
    ) -> InstanceView | None:
        """A worker's observation, unless a newer one is already stored; the new view, or None when stale."""
        actions = [
            InstanceModel.status.set(status),
            InstanceModel.state_at.set(at),
            InstanceModel.updated_at.set(now_ms()),
            InstanceModel.qr.set(qr) if qr else InstanceModel.qr.remove(),
            InstanceModel.last_error.set(error) if error else InstanceModel.last_error.remove(),
            InstanceModel.restricted_until.set(until) if until else InstanceModel.restricted_until.remove(),
        ]
        # What a state does not say is kept (a disconnection does not forget the number).
        for attribute, value in (
            (InstanceModel.phone, phone),
            (InstanceModel.lid, lid),
            (InstanceModel.push_name, push_name),
        ):
            if value:
                actions.append(attribute.set(value))
        item = InstanceModel(instance_id)
        condition = InstanceModel.instance_id.exists() & (
            InstanceModel.state_at.does_not_exist() | (InstanceModel.state_at <= at)
        )
        if not applied(lambda: item.update(actions=actions, condition=condition)):
            return None
        return _view(item)

    def set_active(self, instance_id: str, active: bool) -> None:
        InstanceModel(instance_id).update(
            actions=[InstanceModel.active.set(active), InstanceModel.updated_at.set(now_ms())],
            condition=InstanceModel.instance_id.exists(),
        )

    def set_settings(self, instance_id: str, settings: dict[str, Any]) -> InstanceView | None:
        item = InstanceModel(instance_id)
        actions = [
            InstanceModel.settings.set(settings) if settings else InstanceModel.settings.remove(),
            InstanceModel.updated_at.set(now_ms()),
        ]
        if not applied(lambda: item.update(actions=actions, condition=InstanceModel.instance_id.exists())):
            return None
        return _view(item)

    def delete(self, instance_id: str) -> None:
        """Deletes the instance and frees its plan slot, together."""
        item = _read(instance_id, consistent=True)
        if item is not None:
            with TransactWrite(connection=dynamodb_connection()) as tx:
                tx.delete(InstanceModel(instance_id))
                if item.slot is not None:
                    tx.delete(InstanceSlotModel(_slot_key(item.account_id, bool(item.livemode), int(item.slot))))
        self._refs.discard(instance_id)

    def count_for(self, account_id: str, livemode: bool) -> int:
        return sum(
            1 for _ in InstanceModel.by_account.query(account_id, filter_condition=InstanceModel.livemode == livemode)
        )
