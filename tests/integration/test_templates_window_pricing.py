"""Cloud API numbers' commercial layer on moto, through the real handlers: GET /templates from a source wired in
(the Graph one is the cloud engine's), POST /messages/template on the one send path, the customer service window,
and Meta's pricing on a status report shown by GET /messages/{id} and summed by GET /usage."""

from __future__ import annotations

import json

import pytest
from support.accounts import make_account
from support.apigw import LambdaContext, call

from bzapper.adapters.aws.models import ConversationModel, MessageModel, TemplateModel
from bzapper.adapters.memory.templates import MemoryTemplateSource
from bzapper.domain.clock import now_ms
from bzapper.domain.model import StatusReport
from bzapper.domain.templates import Template
from bzapper.services.inbox import record_inbound
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.lambda_events import sqs_event

PHONE = "+5511988888888"
PHONE_JID = "5511988888888@s.whatsapp.net"

ORDER = Template(
    name="order_update",
    language="pt_BR",
    category="utility",
    status="APPROVED",
    id="9001",
    components=[{"type": "BODY", "text": "Olá {{1}}, seu pedido {{2}} foi enviado."}],
)
PENDING = Template("welcome", "pt_BR", "marketing", "PENDING", [{"type": "BODY", "text": "Oi!"}], "9002")
ORDER_SEND = {
    "name": "order_update",
    "language": "pt_BR",
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "#7"}]}],
}


@pytest.fixture
def source(svc) -> MemoryTemplateSource:
    """The account's templates as Meta would list them (the cloud engine's Graph source, after the merge)."""
    fake = MemoryTemplateSource()
    svc.template_source = fake
    return fake


@pytest.fixture
def account_api(aws):
    return load_function("account").handler


def cloud_number(svc, account, source: MemoryTemplateSource) -> str:
    """A connected Cloud API number: the record alone (creating one through the API is the cloud engine's)."""
    instance = svc.instances.create(
        account.account_id, livemode=False, engine="cloud", name="Cloud", status="connected"
    )
    source.templates[instance.instance_id] = [ORDER, PENDING]
    return instance.instance_id


def send(handler, account, instance_id, path="/messages/template", **body):
    payload = {"instance_id": instance_id, "to": PHONE, **body}
    return call(handler, "POST", path, body=payload, headers=account.auth)


def contact_writes(svc, account, instance_id, wa_id="wamid.IN1", at=None, from_me=False) -> None:
    record_inbound(
        svc,
        {
            "instance_id": instance_id,
            "account_id": account.account_id,
            "livemode": False,
            "wa_message_id": wa_id,
            "chat_jid": PHONE_JID,
            "from_me": from_me,
            "sender": {"jid": PHONE_JID, "phone": PHONE, "push_name": "Ana"},
            "type": "text",
            "content": {"body": "oi"},
            "at": now_ms() if at is None else at,
        },
    )


def report(statuses_handler, report: StatusReport, record_id: str) -> None:
    body = {**report.to_json(), "kind": "status"}
    record = {
        "MessageId": record_id,
        "ReceiptHandle": f"rh-{record_id}",
        "Body": json.dumps(body),
        "Attributes": {"MessageGroupId": report.wa_message_id, "ApproximateReceiveCount": "1"},
    }
    event = sqs_event([record], "arn:aws:sqs:us-east-1:123456789012:bzapper-test-status-updates.fifo", "us-east-1")
    assert statuses_handler(event, LambdaContext()) == {"batchItemFailures": []}


def test_templates_are_listed_from_the_account_and_stored(messages_handler, svc, account, source):
    instance_id = cloud_number(svc, account, source)

    status, _, listed = call(
        messages_handler, "GET", "/templates", headers=account.auth, query=f"instance_id={instance_id}"
    )

    assert status == 200, listed
    assert listed["instance_id"] == instance_id and listed["synced"]
    assert [(t["name"], t["language"], t["status"], t["category"]) for t in listed["data"]] == [
        ("order_update", "pt_BR", "APPROVED", "utility"),
        ("welcome", "pt_BR", "PENDING", "marketing"),
    ]
    stored = {item.key for item in TemplateModel.query(instance_id)}
    assert stored == {"order_update#pt_BR", "welcome#pt_BR", "#synced"}

    source.templates[instance_id] = [ORDER]  # fresh copy: served without reading the account again
    _, _, again = call(messages_handler, "GET", "/templates", headers=account.auth, query=f"instance_id={instance_id}")
    assert len(again["data"]) == 2 and source.fetches == 1


def test_a_replace_removes_the_templates_gone_from_the_account(svc, account, source):
    instance_id = cloud_number(svc, account, source)
    svc.templates.replace(instance_id, [ORDER, PENDING], 1)
    svc.templates.replace(instance_id, [ORDER], 2)

    found = svc.templates.list(instance_id)
    assert [t.name for t in found.templates] == ["order_update"] and found.synced_at == 2
    assert svc.templates.get(instance_id, "order_update", "pt_BR") == ORDER
    assert svc.templates.get(instance_id, "order_update", "en") is None
    assert svc.templates.lookup(instance_id, "order_update", "pt_BR") == (ORDER, 2)
    assert svc.templates.lookup(instance_id, "welcome", "pt_BR") == (None, 2)
    assert svc.templates.lookup("inst_none", "order_update", "pt_BR") == (None, None)


def test_another_tenants_number_is_not_found(messages_handler, svc, account, source):
    other = make_account(svc)
    instance_id = cloud_number(svc, other, source)

    status, _, error = call(
        messages_handler, "GET", "/templates", headers=account.auth, query=f"instance_id={instance_id}"
    )
    assert (status, error["code"]) == (404, "not_found")
    status, _, error = send(messages_handler, account, instance_id, template=ORDER_SEND)
    assert (status, error["code"]) == (404, "not_found")
    assert source.fetches == 0


def test_a_template_send_is_accepted_for_a_cloud_number(messages_handler, svc, account, source):
    instance_id = cloud_number(svc, account, source)

    status, _, accepted = send(messages_handler, account, instance_id, template=ORDER_SEND, client_reference="o-7")

    assert status == 202, accepted
    assert accepted["status"] == "queued" and accepted["client_reference"] == "o-7"
    item = MessageModel.get(accepted["message_id"])
    assert item.type == "template" and item.content["template"]["id"] == "9001"
    _, _, view = call(messages_handler, "GET", f"/messages/{accepted['message_id']}", headers=account.auth)
    assert view["type"] == "template" and view["content"]["template"]["name"] == "order_update"


@pytest.mark.parametrize(
    ("template", "code", "param"),
    [
        ({**ORDER_SEND, "language": "pt"}, "template_not_found", "template.name"),
        ({"name": "welcome", "language": "pt_BR"}, "template_not_approved", "template.name"),
        (
            {**ORDER_SEND, "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]},
            "template_parameters_invalid",
            "template.components.0.parameters",
        ),
    ],
)
def test_a_template_send_that_breaks_a_rule_is_a_translated_422(
    messages_handler, svc, account, source, template, code, param
):
    instance_id = cloud_number(svc, account, source)
    payload = {"instance_id": instance_id, "to": PHONE, "template": template}
    headers = {**account.auth, "Accept-Language": "pt-BR"}

    status, _, error = call(messages_handler, "POST", "/messages/template", body=payload, headers=headers)

    assert (status, error["code"], error["param"], error["locale"]) == (422, code, param, "pt-BR")
    assert "modelo" in error["message"]


def test_a_sandbox_number_cannot_send_a_template(messages_handler, account):
    status, _, error = send(messages_handler, account, account.instance_id, template=ORDER_SEND)
    assert (status, error["code"]) == (422, "not_supported")
    assert "'sandbox'" in error["message"]


def test_a_free_form_send_outside_the_window_is_refused_then_accepted_after_the_contact_writes(
    messages_handler, svc, account, source
):
    instance_id = cloud_number(svc, account, source)
    headers = {**account.auth, "Accept-Language": "es"}
    payload = {"instance_id": instance_id, "to": PHONE, "body": "Hola"}

    status, _, error = call(messages_handler, "POST", "/messages/text", body=payload, headers=headers)
    assert (status, error["code"], error["param"]) == (422, "outside_customer_service_window", "to")
    assert "POST /messages/template" in error["message"] and error["locale"] == "es"

    contact_writes(svc, account, instance_id)
    assert ConversationModel.get(instance_id, PHONE_JID).last_inbound_at is not None

    status, _, accepted = call(messages_handler, "POST", "/messages/text", body=payload, headers=headers)
    assert status == 202, accepted


def test_pricing_on_a_status_report_is_shown_and_summed(
    messages_handler, statuses_handler, account_api, svc, account, source
):
    instance_id = cloud_number(svc, account, source)
    _, _, accepted = send(messages_handler, account, instance_id, template=ORDER_SEND)
    message_id = accepted["message_id"]
    wa_id = MessageModel.get(message_id).wa_message_id
    pricing = {"category": "utility", "billable": True, "model": "PMP"}
    at = now_ms()
    reports = [
        StatusReport(instance_id, wa_id, "sending", at, message_id),
        StatusReport(instance_id, wa_id, "sent", at + 1, pricing=pricing),
        StatusReport(instance_id, wa_id, "delivered", at + 2, pricing=pricing),
        StatusReport(instance_id, wa_id, "delivered", at + 2, pricing=pricing),  # Meta redelivers
        # Meta prices a message once: a later report naming another category changes nothing.
        StatusReport(instance_id, wa_id, "read", at + 3, pricing={**pricing, "category": "marketing"}),
    ]
    for index, status_report in enumerate(reports):
        report(statuses_handler, status_report, f"r-{index}")

    _, _, view = call(messages_handler, "GET", f"/messages/{message_id}", headers=account.auth)
    assert view["status"] == "read" and view["pricing"] == pricing

    status, _, usage = call(account_api, "GET", "/usage", headers=account.auth)
    assert status == 200
    assert usage["totals"]["pricing"]["utility"] == {"messages": 1, "billable": 1}
    assert usage["totals"]["pricing"]["marketing"] == {"messages": 0, "billable": 0}
    assert usage["totals"]["delivered"] == 1


def test_the_window_keeps_the_contacts_newest_message_whatever_the_order_of_arrival(svc, account, source):
    instance_id = cloud_number(svc, account, source)
    now = now_ms()
    contact_writes(svc, account, instance_id, "wamid.ECHO", at=now - 10, from_me=True)  # the number's own phone
    assert ConversationModel.get(instance_id, PHONE_JID).last_inbound_at is None

    contact_writes(svc, account, instance_id, "wamid.OLD", at=now - 20)  # older than the row's newest: fills it
    assert ConversationModel.get(instance_id, PHONE_JID).last_inbound_at == now - 20
    contact_writes(svc, account, instance_id, "wamid.NEW", at=now)
    contact_writes(svc, account, instance_id, "wamid.LATE", at=now - 5)  # arrives late: the window stays
    assert ConversationModel.get(instance_id, PHONE_JID).last_inbound_at == now
