"""Calls to a number: `call.received` and `call.ended`, and the message a rejected caller gets.

The engine rejects a call itself when `settings.reject_calls` is on (fast: before the caller's phone rings
long) and says so (`rejected`); here the report becomes its event, and a rejected call's
`settings.reject_call_message` goes to the caller as an ordinary outbound text through the send path:
recorded, charged and reported like any message, with client_reference `auto:reject_call`, and sent once
per call however often the report comes (an idempotency key derived from the call).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from bzapper.domain.clock import iso
from bzapper.domain.errors import BzError
from bzapper.domain.events import envelope
from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.domain.instance_settings import InstanceSettings
from bzapper.domain.model import InstanceView, Principal
from bzapper.domain.sending import SendDraft
from bzapper.services.container import Services

logger = logging.getLogger(__name__)

REJECT_REFERENCE = "auto:reject_call"
EVENT_TYPES = {"offer": "call.received", "ended": "call.ended"}


def apply_call(services: Services, report: dict[str, Any]) -> None:
    """A call report: its event (a redelivered report publishes the same event id), then the auto-reply."""
    phase = report.get("phase")
    event_type = EVENT_TYPES.get(str(phase))
    view = services.instances.view(report["instance_id"])
    if event_type is None or view is None:
        if event_type is None:
            logger.error("call report with an unknown phase %r dropped", phase)
        return
    at = int(report["at"])
    services.events.publish([call_event(event_type, view, report, at)])
    if phase == "offer" and report.get("rejected"):
        message = InstanceSettings.from_stored(view.settings).reject_call_message
        if message:
            _send_reject_message(services, view, report, message)


def call_event(event_type: str, view: InstanceView, report: dict[str, Any], at: int) -> dict[str, Any]:
    caller = report.get("from") or {}
    data: dict[str, Any] = {
        "call_id": report["call_id"],
        "from": {"jid": caller.get("jid"), "phone": caller.get("phone"), "lid": caller.get("lid")},
        "is_video": bool(report.get("is_video")),
        "at": iso(at),
    }
    if event_type == "call.received":
        data["rejected"] = bool(report.get("rejected"))
    else:
        data["reason"] = report.get("reason")
        data["duration_s"] = report.get("duration_s")
    return envelope(
        event_type,
        at_ms=at,
        account_id=view.account_id,
        instance_id=view.instance_id,
        livemode=view.livemode,
        data=data,
        identity=(view.instance_id, str(report["call_id"]), event_type),
    )


def _send_reject_message(services: Services, view: InstanceView, report: dict[str, Any], body: str) -> None:
    from bzapper.services.sending import send_message  # the send path: loaded only when a call asks for it

    caller = report.get("from") or {}
    to = caller.get("phone") or caller.get("jid")
    account = services.accounts.get(view.account_id)
    if not to or account is None:
        return
    principal = Principal(
        account_id=view.account_id,
        mode="live" if view.livemode else "test",
        locale=account.locale,
        plan=account.plan,
        features=account.features,
        key_id=f"auto:{view.instance_id}",
        suspended=account.suspended,
    )
    digest = hashlib.sha256(f"{view.instance_id}\x1f{report['call_id']}".encode()).hexdigest()[:32]
    idempotency = IdempotencyRequest(f"auto-reject-call-{digest}", f"auto-reject-call:{digest}")
    draft = SendDraft(
        type="text",
        to=to,
        instance_id=view.instance_id,
        content={"body": body},
        client_reference=REJECT_REFERENCE,
        idempotency=idempotency,
    )
    try:
        send_message(services, principal, draft)
    except BzError as error:
        # Refused for good (no balance, not connected, suspended): the call is reported, the text is not sent.
        logger.warning("reject_call_message not sent: %s", error.code, extra={"instance_id": view.instance_id})
