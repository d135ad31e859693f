"""Meta's webhooks for the numbers of engine `cloud` (no API key: the app secret's signature authenticates)."""

from __future__ import annotations

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse

from bzapper.api.bodies import JsonRoute
from bzapper.api.schemas.cloud import CloudWebhookReceived
from bzapper.api.schemas.common import error_responses
from bzapper.bootstrap import services
from bzapper.services import cloud as service

router = APIRouter(tags=["cloud"], route_class=JsonRoute)


@router.get(
    "/cloud/webhook",
    response_class=PlainTextResponse,
    summary="Meta's webhook verification (answers `hub.challenge` when `hub.verify_token` is ours)",
    responses={
        **error_responses(403),
        200: {"description": "The challenge, as sent.", "content": {"text/plain": {"example": "1158201444"}}},
    },
)
def verify_webhook(
    mode: str | None = Query(default=None, alias="hub.mode"),
    verify_token: str | None = Query(default=None, alias="hub.verify_token"),
    challenge: str | None = Query(default=None, alias="hub.challenge", max_length=256),
) -> PlainTextResponse:
    return PlainTextResponse(service.verify_challenge(mode, verify_token, challenge))


@router.post(
    "/cloud/webhook",
    response_model=CloudWebhookReceived,
    summary="Meta's webhook of Cloud API numbers (X-Hub-Signature-256 verified over the exact body first)",
    responses=error_responses(400, 401),
)
async def receive_webhook(
    request: Request, signature: str | None = Header(default=None, alias="X-Hub-Signature-256")
) -> CloudWebhookReceived:
    body = await request.body()  # the exact bytes: verified before a byte of them is parsed
    return CloudWebhookReceived(queued=service.receive_webhook(services(), body, signature))
