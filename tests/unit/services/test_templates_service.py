"""The commercial layer of Cloud API numbers over the in-memory fakes: template sends on the one send path, the
stored templates and their refresh, the customer service window, and Meta's pricing stored and counted."""

from __future__ import annotations

import pytest
from support.memory import LID, PHONE, PHONE_JID, open_account, send_text

from bzapper.domain.errors import BzError
from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.domain.model import StatusReport
from bzapper.domain.sending import SendDraft
from bzapper.domain.service_window import WINDOW_MS
from bzapper.domain.templates import REFRESH_MS, Template
from bzapper.services import inbox
from bzapper.services.sending import send_message
from bzapper.services.statuses import apply_report
from bzapper.services.templates import list_templates

ORDER = Template(
    name="order_update",
    language="en",
    category="utility",
    status="APPROVED",
    id="t-1",
    components=[{"type": "BODY", "text": "Hi {{1}}, order {{2}} shipped."}],
)
PROMO = Template(
    name="promo",
    language="en",
    category="marketing",
    status="APPROVED",
    components=[{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "New!"}],
)
ORDER_BODY = [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#7"}]}]


def cloud_number(fakes, tenant, *, templates=(ORDER,)) -> str:
    """A Cloud API number of the tenant (the cloud engine itself is another part's: the record is enough)."""
    instance = fakes.instances.create(
        tenant.account_id, livemode=False, engine="cloud", name="Cloud", status="connected"
    )
    fakes.template_source.templates[instance.instance_id] = list(templates)
    return instance.instance_id


def send_template(fakes, tenant, instance_id, *, name="order_update", language="en", components=ORDER_BODY, **draft):
    template = {"name": name, "language": language, "components": components}
    return send_message(
        fakes.services,
        tenant.principal,
        SendDraft(type="template", to=PHONE, instance_id=instance_id, content={"template": template}, **draft),
    )


def send_free_form(fakes, tenant, instance_id, to=PHONE, **draft):
    draft_ = SendDraft(type="text", to=to, instance_id=instance_id, content={"body": "hi"}, **draft)
    return send_message(fakes.services, tenant.principal, draft_)


def contact_writes(fakes, tenant, instance_id, *, chat_jid=PHONE_JID, sender=None, wa_id="WAMID1", at=None) -> None:
    inbox.record_inbound(
        fakes.services,
        {
            "instance_id": instance_id,
            "account_id": tenant.account_id,
            "livemode": False,
            "wa_message_id": wa_id,
            "chat_jid": chat_jid,
            "sender": sender or {"jid": chat_jid},
            "type": "text",
            "content": {"body": "hello"},
            "at": fakes.clock() if at is None else at,
        },
    )


def refusal(call) -> BzError:
    with pytest.raises(BzError) as raised:
        call()
    return raised.value


# Template sends ---------------------------------------------------------------------------------------------


def test_a_template_send_takes_the_one_send_path(fakes):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)

    result = send_template(fakes, tenant, instance_id, client_reference="order-7")

    view = fakes.messages.get(result.accepted.message_id)
    assert (view.type, view.status, view.client_reference) == ("template", "queued", "order-7")
    assert view.content["template"]["name"] == "order_update"
    assert view.content["template"]["components"] == ORDER_BODY
    assert fakes.wallets.balance(tenant.wallet) == 999  # charged like any send
    assert fakes.usage.total(tenant.account_id, False, "sends") == 1
    [job] = fakes.jobs.jobs
    assert job["type"] == "template" and job["content"]["template"]["category"] == "utility"


def test_a_template_send_reads_its_one_template_while_the_copy_is_fresh(fakes):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)
    send_template(fakes, tenant, instance_id)  # the first one reads the account
    fakes.templates.calls.clear()

    send_template(fakes, tenant, instance_id)

    assert [call.method for call in fakes.templates.calls] == ["lookup"]  # never every template of the account
    assert fakes.template_source.fetches == 1


def test_a_template_needs_no_open_window(fakes):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)
    assert send_template(fakes, tenant, instance_id).accepted.status == "queued"


@pytest.mark.parametrize("engine", ["sandbox", "whatsmeow"])
def test_engines_without_templates_refuse_them_by_name_before_anything_is_written(fakes, engine):
    tenant = open_account(fakes)
    other = fakes.instances.create(tenant.account_id, livemode=False, engine=engine, name="X", status="connected")

    error = refusal(lambda: send_template(fakes, tenant, other.instance_id))

    assert (error.code, error.status, error.message_key) == ("not_supported", 422, "error.engine_not_supported")
    assert error.params == {"engine": engine, "type": "template"}
    assert fakes.messages.rows == {} and fakes.wallets.balance(tenant.wallet) == 1_000
    assert fakes.rate_limits.calls == []  # refused before the send budget is taken


def test_a_wrong_template_send_writes_nothing_and_frees_its_key(fakes):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)
    key = IdempotencyRequest("k-1", "f-1")

    error = refusal(lambda: send_template(fakes, tenant, instance_id, language="pt_BR", idempotency=key))
    assert (error.code, error.param) == ("template_not_found", "template.name")
    error = refusal(lambda: send_template(fakes, tenant, instance_id, components=[], idempotency=key))
    assert (error.code, error.param) == ("template_parameters_invalid", "template.components")

    assert fakes.messages.rows == {} and fakes.wallets.balance(tenant.wallet) == 1_000
    assert send_template(fakes, tenant, instance_id, idempotency=key).accepted.status == "queued"


def test_a_pending_template_is_refused(fakes):
    tenant = open_account(fakes)
    pending = Template("order_update", "en", "utility", "PENDING", ORDER.components)
    instance_id = cloud_number(fakes, tenant, templates=[pending])
    assert refusal(lambda: send_template(fakes, tenant, instance_id)).code == "template_not_approved"


def test_a_header_image_by_our_id_carries_the_file(fakes):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant, templates=[PROMO])
    media = fakes.media.put_bytes(tenant.account_id, False, b"\xff\xd8\xff\xe0" + b"0" * 100, "image/jpeg", "a.jpg")
    components = [{"type": "header", "parameters": [{"type": "image", "image": {"id": media["media_id"]}}]}]

    result = send_template(fakes, tenant, instance_id, name="promo", components=components)

    header = fakes.messages.get(result.accepted.message_id).content["template"]["components"][0]
    image = header["parameters"][0]["image"]
    assert image["id"] == media["media_id"] and image["media"]["key"] == media["key"]


def test_a_header_image_of_another_account_names_the_parameter(fakes):
    tenant, other = open_account(fakes), open_account(fakes)
    instance_id = cloud_number(fakes, tenant, templates=[PROMO])
    media = fakes.media.put_bytes(other.account_id, False, b"\xff\xd8\xff\xe0" + b"0" * 100, "image/jpeg", "a.jpg")
    components = [{"type": "header", "parameters": [{"type": "image", "image": {"id": media["media_id"]}}]}]

    error = refusal(lambda: send_template(fakes, tenant, instance_id, name="promo", components=components))

    assert (error.code, error.param) == (
        "template_parameters_invalid",
        "template.components.0.parameters.0.image.id",
    )


# The stored templates -----------------------------------------------------------------------------------------


def test_templates_are_read_from_the_account_once_then_served_until_stale(fakes, clock):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)

    first = list_templates(fakes.services, tenant.principal, instance_id)
    assert [t.name for t in first.templates] == ["order_update"] and first.synced_at == clock.now
    fakes.template_source.templates[instance_id].append(PROMO)
    clock.advance(REFRESH_MS - 1)
    assert len(list_templates(fakes.services, tenant.principal, instance_id).templates) == 1
    assert fakes.template_source.fetches == 1

    clock.advance(1)
    assert len(list_templates(fakes.services, tenant.principal, instance_id).templates) == 2
    assert fakes.template_source.fetches == 2


def test_an_unreadable_account_serves_the_stale_copy_or_503_when_there_is_none(fakes, clock):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)
    fakes.template_source.unavailable = True
    error = refusal(lambda: list_templates(fakes.services, tenant.principal, instance_id))
    assert (error.code, error.retry_after) == ("temporarily_unavailable", 5)

    fakes.template_source.unavailable = False
    list_templates(fakes.services, tenant.principal, instance_id)
    clock.advance(REFRESH_MS)
    fakes.template_source.unavailable = True
    assert [t.name for t in list_templates(fakes.services, tenant.principal, instance_id).templates] == ["order_update"]


def test_a_template_approved_since_the_last_read_is_seen_once_the_copy_is_stale(fakes, clock):
    tenant = open_account(fakes)
    pending = Template("order_update", "en", "utility", "PENDING", ORDER.components)
    instance_id = cloud_number(fakes, tenant, templates=[pending])
    assert refusal(lambda: send_template(fakes, tenant, instance_id)).code == "template_not_approved"

    fakes.template_source.templates[instance_id] = [ORDER]
    clock.advance(REFRESH_MS)
    assert send_template(fakes, tenant, instance_id).accepted.status == "queued"


def test_another_tenants_number_has_no_templates_to_show(fakes):
    tenant, other = open_account(fakes), open_account(fakes)
    instance_id = cloud_number(fakes, other)
    assert refusal(lambda: list_templates(fakes.services, tenant.principal, instance_id)).code == "not_found"
    assert fakes.template_source.fetches == 0


def test_a_sandbox_number_has_no_templates(fakes):
    tenant = open_account(fakes)
    error = refusal(lambda: list_templates(fakes.services, tenant.principal, tenant.instance_id))
    assert (error.code, error.status, error.params["engine"]) == ("not_supported", 422, "sandbox")


# The customer service window -----------------------------------------------------------------------------------


def test_a_free_form_send_needs_the_contact_to_have_written_in_the_last_24_hours(fakes, clock):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)

    error = refusal(lambda: send_free_form(fakes, tenant, instance_id))
    assert (error.code, error.status, error.param) == ("outside_customer_service_window", 422, "to")
    assert fakes.messages.rows == {} and fakes.wallets.balance(tenant.wallet) == 1_000

    contact_writes(fakes, tenant, instance_id)
    assert send_free_form(fakes, tenant, instance_id).accepted.status == "queued"
    clock.advance(WINDOW_MS - 1)
    assert send_free_form(fakes, tenant, instance_id).accepted.status == "queued"
    clock.advance(1)
    assert refusal(lambda: send_free_form(fakes, tenant, instance_id)).code == "outside_customer_service_window"


def test_other_engines_have_no_window(fakes):
    tenant = open_account(fakes)
    assert send_text(fakes, tenant).accepted.status == "queued"


def test_a_replay_answers_as_the_first_request_even_after_the_window_closed(fakes, clock):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)
    contact_writes(fakes, tenant, instance_id)
    key = IdempotencyRequest("k-1", "f-1")
    first = send_free_form(fakes, tenant, instance_id, idempotency=key)

    clock.advance(WINDOW_MS)
    again = send_free_form(fakes, tenant, instance_id, idempotency=key)

    assert again.replayed and again.accepted == first.accepted


def test_the_window_is_the_contacts_whichever_key_it_wrote_under(fakes):
    """A contact who wrote under its LID (its phone not yet known) and is written to by phone once the mapping is
    learned: the inbox's keys of one contact share one window."""
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)
    contact_writes(fakes, tenant, instance_id, chat_jid=LID, sender={"jid": LID})
    assert refusal(lambda: send_free_form(fakes, tenant, instance_id)).code == "outside_customer_service_window"

    fakes.identities.record(tenant.account_id, PHONE, LID)
    assert send_free_form(fakes, tenant, instance_id).accepted.status == "queued"
    # (A Cloud API number writes to phone numbers only: a send to the LID itself is refused before the window.)


def test_an_older_message_arriving_late_never_moves_the_window_back(fakes, clock):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)
    contact_writes(fakes, tenant, instance_id, wa_id="NEW")
    newest = clock.now
    contact_writes(fakes, tenant, instance_id, wa_id="OLD", at=newest - WINDOW_MS)

    [row] = fakes.inbox.rows.values()
    assert row.last_inbound_at == newest


def test_our_own_messages_and_echoes_never_open_the_window(fakes):
    tenant = open_account(fakes)
    instance_id = cloud_number(fakes, tenant)
    inbox.record_inbound(
        fakes.services,
        {
            "instance_id": instance_id,
            "account_id": tenant.account_id,
            "livemode": False,
            "wa_message_id": "ECHO1",
            "chat_jid": PHONE_JID,
            "from_me": True,
            "sender": {"jid": "5511900000000@s.whatsapp.net"},
            "type": "text",
            "content": {"body": "sent from the phone"},
            "at": fakes.clock(),
        },
    )
    assert refusal(lambda: send_free_form(fakes, tenant, instance_id)).code == "outside_customer_service_window"


# Pricing ------------------------------------------------------------------------------------------------------


def status(fakes, message_id, name, pricing=None) -> None:
    view = fakes.messages.get(message_id)
    apply_report(
        fakes.services,
        StatusReport(view.instance_id, view.wa_message_id, name, fakes.clock(), message_id=message_id, pricing=pricing),
    )


UTILITY = {"category": "utility", "billable": True, "model": "PMP"}


def test_the_first_priced_status_is_stored_and_shown_in_events(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    status(fakes, message_id, "sending")
    status(fakes, message_id, "sent", pricing=UTILITY)
    status(fakes, message_id, "delivered", pricing={"category": "marketing", "billable": False, "model": None})

    assert fakes.messages.get(message_id).pricing == UTILITY  # Meta prices a message once: the first wins
    delivered = [e for e in fakes.events.published if e["type"] == "message.delivered"]
    assert delivered[0]["data"]["pricing"] == UTILITY


def test_a_priced_message_counts_once_in_its_category_when_delivered(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    for name in ("sending", "sent"):
        status(fakes, message_id, name, pricing=UTILITY)
    assert fakes.usage.total(tenant.account_id, False, "priced_utility") == 0  # sent is not billed

    status(fakes, message_id, "delivered", pricing=UTILITY)
    status(fakes, message_id, "delivered", pricing=UTILITY)  # a redelivered report
    status(fakes, message_id, "read", pricing=UTILITY)

    assert fakes.usage.total(tenant.account_id, False, "priced_utility") == 1
    assert fakes.usage.total(tenant.account_id, False, "billable_utility") == 1


def test_a_read_that_overtook_its_delivered_counts_the_message(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    status(fakes, message_id, "sending")
    status(fakes, message_id, "read", pricing={"category": "service", "billable": False, "model": "PMP"})
    status(fakes, message_id, "delivered", pricing={"category": "service", "billable": False, "model": "PMP"})

    assert fakes.usage.total(tenant.account_id, False, "priced_service") == 1
    assert fakes.usage.total(tenant.account_id, False, "billable_service") == 0


def test_a_message_without_pricing_counts_in_no_category(fakes):
    tenant = open_account(fakes)
    message_id = send_text(fakes, tenant).accepted.message_id
    for name in ("sending", "sent", "delivered"):
        status(fakes, message_id, name)
    assert fakes.messages.get(message_id).pricing is None
    assert all(
        fakes.usage.total(tenant.account_id, False, f"priced_{category}") == 0
        for category in ("marketing", "utility", "authentication", "service", "other")
    )
