"""Contacts of a number: presence, blocking and a contact's profile (docs/contacts.md, docs/profiles.md).
Every call is a question to the worker holding the number (the engine does the WhatsApp part)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request

from bzapper.api.apps import allowed_methods
from bzapper.api.auth import authenticate
from bzapper.api.bodies import JsonRoute
from bzapper.api.schemas.common import IN_NUMBERING_PLAN, RECIPIENT_PATTERN, error_responses
from bzapper.api.schemas.profiles import ContactProfile
from bzapper.bootstrap import services
from bzapper.domain.errors import BzError
from bzapper.domain.model import Principal
from bzapper.services import profiles

router = APIRouter(tags=["contacts"], route_class=JsonRoute)

CONTACT_JID = Path(
    description="A phone (E.164; URL-encode the `+`), a phone JID or an `@lid` JID." + IN_NUMBERING_PLAN,
    json_schema_extra={"pattern": RECIPIENT_PATTERN},
    examples=["+5511988880001"],
)
ASKING = Query(min_length=1, max_length=64, description="The connected number that looks the contact up.")


def _own_path(request: Request) -> None:
    """`/contacts/checkIsOnWhatsApp` (POST) is another route's literal path, the most specific template for it
    (as on API Gateway): a GET there is a 405 naming the methods it has, not a contact of that name."""
    allowed = allowed_methods(request.url.path)
    if request.method not in allowed:
        params = {"method": request.method, "path": request.url.path}
        raise BzError("method_not_allowed", params=params, headers={"Allow": ", ".join(allowed)})


@router.get(
    "/contacts/{jid}",
    response_model=ContactProfile,
    summary="A contact's WhatsApp profile: name, phone, LID, about, business or not, picture",
    # 404: also `not_on_whatsapp`, a number WhatsApp does not know.
    responses=error_responses(401, 403, 404, 409, 422, 503),
    dependencies=[Depends(_own_path)],
)
def get_contact(jid: str = CONTACT_JID, instance_id: str = ASKING, principal: Principal = Depends(authenticate)) -> Any:
    return profiles.contact(services(), principal, instance_id, jid)
