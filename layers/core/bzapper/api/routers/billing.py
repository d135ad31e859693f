from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.idempotency import IDEMPOTENCY_HEADER, idempotency_request
from bzapper.api.presenters.billing import checkout_out, wallet_out
from bzapper.api.schemas.billing import CheckoutOut, CheckoutRequest, Wallet
from bzapper.api.schemas.common import PAGE_LIMIT, PageLimit, error_responses
from bzapper.bootstrap import services
from bzapper.domain.model import Principal
from bzapper.services.billing import create_checkout_once, wallet_view

router = APIRouter(tags=["billing"], route_class=JsonRoute)


@router.get(
    "/billing/wallet",
    response_model=Wallet,
    summary="Balance and ledger (newest first, cursor pagination)",
    responses=error_responses(401, 422),
)
def get_wallet(
    principal: Principal = Depends(authenticate),
    limit: PageLimit = PAGE_LIMIT,
    cursor: str | None = Query(default=None, max_length=2048),
) -> Wallet:
    return Wallet(**wallet_out(wallet_view(services(), principal, limit, cursor)))


@router.post(
    "/billing/checkout",
    status_code=201,
    response_model=CheckoutOut,
    summary="Top up the wallet by Pix or card",
    responses=error_responses(401, 403, 404, 409, 422),  # 404: an Idempotency-Key replay of a lost checkout
)
def post_checkout(
    body: CheckoutRequest,
    request: Request,
    response: Response,
    principal: Principal = Depends(authenticate),
    idempotency_key: str | None = IDEMPOTENCY_HEADER,
) -> CheckoutOut:
    idempotency = idempotency_request(idempotency_key, "POST", "/billing/checkout", body.model_dump(mode="json"))
    checkout, replayed = create_checkout_once(
        services(), principal, idempotency, body.amount, body.method, str(request.base_url)
    )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CheckoutOut(**checkout_out(checkout))
