from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from bzapper.api.auth import authenticate
from bzapper.api.schemas import MessageAccepted, MessageOut, SendTextRequest, error_responses
from bzapper.domain.clock import iso
from bzapper.domain.errors import BzError
from bzapper.domain.idempotency import MAX_KEY_LENGTH, fingerprint, valid_key
from bzapper.domain.ids import is_id
from bzapper.domain.model import MessageView, Principal
from bzapper.services.container import services
from bzapper.services.sending import send_message

router = APIRouter(tags=["messages"])

IDEMPOTENCY_HEADER = Header(
    default=None,
    alias="Idempotency-Key",
    min_length=1,
    max_length=MAX_KEY_LENGTH,
    examples=["order-1234-attempt"],
    description="Retry safely: the first response is replayed for 24 h; another body with the same key is a 422.",
)


@router.post(
    "/messages/text",
    status_code=202,
    response_model=MessageAccepted,
    summary="Send a text message",
    responses=error_responses(401, 402, 404, 409, 413, 422, 429, 503),
)
def send_text(
    request: SendTextRequest,
    http: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
    idempotency_key: str | None = IDEMPOTENCY_HEADER,
) -> MessageAccepted:
    idempotency = None
    if idempotency_key is not None:
        if not valid_key(idempotency_key):
            raise BzError("validation_failed", message_key="error.idempotency_key_invalid", param="Idempotency-Key")
        idempotency = (
            idempotency_key,
            fingerprint("POST", "/messages/text", request.model_dump(mode="json")),
        )
    result = send_message(
        services(),
        principal,
        instance_id=request.instance_id,
        to=request.to,
        message_type="text",
        content={"body": request.body},
        client_reference=request.client_reference,
        idempotency=idempotency,
    )
    response.status_code = result.status
    if result.rate is not None:
        http.state.rate_limit = result.rate  # the binding limit of a send is the account's send bucket
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return MessageAccepted(**result.body)


@router.get(
    "/messages/{message_id}",
    response_model=MessageOut,
    summary="Get a message with its status history",
    responses=error_responses(401, 404, 422),
)
def get_message(
    message_id: str = Path(examples=["msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q"]), principal: Principal = Depends(authenticate)
) -> MessageOut:
    view = services().messages.get(message_id) if is_id(message_id, "msg") else None
    if view is None or view.account_id != principal.account_id or view.livemode != principal.livemode:
        raise BzError("not_found")
    return message_out(view)


def message_out(view: MessageView) -> MessageOut:
    return MessageOut(
        message_id=view.message_id,
        instance_id=view.instance_id,
        type=view.type,
        to=view.to_phone or view.to_jid,
        to_jid=view.to_jid,
        content=view.content,
        status=view.status,  # type: ignore[arg-type]
        history=[{"status": status, "at": iso(at)} for status, at in view.history],  # type: ignore[misc]
        error={"code": view.error_code} if view.error_code else None,  # type: ignore[arg-type]
        client_reference=view.client_reference,
        livemode=view.livemode,
        created=iso(view.created_at),
        updated=iso(view.updated_at),
    )
