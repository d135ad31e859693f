"""POST /messages/otp: a verification code in two WhatsApp messages, counted and charged as one send.

The code is sealed (the sealer port: AES-256-GCM, a KMS data key on AWS) after the idempotency lock and
travels only inside the shard job; the message record holds the text, the mask and the expiry
(bzapper.domain.otp.stored).
Because the record cannot rebuild the job, an OTP is never re-sent by the outbox: one whose job could
not be queued fails at once (refunded), and one no worker took before its expiry fails then
(`sweep_unsent`). docs/otp.md has the whole design.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bzapper import i18n
from bzapper.domain import otp
from bzapper.domain.clock import now_ms
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.domain.model import OutboundMessage, Principal, StatusReport
from bzapper.domain.sending import SealedCode, SendDraft
from bzapper.domain.statuses import MessageStatus
from bzapper.services.container import Services
from bzapper.services.sending import SendResult, send_message
from bzapper.services.statuses import apply_report

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OtpRequest:
    to: str
    instance_id: str | None = None
    code: str | None = None
    length: int = otp.CODE_LENGTH_DEFAULT
    body: str | None = None
    ttl_seconds: int = otp.TTL_DEFAULT_SECONDS
    language: str | None = None
    client_reference: str | None = None


@dataclass(frozen=True, slots=True)
class OtpResult:
    send: SendResult
    code: str | None
    """The code, only when this request generated it (never on a replay: it is stored nowhere)."""


def send_otp(
    services: Services, principal: Principal, request: OtpRequest, *, idempotency: IdempotencyRequest | None
) -> OtpResult:
    if services.sealers.current() is None:
        raise BzError("not_supported", message_key="error.otp_not_configured")
    generated = request.code is None
    if request.code is not None and not otp.valid_code(request.code):
        raise validation_failed("code", "error.otp_code_invalid", min=otp.CODE_LENGTH_MIN, max=otp.CODE_LENGTH_MAX)
    body = request.body if request.body is not None else _generated_body(services, principal, request)
    code = request.code or otp.generate_code(request.length)
    while generated and code in body:  # the text must never give the code away, even by chance
        code = otp.generate_code(request.length)
    if code in body:
        raise validation_failed("body" if request.body is not None else "code", "error.otp_code_in_body")
    expires_at = now_ms() + request.ttl_seconds * 1000
    draft = SendDraft(
        type="otp",
        to=request.to,
        instance_id=request.instance_id,
        content=otp.stored(body, expires_at),
        client_reference=request.client_reference,
        idempotency=idempotency,
        sealed=SealedCode(code, expires_at),
    )
    result = send_message(services, principal, draft)
    if not result.enqueued:
        fail_unsent(services, result.accepted.message_id, otp.NOT_QUEUED)
    return OtpResult(result, code if generated and not result.replayed else None)


def _generated_body(services: Services, principal: Principal, request: OtpRequest) -> str:
    """The first message in the request's `language`, else the account's (read fresh: PATCH /me shows at
    once), naming the account and the expiry."""
    account = services.accounts.get(principal.account_id)
    locale = (
        i18n.normalize_locale(request.language)
        or i18n.normalize_locale(account.locale if account else principal.locale)
        or i18n.DEFAULT_LOCALE
    )
    return otp.default_body(account.name if account else None, request.ttl_seconds, locale)


def fail_unsent(services: Services, message_id: str, error_code: str) -> None:
    """An OTP that will never be sent fails now (refunded, `message.failed`); a no-op once it is past
    `sending` (forward-only statuses)."""
    view = services.messages.get(message_id)
    if view is None:
        return
    report = StatusReport(
        instance_id=view.instance_id,
        wa_message_id=view.wa_message_id or "",
        status=MessageStatus.FAILED.value,
        at=now_ms(),
        message_id=message_id,
        error_code=error_code,
    )
    apply_report(services, report)


def sweep_unsent(services: Services, message: OutboundMessage, now: int) -> None:
    """The outbox sweeper's turn for an OTP still not taken by a worker: never a re-send (the record has
    no code). Past its expiry it fails (a worker would refuse it too); before, it may still be in its
    queue waiting for the number's session, so the sweeper looks again at the expiry."""
    expires = otp.expires_at_ms(message.content)
    if expires is None or now >= expires:
        fail_unsent(services, message.message_id, otp.EXPIRED)
    else:
        services.messages.postpone_outbox(message.message_id, expires)
