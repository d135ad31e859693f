from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from bzapper.api.accepted import accepted, endpoint_of, media_source
from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.content import content_of
from bzapper.api.event_docs import document_event
from bzapper.api.idempotency import IDEMPOTENCY_HEADER, idempotency_request
from bzapper.api.schemas.common import error_responses
from bzapper.api.schemas.events import MessageChangeEvent
from bzapper.api.schemas.messages import (
    MessageAccepted,
    MessageEditRequest,
    MessageOut,
    OtpAccepted,
    SendAudioRequest,
    SendButtonsRequest,
    SendContactRequest,
    SendDocumentRequest,
    SendEnvelope,
    SendImageRequest,
    SendListRequest,
    SendLocationRequest,
    SendOtpRequest,
    SendPollRequest,
    SendReactionRequest,
    SendStickerRequest,
    SendTextRequest,
    SendVideoRequest,
)
from bzapper.api.schemas.templates import SendTemplateRequest, TemplateList, TemplateOut
from bzapper.bootstrap import services
from bzapper.domain.clock import iso
from bzapper.domain.errors import validation_failed
from bzapper.domain.model import MessageView, Principal
from bzapper.domain.sending import SendDraft
from bzapper.services.otp import OtpRequest, send_otp
from bzapper.services.sending import INTERACTIVE_TYPES, change_message, read_message, send_message
from bzapper.services.templates import list_templates as templates_of

router = APIRouter(tags=["messages"], route_class=JsonRoute)

MESSAGE_ID = Path(examples=["msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q"])

_SEND_422 = (
    "Invalid request (`validation_failed`, with `param`) or `idempotency_conflict`; `not_supported` when the "
    "number's engine cannot send the type (named in the message: templates need a Cloud API number); on a Cloud "
    "API number, `outside_customer_service_window` for any type but a template when the contact has not written "
    "in 24 hours, and for a template `template_not_found`, `template_not_approved` or "
    "`template_parameters_invalid` (docs/templates.md)."
)


def _send_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    responses = error_responses(*statuses)
    responses[422] = {**responses[422], "description": _SEND_422}
    return responses


SEND_ERRORS = _send_errors(401, 402, 404, 409, 413, 422, 429, 503)
INTERACTIVE_ERRORS = _send_errors(401, 402, 403, 404, 409, 413, 422, 429, 503)


# --- One path for every type ---------------------------------------------------------------------------


def _fingerprinted(request: BaseModel) -> dict[str, Any]:
    """The body an Idempotency-Key is bound to. Fields added to the envelope later (reply_to, mentions)
    count only when given, so a key stored before they existed still matches its retry."""
    body = request.model_dump(mode="json")
    for optional in ("reply_to", "mentions"):
        if body.get(optional) is None:
            body.pop(optional, None)
    return body


def accept(
    message_type: str,
    request: SendEnvelope | SendTextRequest,
    http: Request,
    response: Response,
    principal: Principal,
    idempotency_key: str | None,
) -> MessageAccepted:
    """Every POST /messages/{type}: the type's content, then the one send path."""
    draft = SendDraft(
        type=message_type,
        to=request.to,
        instance_id=request.instance_id,
        content=content_of(message_type, request),
        client_reference=request.client_reference,
        idempotency=idempotency_request(idempotency_key, "POST", f"/messages/{message_type}", _fingerprinted(request)),
        media=media_source(request),
        target=request.message_id if isinstance(request, SendReactionRequest) else None,
        reply_to=request.reply_to,
        mentions=tuple(request.mentions or ()),
    )
    return accepted(send_message(services(), principal, draft), http, response)


SENDS: tuple[tuple[str, type[BaseModel], str], ...] = (
    ("text", SendTextRequest, "Send a text message"),
    ("image", SendImageRequest, "Send an image (JPEG, PNG)"),
    ("video", SendVideoRequest, "Send a video (MP4, 3GPP)"),
    ("document", SendDocumentRequest, "Send a document (any file)"),
    ("audio", SendAudioRequest, "Send audio or a voice note"),
    ("sticker", SendStickerRequest, "Send a sticker (WebP)"),
    ("location", SendLocationRequest, "Send a location"),
    ("contact", SendContactRequest, "Send contact cards (vCard)"),
    ("poll", SendPollRequest, "Send a poll"),
    ("reaction", SendReactionRequest, "React to a message (or remove the reaction)"),
    ("buttons", SendButtonsRequest, "Send reply buttons (experimental)"),
    ("list", SendListRequest, "Send a list (experimental)"),
    ("template", SendTemplateRequest, "Send a message template (Cloud API numbers)"),
)


for _message_type, _model, _summary in SENDS:
    router.add_api_route(
        f"/messages/{_message_type}",
        endpoint_of(
            f"send_{_message_type}",
            _model,
            lambda request, http, response, principal, key, message_type=_message_type: accept(
                message_type, request, http, response, principal, key
            ),
        ),
        methods=["POST"],
        status_code=202,
        response_model=MessageAccepted,
        summary=_summary,
        description=(_model.__doc__ or "").strip() or None,
        name=f"send_{_message_type}",
        responses=INTERACTIVE_ERRORS if _message_type in INTERACTIVE_TYPES else SEND_ERRORS,
    )


@router.post(
    "/messages/otp",
    status_code=202,
    response_model=OtpAccepted,
    response_model_exclude_unset=True,
    summary="Send a verification code (OTP)",
    description=inspect.cleandoc(SendOtpRequest.__doc__ or ""),
    responses=INTERACTIVE_ERRORS,  # 403 not_supported where no sealing key is configured
)
def send_otp_message(
    request: SendOtpRequest,
    http: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
    idempotency_key: str | None = IDEMPOTENCY_HEADER,
) -> OtpAccepted:
    """POST /messages/otp: the one send path (bzapper.services.otp), with the code sealed and never stored."""
    if request.code is not None and "length" in request.model_fields_set and len(request.code) != request.length:
        raise validation_failed("length")
    # The code is left out of the key's fingerprint: the fingerprint is stored, and a hash of a few digits
    # is the code itself to anyone who tries them all.
    body = request.model_dump(mode="json", exclude={"code"}) | {"code_given": request.code is not None}
    fields = request.model_dump()
    result = send_otp(
        services(),
        principal,
        OtpRequest(**fields),
        idempotency=idempotency_request(idempotency_key, "POST", "/messages/otp", body),
    )
    sent = accepted(result.send, http, response)
    if result.code is not None:
        return OtpAccepted(**sent.model_dump(), code=result.code)
    return OtpAccepted(**sent.model_dump())


# --- Templates (Cloud API numbers) ---------------------------------------------------------------------


@router.get(
    "/templates",
    response_model=TemplateList,
    summary="List a Cloud API number's message templates",
    description="Every template of the number's WhatsApp Business Account, in every language and review state, "
    "as last read from Meta (read again when older than 5 minutes). 422 `not_supported` for a sandbox or "
    "linked-device number: templates are the Cloud API's (docs/templates.md).",
    responses=error_responses(401, 404, 422, 503),
)
def list_templates(
    principal: Principal = Depends(authenticate),
    instance_id: str = Query(min_length=1, max_length=64, examples=["inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"]),
) -> TemplateList:
    found = templates_of(services(), principal, instance_id)
    return TemplateList(
        instance_id=instance_id,
        data=[TemplateOut(**template.to_json()) for template in found.templates],
        synced=iso(found.synced_at) if found.synced_at else None,
    )


# --- Reading, editing, deleting ------------------------------------------------------------------------


@router.get(
    "/messages/{message_id}",
    response_model=MessageOut,
    summary="Get a message with its status history",
    responses=error_responses(401, 404, 422),
)
def get_message(message_id: str = MESSAGE_ID, principal: Principal = Depends(authenticate)) -> MessageOut:
    return message_out(read_message(services(), principal, message_id))


CHANGE_ERRORS = error_responses(401, 403, 404, 409, 413, 422, 429, 503)


@router.patch(
    "/messages/{message_id}",
    status_code=202,
    response_model=MessageAccepted,
    summary="Edit a sent message's text or caption (within 15 minutes)",
    description="Queued behind the original on the same number; free. The answer is the edit's own message; "
    "`message.edited` follows on the original when WhatsApp has it. 409 `window_closed` after 15 minutes.",
    responses=CHANGE_ERRORS,
)
def edit_message(
    request: MessageEditRequest,
    http: Request,
    response: Response,
    message_id: str = MESSAGE_ID,
    principal: Principal = Depends(authenticate),
    idempotency_key: str | None = IDEMPOTENCY_HEADER,
) -> MessageAccepted:
    idempotency = idempotency_request(
        idempotency_key, "PATCH", f"/messages/{message_id}", request.model_dump(mode="json")
    )
    result = change_message(
        services(),
        principal,
        message_id,
        "edit",
        body=request.body,
        client_reference=request.client_reference,
        idempotency=idempotency,
    )
    return accepted(result, http, response)


@router.delete(
    "/messages/{message_id}",
    status_code=202,
    response_model=MessageAccepted,
    summary="Delete a sent message for everyone",
    description="Queued behind the original on the same number; free. The answer is the deletion's own "
    "message; `message.deleted` follows on the original when WhatsApp has it. 409 `window_closed` after "
    "2 days and 12 hours.",
    responses=CHANGE_ERRORS,
)
def delete_message(
    http: Request,
    response: Response,
    message_id: str = MESSAGE_ID,
    principal: Principal = Depends(authenticate),
    idempotency_key: str | None = IDEMPOTENCY_HEADER,
) -> MessageAccepted:
    idempotency = idempotency_request(idempotency_key, "DELETE", f"/messages/{message_id}", None)
    result = change_message(
        services(), principal, message_id, "revoke", body=None, client_reference=None, idempotency=idempotency
    )
    return accepted(result, http, response)


def _error_out(view: MessageView) -> dict[str, Any] | None:
    if not view.error_code:
        return None
    if view.error_details:
        return {"code": view.error_code, "details": view.error_details}
    return {"code": view.error_code}


def message_out(view: MessageView) -> MessageOut:
    return MessageOut(
        message_id=view.message_id,
        instance_id=view.instance_id,
        direction="inbound" if view.direction == "inbound" else "outbound",
        type=view.type,
        to=view.to_phone or view.to_jid,
        to_jid=view.to_jid,
        content=view.content,
        status=view.status,  # type: ignore[arg-type]
        history=[{"status": status, "at": iso(at)} for status, at in view.history],  # type: ignore[misc]
        error=_error_out(view),  # type: ignore[arg-type]
        client_reference=view.client_reference,
        livemode=view.livemode,
        created=iso(view.created_at),
        updated=iso(view.updated_at),
        edited=iso(view.edited_at) if view.edited_at else None,
        deleted=iso(view.deleted_at) if view.deleted_at else None,
        pricing=view.pricing,  # type: ignore[arg-type]
        participants=[
            {"phone": row["phone"], "lid": row["lid"], "status": row["status"], "at": iso(row["at"])}
            for row in view.participants
        ]  # type: ignore[misc]
        if view.participants is not None
        else None,
    )


# The events about an edit or a deletion, on the original message (the contract's `webhooks` section).
webhooks = APIRouter()


for _type, _summary in (
    ("message.edited", "An edit of a message (PATCH /messages/{id}) reached WhatsApp."),
    ("message.deleted", "A message's deletion for everyone (DELETE /messages/{id}) reached WhatsApp."),
):
    document_event(
        webhooks,
        _type,
        MessageChangeEvent,
        _summary,
        description="Signed like every event (docs/webhooks.md). `data.message_id` is the original message; "
        "`data.change_id` the edit's or deletion's own message.",
    )


# Status posts (docs/status.md): messages of type "status", in this group; status.posted in its webhooks.
from bzapper.api.routers import status_posts as _status_posts  # noqa: E402

_status_posts.register(router, webhooks)
