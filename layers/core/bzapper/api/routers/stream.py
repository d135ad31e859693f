from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from bzapper.api.auth import authenticate, recheck_for
from bzapper.api.bodies import JsonRoute
from bzapper.api.schemas.common import error_responses, event_stream_response
from bzapper.api.schemas.stream import RESUME_PATTERN, TYPES_PATTERN, stream_item_schema
from bzapper.bootstrap import services
from bzapper.domain.model import Principal
from bzapper.services.stream import checked_filters, event_stream, start_position

router = APIRouter(tags=["events"], route_class=JsonRoute)

_SSE = {
    **event_stream_response(
        "Server-Sent Events: `id:` (the event id), `event:` (its type), `data:` (the event envelope "
        "`{id, type, created, livemode, account_id, instance_id, data}`); `: heartbeat` comments every 15 s; "
        "`retry:` once. Reconnect with `Last-Event-ID` to resume exactly after that event (kept 7 days). The "
        "credential is checked again every second: once it is revoked, signed out, expired or its account "
        "suspended (within 6 s), the stream ends with a `: closed <code>` comment (`unauthorized`, "
        "`account_restricted`, `forbidden`), and reconnecting gets that 401/403.",
        example="retry: 2000\n\n"
        "id: evt_01JD5V6W4E7R8T9Y0U1I2O3P4Q\nevent: message.sent\n"
        'data: {"id":"evt_01JD5V6W4E7R8T9Y0U1I2O3P4Q","type":"message.sent","created":"2026-11-24T12:00:00.120Z",'
        '"livemode":false,"account_id":"acct_01JD5V6W4E7R8T9Y0U1I2O3P4Q","instance_id":"inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q",'
        '"data":{"message_id":"msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q","status":"sent","to":"+5511988888888",'
        '"client_reference":"lead-42"}}\n\n'
        ": heartbeat\n\n",
        item_schema=stream_item_schema(),
    ),
    **error_responses(401, 403, 404),
}


@router.get("/stream", response_model=None, responses=_SSE, summary="Real-time events (SSE), resumable")
async def stream(
    request: Request,
    principal: Principal = Depends(authenticate),
    instance_id: str | None = Query(
        default=None, max_length=64, description="Only this instance's events; another account's or none is 404."
    ),
    types: str | None = Query(
        default=None,
        max_length=1024,
        json_schema_extra={"pattern": TYPES_PATTERN},
        description="Comma-separated event types (`message.sent`) or families (`message.*`), as webhooks "
        "subscribe; omitted = every event; an unknown type is 422 (`param: types`).",
    ),
    last_event_id_query: str | None = Query(
        default=None, alias="last_event_id", max_length=64, json_schema_extra={"pattern": RESUME_PATTERN}
    ),
    last_event_id: str | None = Header(
        default=None,
        alias="Last-Event-ID",
        max_length=64,
        json_schema_extra={"pattern": RESUME_PATTERN},
        description="Resume after this event: one of this account's last 7 days (a 422 otherwise, which the schema "
        "cannot know).",
    ),
) -> StreamingResponse:
    import asyncio

    # The header (what EventSource sends on reconnecting) wins; an error names the one the client used.
    resume, resume_param = (last_event_id, "Last-Event-ID") if last_event_id else (last_event_id_query, "last_event_id")
    instance, wanted = await asyncio.to_thread(checked_filters, services(), principal, instance_id, types)
    position = await asyncio.to_thread(start_position, services(), principal, resume, resume_param)
    body = event_stream(
        services(),
        principal,
        position,
        instance_id=instance,
        types=wanted,
        disconnected=request.is_disconnected,
        recheck=recheck_for(request, principal),
    )
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
