"""Checking a worker's fence before applying what it reported (see domain.leases.Fence)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from bzapper.adapters.aws.models import LeaseModel
from bzapper.domain.leases import Fence, shard_key


class FenceChecker:
    def holds(self, fence: Fence) -> bool:
        return fence_holds(fence)


def fence_holds(fence: Fence) -> bool:
    """True when the report was made under the shard's current lease, or before the current lease was taken.

    One consistent read. Checked apart from the write it guards, which is as safe: a lease's token only
    grows, so a report valid now stays valid when its write lands a moment later.
    """
    try:
        lease = LeaseModel.get(shard_key(fence.shard), consistent_read=True)
    except DoesNotExist:
        return False
    return int(lease.token) == fence.token or int(lease.acquired_at) > fence.at
