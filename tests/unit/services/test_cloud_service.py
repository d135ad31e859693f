"""Cloud API numbers (bzapper.services.cloud): connecting one, its sends through Graph with Meta's backoff and
exactly-once bookkeeping, and Meta's webhooks through the same reports as every engine, fenced by the number."""

from __future__ import annotations

import json

import pytest
from support.memory import PHONE, open_account
from support.meta import (
    CONTACT,
    LIVE_SECRET,
    PHONE_NUMBER_ID,
    TEST_SECRET,
    WABA_ID,
    contacts,
    envelope,
    failed,
    signed,
    status,
    text_message,
)

from bzapper.config import reset_settings
from bzapper.domain.cloud import RATE_LIMIT_ATTEMPTS, GraphFailure
from bzapper.domain.errors import BzError
from bzapper.domain.sending import SendDraft
from bzapper.ports.templates import TemplateSourceUnavailable
from bzapper.services import cloud, groups, inbox, instances
from bzapper.services.reports import apply_worker_report
from bzapper.services.sending import send_message

TOKEN = "EAAG-secret-token-1234"


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    monkeypatch.setenv("BZ_CLOUD_APP_SECRET", LIVE_SECRET)
    monkeypatch.setenv("BZ_CLOUD_VERIFY_TOKEN", "verify-me")
    reset_settings()
    yield
    reset_settings()


def connect(fakes, tenant, phone_number_id: str = PHONE_NUMBER_ID, token: str = TOKEN):
    return instances.create(
        fakes.services,
        tenant.principal,
        name="Official",
        engine="cloud",
        cloud={"phone_number_id": phone_number_id, "waba_id": WABA_ID, "access_token": token},
    )


def refusal(call) -> BzError:
    with pytest.raises(BzError) as raised:
        call()
    return raised.value


# --- connecting ------------------------------------------------------------------------------------------------


def test_a_test_key_connects_a_cloud_number_at_once_with_what_graph_says(fakes):
    tenant = open_account(fakes)

    view = connect(fakes, tenant)

    assert (view.engine, view.status, view.phone, view.push_name) == (
        "cloud",
        "connected",
        "+5511970000001",
        "Sandbox Business",
    )
    assert view.cloud.public() == {
        "phone_number_id": PHONE_NUMBER_ID,
        "waba_id": WABA_ID,
        "token_last4": "1234",
        "display_phone_number": "+55 11 97000-0001",
        "verified_name": "Sandbox Business",
        "quality_rating": "GREEN",
    }
    assert TOKEN not in json.dumps(view.cloud.to_json())  # stored sealed only
    assert fakes.cloud_numbers.owner(PHONE_NUMBER_ID) == view.instance_id
    [event] = fakes.events.of_type("instance.connected")
    assert event["data"]["instance_id"] == view.instance_id
    assert fakes.control.sent == []  # no worker is told anything: no session to open


def test_a_token_graph_refuses_is_a_translated_422_and_nothing_is_stored(fakes):
    tenant = open_account(fakes)
    before = fakes.instances.count_for(tenant.account_id, False)

    error = refusal(lambda: connect(fakes, tenant, token="invalid-token"))

    assert (error.code, error.status, error.param) == ("cloud_token_invalid", 422, "cloud.access_token")
    assert fakes.instances.count_for(tenant.account_id, False) == before
    assert fakes.cloud_numbers.owner(PHONE_NUMBER_ID) is None


def test_a_phone_number_id_belongs_to_one_instance(fakes):
    tenant, other = open_account(fakes), open_account(fakes, name="Other")
    connect(fakes, tenant)

    error = refusal(lambda: connect(fakes, other))

    assert (error.code, error.status) == ("cloud_number_taken", 409)


def test_a_deleted_cloud_instance_frees_its_number(fakes):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)

    instances.delete(fakes.services, tenant.principal, view.instance_id)

    assert fakes.cloud_numbers.owner(PHONE_NUMBER_ID) is None
    assert connect(fakes, tenant).status == "connected"


def test_engine_cloud_needs_its_ids_and_other_engines_refuse_them(fakes):
    tenant = open_account(fakes)
    assert refusal(lambda: instances.create(fakes.services, tenant.principal, name="x", engine="cloud")).param == (
        "cloud"
    )
    ids = {"phone_number_id": "1", "waba_id": "2", "access_token": "t"}
    error = refusal(lambda: instances.create(fakes.services, tenant.principal, name="x", engine="sandbox", cloud=ids))
    assert (error.code, error.param) == ("validation_failed", "cloud")


@pytest.mark.parametrize("action", [instances.qr, instances.logout, instances.restart])
def test_a_cloud_number_has_no_session_to_pair_restart_or_log_out(fakes, action):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)
    error = refusal(lambda: action(fakes.services, tenant.principal, view.instance_id))
    assert (error.code, error.message_key) == ("not_supported", "error.engine_action")


@pytest.mark.parametrize(
    "action",
    [
        lambda fakes, principal, instance_id: instances.update_settings(
            fakes.services, principal, instance_id, {"reject_calls": True}
        ),
        lambda fakes, principal, instance_id: groups.joined(fakes.services, principal, instance_id),
        lambda fakes, principal, instance_id: groups.create(
            fakes.services, principal, instance_id, "Team", ["+5511988888888"]
        ),
    ],
    ids=["settings", "groups", "create a group"],
)
def test_session_features_answer_not_supported_on_a_cloud_number_and_ask_no_worker(fakes, action):
    """A Cloud API number sits on no worker's shard: a settings change or a group call for it must be a clear
    refusal, never a command to a queue no worker reads."""
    tenant = open_account(fakes)
    view = connect(fakes, tenant)
    error = refusal(lambda: action(fakes, tenant.principal, view.instance_id))
    assert (error.code, error.message_key, error.params["engine"]) == ("not_supported", "error.engine_action", "cloud")
    assert fakes.control.sent == []


# --- accepting a send -------------------------------------------------------------------------------------------


def send(fakes, tenant, instance_id, kind="text", content=None, to=PHONE):
    contact_wrote(fakes, tenant, instance_id, to)  # free-form messages need the contact's 24-hour window open
    draft = SendDraft(type=kind, to=to, instance_id=instance_id, content=content or {"body": "hello"})
    return send_message(fakes.services, tenant.principal, draft)


def contact_wrote(fakes, tenant, instance_id, phone) -> None:
    chat_jid = f"{phone.lstrip('+')}@s.whatsapp.net"
    inbox.record_inbound(
        fakes.services,
        {
            "instance_id": instance_id,
            "account_id": tenant.account_id,
            "livemode": False,
            "wa_message_id": f"wamid.first-{phone}",
            "chat_jid": chat_jid,
            "sender": {"jid": chat_jid},
            "type": "text",
            "content": {"body": "hi"},
            "at": fakes.clock(),
        },
    )


def test_a_cloud_send_is_queued_for_the_cloud_consumer(fakes):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)

    result = send(fakes, tenant, view.instance_id)

    [job] = fakes.jobs.jobs
    assert job["message_id"] == result.accepted.message_id
    assert fakes.messages.rows[result.accepted.message_id].shard == view.shard == -1  # no worker's shard


def test_buttons_are_official_on_a_cloud_number_but_polls_are_refused_naming_the_engine(fakes):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)

    send(fakes, tenant, view.instance_id, "buttons", {"body": "Pick", "buttons": [{"id": "a", "title": "A"}]})
    error = refusal(
        lambda: send(
            fakes, tenant, view.instance_id, "poll", {"name": "Q", "options": ["a", "b"], "selectable_count": 1}
        )
    )

    assert (error.code, error.status, error.message_key, error.params["engine"]) == (
        "not_supported",
        422,
        "error.engine_not_supported",
        "cloud",
    )


# --- sending through Graph --------------------------------------------------------------------------------------


def queued(fakes, tenant):
    view = connect(fakes, tenant)
    result = send(fakes, tenant, view.instance_id)
    [job] = fakes.jobs.jobs
    return view, result.accepted.message_id, job


def graph_sends(fakes) -> list:
    return [call for call in fakes.cloud.graph_calls if call[0] == "send"]


def test_a_send_records_metas_id_and_waits_for_metas_sent(fakes):
    tenant = open_account(fakes)
    _, message_id, job = queued(fakes, tenant)

    outcome = cloud.send_job(fakes.services, job, 1)

    assert outcome.hide_seconds is None
    message = fakes.messages.get(message_id)
    assert message.wa_message_id.startswith("wamid.") and message.status == "sending"
    [(_, credentials, _)] = graph_sends(fakes)
    assert credentials.token == TOKEN  # opened from the seal for the call only


def test_a_redelivered_job_whose_wamid_is_recorded_is_not_sent_again(fakes):
    tenant = open_account(fakes)
    _, _, job = queued(fakes, tenant)
    cloud.send_job(fakes.services, job, 1)

    cloud.send_job(fakes.services, job, 2)

    assert len(graph_sends(fakes)) == 1


@pytest.mark.parametrize(("code", "first"), [(131056, 6), (130429, 2), (80007, 2)])
def test_metas_rate_limits_hide_the_job_then_fail_it_rate_limited(fakes, code, first):
    tenant = open_account(fakes)
    _, message_id, job = queued(fakes, tenant)
    fakes.cloud.refuse(*[GraphFailure(400, code, "limit")] * RATE_LIMIT_ATTEMPTS)

    assert cloud.send_job(fakes.services, job, 1).hide_seconds == first
    assert fakes.messages.get(message_id).status == "sending"  # kept, not lost
    assert cloud.send_job(fakes.services, job, RATE_LIMIT_ATTEMPTS).hide_seconds is None

    message = fakes.messages.get(message_id)
    assert (message.status, message.error_code) == ("failed", "rate_limited")
    assert fakes.wallets.balance(tenant.wallet) == 1_000  # refunded


def test_a_permanent_refusal_fails_with_our_code_and_unknown_ones_keep_metas(fakes):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)
    first = send(fakes, tenant, view.instance_id).accepted.message_id
    second = send(fakes, tenant, view.instance_id, to="+5511977776666").accepted.message_id
    fakes.cloud.refuse(GraphFailure(400, 131026, "Message undeliverable"), GraphFailure(400, 135000, "Brand new"))

    for job in fakes.jobs.jobs:
        cloud.send_job(fakes.services, job, 1)

    assert fakes.messages.get(first).error_code == "not_on_whatsapp"
    unknown = fakes.messages.get(second)
    assert (unknown.error_code, unknown.error_details) == (
        "cloud_api_error",
        {"meta_code": 135000, "meta_title": "Brand new"},
    )


def test_a_token_meta_revoked_fails_the_send_and_the_instance(fakes):
    tenant = open_account(fakes)
    view, message_id, job = queued(fakes, tenant)
    fakes.cloud.refuse(GraphFailure(401, 190, "Session has expired"))

    cloud.send_job(fakes.services, job, 1)

    assert fakes.messages.get(message_id).error_code == "cloud_token_invalid"
    instance = fakes.instances.view(view.instance_id)
    assert (instance.status, instance.last_error) == ("failed", "cloud_token_invalid")


def test_an_unexpected_failure_raises_so_the_job_is_retried(fakes):
    tenant = open_account(fakes)
    _, message_id, job = queued(fakes, tenant)
    fakes.cloud.refuse(GraphFailure(500, 131000, "Something went wrong"))

    with pytest.raises(GraphFailure):
        cloud.send_job(fakes.services, job, 1)

    assert fakes.messages.get(message_id).status == "sending"
    assert cloud.transient_backoff(1) == 10 and cloud.transient_backoff(9) == 60


# --- Meta's webhooks --------------------------------------------------------------------------------------------


def sent_message(fakes, tenant):
    view, message_id, job = queued(fakes, tenant)
    cloud.send_job(fakes.services, job, 1)
    return view, message_id, fakes.messages.get(message_id).wa_message_id


def deliver(fakes, payload, secret=TEST_SECRET) -> int:
    body, header = signed(payload, secret)
    return cloud.receive_webhook(fakes.services, body, header)


def apply_queued(fakes) -> None:
    for report in fakes.reports.reports:
        apply_worker_report(fakes.services, report)


def test_statuses_become_the_messages_statuses_and_events_with_pricing(fakes):
    tenant = open_account(fakes)
    _, message_id, wamid = sent_message(fakes, tenant)

    assert deliver(fakes, envelope({"statuses": [status(wamid, "sent"), status(wamid, "delivered")]})) == 2
    apply_queued(fakes)

    message = fakes.messages.get(message_id)
    assert message.status == "delivered"
    outbound = [
        e for e in fakes.events.published if e["type"].startswith("message.") and e["type"] != "message.received"
    ]
    assert [e["type"] for e in outbound] == [
        "message.queued",
        "message.sent",
        "message.delivered",
    ]
    assert fakes.reports.reports[0]["pricing"] == {"category": "service", "billable": False, "model": "PMP"}
    assert fakes.reports.reports[0]["fence"] == {"kind": "cloud", "phone_number_id": PHONE_NUMBER_ID}


def test_a_redelivered_webhook_changes_nothing_more(fakes):
    tenant = open_account(fakes)
    _, message_id, wamid = sent_message(fakes, tenant)
    payload = envelope({"statuses": [status(wamid, "sent")]})
    deliver(fakes, payload)
    apply_queued(fakes)
    seen = {event["id"] for event in fakes.events.published}

    deliver(fakes, payload)  # Meta delivers it again
    apply_queued(fakes)

    assert {event["id"] for event in fakes.events.published} == seen  # the same events, if any is published again
    assert [status for status, _ in fakes.messages.get(message_id).history].count("sent") == 1


def test_out_of_order_statuses_never_move_back(fakes):
    tenant = open_account(fakes)
    _, message_id, wamid = sent_message(fakes, tenant)
    deliver(fakes, envelope({"statuses": [status(wamid, "read"), status(wamid, "sent")]}))
    apply_queued(fakes)
    assert fakes.messages.get(message_id).status == "read"


def test_a_failed_status_fails_the_message_with_our_code_and_refunds_it(fakes):
    tenant = open_account(fakes)
    _, message_id, wamid = sent_message(fakes, tenant)
    deliver(fakes, envelope({"statuses": [failed(wamid, 131047, "Re-engagement message")]}))
    apply_queued(fakes)
    message = fakes.messages.get(message_id)
    assert (message.status, message.error_code) == ("failed", "outside_customer_service_window")
    assert fakes.wallets.balance(tenant.wallet) == 1_000


def test_a_status_that_overtook_the_sends_own_write_is_retried_not_lost(fakes):
    tenant = open_account(fakes)
    connect(fakes, tenant)
    deliver(fakes, envelope({"statuses": [status("wamid.NOT_YET", "sent")]}))
    with pytest.raises(cloud.NotYetKnown):
        apply_queued(fakes)


def test_a_tampered_webhook_is_refused_and_queues_nothing(fakes):
    tenant = open_account(fakes)
    _, _, wamid = sent_message(fakes, tenant)
    body, header = signed(envelope({"statuses": [status(wamid, "sent")]}))

    error = refusal(lambda: cloud.receive_webhook(fakes.services, body.replace(b"sent", b"read"), header))
    assert (error.code, error.status) == ("unauthorized", 401)
    assert refusal(lambda: cloud.receive_webhook(fakes.services, body, None)).status == 401
    assert refusal(lambda: cloud.receive_webhook(fakes.services, body, "sha256=" + "0" * 64)).status == 401
    assert fakes.reports.reports == []


def test_the_test_secret_may_not_touch_a_live_number(fakes):
    tenant = open_account(fakes, mode="live")
    connect(fakes, tenant)
    payload = envelope({"contacts": contacts(), "messages": [text_message("hi")]})

    error = refusal(lambda: deliver(fakes, payload, TEST_SECRET))
    assert (error.code, error.status) == ("unauthorized", 401)
    assert fakes.reports.reports == []
    assert deliver(fakes, payload, LIVE_SECRET) == 1  # Meta's own signature is accepted


def test_a_webhook_of_a_number_we_do_not_hold_is_acknowledged_and_ignored(fakes):
    assert deliver(fakes, envelope({"statuses": [status("wamid.X", "sent")]}, phone_number_id="999")) == 0


def test_a_malformed_body_is_a_400_after_its_signature(fakes):
    body = b"not json"
    from bzapper.domain.cloud import sign

    assert refusal(lambda: cloud.receive_webhook(fakes.services, body, sign(body, TEST_SECRET))).status == 400


def test_inbound_messages_reach_the_inbox_once(fakes):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)
    payload = envelope({"contacts": contacts(), "messages": [text_message("hello there")]})

    deliver(fakes, payload)
    deliver(fakes, payload)  # Meta redelivers
    apply_queued(fakes)

    received = fakes.events.of_type("message.received")
    assert len({event["id"] for event in received}) == 1
    [row] = fakes.inbox.conversations(view.instance_id, (f"{CONTACT}@s.whatsapp.net",))
    assert row.unread_count == 1


def test_inbound_media_are_fetched_from_graph_into_the_media_store(fakes):
    tenant = open_account(fakes)
    connect(fakes, tenant)
    fakes.cloud.media_bytes["M1"] = (b"\xff\xd8\xff\xe0jpeg", "image/jpeg")
    image = {
        "from": CONTACT,
        "id": "wamid.IMG",
        "timestamp": "1",
        "type": "image",
        "image": {"id": "M1", "mime_type": "image/jpeg", "sha256": "x"},
    }

    deliver(fakes, envelope({"contacts": contacts(), "messages": [image]}))
    apply_queued(fakes)

    [event] = fakes.events.of_type("message.received")
    media = event["data"]["content"]["media"]
    assert media["media_id"].startswith("med_") and media["mime_type"] == "image/jpeg"


def test_a_report_for_a_number_no_longer_on_its_instance_is_refused(fakes):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)
    deliver(fakes, envelope({"contacts": contacts(), "messages": [text_message("late")]}))
    instances.delete(fakes.services, tenant.principal, view.instance_id)

    apply_queued(fakes)

    assert fakes.events.of_type("message.received") == []


def test_a_cloud_fence_cannot_carry_a_report_to_another_engines_instance(fakes):
    tenant = open_account(fakes)  # its instance is a sandbox one
    connect(fakes, tenant)
    forged = {
        "kind": "inbound",
        "instance_id": tenant.instance_id,
        "account_id": tenant.account_id,
        "livemode": False,
        "wa_message_id": "X",
        "chat_jid": f"{CONTACT}@s.whatsapp.net",
        "from_me": False,
        "sender": {},
        "type": "text",
        "content": {"body": "x"},
        "at": 1,
        "fence": {"kind": "cloud", "phone_number_id": PHONE_NUMBER_ID},
    }
    apply_worker_report(fakes.services, forged)
    assert fakes.events.of_type("message.received") == []


def test_the_verification_challenge(fakes):
    assert cloud.verify_challenge("subscribe", "verify-me", "1158201444") == "1158201444"
    assert refusal(lambda: cloud.verify_challenge("subscribe", "wrong", "1")).status == 403
    assert refusal(lambda: cloud.verify_challenge("unsubscribe", "verify-me", "1")).status == 403


def test_mark_read_is_one_graph_call_per_conversation_with_the_newest_id(fakes):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)
    cloud.mark_read(fakes.services, view.instance_id, ["wamid.1", "wamid.2"])
    assert [(name, arg) for name, _, arg in fakes.cloud.graph_calls if name == "mark_read"] == [
        ("mark_read", "wamid.2")
    ]


def test_a_contact_meta_names_only_by_its_bsuid_gets_a_conversation_keyed_by_it(fakes):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)
    message = {
        "from_user_id": "US.1349120865",
        "id": "wamid.B1",
        "timestamp": "1",
        "type": "text",
        "text": {"body": "no phone here"},
    }
    deliver(fakes, envelope({"contacts": contacts(wa_id=None, user_id="US.1349120865"), "messages": [message]}))
    apply_queued(fakes)

    [event] = fakes.events.of_type("message.received")
    assert event["data"]["contact"] == {
        "jid": "US.1349120865@bsuid",
        "phone": None,
        "lid": None,
        "name": "Kerry Fisher",
    }
    [row] = fakes.inbox.conversations(view.instance_id, ("US.1349120865@bsuid",))
    assert row.unread_count == 1
    contact = inbox.contact_of(fakes.services, tenant.principal, "US.1349120865@bsuid")
    assert (contact.jid, contact.phone, contact.lid) == ("US.1349120865@bsuid", None, None)


# --- templates from the number's WhatsApp Business Account ------------------------------------------------------


def test_the_cloud_template_source_reads_the_wabas_templates_with_the_numbers_token(fakes):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)
    fakes.cloud.waba_templates = [
        {"id": "1", "name": "order_update", "language": "pt_BR", "status": "APPROVED", "category": "UTILITY"},
        {"id": "2", "language": "en", "status": "APPROVED"},  # no name: skipped, not a 500
    ]

    [template] = cloud.CloudTemplateSource(fakes.services).fetch(view)

    assert (template.name, template.language, template.category, template.status) == (
        "order_update",
        "pt_BR",
        "utility",
        "APPROVED",
    )
    [(_, used, _)] = [call for call in fakes.cloud.graph_calls if call[0] == "templates"]
    assert used.token == TOKEN and used.waba_id == WABA_ID


def test_an_unreadable_account_is_a_source_unavailable_so_the_stored_copy_serves(fakes):
    tenant = open_account(fakes)
    view = connect(fakes, tenant)
    fakes.cloud.fail_next("templates", GraphFailure(429, 80008, "Too many calls"))

    with pytest.raises(TemplateSourceUnavailable):
        cloud.CloudTemplateSource(fakes.services).fetch(view)
