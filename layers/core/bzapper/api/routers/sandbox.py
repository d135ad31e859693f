"""Test-mode windows into the simulated WhatsApp network (never available to live keys)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path

from bzapper.api.auth import require_test_mode
from bzapper.api.schemas import SandboxReceived, SandboxReceivedList, error_responses
from bzapper.config import settings
from bzapper.domain.clock import iso
from bzapper.domain.errors import BzError, validation_failed
from bzapper.domain.model import Principal
from bzapper.domain.phones import InvalidRecipient, parse_recipient
from bzapper.engines.sandbox.engine import shared_client

router = APIRouter(tags=["sandbox"])


@router.get(
    "/sandbox/contacts/{phone}/messages",
    response_model=SandboxReceivedList,
    summary="What a simulated contact received (test keys only)",
    responses=error_responses(401, 403, 422),
)
def contact_messages(
    phone: str = Path(description="E.164 (URL-encode the `+`) or a JID.", examples=["+5511988888888"]),
    principal: Principal = Depends(require_test_mode),
) -> SandboxReceivedList:
    try:
        recipient = parse_recipient(phone)
    except InvalidRecipient as error:
        raise validation_failed("phone", "error.invalid_recipient", value=phone) from error
    url = settings().sandbox_url
    if not url:
        raise BzError("not_supported")
    received = shared_client(url).received(principal.account_id, recipient.phone or recipient.jid)
    return SandboxReceivedList(
        data=[
            SandboxReceived(
                wa_message_id=item["wa_message_id"],
                instance_id=item["instance_id"],
                to_jid=item["to_jid"],
                message=item["message"],
                received_at=iso(int(item["received_at"])),
            )
            for item in received
        ]
    )
