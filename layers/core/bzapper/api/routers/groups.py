"""Groups: list, create, read, change, their participants and invite links, join and leave (docs/groups.md).
Every call is a question to the worker holding the number (the engine does the WhatsApp part)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query

from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.event_docs import document_events
from bzapper.api.schemas.common import error_responses
from bzapper.api.schemas.groups import (
    GroupCreate,
    GroupCreated,
    GroupJoin,
    GroupJoinedEvent,
    GroupLeftEvent,
    GroupList,
    GroupOut,
    GroupParticipantsChangedEvent,
    GroupUpdate,
    GroupUpdatedEvent,
    InstanceOnly,
    InviteLink,
    ParticipantResults,
    ParticipantsChange,
)
from bzapper.bootstrap import services
from bzapper.domain.model import Principal
from bzapper.services import groups as service

router = APIRouter(tags=["groups"], route_class=JsonRoute)

JID = Path(description="The group's JID (`…@g.us`; URL-encode the `@` or not).", examples=["120363025246125888@g.us"])
INSTANCE = Query(min_length=1, max_length=64, description="The connected number that asks (it must be in the group).")
ERRORS = error_responses(401, 403, 404, 409, 422, 503)


@router.get("/groups", response_model=GroupList, summary="The groups a number is in", responses=ERRORS)
def list_groups(instance_id: str = INSTANCE, principal: Principal = Depends(authenticate)) -> Any:
    return {"data": service.joined(services(), principal, instance_id)}


@router.post(
    "/groups",
    response_model=GroupCreated,
    status_code=201,
    summary="Create a group (the number is its creator and superadmin)",
    responses=ERRORS,
)
def create_group(body: GroupCreate, principal: Principal = Depends(authenticate)) -> Any:
    return service.create(services(), principal, body.instance_id, body.subject, list(body.participants))


@router.post("/groups/join", response_model=GroupOut, summary="Join a group by its invite link", responses=ERRORS)
def join_group(body: GroupJoin, principal: Principal = Depends(authenticate)) -> Any:
    return service.join(services(), principal, body.instance_id, body.invite_link)


@router.get("/groups/{jid}", response_model=GroupOut, summary="A group: settings and participants", responses=ERRORS)
def get_group(jid: str = JID, instance_id: str = INSTANCE, principal: Principal = Depends(authenticate)) -> Any:
    return service.info(services(), principal, instance_id, jid)


@router.patch(
    "/groups/{jid}",
    response_model=GroupOut,
    summary="Change a group's subject, description, picture, announce or locked (admins)",
    responses=ERRORS,
)
def update_group(body: GroupUpdate, jid: str = JID, principal: Principal = Depends(authenticate)) -> Any:
    changes = body.model_dump(exclude_unset=True, exclude={"instance_id"})
    return service.update(services(), principal, body.instance_id, jid, changes)


@router.post(
    "/groups/{jid}/participants",
    response_model=ParticipantResults,
    summary="Add, remove, promote or demote participants (admins): a result per participant",
    responses=ERRORS,
)
def change_participants(body: ParticipantsChange, jid: str = JID, principal: Principal = Depends(authenticate)) -> Any:
    results = service.change_participants(
        services(), principal, body.instance_id, jid, body.action, list(body.participants)
    )
    return {"data": results}


@router.get(
    "/groups/{jid}/invite-link", response_model=InviteLink, summary="The group's invite link (admins)", responses=ERRORS
)
def get_invite_link(jid: str = JID, instance_id: str = INSTANCE, principal: Principal = Depends(authenticate)) -> Any:
    return {"invite_link": service.invite_link(services(), principal, instance_id, jid)}


@router.post(
    "/groups/{jid}/invite-link/revoke",
    response_model=InviteLink,
    summary="Revoke the invite link: the new one is answered (admins)",
    responses=ERRORS,
)
def revoke_invite_link(body: InstanceOnly, jid: str = JID, principal: Principal = Depends(authenticate)) -> Any:
    return {"invite_link": service.invite_link(services(), principal, body.instance_id, jid, reset=True)}


@router.post("/groups/{jid}/leave", status_code=204, summary="Leave a group", responses=ERRORS)
def leave_group(body: InstanceOnly, jid: str = JID, principal: Principal = Depends(authenticate)) -> None:
    service.leave(services(), principal, body.instance_id, jid)


# The group.* events (the contract's `webhooks` section): one per change WhatsApp reports, per number in the group.
webhooks = APIRouter()

_EVENTS = {
    "group.joined": (GroupJoinedEvent, "The number joined a group (created it, was added, or joined by link)."),
    "group.left": (GroupLeftEvent, "The number left a group, or an admin removed it (`reason`)."),
    "group.updated": (GroupUpdatedEvent, "A group's subject, description, picture or settings changed, or its link."),
    "group.participants_changed": (
        GroupParticipantsChangedEvent,
        "Participants were added, removed, promoted or demoted, or joined or left (`by`: who did it).",
    ),
}


document_events(webhooks, _EVENTS)
