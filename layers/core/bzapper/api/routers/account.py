from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query

from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.presenters.account import entitlements_out, usage_out
from bzapper.api.schemas.account import AccountOut, AccountPatch, Entitlements, UsageReport
from bzapper.api.schemas.common import error_responses
from bzapper.bootstrap import services
from bzapper.domain.accounts import Account
from bzapper.domain.clock import iso
from bzapper.domain.model import Principal
from bzapper.services.accounts import account_of, update_account
from bzapper.services.entitlements import entitlements
from bzapper.services.usage import usage_report

router = APIRouter(tags=["account"], route_class=JsonRoute)

_RANGE = (
    " Between 2000 and 2100, `from` before `to`, at most 31 days apart by hour or 366 by day: rules between the two "
    "values and the clock, which no schema states (a 422 on the field otherwise)."
)


def _account_out(account: Account, principal: Principal) -> AccountOut:
    return AccountOut(
        account_id=account.account_id,
        name=account.name,
        locale=account.locale,  # type: ignore[arg-type]
        plan=account.plan,
        livemode=principal.livemode,
        created=iso(account.created_at),
    )


@router.get("/me", response_model=AccountOut, summary="The calling account", responses=error_responses(401))
def get_me(principal: Principal = Depends(authenticate)) -> AccountOut:
    return _account_out(account_of(services(), principal), principal)


@router.patch(
    "/me", response_model=AccountOut, summary="Update the account (its locale)", responses=error_responses(401, 422)
)
def patch_me(patch: AccountPatch, principal: Principal = Depends(authenticate)) -> AccountOut:
    return _account_out(update_account(services(), principal, locale=patch.locale), principal)


@router.get(
    "/me/entitlements",
    response_model=Entitlements,
    summary="Plan, limits, features and usage against each limit",
    responses=error_responses(401),
)
def get_entitlements(principal: Principal = Depends(authenticate)) -> Entitlements:
    return Entitlements(**entitlements_out(entitlements(services(), principal)))


@router.get(
    "/usage",
    response_model=UsageReport,
    response_model_by_alias=True,
    summary="Usage telemetry: sends, OTPs, delivered, read, failed, inbound, webhook deliveries",
    responses=error_responses(401, 404, 422),
)
def get_usage(
    principal: Principal = Depends(authenticate),
    start: str | None = Query(
        default=None, alias="from", description="RFC 3339; default: one span before `to`." + _RANGE
    ),
    end: str | None = Query(default=None, alias="to", description="RFC 3339; default: now." + _RANGE),
    granularity: Literal["hour", "day"] = Query(default="hour"),
    instance_id: str | None = Query(default=None, max_length=64),
) -> UsageReport:
    report = usage_report(services(), principal, start=start, end=end, granularity=granularity, instance_id=instance_id)
    return UsageReport(**usage_out(report))
