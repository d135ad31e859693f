"""Numbers of engine `cloud` (Meta's WhatsApp Cloud API): connecting one, sending its jobs, and Meta's webhooks.

No session worker holds a Cloud API number: Graph is plain HTTPS. Its jobs go to the `cloud-sends` FIFO queue
(one group per number and recipient) and the `cloud_send` function sends them (`send_job`); Meta's webhooks
are verified and turned into the same reports the workers make (`receive_webhook`), queued on `status-updates`
with a *cloud fence* (no lease: the number must still belong to the instance, `fence_holds`), and applied by
the statuses consumer like any other report (`apply_cloud_report`). docs/engines.md has the whole design.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any

from bzapper import telemetry
from bzapper.config import settings
from bzapper.domain.clock import now_ms
from bzapper.domain.cloud import (
    ENGINE,
    TOKEN_SEAL_EXPIRY_MS,
    CloudNumber,
    Credentials,
    GraphFailure,
    UnsupportedCloudContent,
    retry_delay,
    token_last4,
    verify_signature,
)
from bzapper.domain.cloud_webhooks import MalformedWebhook, webhook_changes
from bzapper.domain.content import MEDIA_TYPES
from bzapper.domain.errors import BzError
from bzapper.domain.media import receive
from bzapper.domain.model import InstanceView, Principal, StatusReport
from bzapper.domain.otp import Unsealable
from bzapper.domain.phones import chat_phone
from bzapper.domain.plans import plan_named
from bzapper.domain.reports import BATCH
from bzapper.domain.statuses import RANK, MessageStatus, rank
from bzapper.domain.templates import Template
from bzapper.ports.templates import TemplateSourceUnavailable
from bzapper.services.container import Services
from bzapper.services.instances import apply_state, instance_limit, state_event
from bzapper.services.statuses import apply_report

logger = logging.getLogger(__name__)

FENCE_KIND = "cloud"
HELD_SECONDS = 30
"""A job of a suspended account waits this long before it is looked at again (as the worker holds it)."""
INBOUND_MEDIA_MAX_BYTES = 100 * 1024 * 1024
TRANSIENT_BACKOFF = (10, 20, 40, 60)
"""Seconds a job waits after an unexpected failure (Graph unreachable, a 5xx), by receive count."""


# --- connecting a number ---------------------------------------------------------------------------------


def create_instance(
    services: Services, principal: Principal, *, name: str, phone_number_id: str, waba_id: str, access_token: str
) -> InstanceView:
    """A Cloud API number: its token checked against Graph (the simulated one for a test key), sealed, stored;
    connected at once with what Graph says of it. A phone_number_id belongs to one instance only."""
    limit = plan_named(principal.plan).instances
    # Counted first so a number over the limit costs no Graph call; the slot taken at the create is the rule.
    if services.instances.count_for(principal.account_id, principal.livemode) >= limit:
        raise instance_limit(limit)
    holder = services.cloud_numbers.owner(phone_number_id)
    if holder is not None and services.instances.get(holder) is not None:
        raise BzError("cloud_number_taken", param="cloud.phone_number_id")
    credentials = Credentials(phone_number_id, waba_id, access_token, principal.livemode)
    try:
        facts = services.cloud.number(credentials)
    except GraphFailure as failure:
        raise _creation_error(failure) from None
    sealer = services.sealers.current()
    if sealer is None:
        raise BzError("not_supported", message_key="error.cloud_not_configured")
    try:
        sealed = sealer.seal(access_token, account_id=principal.account_id, expires_at_ms=TOKEN_SEAL_EXPIRY_MS)
    except Exception as error:
        logger.warning("token sealing failed: %s", type(error).__name__)
        raise BzError("temporarily_unavailable", retry_after=1) from None
    display = str(facts.get("display_phone_number") or "") or None
    number = CloudNumber(
        phone_number_id=phone_number_id,
        waba_id=waba_id,
        token_sealed=sealed,
        token_last4=token_last4(access_token),
        display_phone_number=display,
        verified_name=facts.get("verified_name"),
        quality_rating=facts.get("quality_rating"),
    )
    ref = services.instances.create(
        principal.account_id,
        livemode=principal.livemode,
        engine=ENGINE,
        name=name,
        status="connected",
        phone=_e164(display),
        push_name=number.verified_name,
        cloud=number,
        limit=limit,
    )
    if ref is None:
        raise instance_limit(limit)
    if services.cloud_numbers.claim(phone_number_id, ref.instance_id) is not None:
        services.instances.delete(ref.instance_id)  # another create of the same number won the race
        raise BzError("cloud_number_taken", param="cloud.phone_number_id")
    view = services.instances.view(ref.instance_id)
    assert view is not None
    services.events.publish([state_event("instance.connected", view, view.created_at)])
    return view


def _e164(display: str | None) -> str | None:
    """Meta's display number ("+1 555-078-3881") as E.164; a range the phone metadata does not know is kept
    as its digits (Meta registered it, so it exists), as an inbound chat's number is."""
    return chat_phone(display) if display else None


def _creation_error(failure: GraphFailure) -> BzError:
    meta = failure.meta
    if meta.code == "cloud_token_invalid":
        return BzError("cloud_token_invalid", param="cloud.access_token")
    if meta.code == "cloud_permission_denied":
        return BzError("cloud_token_invalid", message_key="error.cloud_permission_denied", param="cloud.access_token")
    if meta.retry is not None:
        return BzError("temporarily_unavailable", retry_after=5)
    # Graph does not know the number (code 100: unknown object), or refuses it for another reason.
    return BzError(
        "cloud_number_invalid",
        param="cloud.phone_number_id",
        params={
            "meta_code": failure.code if failure.code is not None else f"HTTP {failure.status}",
            "meta_title": failure.title or "",
        },
    )


def delete_instance(services: Services, view: InstanceView) -> None:
    """The item goes, then its number is free for another instance (reports still in flight are refused)."""
    services.instances.delete(view.instance_id)
    if view.cloud is not None:
        services.cloud_numbers.release(view.cloud.phone_number_id, view.instance_id)


def credentials(services: Services, view: InstanceView) -> Credentials:
    """The number's credentials with its token opened. Raises Unsealable when this deployment cannot open it."""
    if view.cloud is None:
        raise Unsealable("otp_unsealable")
    sealer = services.sealers.current()
    if sealer is None:
        raise Unsealable("otp_unsealable")
    token = sealer.unseal(view.cloud.token_sealed)
    return Credentials(view.cloud.phone_number_id, view.cloud.waba_id, token, view.livemode)


class CloudTemplateSource:
    """The TemplateSource of Cloud API numbers (bzapper.ports.templates): what the number's WhatsApp Business
    Account holds now, read through Graph with the number's own token."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def fetch(self, instance: InstanceView) -> list[Template]:
        try:
            found = self._services.cloud.templates(credentials(self._services, instance))
        except (GraphFailure, Unsealable) as error:
            # Meta's rate limit, an expired token, a deployment that cannot open it: the stored copy serves.
            raise TemplateSourceUnavailable(type(error).__name__) from None
        templates = []
        for item in found:
            try:
                templates.append(Template.from_json(item))
            except (KeyError, TypeError, ValueError):
                logger.warning("a template Graph listed without a name or language was skipped")
        return templates


# --- sending (the cloud_send function) --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """`hide_seconds` None: the job is done (delete it); else hide it that long and try it again."""

    hide_seconds: int | None = None


DONE = SendOutcome()


def send_job(services: Services, job: dict[str, Any], receive_count: int) -> SendOutcome:
    """Sends one job through Graph, exactly once as far as we can tell: a job whose message already has Meta's
    id (or reached `sent`) is not sent again. Raises on an unexpected failure (the job is retried)."""
    message_id = job["message_id"]
    view = services.messages.get(message_id)
    if view is None:
        logger.error("cloud job for an unknown message dropped", extra={"message_id": message_id})
        return DONE
    if rank(view.status) >= RANK[MessageStatus.SENT] or is_meta_id(view.wa_message_id):
        return DONE  # a redelivery of a job Meta already took (or one that failed for good)
    account = services.accounts.get(job["account_id"])
    if account is not None and account.suspended:
        return SendOutcome(HELD_SECONDS)
    instance = services.instances.view(job["instance_id"])
    if instance is None or instance.cloud is None:
        _fail(services, job, "instance_not_connected")
        return DONE
    _report(services, job, MessageStatus.SENDING.value)
    try:
        opened = credentials(services, instance)
    except Unsealable:
        _fail(services, job, "cloud_token_invalid")
        return DONE
    media = None
    if job["type"] in MEDIA_TYPES:
        media = services.media.read((job.get("content") or {}).get("media") or {})
    try:
        wa_id = services.cloud.send(opened, job, media)
    except UnsupportedCloudContent:
        _fail(services, job, "not_supported")
        return DONE
    except GraphFailure as failure:
        return _refused(services, job, instance, failure, receive_count)
    # Meta took it: its id is recorded at once (statuses name it; a redelivered job sees it and stops there).
    # `sent` comes from Meta's own `sent` status, not from this 200.
    services.messages.record_wa_id(message_id, wa_id)
    telemetry.count("CloudSends")
    return DONE


def is_meta_id(wa_message_id: str | None) -> bool:
    return bool(wa_message_id) and str(wa_message_id).startswith("wamid.")


def transient_backoff(receive_count: int) -> int:
    return TRANSIENT_BACKOFF[min(max(receive_count, 1), len(TRANSIENT_BACKOFF)) - 1]


def _refused(
    services: Services, job: dict[str, Any], instance: InstanceView, failure: GraphFailure, receive_count: int
) -> SendOutcome:
    meta = failure.meta
    if meta.retry == "rate":
        delay = retry_delay(failure.code, receive_count)
        if delay is not None:
            telemetry.count("CloudRateLimited")
            return SendOutcome(delay)
        _fail(services, job, "rate_limited")
        return DONE
    if meta.retry == "transient":
        raise failure
    if meta.code == "cloud_token_invalid":
        # Every send of this number would fail the same way: the instance says so until it is connected again.
        apply_state(
            services,
            {"instance_id": instance.instance_id, "state": "failed", "at": now_ms(), "error": "cloud_token_invalid"},
        )
    _fail(services, job, meta.code, meta.details)
    return DONE


def _report(services: Services, job: dict[str, Any], status: str, error: str | None = None) -> None:
    apply_report(
        services,
        StatusReport(
            instance_id=job["instance_id"],
            wa_message_id=job["wa_message_id"],
            status=status,
            at=now_ms(),
            message_id=job["message_id"],
            error_code=error,
        ),
    )


def _fail(services: Services, job: dict[str, Any], code: str, details: dict[str, Any] | None = None) -> None:
    _report(services, job, MessageStatus.FAILED.value, code)
    if details:
        services.messages.record_error_details(job["message_id"], details)


# --- webhooks (POST /cloud/webhook) -----------------------------------------------------------------------


def verify_challenge(mode: str | None, token: str | None, challenge: str | None) -> str:
    """Meta's subscription check: the challenge back when the verify token is ours."""
    expected = settings().cloud.verify_token
    if mode != "subscribe" or not challenge or not expected or not token:
        raise BzError("forbidden", message_key="error.cloud_verify_token")
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise BzError("forbidden", message_key="error.cloud_verify_token")
    return challenge


def receive_webhook(services: Services, body: bytes, signature: str | None) -> int:
    """Verifies the signature over the exact body BEFORE reading it, then queues what it says as fenced reports
    (the statuses consumer applies them). Returns how many reports were queued. A body signed only with the
    test app secret may touch test-mode numbers only: one naming a live number is refused whole."""
    current = settings().cloud
    if verify_signature(body, signature, current.app_secret):
        live_allowed = True
    elif verify_signature(body, signature, current.test_app_secret):
        live_allowed = False
    else:
        telemetry.count("CloudWebhooksRefused")
        raise BzError("unauthorized", message_key="error.cloud_signature_invalid")
    try:
        changes = webhook_changes(json.loads(body))
    except (ValueError, MalformedWebhook):
        raise BzError("bad_request", message_key="error.cloud_webhook_malformed") from None
    reports: list[dict[str, Any]] = []
    for change in changes:
        instance_id = services.cloud_numbers.owner(change.phone_number_id)
        ref = services.instances.get(instance_id) if instance_id else None
        if ref is None:
            logger.info("webhook for a number no instance holds", extra={"phone_number_id": change.phone_number_id})
            continue
        if ref.livemode and not live_allowed:
            telemetry.count("CloudWebhooksRefused")
            raise BzError("unauthorized", message_key="error.cloud_signature_invalid")
        fence = {"kind": FENCE_KIND, "phone_number_id": change.phone_number_id}
        for status in change.statuses:
            reports.append({**status, "instance_id": ref.instance_id, "fence": fence})
        for message in change.inbound:
            reports.append(
                {
                    **message,
                    "instance_id": ref.instance_id,
                    "account_id": ref.account_id,
                    "livemode": ref.livemode,
                    "fence": fence,
                }
            )
    for start in range(0, len(reports), BATCH):
        batch = reports[start : start + BATCH]
        failed = services.reports.send(batch)
        if failed:
            # Meta redelivers what is not answered 200; what was queued already is deduplicated downstream.
            raise RuntimeError(f"{len(failed)} webhook reports not queued")
    return len(reports)


# --- applying the reports (the statuses consumer) -----------------------------------------------------------


def fence_holds(services: Services, fence: dict[str, Any], instance_id: str) -> bool:
    """A cloud report has no lease behind it: it stands while the number it names still belongs to its instance
    (a number deleted, or moved to another instance, refuses what was queued for the old one)."""
    phone_number_id = fence.get("phone_number_id")
    if not phone_number_id or services.cloud_numbers.owner(str(phone_number_id)) != instance_id:
        return False
    view = services.instances.view(instance_id)
    return view is not None and view.cloud is not None and view.cloud.phone_number_id == phone_number_id


class NotYetKnown(Exception):
    """A status of a message whose Meta id is not recorded yet (the webhook overtook the send's own write):
    raised so the record comes back and is applied once it is."""


def apply_cloud_report(services: Services, kind: str, body: dict[str, Any]) -> None:
    if kind == "status":
        message_id = services.messages.find_by_wa_id(body["wa_message_id"], body["instance_id"])
        if message_id is None:
            raise NotYetKnown(body["wa_message_id"])
        apply_report(
            services,
            StatusReport(
                instance_id=body["instance_id"],
                wa_message_id=body["wa_message_id"],
                status=body["status"],
                at=int(body["at"]),
                message_id=message_id,
                error_code=body.get("error_code"),
                pricing=body.get("pricing"),
                error_details=body.get("error_details"),
            ),
        )
        if body.get("error_details"):
            services.messages.record_error_details(message_id, body["error_details"])
    elif kind == "inbound":
        from bzapper.services.inbox import record_inbound

        record_inbound(services, _with_media(services, body))
    else:
        logger.error("cloud report of kind %r dropped", kind)


def _with_media(services: Services, body: dict[str, Any]) -> dict[str, Any]:
    """An inbound report with its media fetched from Graph into our media store (as a worker stores a file)."""
    content = dict(body.get("content") or {})
    media = content.get("media")
    if not isinstance(media, dict) or not media.get("cloud_media_id"):
        return body
    view = services.instances.view(body["instance_id"])
    if view is None:
        return body
    try:
        data, mime = services.cloud.media(
            credentials(services, view), str(media["cloud_media_id"]), INBOUND_MEDIA_MAX_BYTES
        )
    except GraphFailure as failure:
        if failure.meta.retry is not None:
            raise
        logger.warning("inbound media not downloadable: %s", failure.code, extra={"instance_id": view.instance_id})
        content.pop("media")
        content["media_error"] = "media_unavailable"
        return {**body, "content": content}
    except Unsealable:
        content.pop("media")
        content["media_error"] = "media_unavailable"
        return {**body, "content": content}
    received = receive(iter([data]), INBOUND_MEDIA_MAX_BYTES)
    try:
        stored = services.media.put_received(
            view.account_id,
            view.livemode,
            received,
            str(media.get("mime_type") or mime),
            media.get("filename"),
            instance_id=view.instance_id,
        )
    finally:
        received.close()
    content["media"] = stored
    return {**body, "content": content}


# --- read receipts ------------------------------------------------------------------------------------------


def mark_read(services: Services, instance_id: str, wa_message_ids: list[str]) -> None:
    """Read receipts of a conversation: Meta marks every earlier message of the chat read with the newest one,
    so one call per conversation (the newest id)."""
    view = services.instances.view(instance_id)
    if view is None or view.cloud is None or not wa_message_ids:
        return
    try:
        services.cloud.mark_read(credentials(services, view), wa_message_ids[-1])
    except (GraphFailure, Unsealable) as error:
        # A receipt is a courtesy: the conversation is read here whatever Meta says.
        logger.warning("cloud read receipt not sent: %s", type(error).__name__, extra={"instance_id": instance_id})
