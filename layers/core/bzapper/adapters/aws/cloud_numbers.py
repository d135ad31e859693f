"""phone_number_id -> instance, in DynamoDB: one conditional write makes a Cloud API number belong to one instance."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.conditions import applied
from bzapper.adapters.aws.models import CloudNumberModel, InstanceModel


class CloudNumbers:
    def claim(self, phone_number_id: str, instance_id: str) -> str | None:
        item = CloudNumberModel(phone_number_id, instance_id=instance_id)
        for _ in range(3):
            if _put(item, CloudNumberModel.phone_number_id.does_not_exist()):
                return None
            holder = self.owner(phone_number_id)
            if holder == instance_id:
                return None
            if holder is None:
                continue  # released meanwhile: claim it again
            if _alive(holder):
                return holder
            # A claim left by an instance that is gone (a create that failed half-way): taken over, conditionally.
            if _put(item, CloudNumberModel.instance_id == holder):
                return None
        return self.owner(phone_number_id)

    def owner(self, phone_number_id: str) -> str | None:
        try:
            return CloudNumberModel.get(phone_number_id, consistent_read=True).instance_id
        except DoesNotExist:
            return None

    def release(self, phone_number_id: str, instance_id: str) -> None:
        applied(lambda: CloudNumberModel(phone_number_id).delete(condition=CloudNumberModel.instance_id == instance_id))


def _put(item: CloudNumberModel, condition: Any) -> bool:
    return applied(lambda: item.save(condition=condition))


def _alive(instance_id: str) -> bool:
    try:
        InstanceModel.get(instance_id, consistent_read=True, attributes_to_get=["instance_id"])
    except DoesNotExist:
        return False
    return True
