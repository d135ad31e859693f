"""API keys: for a signed-in owner only (a session token). An API key gets 403 here, so a leaked key can never
mint another."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends, Path

from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.presenters.keys import key_out
from bzapper.api.schemas.common import error_responses
from bzapper.api.schemas.keys import KeyCreate, KeyList, KeyOut, KeyRoll
from bzapper.bootstrap import services
from bzapper.domain.model import Principal
from bzapper.services import keys as service

router = APIRouter(tags=["keys"], route_class=JsonRoute)

KEY_ID = Path(examples=["key_01JD5V6W4E7R8T9Y0U1I2O3P4Q"])


@router.post(
    "/keys",
    status_code=201,
    response_model=KeyOut,
    summary="Create an API key (its secret is shown only in this answer)",
    responses=error_responses(401, 403, 404),
)
def create_key(body: KeyCreate, principal: Principal = Depends(authenticate)) -> KeyOut:
    made = service.create_key(
        services(), principal, name=body.name, mode=body.mode, scopes=body.scopes, instance_ids=body.instance_ids
    )
    return KeyOut(**key_out(made.key, made.secret))


@router.get(
    "/keys", response_model=KeyList, summary="List API keys (never a secret)", responses=error_responses(401, 403)
)
def list_keys(principal: Principal = Depends(authenticate)) -> KeyList:
    return KeyList(data=[KeyOut(**key_out(key)) for key in service.list_keys(services(), principal)])


@router.get("/keys/{key_id}", response_model=KeyOut, summary="Get an API key", responses=error_responses(401, 403, 404))
def get_key(key_id: str = KEY_ID, principal: Principal = Depends(authenticate)) -> KeyOut:
    return KeyOut(**key_out(service.owned_key(services(), principal, key_id)))


@router.post(
    "/keys/{key_id}/roll",
    response_model=KeyOut,
    summary="Roll an API key: a new secret; the old one works until `expires_in_hours` from now",
    responses=error_responses(401, 403, 404),
)
def roll_key(
    key_id: str = KEY_ID,
    body: KeyRoll = Body(default_factory=KeyRoll),
    principal: Principal = Depends(authenticate),
) -> KeyOut:
    rolled = service.roll_key(services(), principal, key_id, body.expires_in_hours)
    return KeyOut(**key_out(rolled.key, rolled.secret))


@router.delete(
    "/keys/{key_id}",
    response_model=KeyOut,
    summary="Revoke an API key: refused everywhere within 5 seconds",
    responses=error_responses(401, 403, 404),
)
def revoke_key(key_id: str = KEY_ID, principal: Principal = Depends(authenticate)) -> KeyOut:
    return KeyOut(**key_out(service.revoke_key(services(), principal, key_id)))
