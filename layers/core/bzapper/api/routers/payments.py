"""The payment provider's webhook and the sandbox provider's checkout page (no API key on either)."""

from __future__ import annotations

import html

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import HTMLResponse

from bzapper import i18n
from bzapper.api.bodies import JsonRoute
from bzapper.api.errors import resolve_locale
from bzapper.api.schemas.common import error_responses, html_responses
from bzapper.api.schemas.payments import Received
from bzapper.bootstrap import services
from bzapper.domain.billing import Checkout
from bzapper.services.billing import process_provider_event, sandbox_checkout, settle_sandbox_checkout

router = APIRouter(tags=["billing"], route_class=JsonRoute)

# Not found (404) and no longer open (409) are pages too: a payer's browser shows them.
_HTML_PAGE = html_responses(
    404, 409, example="<!doctype html><html lang='en'><head><title>bzapper sandbox checkout</title>…</html>"
)
CHECKOUT_ID = Path(examples=["chk_01JD5V6W4E7R8T9Y0U1I2O3P4Q"])


@router.post(
    "/billing/webhooks/stripe",
    response_model=Received,
    summary="Payment provider webhook (Stripe-Signature verified)",
    responses=error_responses(400, 422),
)
async def stripe_webhook(
    request: Request, stripe_signature: str | None = Header(default=None, alias="Stripe-Signature")
) -> Received:
    payload = await request.body()  # verified over the exact bytes received
    process_provider_event(services(), payload, stripe_signature)
    return Received(received=True)


def _page(request: Request, body: str, status_code: int = 200) -> HTMLResponse:
    locale = resolve_locale(request.headers.get("accept-language"), None)
    title = html.escape(i18n.translate("checkout.title", locale))
    return HTMLResponse(
        f"<!doctype html><html lang='{locale}'><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body style='font-family:sans-serif;max-width:32rem;margin:3rem auto'><h1>{title}</h1>{body}</body></html>",
        status_code=status_code,
    )


def _open_checkout(request: Request, checkout_id: str) -> tuple[Checkout | None, HTMLResponse | None]:
    locale = resolve_locale(request.headers.get("accept-language"), None)
    checkout = sandbox_checkout(services(), checkout_id)
    if checkout is None:
        return None, _page(request, f"<p>{html.escape(i18n.translate('checkout.not_found', locale))}</p>", 404)
    if checkout.status != "open":
        closed = f"checkout.closed.{checkout.status}"
        text = i18n.translate(closed if closed in i18n.MESSAGES else "checkout.closed", locale)
        return None, _page(request, f"<p>{html.escape(text)}</p>", 409)
    return checkout, None


@router.get(
    "/sandbox/checkout/{checkout_id}",
    response_model=None,
    responses=_HTML_PAGE,
    summary="The sandbox provider's checkout page (test mode)",
)
def checkout_page(request: Request, checkout_id: str = CHECKOUT_ID) -> HTMLResponse:
    checkout, refusal = _open_checkout(request, checkout_id)
    if checkout is None:
        return refusal or _page(request, "", 404)
    locale = resolve_locale(request.headers.get("accept-language"), None)
    amount = f"R$ {checkout.amount / 100:.2f}"
    summary = html.escape(i18n.translate("checkout.summary", locale, amount=amount, method=checkout.method))
    action = html.escape(f"/sandbox/checkout/{checkout_id}")
    return _page(
        request,
        f"<p>{summary}</p>"
        f"<form method='post' action='{action}/complete'><button>{html.escape(i18n.translate('checkout.pay', locale))}"
        f"</button></form><form method='post' action='{action}/fail'>"
        f"<button>{html.escape(i18n.translate('checkout.fail', locale))}</button></form>",
    )


def _settle(request: Request, checkout_id: str, paid: bool) -> HTMLResponse:
    checkout, refusal = _open_checkout(request, checkout_id)
    if checkout is None:
        return refusal or _page(request, "", 404)
    settle_sandbox_checkout(services(), checkout, paid)
    locale = resolve_locale(request.headers.get("accept-language"), None)
    return _page(
        request, f"<p>{html.escape(i18n.translate('checkout.paid' if paid else 'checkout.failed', locale))}</p>"
    )


@router.post(
    "/sandbox/checkout/{checkout_id}/complete",
    response_model=None,
    responses=_HTML_PAGE,
    summary="Complete a sandbox payment (test mode)",
)
def complete_checkout(request: Request, checkout_id: str = CHECKOUT_ID) -> HTMLResponse:
    return _settle(request, checkout_id, paid=True)


@router.post(
    "/sandbox/checkout/{checkout_id}/fail",
    response_model=None,
    responses=_HTML_PAGE,
    summary="Fail a sandbox payment (test mode)",
)
def fail_checkout(request: Request, checkout_id: str = CHECKOUT_ID) -> HTMLResponse:
    return _settle(request, checkout_id, paid=False)
