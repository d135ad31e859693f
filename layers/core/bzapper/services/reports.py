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
    "error_details",
    "participant",
)


def apply_worker_report(services: Services, body: dict[str, Any]) -> None:
    body = dict(body)
    fence = body.pop("fence", None)
    kind = body.pop("kind", "status")
    if isinstance(fence, dict) and fence.get("kind") == "cloud":
        # Meta's webhooks, queued by POST /cloud/webhook once their signature was verified: no lease behind them,
        # so they stand while their number still belongs to the instance (services/cloud.py, docs/engines.md).
        from bzapper.services import cloud

        if not cloud.fence_holds(services, fence, str(body.get("instance_id"))):
            telemetry.count("FencedReportsRefused")
            logger.warning("refused a cloud %s report of a number no longer on its instance", kind)
            return
        cloud.apply_cloud_report(services, kind, body)
        return
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
    elif kind == "history":
        from bzapper.services.history import apply_history  # history on pairing: loaded when one comes

        apply_history(services, body)
    elif kind == "call":
        from bzapper.services.calls import apply_call  # calls: loaded when one comes

        apply_call(services, body)
    elif kind == "presence":
        from bzapper.services.presence import apply_presence  # presence: loaded when one comes

        apply_presence(services, body)
    else:
        logger.error("unknown report kind %r dropped", kind)
