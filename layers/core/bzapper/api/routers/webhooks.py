from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Response

from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.event_docs import document_event
from bzapper.api.idempotency import IDEMPOTENCY_HEADER, idempotency_request
from bzapper.api.presenters.webhooks import delivery_page, webhook_out
from bzapper.api.schemas.common import PAGE_LIMIT, PageLimit, error_responses
from bzapper.api.schemas.events import (
    CallEndedEvent,
    CallReceivedEvent,
    HistorySyncedEvent,
    LowBalanceEvent,
    MessageEvent,
    MessageReceivedEvent,
    WebhookDisabledEvent,
    WebhookTestEvent,
)
from bzapper.api.schemas.webhooks import (
    DeliveryList,
    DeliveryQueued,
    WebhookCreate,
    WebhookList,
    WebhookOut,
    WebhookPatch,
)
from bzapper.bootstrap import services
from bzapper.domain.model import Principal
from bzapper.services import webhooks as service

router = APIRouter(tags=["webhooks"], route_class=JsonRoute)

WEBHOOK_ID = Path(examples=["wh_01JD5V6W4E7R8T9Y0U1I2O3P4Q"])
DELIVERY_ID = Path(examples=["dlv_01JD5V6W4E7R8T9Y0U1I2O3P4Q"])


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookOut,
    summary="Register a webhook endpoint",
    responses=error_responses(401, 404, 409, 422),  # 404: an Idempotency-Key replay of an endpoint deleted since
)
def create(
    body: WebhookCreate,
    response: Response,
    principal: Principal = Depends(authenticate),
    idempotency_key: str | None = IDEMPOTENCY_HEADER,
) -> WebhookOut:
    idempotency = idempotency_request(idempotency_key, "POST", "/webhooks", body.model_dump(mode="json"))
    created, replayed = service.create_webhook_once(
        services(), principal, idempotency, body.url, body.events, body.description
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return WebhookOut(**webhook_out(created.webhook, created.secret))


@router.get("/webhooks", response_model=WebhookList, summary="List webhook endpoints", responses=error_responses(401))
def list_all(principal: Principal = Depends(authenticate)) -> WebhookList:
    return WebhookList(data=[WebhookOut(**webhook_out(item)) for item in service.list_webhooks(services(), principal)])


@router.get(
    "/webhooks/{webhook_id}",
    response_model=WebhookOut,
    summary="Get a webhook endpoint",
    responses=error_responses(401, 404),
)
def get_one(webhook_id: str = WEBHOOK_ID, principal: Principal = Depends(authenticate)) -> WebhookOut:
    return WebhookOut(**webhook_out(service.owned(services(), principal, webhook_id)))


@router.patch(
    "/webhooks/{webhook_id}",
    response_model=WebhookOut,
    summary="Update a webhook endpoint",
    responses=error_responses(401, 404),
)
def patch(body: WebhookPatch, webhook_id: str = WEBHOOK_ID, principal: Principal = Depends(authenticate)) -> WebhookOut:
    changes = body.model_dump(exclude_unset=True)
    return WebhookOut(**webhook_out(service.update_webhook(services(), principal, webhook_id, changes)))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a webhook endpoint",
    responses=error_responses(401, 404),
)
def delete(webhook_id: str = WEBHOOK_ID, principal: Principal = Depends(authenticate)) -> Response:
    service.delete_webhook(services(), principal, webhook_id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{webhook_id}/rotate-secret",
    response_model=WebhookOut,
    summary="Rotate the signing secret (the old one keeps signing for 24 h)",
    responses=error_responses(401, 404),
)
def rotate(webhook_id: str = WEBHOOK_ID, principal: Principal = Depends(authenticate)) -> WebhookOut:
    rotated = service.rotate_secret(services(), principal, webhook_id)
    return WebhookOut(**webhook_out(rotated.webhook, rotated.secret))


@router.post(
    "/webhooks/{webhook_id}/test",
    status_code=202,
    response_model=DeliveryQueued,
    summary="Send a webhook.test event to this endpoint",
    responses=error_responses(401, 404),
)
def test(webhook_id: str = WEBHOOK_ID, principal: Principal = Depends(authenticate)) -> DeliveryQueued:
    queued = service.send_test(services(), principal, webhook_id)
    return DeliveryQueued(delivery_id=queued.delivery_id, event_id=queued.event_id)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=DeliveryList,
    summary="Deliveries with every attempt (newest first)",
    responses=error_responses(401, 404),
)
def deliveries(
    webhook_id: str = WEBHOOK_ID,
    principal: Principal = Depends(authenticate),
    limit: PageLimit = PAGE_LIMIT,
    cursor: str | None = Query(default=None, max_length=512),
) -> DeliveryList:
    return DeliveryList(**delivery_page(*service.list_deliveries(services(), principal, webhook_id, limit, cursor)))


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    response_model=DeliveryQueued,
    summary="Deliver an event again",
    responses=error_responses(401, 404),
)
def replay(
    webhook_id: str = WEBHOOK_ID, delivery_id: str = DELIVERY_ID, principal: Principal = Depends(authenticate)
) -> DeliveryQueued:
    delivery = service.replay(services(), principal, webhook_id, delivery_id)
    return DeliveryQueued(delivery_id=delivery.delivery_id, event_id=delivery.event_id)


# The events POSTed to endpoints (the contract's `webhooks` section), signed with Standard Webhooks.
webhooks = APIRouter()

_EVENTS = {
    **{
        f"message.{status}": (MessageEvent, f"A message reached `{status}`.")
        for status in ("queued", "sent", "delivered", "read", "played", "failed")
    },
    "message.received": (
        MessageReceivedEvent,
        "A message arrived, or the number's own phone sent one (`from_me`); it is in the inbox.",
    ),
    "instance.history_synced": (
        HistorySyncedEvent,
        "The history WhatsApp handed the newly paired number is in the inbox (`settings.history_sync`): once per "
        "pairing, with what was imported; the imported messages themselves publish no event.",
    ),
    "call.received": (CallReceivedEvent, "Someone called the number (rejected at once with `reject_calls`)."),
    "call.ended": (CallEndedEvent, "A call to the number ended (hung up, missed, rejected)."),
    "wallet.low_balance": (LowBalanceEvent, "The wallet went at or below the plan's threshold (once per crossing)."),
    "webhook.disabled": (WebhookDisabledEvent, "An endpoint failed for 3 days and was disabled."),
    "webhook.test": (WebhookTestEvent, "Sent by POST /webhooks/{id}/test."),
}


for _type, (_model, _summary) in _EVENTS.items():
    document_event(
        webhooks,
        _type,
        _model,
        _summary,
        description="Headers: `webhook-id` (the event id), `webhook-timestamp`, `webhook-signature` "
        "(`v1,<base64 HMAC-SHA256>`; two during a rotation). Answer 2xx; see docs/webhooks.md for retries.",
    )
