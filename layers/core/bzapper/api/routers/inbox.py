from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.presenters.inbox import conversation_page, conversation_read, thread_page
from bzapper.api.schemas.common import PAGE_LIMIT, PageLimit, error_responses
from bzapper.api.schemas.inbox import CHAT_PATTERN, ConversationList, ConversationMessages, ConversationReadOut
from bzapper.bootstrap import services
from bzapper.domain.model import Principal
from bzapper.services import inbox as service

router = APIRouter(tags=["inbox"], route_class=JsonRoute)

INSTANCE_ID = Query(
    min_length=1, max_length=64, examples=["inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"], description="The number's instance."
)
JID = Path(
    min_length=1,
    max_length=128,
    json_schema_extra={"pattern": CHAT_PATTERN},
    examples=["5511988888888@s.whatsapp.net"],
    description="The contact: a phone JID, an `@lid` JID or an E.164 number; a `@lid` and its phone name the "
    "same conversation once the mapping is known. A group: its `@g.us` JID.",
)
CURSOR = Query(default=None, max_length=512, description="`next_cursor` of the previous page.")


@router.get(
    "/conversations",
    response_model=ConversationList,
    summary="Conversations of a number, newest activity first (cursor pagination)",
    responses=error_responses(401, 404),
)
def list_conversations(
    instance_id: str = INSTANCE_ID,
    principal: Principal = Depends(authenticate),
    limit: PageLimit = PAGE_LIMIT,
    cursor: str | None = CURSOR,
) -> ConversationList:
    page = service.list_conversations(services(), principal, instance_id, limit, cursor)
    return ConversationList.model_validate(conversation_page(page))


@router.get(
    "/conversations/{jid}/messages",
    response_model=ConversationMessages,
    summary="A conversation's messages, both directions, newest first (cursor pagination)",
    responses=error_responses(401, 404),
)
def list_conversation_messages(
    jid: str = JID,
    instance_id: str = INSTANCE_ID,
    principal: Principal = Depends(authenticate),
    limit: PageLimit = PAGE_LIMIT,
    cursor: str | None = CURSOR,
) -> ConversationMessages:
    page = service.conversation_messages(services(), principal, instance_id, jid, limit, cursor)
    return ConversationMessages.model_validate(thread_page(page))


@router.post(
    "/conversations/{jid}/read",
    response_model=ConversationReadOut,
    summary="Mark a conversation read, here and on WhatsApp (read receipts)",
    responses=error_responses(401, 404),
)
def mark_conversation_read(
    jid: str = JID, instance_id: str = INSTANCE_ID, principal: Principal = Depends(authenticate)
) -> ConversationReadOut:
    read = service.mark_conversation_read(services(), principal, instance_id, jid)
    return ConversationReadOut.model_validate(conversation_read(read))
