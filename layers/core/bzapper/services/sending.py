"""Accepting a send: validate, charge, persist and enqueue, exactly once per Idempotency-Key."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bzapper import telemetry
from bzapper.adapters.aws.idempotency import IdempotencyLock, StoredResponse
from bzapper.adapters.aws.messages import CommitRejected
from bzapper.config import settings
from bzapper.domain.clock import now_ms
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.ids import is_id, new_id, whatsapp_message_id
from bzapper.domain.model import OutboundMessage, Principal
from bzapper.domain.phones import InvalidRecipient, parse_recipient
from bzapper.domain.plans import plan_named
from bzapper.domain.ratelimit import Bucket, Decision
from bzapper.services.container import Services

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendResult:
    status: int
    body: dict[str, Any]
    replayed: bool = False
    rate: Decision | None = None


_COMMIT_ERRORS = {
    "insufficient_balance": "insufficient_balance",
    "instance_not_connected": "instance_not_connected",
    "idempotency_conflict": "idempotency_in_progress",
    "idempotency_lock_lost": "idempotency_in_progress",
    "conflict": "temporarily_unavailable",
    "busy": "temporarily_unavailable",
}


def send_message(
    services: Services,
    principal: Principal,
    *,
    instance_id: str,
    to: str,
    message_type: str,
    content: dict[str, Any],
    client_reference: str | None,
    idempotency: tuple[str, str] | None,
) -> SendResult:
    """Accepts one message. `idempotency` is (key, request fingerprint) when the client sent a key."""
    try:
        recipient = parse_recipient(to)
    except InvalidRecipient as error:
        key = "error.unsupported_jid" if error.reason == "unsupported_jid" else "error.invalid_recipient"
        raise validation_failed("to", key, value=to) from error

    instance = services.instances.get(instance_id) if is_id(instance_id, "inst") else None
    if instance is None or instance.account_id != principal.account_id or instance.livemode != principal.livemode:
        raise BzError("not_found")  # another account's instance is indistinguishable from none

    plan = plan_named(principal.plan)
    rate = services.rate_limits.take(f"sends:{principal.account_id}:{principal.mode}", Bucket(plan.sends_per_minute))
    if not rate.allowed:
        raise BzError("rate_limited", params={"retry_after": rate.retry_after_seconds}, headers=rate.headers())

    lock: IdempotencyLock | None = None
    if idempotency:
        key, fingerprint = idempotency
        scope = f"{principal.account_id}:{principal.mode}:{key}"
        acquired = services.idempotency.acquire(scope, fingerprint, now_ms() // 1000)
        if isinstance(acquired, StoredResponse):
            return _replay(acquired, fingerprint, rate)
        lock = acquired

    created_at = now_ms()
    message_id = new_id("msg")
    message = OutboundMessage(
        message_id=message_id,
        account_id=principal.account_id,
        instance_id=instance.instance_id,
        livemode=principal.livemode,
        type=message_type,
        content=content,
        to_jid=recipient.jid,
        to_phone=recipient.phone,
        client_reference=client_reference,
        wa_message_id=whatsapp_message_id(message_id),
        created_at=created_at,
        shard=instance.shard,
    )
    body = {"message_id": message_id, "status": "queued", "client_reference": client_reference}
    try:
        services.messages.commit_send(
            message,
            price=plan.price_per_send,
            grace_ms=settings().outbox_grace_seconds * 1000,
            idempotency=(lock, 202, body) if lock else None,
        )
    except CommitRejected as rejected:
        if lock:
            services.idempotency.release(lock)
        code = _COMMIT_ERRORS.get(rejected.reason)
        if code is None:
            raise RuntimeError(f"send transaction cancelled: {rejected.reason}") from rejected
        retry = {"Retry-After": "1"} if code in ("temporarily_unavailable", "idempotency_in_progress") else {}
        raise BzError(code, headers=retry) from rejected
    except Exception:
        if lock:
            services.idempotency.release(lock)
        raise

    telemetry.count("SendsAccepted")
    try:
        services.jobs.enqueue(message)
    except Exception:
        # Committed is accepted: the outbox sweeper sends it after the grace period.
        logger.exception("enqueue failed; the outbox sweeper will send %s", message_id)
    return SendResult(202, body, rate=rate)


def _replay(stored: StoredResponse, fingerprint: str, rate: Decision) -> SendResult:
    if stored.fingerprint != fingerprint:
        raise BzError("idempotency_conflict", param="Idempotency-Key")
    if not stored.done or stored.status is None:
        raise BzError("idempotency_in_progress", headers={"Retry-After": "1"})
    return SendResult(stored.status, stored.body, replayed=True, rate=rate)
