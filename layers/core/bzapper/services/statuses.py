"""Applying the workers' status reports: forward-only, and one event per transition."""

from __future__ import annotations

import logging
from typing import Any

from bzapper import telemetry
from bzapper.domain.clock import now_ms
from bzapper.domain.events import envelope
from bzapper.domain.model import MessageView, StatusReport, wallet_id
from bzapper.domain.plans import CURRENCY, plan_named
from bzapper.domain.pricing import pricing_of
from bzapper.domain.status_posts import is_status
from bzapper.domain.statuses import TERMINAL_FAILURES, MessageStatus, rank
from bzapper.services.changes import change_events
from bzapper.services.container import Services

logger = logging.getLogger(__name__)

# "sending" is internal bookkeeping (a worker took the job); customers see the rest.
_SILENT = frozenset({MessageStatus.QUEUED, MessageStatus.SENDING})
_ACCEPTED = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ, MessageStatus.PLAYED})


def apply_report(services: Services, report: StatusReport) -> None:
    """Raises on a storage or bus failure, so the record is retried; a retry is always harmless."""
    message_id = report.message_id or services.messages.find_by_wa_id(report.wa_message_id, report.instance_id)
    if message_id is None:
        # A receipt for a message we did not send (sent from the phone itself): nothing to update.
        logger.info("receipt for an unknown WhatsApp id", extra={"instance_id": report.instance_id})
        return
    if report.participant is not None:
        # A group message: each participant's receipt is recorded (one write); the message's own status moves
        # with the first participant to reach each status. A repeated receipt goes on as any repeated report
        # (re-publishing with the same event id, in case the first attempt's publish failed).
        message_rank = services.messages.apply_participant_status(
            message_id, report.participant, report.status, report.at
        )
        if message_rank is not None and message_rank >= rank(MessageStatus(report.status)):
            return
    acked = report.wa_message_id if report.status == MessageStatus.SENT and report.message_id else None
    view = services.messages.apply_status(
        message_id, report.status, report.at, report.error_code, pricing=pricing_of(report.pricing), wa_message_id=acked
    )
    if view is None:
        view = services.messages.get(message_id)
        if view is None or report.status not in {status for status, _ in view.history}:
            return  # a late report (delivered after read): ignored, never moves a status back
        # Applied by an earlier attempt whose publish failed: publish again, with the same event id.
    events = []
    seen = [status for status, _ in view.history]
    if report.status == MessageStatus.SENDING or (
        MessageStatus(report.status) in TERMINAL_FAILURES and MessageStatus.SENDING not in seen
    ):
        # message.queued is published when the message leaves the queue, not on the send's hot path;
        # its id comes from the queued time, so it is the same event whoever publishes it.
        queued_at = next((at for status, at in view.history if status == MessageStatus.QUEUED), report.at)
        events.append(status_event(view, MessageStatus.QUEUED.value, queued_at))
    if report.status == MessageStatus.SENDING:
        check_low_balance(services, view.account_id, view.livemode, report.at)
    if MessageStatus(report.status) not in _SILENT:
        telemetry.count(f"Messages{report.status.capitalize()}")
        # The time stored with the transition, not the report's: a re-published event keeps its id.
        at = next((at for status, at in view.history if status == report.status), report.at)
        events.append(status_event(view, report.status, at))
    from bzapper.services import inbox  # the inbox's rules: loaded by the first status applied, not by every send

    inbox.on_status(services, view, report.status)  # a sent message joins its conversation
    events += change_events(services, view, report.status)  # an edit or a deletion: its original changes
    if is_status(view.type):
        from bzapper.services.status_posts import posted_event

        # WhatsApp accepted a status post: one status.posted, on the first of sent/delivered/read to arrive
        # (a receipt may overtake the ack), at that transition's stored time (the same id on a re-publish).
        accepted = next(((status, at) for status, at in view.history if status in _ACCEPTED), None)
        if accepted is not None and accepted[0] == report.status:
            events.append(posted_event(view, accepted[1]))
    if events:
        services.events.publish(events)


DEAD_JOB_ERROR = "send_failed"


def fail_dead_job(services: Services, job: dict[str, Any]) -> None:
    """Every retry of a job failed: the message fails (and is refunded) unless it was sent after all."""
    report = StatusReport(
        instance_id=job["instance_id"],
        wa_message_id=job["wa_message_id"],
        status=MessageStatus.FAILED.value,
        at=now_ms(),
        message_id=job["message_id"],
        error_code=DEAD_JOB_ERROR,
    )
    apply_report(services, report)


def check_low_balance(services: Services, account_id: str, livemode: bool, at: int) -> None:
    """One wallet.low_balance event per crossing below the plan's threshold (a top-up re-arms it)."""
    plan = plan_named(services.accounts.plan_of(account_id))
    wallet = wallet_id(account_id, "live" if livemode else "test")
    balance = services.wallets.low_notice_due(wallet, plan.low_balance_threshold)
    if balance is None:
        return
    # Published before the flag is set: a failed publish is retried with the same event id, never lost.
    services.events.publish(
        [
            envelope(
                "wallet.low_balance",
                at_ms=at,
                account_id=account_id,
                instance_id=None,
                livemode=livemode,
                data={"balance": balance, "threshold": plan.low_balance_threshold, "currency": CURRENCY},
                identity=(wallet, str(at)),
            )
        ]
    )
    services.wallets.mark_low_notified(wallet, plan.low_balance_threshold)


def status_event(view: MessageView, status: str, at: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "message_id": view.message_id,
        "status": status,
        "to": view.to_phone or view.to_jid,
        "client_reference": view.client_reference,
    }
    if view.error_code and status == MessageStatus.FAILED:
        data["error"] = {"code": view.error_code}
    if view.pricing:
        data["pricing"] = view.pricing
    return envelope(
        f"message.{status}",
        at_ms=at,
        account_id=view.account_id,
        instance_id=view.instance_id,
        livemode=view.livemode,
        data=data,
        identity=(view.message_id,),
    )
