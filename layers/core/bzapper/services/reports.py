"""The workers' reports, applied: statuses, instance states, inbound messages, learned identities.

Every report carries the fence of the lease it was made under; one made by a worker that had already
lost its shard (a paused process, a partition) is refused and dropped, so it can never overwrite what
the shard's new holder reports.
"""

from __future__ import annotations

import logging
from typing import Any

from bzapper import telemetry
from bzapper.domain.leases import Fence
from bzapper.domain.model import StatusReport
from bzapper.services import instances
from bzapper.services.container import Services
from bzapper.services.statuses import apply_report

logger = logging.getLogger(__name__)

_STATUS_FIELDS = (
    "instance_id",
    "wa_message_id",
    "status",
    "at",
    "message_id",
    "error_code",
    "pricing",
    "participant",
)


def apply_worker_report(services: Services, body: dict[str, Any]) -> None:
    body = dict(body)
    fence = body.pop("fence", None)
    kind = body.pop("kind", "status")
    if fence is not None and not services.fences.holds(Fence.from_json(fence)):
        telemetry.count("FencedReportsRefused")
        logger.warning(
            "refused a %s report made after its shard was taken over",
            kind,
            extra={"fence": fence, "instance_id": body.get("instance_id")},
        )
        return
    if kind == "status":
        apply_report(services, StatusReport(**{k: body[k] for k in _STATUS_FIELDS if body.get(k) is not None}))
    elif kind == "state":
        instances.apply_state(services, body)
    elif kind == "identity":
        view = services.instances.view(body["instance_id"])
        if view is not None:
            instances.learn_identity(services, view, body["phone"], body["lid"], int(body["at"]))
    elif kind == "group":
        from bzapper.services.groups import apply_group_event

        apply_group_event(services, body)
    elif kind == "inbound":
        from bzapper.services.inbox import record_inbound  # the inbox: loaded when messages arrive

        record_inbound(services, body)
    else:
        logger.error("unknown report kind %r dropped", kind)
