"""Instances (connected numbers) and the contacts check answered by the worker that holds the number."""

from __future__ import annotations

import io

from fastapi import APIRouter, Depends, Path, Query, Response

from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.idempotency import IDEMPOTENCY_HEADER, idempotency_request
from bzapper.api.schemas.cloud import CloudNumberOut
from bzapper.api.schemas.common import error_responses
from bzapper.api.schemas.instances import (
    CheckNumbersRequest,
    CheckNumbersResult,
    InstanceCreate,
    InstanceList,
    InstanceOut,
    InstanceQr,
    InstanceSettingsOut,
    InstanceUpdate,
    NumberCheck,
    PairingCode,
    PairingCodeRequest,
)
from bzapper.bootstrap import services
from bzapper.domain.clock import iso
from bzapper.domain.instance_settings import InstanceSettings
from bzapper.domain.model import InstanceView, Principal
from bzapper.services import instances as service

router = APIRouter(tags=["instances"], route_class=JsonRoute)

INSTANCE_ID = Path(examples=["inst_01JD5V6W4E7R8T9Y0U1I2O3P4Q"])


def instance_out(view: InstanceView) -> InstanceOut:
    return InstanceOut(
        id=view.instance_id,
        name=view.name,
        engine=view.engine,
        status=view.status,  # type: ignore[arg-type]
        phone=view.phone,
        lid=view.lid,
        push_name=view.push_name,
        last_error=view.last_error,
        restriction=service.restriction_of(view),  # type: ignore[arg-type]
        livemode=view.livemode,
        settings=InstanceSettingsOut(**InstanceSettings.from_stored(view.settings).public()),
        created=iso(view.created_at),
        updated=iso(view.updated_at),
        cloud=CloudNumberOut(**view.cloud.public()) if view.cloud else None,
    )


@router.post(
    "/instances",
    status_code=201,
    response_model=InstanceOut,
    summary="Create an instance (then pair it by QR or phone code; a `cloud` one is connected at once)",
    responses=error_responses(401, 404, 409, 422),  # 404: an Idempotency-Key replay of a number deleted since
)
def create_instance(
    body: InstanceCreate,
    response: Response,
    principal: Principal = Depends(authenticate),
    idempotency_key: str | None = IDEMPOTENCY_HEADER,
) -> InstanceOut:
    idempotency = idempotency_request(idempotency_key, "POST", "/instances", body.model_dump(mode="json"))
    cloud = body.cloud.model_dump() if body.cloud else None
    view, replayed = service.create_once(
        services(), principal, idempotency, name=body.name, engine=body.engine, cloud=cloud
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return instance_out(view)


@router.get("/instances", response_model=InstanceList, summary="List instances", responses=error_responses(401))
def list_instances(principal: Principal = Depends(authenticate)) -> InstanceList:
    return InstanceList(data=[instance_out(view) for view in service.list_instances(services(), principal)])


@router.get(
    "/instances/{instance_id}",
    response_model=InstanceOut,
    summary="Get an instance and its connection status",
    responses=error_responses(401, 404),
)
def get_instance(instance_id: str = INSTANCE_ID, principal: Principal = Depends(authenticate)) -> InstanceOut:
    return instance_out(service.owned(services(), principal, instance_id))


@router.patch(
    "/instances/{instance_id}",
    response_model=InstanceOut,
    summary="Change an instance's settings (only the keys given)",
    responses=error_responses(401, 404, 422),
)
def update_instance(
    body: InstanceUpdate, instance_id: str = INSTANCE_ID, principal: Principal = Depends(authenticate)
) -> InstanceOut:
    patch = body.settings.model_dump(exclude_unset=True)
    return instance_out(service.update_settings(services(), principal, instance_id, patch))


@router.delete(
    "/instances/{instance_id}",
    status_code=204,
    summary="Delete an instance (its number is logged out)",
    responses=error_responses(401, 404),
)
def delete_instance(instance_id: str = INSTANCE_ID, principal: Principal = Depends(authenticate)) -> Response:
    service.delete(services(), principal, instance_id)
    return Response(status_code=204)


@router.get(
    "/instances/{instance_id}/qr",
    response_model=InstanceQr,
    summary="The current pairing QR code (JSON, or an image with ?format=png)",
    responses={
        **error_responses(401, 404, 409),
        200: {
            "description": "The QR (it rotates about every 20 s): JSON, or a PNG image with `?format=png`.",
            "content": {
                "image/png": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": "(binary PNG: the QR drawn at 8 px per module)",
                }
            },
        },
    },
)
def get_qr(
    instance_id: str = INSTANCE_ID,
    format: str = Query("json", pattern="^(json|png)$", description="`png` answers the QR as an image."),
    principal: Principal = Depends(authenticate),
) -> InstanceQr | Response:
    view = service.qr(services(), principal, instance_id)
    assert view.qr is not None
    if format == "png":
        import segno  # only this route draws images

        buffer = io.BytesIO()
        segno.make(view.qr, error="l").save(buffer, kind="png", scale=8, border=4)
        return Response(buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "no-store"})
    return InstanceQr(instance_id=view.instance_id, qr=view.qr)


@router.post(
    "/instances/{instance_id}/pairing-code",
    response_model=PairingCode,
    summary="Pair by phone number: a code to type on the phone",
    responses=error_responses(401, 404, 409, 503),  # 503: the number's session failed to answer
)
def request_pairing_code(
    body: PairingCodeRequest, instance_id: str = INSTANCE_ID, principal: Principal = Depends(authenticate)
) -> PairingCode:
    code = service.pairing_code(services(), principal, instance_id, body.phone)
    return PairingCode(instance_id=instance_id, code=code)


@router.post(
    "/instances/{instance_id}/logout",
    status_code=202,
    response_model=InstanceOut,
    summary="Unlink the number (the instance stays, ready to pair again)",
    responses=error_responses(401, 404),
)
def logout_instance(instance_id: str = INSTANCE_ID, principal: Principal = Depends(authenticate)) -> InstanceOut:
    return instance_out(service.logout(services(), principal, instance_id))


@router.post(
    "/instances/{instance_id}/restart",
    status_code=202,
    response_model=InstanceOut,
    summary="Reconnect the session (restored from the session store)",
    responses=error_responses(401, 404),
)
def restart_instance(instance_id: str = INSTANCE_ID, principal: Principal = Depends(authenticate)) -> InstanceOut:
    return instance_out(service.restart(services(), principal, instance_id))


@router.post(
    "/contacts/checkIsOnWhatsApp",
    response_model=CheckNumbersResult,
    summary="Which numbers (or @lid JIDs) are on WhatsApp, with both phone and LID",
    responses=error_responses(401, 404, 409, 503),  # 503: the number's session failed to answer
)
def check_is_on_whatsapp(body: CheckNumbersRequest, principal: Principal = Depends(authenticate)) -> CheckNumbersResult:
    results = service.check_numbers(services(), principal, body.instance_id, body.numbers)
    return CheckNumbersResult(data=[NumberCheck(**result) for result in results])


# GET/PATCH /instances/{id}/profile (docs/profiles.md): the same function group, its own module. Its routes are
# added as they are (include_router would nest a router, which the contract's error-body pass does not walk).
from bzapper.api.routers import profiles as _profiles  # noqa: E402

router.routes.extend(_profiles.router.routes)
