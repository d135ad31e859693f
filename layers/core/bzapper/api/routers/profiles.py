"""The number's own profile: read it and change it (push name, about, picture by media id); docs/profiles.md.
Included by the instances router (the `instances` function group): a question to the worker holding the number."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path

from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.schemas.common import error_responses
from bzapper.api.schemas.profiles import ProfileOut, ProfileUpdate
from bzapper.bootstrap import services
from bzapper.domain.model import Principal
from bzapper.services import profiles as service

router = APIRouter(tags=["instances"], route_class=JsonRoute)

INSTANCE_ID = Path(examples=["inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"])
# 409: the number is not connected; 422: bad input, or not_supported (a Cloud API number, or what the engine
# cannot do); 503: the number's session failed to answer.
ERRORS = error_responses(401, 403, 404, 409, 422, 503)


@router.get(
    "/instances/{instance_id}/profile",
    response_model=ProfileOut,
    summary="The number's own WhatsApp profile: name, about, business or not, picture",
    responses=ERRORS,
)
def get_profile(instance_id: str = INSTANCE_ID, principal: Principal = Depends(authenticate)) -> Any:
    return service.own(services(), principal, instance_id)


@router.patch(
    "/instances/{instance_id}/profile",
    response_model=ProfileOut,
    summary="Change the number's push name, about text or picture (a media id; null removes it)",
    responses=ERRORS,
)
def update_profile(
    body: ProfileUpdate, instance_id: str = INSTANCE_ID, principal: Principal = Depends(authenticate)
) -> Any:
    return service.update_own(services(), principal, instance_id, body.model_dump(exclude_unset=True))
