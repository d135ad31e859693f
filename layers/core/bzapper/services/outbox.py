"""The outbox sweeper: no committed message stays `queued` because a process died before enqueueing.

The send path commits the message with `outbox_due = created + grace` and then sends to SQS. A
worker taking the job clears `outbox_due`. Anything still due after the grace period is sent again
(same MessageDeduplicationId, same WhatsApp id), then looked at again later with a backoff. An OTP is
never re-sent (its record has no code): it fails once past its expiry (bzapper.services.otp.sweep_unsent).
"""

from __future__ import annotations

import logging

from bzapper.domain.clock import now_ms
from bzapper.domain.otp import NOT_RESENDABLE
from bzapper.services.container import Services
from bzapper.services.otp import sweep_unsent

logger = logging.getLogger(__name__)

MAX_BACKOFF_MS = 15 * 60 * 1000


def sweep(services: Services, grace_ms: int, now: int | None = None) -> int:
    now = now if now is not None else now_ms()
    resent = 0
    for message, attempts in services.messages.due_outbox(now):
        if message.type in NOT_RESENDABLE:
            sweep_unsent(services, message, now)  # its job (the sealed code) exists only in the queue
            continue
        services.jobs.enqueue(message)
        # A long backlog on a number is not a lost message: back off instead of flooding its queue.
        services.messages.postpone_outbox(message.message_id, now + min(grace_ms * 2 ** (attempts + 1), MAX_BACKOFF_MS))
        resent += 1
    if resent:
        logger.warning("outbox re-sent %d messages", resent)
    return resent
