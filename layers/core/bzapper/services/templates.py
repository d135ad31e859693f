"""Message templates (Cloud API numbers): GET /templates, a template send's content, and the customer service
window a free-form send needs (docs/templates.md).

The stored copy of a number's templates is read again from its WhatsApp Business Account (the TemplateSource)
when it is older than REFRESH_MS, on a read or a template send; when the account cannot be read, a stale copy
still serves (Meta rechecks every send anyway) and only a number never read answers 503.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bzapper.domain.clock import now_ms
from bzapper.domain.errors import BzError, engine_unsupported
from bzapper.domain.instances import can_send
from bzapper.domain.media import MediaSource
from bzapper.domain.model import InstanceRef, InstanceView, Principal
from bzapper.domain.phones import Recipient
from bzapper.domain.service_window import needs_window, window_open
from bzapper.ports.templates import TemplateSourceUnavailable
from bzapper.services.container import Services
from bzapper.services.instances import owned
from bzapper.services.media import media_for_send

if TYPE_CHECKING:  # the templates' rules load with the first template read or send, not with every send
    from bzapper.domain.templates import TemplateSet

logger = logging.getLogger(__name__)


def check_engine(instance: InstanceRef, message_type: str) -> None:
    """422 `not_supported` naming the engine, before anything is charged or locked."""
    if not can_send(instance.engine, message_type):
        raise engine_unsupported(instance.engine, message_type)


def list_templates(services: Services, principal: Principal, instance_id: str) -> TemplateSet:
    """GET /templates: the number's templates, every language and status (another account's number is a 404)."""
    view = owned(services, principal, instance_id)
    check_engine(view.ref, "template")
    return current_templates(services, view)


def current_templates(services: Services, view: InstanceView) -> TemplateSet:
    """The stored copy, read again from the account first when it is stale (or was never read)."""
    from bzapper.domain.templates import TemplateSet

    stored = services.templates.list(view.instance_id)
    now = now_ms()
    if stored is not None and not stored.stale(now):
        return stored
    if services.template_source is None:
        return stored or TemplateSet([], 0)
    return refresh_templates(services, view, fallback=stored)


def refresh_templates(services: Services, view: InstanceView, fallback: TemplateSet | None = None) -> TemplateSet:
    """Reads the account's templates now and stores them (also what a template status webhook calls)."""
    from bzapper.domain.templates import TemplateSet

    assert services.template_source is not None
    try:
        templates = services.template_source.fetch(view)
    except TemplateSourceUnavailable:
        if fallback is not None:
            logger.warning("templates not refreshed: account unreadable", extra={"instance_id": view.instance_id})
            return fallback
        raise BzError("temporarily_unavailable", retry_after=5) from None
    synced = TemplateSet(templates, now_ms())
    services.templates.replace(view.instance_id, templates, synced.synced_at)
    return synced


def template_content(
    services: Services, principal: Principal, instance: InstanceRef, template: dict[str, Any]
) -> dict[str, Any]:
    """A template send's content: the template checked (exact name and language, approved, every parameter)
    and its header media resolved (the account's own file, of the header's kind). Runs after the idempotency
    lock, as every resolution of a send does."""
    from bzapper.domain.templates import REFRESH_MS, TemplateSet, check_send

    name, language = str(template.get("name", "")), str(template.get("language", ""))
    found, synced_at = services.templates.lookup(instance.instance_id, name, language)
    if services.template_source is not None and (synced_at is None or now_ms() - synced_at >= REFRESH_MS):
        view = services.instances.view(instance.instance_id)  # what the account's source needs to read it
        if view is None:
            raise BzError("not_found")
        stored = TemplateSet([found], synced_at or 0) if found is not None else None
        found = refresh_templates(services, view, fallback=stored).find(name, language)
    checked = check_send(found, name, language, template.get("components"))
    content = checked.content
    for ref in checked.media:
        try:
            media = media_for_send(services, principal, ref.kind, MediaSource(media_id=ref.media_id))
        except BzError as error:
            if error.code != "validation_failed":
                raise
            raise BzError(
                "template_parameters_invalid",
                message_key="error.template_parameters_invalid.media_file",
                param=ref.param,
                params={"param": ref.param, "kind": ref.kind},
            ) from error
        parameter = content["template"]["components"][ref.component]["parameters"][ref.parameter]
        parameter[ref.kind]["media"] = media
    return content


# --- the customer service window ----------------------------------------------------------------------------


def check_window(services: Services, instance: InstanceRef, recipient: Recipient, message_type: str) -> None:
    """422 `outside_customer_service_window` for a free-form send from a Cloud API number to a contact who has
    not written in the last 24 hours. The contact is keyed as the inbox keys it: its phone and its LID (or
    Meta's user id), whichever its messages came under, so either key of one contact sees the same window."""
    if not needs_window(instance.engine, message_type):
        return
    from bzapper.services.inbox import resolve_contact  # the inbox's contact keys; loaded by cloud sends only

    contact = resolve_contact(services, instance.account_id, recipient, None)
    rows = services.inbox.conversations(instance.instance_id, contact.jids)
    last = max((row.last_inbound_at for row in rows if row.last_inbound_at is not None), default=None)
    if not window_open(last, now_ms()):
        raise BzError("outside_customer_service_window", param="to")
