"""Accepting a send: validate, charge, persist and enqueue, exactly once per Idempotency-Key.

Every message type goes through `send_message` with one SendDraft (bzapper.domain.sending): the type's own
content, and the parts that need the account or I/O (media, the message reacted to or quoted, mentions, the
message an edit or a deletion changes, an OTP's sealed code), resolved here after the idempotency lock, so a
replay never fetches or resolves anything again. Edits and deletions (`change_message`) are messages of
their own (types "edit" and "revoke") on the same path.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from bzapper import telemetry
from bzapper.config import settings
from bzapper.domain import otp
from bzapper.domain.clock import now_ms
from bzapper.domain.cloud import ENGINE as CLOUD_ENGINE
from bzapper.domain.cloud import cloud_refusal
from bzapper.domain.composing import change_refusal, preview
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.idempotency import IdempotencyLock, IdempotencyRequest, StoredResponse
from bzapper.domain.ids import is_id, new_id, whatsapp_message_id
from bzapper.domain.model import InstanceRef, MessageView, OutboundMessage, Principal
from bzapper.domain.phones import InvalidRecipient, Recipient, is_group_jid, parse_destination, parse_recipient
from bzapper.domain.plans import EXPERIMENTAL_INTERACTIVE, plan_named
from bzapper.domain.ratelimit import Bucket, BucketTake, Decision
from bzapper.domain.routing import choose_number
from bzapper.domain.sending import Accepted, CommitRejected, SendDraft
from bzapper.domain.status_posts import STATUS_RECIPIENT, is_status, media_kind
from bzapper.services.container import Services
from bzapper.services.instances import owned_ref
from bzapper.services.media import media_for_send
from bzapper.services.templates import check_engine, check_window, template_content

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendResult:
    accepted: Accepted
    replayed: bool = False
    rate: Decision | None = None
    """The account's send bucket after this send: the binding limit of a send."""
    enqueued: bool = True
    """False only for a message whose job is not its record (an OTP) and could not be queued."""


INTERACTIVE_TYPES = frozenset({"buttons", "list"})
"""WhatsApp restricts them for non-business recipients: only with the experimental entitlement."""

FREE_TYPES = frozenset({"edit", "revoke"})
"""Changes to a message already paid for: not charged, and not counted as sends (docs/messages.md)."""

_WHATSAPP_ID = re.compile(r"^[0-9A-Za-z]{6,64}$")

_COMMIT_ERRORS = {
    "insufficient_balance": "insufficient_balance",
    "instance_not_connected": "instance_not_connected",
    "idempotency_conflict": "idempotency_in_progress",
    "idempotency_lock_lost": "idempotency_in_progress",
    "conflict": "temporarily_unavailable",
    "busy": "temporarily_unavailable",
}


def _chosen_number(services: Services, principal: Principal, recipient_jid: str) -> str:
    """The account's connected number for this recipient (the same one while it stays connected)."""
    connected = [
        view.instance_id
        for view in services.instances.of_account(principal.account_id, principal.livemode)
        if view.status == "connected" and principal.may_use(view.instance_id)
    ]
    if is_group_jid(recipient_jid) and len(connected) > 1:
        # Only numbers in the group can write there, and which ones are is WhatsApp's to say: the caller names it.
        raise validation_failed("instance_id", "error.group_needs_instance")
    chosen = choose_number(recipient_jid, connected)
    if chosen is None:
        # No credit is the first thing to fix: a live account that never topped up hears that, not "no number".
        if services.wallets.balance(principal.wallet_id) < plan_named(principal.plan).price_per_send:
            raise BzError("insufficient_balance")
        raise BzError("no_number_available")
    return chosen


def send_message(services: Services, principal: Principal, draft: SendDraft) -> SendResult:
    """Accepts one message of any type, or replays what the same Idempotency-Key got before."""
    # Buttons and lists are the Cloud API's own messages (official there); elsewhere WhatsApp restricts them.
    if draft.type in INTERACTIVE_TYPES and not interactive_enabled(principal) and not _names_cloud(services, draft):
        raise BzError("not_supported", message_key="error.interactive_not_enabled")
    # A one-time code never goes to a group: everyone there would read it. A status post goes to
    # status@broadcast, which no client names itself (docs/status.md).
    if is_status(draft.type):
        recipient = STATUS_RECIPIENT
    else:
        recipient = _recipient(draft.to, "to", destination=draft.type != "otp")
    mention_jids = [_recipient(mention, f"mentions.{index}").jid for index, mention in enumerate(draft.mentions)]

    instance_id = draft.instance_id or _chosen_number(services, principal, recipient.jid)
    instance = owned_ref(services, principal, instance_id)
    if is_status(draft.type):
        from bzapper.services.status_posts import check_status_engine  # only a status post loads its rules

        check_status_engine(instance, draft.content or {})
    check_engine(instance, draft.type)
    if instance.engine == CLOUD_ENGINE:
        refusal = cloud_refusal(draft.type, recipient.jid)
        if refusal is not None:
            raise BzError(
                "not_supported", message_key=refusal, params={"engine": CLOUD_ENGINE, "type": draft.type}, status=422
            )

    plan = plan_named(principal.plan)
    send_bucket = BucketTake(f"sends:{principal.account_id}:{principal.mode}", Bucket(plan.sends_per_minute))
    # A send with nothing to lock or resolve takes its token inside the commit (one round trip fewer, the
    # same all-or-nothing). Any other takes it first: no key is locked and nothing fetched over the limit.
    in_commit = draft.straight_to_commit
    rate: Decision | None = None
    if not in_commit:
        rate = services.rate_limits.take(send_bucket.bucket_id, send_bucket.bucket)
        if not rate.allowed:
            raise _rate_limited(rate)

    lock: IdempotencyLock | None = None
    if draft.idempotency:
        acquired = _acquire(services, principal, draft.idempotency)
        if isinstance(acquired, StoredResponse):
            return _replay(acquired, draft.idempotency.fingerprint, rate)
        lock = acquired

    try:
        content, job_content = _resolved(services, principal, draft, instance, recipient, mention_jids)
    except BaseException:
        if lock:
            services.idempotency.release(lock)
        raise

    created_at = now_ms()
    message_id = new_id("msg")
    message = OutboundMessage(
        message_id=message_id,
        account_id=principal.account_id,
        instance_id=instance.instance_id,
        livemode=principal.livemode,
        type=draft.type,
        content=content,
        to_jid=recipient.jid,
        to_phone=recipient.phone,
        client_reference=draft.client_reference,
        wa_message_id=whatsapp_message_id(message_id),
        created_at=created_at,
        shard=instance.shard,
    )
    accepted = Accepted(message_id, "queued", draft.client_reference)
    free = draft.type in FREE_TYPES
    try:
        taken = services.messages.commit_send(
            message,
            price=0 if free else plan.price_per_send,
            grace_ms=settings().outbox_grace_seconds * 1000,
            idempotency=(lock, accepted) if lock else None,
            metrics=() if free else None,
            rate=send_bucket if in_commit else None,
        )
    except CommitRejected as rejected:
        if lock:
            services.idempotency.release(lock)
        if rejected.reason == "rate_limited" and rejected.rate is not None:
            raise _rate_limited(rejected.rate) from rejected
        code = _COMMIT_ERRORS.get(rejected.reason)
        if code is None:
            raise RuntimeError(f"send transaction cancelled: {rejected.reason}") from rejected
        retry = 1 if code in ("temporarily_unavailable", "idempotency_in_progress") else None
        raise BzError(code, retry_after=retry) from rejected
    except Exception:
        if lock:
            services.idempotency.release(lock)
        raise

    if in_commit:
        rate = taken
    telemetry.count("SendsAccepted")
    try:
        services.jobs.enqueue(message if job_content is None else replace(message, content=job_content))
    except Exception:
        if job_content is not None:
            logger.exception("enqueue failed; %s cannot be re-sent from its record", message_id)
            return SendResult(accepted, rate=rate, enqueued=False)
        # Committed is accepted: the outbox sweeper sends it after the grace period.
        logger.exception("enqueue failed; the outbox sweeper will send %s", message_id)
    return SendResult(accepted, rate=rate)


def _names_cloud(services: Services, draft: SendDraft) -> bool:
    ref = services.instances.get(draft.instance_id) if draft.instance_id and is_id(draft.instance_id, "inst") else None
    return ref is not None and ref.engine == CLOUD_ENGINE


def _rate_limited(rate: Decision) -> BzError:
    return BzError("rate_limited", params={"retry_after": rate.retry_after_seconds}, rate=rate)


def _acquire(services: Services, principal: Principal, request: IdempotencyRequest) -> IdempotencyLock | StoredResponse:
    scope = f"{principal.account_id}:{principal.mode}:{request.key}"
    return services.idempotency.acquire(scope, request.fingerprint, now_ms() // 1000)


def _resolved(
    services: Services,
    principal: Principal,
    draft: SendDraft,
    instance: InstanceRef,
    recipient: Recipient,
    mention_jids: list[str],
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The message's content with every reference resolved, and its job's content when it differs (an OTP:
    the record keeps the mask, the job carries the sealed code). Runs after the idempotency lock, as does the
    customer service window's check (a replay answers what the first request got, whatever the window now)."""
    check_window(services, instance, recipient, draft.type)
    content = dict(draft.content or {})
    if draft.type == "template":
        content = template_content(services, principal, instance, content.get("template") or {})
    if draft.changes is not None:
        content.update(_change(services, draft))
    if draft.media is not None:
        content["media"] = media_for_send(services, principal, media_kind(draft.type, content), draft.media)
        if draft.type == "document":
            content["filename"] = draft.media.filename or content["media"].get("filename") or "document"
    if draft.target is not None:
        content["target"] = _reference(services, principal, instance, recipient, draft.target, "message_id")[0]
    if draft.reply_to is not None:
        quoted, view = _reference(services, principal, instance, recipient, draft.reply_to, "reply_to")
        text = preview(view.type, view.content) if view else None
        content["reply_to"] = {**quoted, "preview": text} if text else quoted
    if mention_jids:
        content["mentions"] = mention_jids
    if draft.sealed is None:
        return content, None
    sealer = services.sealers.current()
    if sealer is None:
        raise BzError("not_supported", message_key="error.otp_not_configured")
    try:
        sealed = sealer.seal(
            draft.sealed.code, account_id=principal.account_id, expires_at_ms=draft.sealed.expires_at_ms
        )
    except Exception as error:
        # KMS throttled or unreachable: nothing was written, the client may retry at once.
        logger.warning("OTP sealing failed: %s", type(error).__name__)
        raise BzError("temporarily_unavailable", retry_after=1) from None
    return content, otp.queued(content, sealed)


def _change(services: Services, draft: SendDraft) -> dict[str, Any]:
    """What an edit or a deletion carries: the message it changes (read fresh, now that the key is held)."""
    assert draft.changes is not None
    current = services.messages.get(draft.changes)
    if current is None:
        raise BzError("not_found")
    _check_change(draft.type, current)
    change: dict[str, Any] = {
        "target": {"wa_message_id": current.wa_message_id, "chat_jid": current.to_jid, "from_me": True}
    }
    if draft.type == "edit":
        change["body"] = draft.body
    return change


def change_message(
    services: Services,
    principal: Principal,
    message_id: str,
    action: str,
    *,
    body: str | None,
    client_reference: str | None,
    idempotency: IdempotencyRequest | None,
) -> SendResult:
    """An edit ("edit": new text or caption) or a deletion for everyone ("revoke") of a message this
    account sent: a message of its own, queued behind the original on the same number, free of charge."""
    original = _own_message(services, principal, message_id)
    draft = SendDraft(
        type=action,
        to=original.to_phone or original.to_jid,
        instance_id=original.instance_id,
        client_reference=client_reference,
        idempotency=idempotency,
        changes=original.message_id,
        body=body,
    )
    return send_message(services, principal, draft)


def read_message(services: Services, principal: Principal, message_id: str) -> MessageView:
    """One of the caller's messages (sent or received); another account's is indistinguishable from none."""
    view = services.messages.get(message_id) if is_id(message_id, "msg") else None
    if view is None or view.account_id != principal.account_id or view.livemode != principal.livemode:
        raise BzError("not_found")
    if not principal.may_use(view.instance_id):
        raise BzError("not_found")  # a key limited to other numbers sees none of this one's messages
    return view


def interactive_enabled(principal: Principal) -> bool:
    return EXPERIMENTAL_INTERACTIVE in (plan_named(principal.plan).features | principal.features)


def _recipient(value: str, param: str, *, destination: bool = False) -> Recipient:
    try:
        return parse_destination(value) if destination else parse_recipient(value)
    except InvalidRecipient as error:
        key = "error.unsupported_jid" if error.reason == "unsupported_jid" else "error.invalid_recipient"
        if destination and error.reason in ("unsupported_jid", "invalid_group"):
            key = "error.unsupported_destination"
        raise validation_failed(param, key, value=value) from error


def _own_message(services: Services, principal: Principal, message_id: str) -> MessageView:
    view = services.messages.get(message_id) if is_id(message_id, "msg") else None
    if view is None or view.account_id != principal.account_id or view.livemode != principal.livemode:
        raise BzError("not_found")
    if view.direction != "outbound":
        raise BzError("not_supported", message_key="error.change_not_own")
    return view


def _check_change(action: str, view: MessageView) -> None:
    if view.deleted_at is not None:
        raise BzError("not_supported", message_key="error.change_deleted")
    refusal = change_refusal(action, view.type, view.status, view.history, now_ms())
    if refusal == "type":
        raise BzError("not_supported", message_key=f"error.{action}_type", params={"type": view.type})
    if refusal == "failed":
        raise BzError("not_supported", message_key="error.change_failed")
    if refusal == "window":
        raise BzError("window_closed", message_key=f"error.{action}_window_closed")


def _reference(
    services: Services, principal: Principal, instance: InstanceRef, recipient: Recipient, ref: str, param: str
) -> tuple[dict[str, Any], MessageView | None]:
    """A message of this conversation named by our id (`msg_…`, sent or received) or by WhatsApp's id, as
    content names it ({wa_message_id, chat_jid, from_me, sender_jid?}), with our record when we have one.

    A WhatsApp id we have no record of is taken as a message the contact sent in this chat."""
    if is_id(ref, "msg"):
        view = services.messages.get(ref)
    elif _WHATSAPP_ID.match(ref):
        ours = services.messages.find_by_wa_id(ref, instance.instance_id)
        view = services.messages.get(ours) if ours else None
        if view is None:
            if recipient.phone is None and is_group_jid(recipient.jid):
                # In a group the quoted message's sender is part of its name, and we do not know it.
                raise validation_failed(param, "error.message_reference_unknown")
            return {
                "wa_message_id": ref,
                "chat_jid": recipient.jid,
                "from_me": False,
                "sender_jid": recipient.jid,
            }, None
    else:
        raise validation_failed(param, "error.message_reference_invalid")
    if (
        view is None
        or view.account_id != principal.account_id
        or view.livemode != principal.livemode
        or view.instance_id != instance.instance_id
    ):
        raise validation_failed(param, "error.message_reference_unknown")
    if view.to_jid != recipient.jid:
        raise validation_failed(param, "error.message_reference_other_chat")
    from_me = view.direction == "outbound"
    reference: dict[str, Any] = {"wa_message_id": view.wa_message_id, "chat_jid": view.to_jid, "from_me": from_me}
    if not from_me:
        reference["sender_jid"] = view.to_jid
        if is_group_jid(view.to_jid):
            # A group message names its sender (a participant), not the group.
            received = services.inbox.received(view.message_id)
            sender = (received.sender.get("jid") if received else None) or None
            if sender is None:
                raise validation_failed(param, "error.message_reference_unknown")
            reference["sender_jid"] = sender
    return reference, view


def _replay(stored: StoredResponse, fingerprint: str, rate: Decision | None) -> SendResult:
    if stored.fingerprint != fingerprint:
        raise BzError("idempotency_conflict", param="Idempotency-Key")
    if not stored.done:
        raise BzError("idempotency_in_progress", retry_after=1)
    return SendResult(Accepted.from_json(stored.body), replayed=True, rate=rate)
