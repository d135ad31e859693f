"""One row per contact on moto: a contact that first wrote from a LID nobody had mapped, then from its phone once
the mapping was learned (through the statuses consumer, as the worker reports it), is ONE row of GET
/conversations, on every page size; another account's mappings never join this account's rows."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from support.accounts import make_account
from support.apigw import LambdaContext, call
from support.dynamo_calls import DynamoCalls

from bzapper.adapters.aws.models import MessageModel
from bzapper.domain.model import StatusReport
from bzapper.services.statuses import apply_report
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.lambda_events import sqs_event

PHONE = "+5511988888888"
PHONE_JID = "5511988888888@s.whatsapp.net"
LID = "98765432101234@lid"
OTHER_JID = "5511977770000@s.whatsapp.net"
T0 = 1_790_000_000_000


def report(statuses_handler, account, body: dict) -> None:
    """A worker's report through the statuses consumer (the real path)."""
    record = {
        "MessageId": f"m-{json.dumps(body, sort_keys=True)[:60]}",
        "ReceiptHandle": "rh",
        "Body": json.dumps(body),
        "Attributes": {"MessageGroupId": account.instance_id, "ApproximateReceiveCount": "1"},
    }
    arn = "arn:aws:sqs:us-east-1:123456789012:bzapper-test-status-updates.fifo"
    assert statuses_handler(sqs_event([record], arn, "us-east-1"), LambdaContext()) == {"batchItemFailures": []}


def inbound(account, wa_id: str, at: int, chat: str, sender: dict, body: str) -> dict:
    return {
        "kind": "inbound",
        "instance_id": account.instance_id,
        "wa_message_id": wa_id,
        "chat_jid": chat,
        "from_me": False,
        "sender": sender,
        "type": "text",
        "content": {"body": body},
        "at": at,
        "account_id": account.account_id,
        "livemode": False,
    }


def identity(account, at: int) -> dict:
    """What the worker reports when a message names both sides of the contact (worker/runner.py)."""
    return {"kind": "identity", "instance_id": account.instance_id, "phone": PHONE, "lid": LID, "at": at}


def from_the_lid(account, wa_id, at, body="from the lid"):
    return inbound(account, wa_id, at, LID, {"jid": LID, "lid": LID, "push_name": "Maria"}, body)


def from_the_phone(account, wa_id, at, body="from the phone"):
    return inbound(account, wa_id, at, PHONE_JID, {"jid": PHONE_JID, "phone": PHONE, "lid": LID}, body)


def from_another(account, wa_id, at):
    return inbound(account, wa_id, at, OTHER_JID, {"jid": OTHER_JID, "phone": "+5511977770000"}, "someone else")


def request(api, method, path, account, **params):
    query = urlencode({"instance_id": account.instance_id, **params})
    return call(api, method, path, headers=account.auth, query=query)


def every_row(api, account, limit: int) -> list[dict]:
    rows, cursor = [], None
    while True:
        status, _, page = request(
            api, "GET", "/conversations", account, limit=str(limit), **({"cursor": cursor} if cursor else {})
        )
        assert status == 200, page
        assert page["has_more"] is (page["next_cursor"] is not None)
        assert page["data"] or not rows, "has_more promised a row that never came"
        rows += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return rows


def test_a_contact_that_wrote_from_a_lid_then_from_its_phone_is_one_row(
    svc, account, inbox_api, statuses_handler, published
):
    report(statuses_handler, account, from_the_lid(account, "3A0001", T0, body="first, from the lid"))
    # Unmapped: the row is under the LID, with no phone.
    _, _, page = request(inbox_api, "GET", "/conversations", account)
    assert [(r["jid"], r["phone"], r["lid"]) for r in page["data"]] == [(LID, None, LID)]

    # The next message names both sides: the worker reports the mapping, then the message (one FIFO group).
    report(statuses_handler, account, identity(account, T0 + 1_000))
    report(statuses_handler, account, from_the_phone(account, "3A0002", T0 + 1_000, body="then, from the phone"))
    assert [e["type"] for e in published.events].count("contact.identity_resolved") == 1
    assert svc.inbox.conversations(account.instance_id, (PHONE_JID, LID))  # two rows stored: no migration

    _, _, page = request(inbox_api, "GET", "/conversations", account)
    [row] = page["data"]
    assert (row["jid"], row["type"], row["phone"], row["lid"], row["name"]) == (
        PHONE_JID,
        "contact",
        PHONE,
        LID,
        "Maria",
    )
    assert row["unread_count"] == 2
    assert row["last_message"]["text"] == "then, from the phone"
    assert page["has_more"] is False

    # The row's jid (or the LID) opens the whole thread; reading through either clears both halves.
    for jid in (row["jid"], LID):
        status, _, thread = request(inbox_api, "GET", f"/conversations/{quote(jid)}/messages", account)
        assert status == 200 and [m["wa_message_id"] for m in thread["data"]] == ["3A0002", "3A0001"]
        # The first message came from the LID alone; its sender shows the phone learned since.
        assert [(m["from"]["phone"], m["from"]["lid"]) for m in thread["data"]] == [(PHONE, LID), (PHONE, LID)]
        assert thread["conversation"] | {"created": None} == row | {"created": None}
    status, _, read = request(inbox_api, "POST", f"/conversations/{quote(LID)}/read", account)
    assert (status, read["jid"], read["unread_count"], read["receipts_sent"]) == (200, PHONE_JID, 0, 2)
    _, _, page = request(inbox_api, "GET", "/conversations", account)
    assert [(r["jid"], r["unread_count"]) for r in page["data"]] == [(PHONE_JID, 0)]


def test_a_lid_row_whose_phone_is_known_but_has_no_phone_row_shows_the_phone(svc, account, inbox_api, statuses_handler):
    report(statuses_handler, account, from_the_lid(account, "3A0010", T0))
    report(statuses_handler, account, identity(account, T0 + 1))  # e.g. learned by POST /contacts/checkIsOnWhatsApp
    _, _, page = request(inbox_api, "GET", "/conversations", account)
    assert [(r["jid"], r["phone"], r["lid"], r["unread_count"]) for r in page["data"]] == [(PHONE_JID, PHONE, LID, 1)]
    status, _, thread = request(inbox_api, "GET", f"/conversations/{quote(PHONE_JID)}/messages", account)
    assert status == 200 and thread["conversation"]["jid"] == PHONE_JID and len(thread["data"]) == 1


@pytest.mark.parametrize("lid_row_newer", [False, True])
def test_pages_of_one_never_show_the_contact_twice(
    svc, account, inbox_api, statuses_handler, messages_handler, lid_row_newer
):
    if lid_row_newer:
        # We wrote to the phone first (a row with no LID stored), the contact answered from an unmapped LID.
        body = {"instance_id": account.instance_id, "to": PHONE, "body": "Hello"}
        _, _, accepted = call(messages_handler, "POST", "/messages/text", body=body, headers=account.auth)
        wa_id = MessageModel.get(accepted["message_id"]).wa_message_id
        apply_report(svc, StatusReport(account.instance_id, wa_id, "sent", T0, accepted["message_id"]))
        report(statuses_handler, account, from_another(account, "3A0020", T0 + 1_000))
        report(statuses_handler, account, from_the_lid(account, "3A0021", T0 + 2_000, body="newest"))
        report(statuses_handler, account, identity(account, T0 + 3_000))
    else:
        report(statuses_handler, account, from_the_lid(account, "3A0021", T0))
        report(statuses_handler, account, from_another(account, "3A0020", T0 + 1_000))
        report(statuses_handler, account, identity(account, T0 + 2_000))
        report(statuses_handler, account, from_the_phone(account, "3A0022", T0 + 2_000, body="newest"))

    for limit in (1, 2, 25):
        rows = every_row(inbox_api, account, limit)
        assert [r["jid"] for r in rows] == [PHONE_JID, OTHER_JID], limit  # the contact once, at its newest
        assert (rows[0]["lid"], rows[0]["last_message"]["text"]) == (LID, "newest")


def test_another_accounts_mapping_never_joins_this_accounts_rows(svc, account, inbox_api, statuses_handler):
    report(statuses_handler, account, from_the_lid(account, "3A0030", T0))
    report(statuses_handler, account, from_another(account, "3A0031", T0 + 1))
    other = make_account(svc)
    report(statuses_handler, other, identity(other, T0 + 2))  # the other account knows who LID is
    report(statuses_handler, other, from_the_lid(other, "3A0032", T0 + 3))
    report(statuses_handler, other, from_the_phone(other, "3A0033", T0 + 4))

    _, _, mine = request(inbox_api, "GET", "/conversations", account)
    assert [(r["jid"], r["phone"]) for r in mine["data"]] == [(OTHER_JID, "+5511977770000"), (LID, None)]
    _, _, theirs = request(inbox_api, "GET", "/conversations", other)
    assert [(r["jid"], r["unread_count"]) for r in theirs["data"]] == [(PHONE_JID, 2)]


def test_a_page_makes_the_documented_dynamodb_calls(svc, account, inbox_api, statuses_handler, monkeypatch):
    report(statuses_handler, account, from_the_lid(account, "3A0040", T0))
    report(statuses_handler, account, from_another(account, "3A0041", T0 + 1_000))
    report(statuses_handler, account, identity(account, T0 + 2_000))
    report(statuses_handler, account, from_the_phone(account, "3A0042", T0 + 2_000))
    request(inbox_api, "GET", "/conversations", account)  # warms the instance cache
    calls = DynamoCalls(monkeypatch)

    # Page 1 (limit 1): the rows read are the phone's and the other contact's: the LID's row is fetched.
    _, _, first = request(inbox_api, "GET", "/conversations", account, limit="1")
    assert calls.names == ["Query", "BatchGetItem", "BatchGetItem"]
    # Everything on one page: both halves are among the rows read, nothing is fetched.
    calls.names.clear()
    request(inbox_api, "GET", "/conversations", account, limit="5")
    assert calls.names == ["Query", "BatchGetItem"]
    # Page 2: the other contact, then the LID's row, passed over (its phone's row is fetched to decide so).
    calls.names.clear()
    _, _, second = request(inbox_api, "GET", "/conversations", account, limit="1", cursor=first["next_cursor"])
    assert [r["jid"] for r in second["data"]] == [OTHER_JID] and second["has_more"] is False
    assert calls.names == ["Query", "BatchGetItem", "BatchGetItem"]


def test_a_phone_row_shows_its_learned_lid_in_the_list_and_the_thread_alike(
    svc, account, inbox_api, statuses_handler, messages_handler
):
    body = {"instance_id": account.instance_id, "to": PHONE, "body": "Hello"}
    _, _, accepted = call(messages_handler, "POST", "/messages/text", body=body, headers=account.auth)
    wa_id = MessageModel.get(accepted["message_id"]).wa_message_id
    apply_report(svc, StatusReport(account.instance_id, wa_id, "sent", T0, accepted["message_id"]))
    report(statuses_handler, account, identity(account, T0 + 1))  # learned after the row was written
    _, _, page = request(inbox_api, "GET", "/conversations", account)
    [row] = page["data"]
    assert (row["jid"], row["phone"], row["lid"]) == (PHONE_JID, PHONE, LID)
    for jid in (PHONE_JID, LID):
        _, _, thread = request(inbox_api, "GET", f"/conversations/{quote(jid)}/messages", account)
        assert thread["conversation"] == row


# --- a mapping that changes: both sides of the identities stay in agreement ---------------------------------

OLD_LID, NEW_LID = "11111111111111@lid", "22222222222222@lid"
NEW_PHONE, NEW_PHONE_JID = "+5511966666666", "5511966666666@s.whatsapp.net"


def mapping(account, phone: str, lid: str, at: int) -> dict:
    return {"kind": "identity", "instance_id": account.instance_id, "phone": phone, "lid": lid, "at": at}


def test_a_phone_recycled_to_another_whatsapp_account_is_never_listed_twice(svc, account, inbox_api, statuses_handler):
    # The phone's first owner wrote from the phone, then from its LID before anyone mapped them.
    report(statuses_handler, account, inbound(account, "3A0040", T0, PHONE_JID, {"jid": PHONE_JID}, "old owner"))
    report(statuses_handler, account, inbound(account, "3A0041", T0 + 1_000, OLD_LID, {"jid": OLD_LID}, "old lid"))
    report(statuses_handler, account, mapping(account, PHONE, OLD_LID, T0 + 1_100))
    # The operator gives the number to someone else: WhatsApp now maps the phone to a new account.
    report(statuses_handler, account, mapping(account, PHONE, NEW_LID, T0 + 2_000))

    assert svc.identities.learned(account.account_id, lids=[OLD_LID, NEW_LID], phones=[PHONE]) == (
        {NEW_LID: PHONE},
        {PHONE: NEW_LID},
    )  # the old LID no longer claims the phone
    rows = every_row(inbox_api, account, 1)
    assert sorted((r["jid"], r["unread_count"]) for r in rows) == [(OLD_LID, 1), (PHONE_JID, 1)]
    status, _, read = request(inbox_api, "POST", f"/conversations/{quote(PHONE_JID)}/read", account)
    assert (status, read["unread_count"]) == (200, 0)
    rows = every_row(inbox_api, account, 25)
    assert sorted((r["jid"], r["unread_count"]) for r in rows) == [(OLD_LID, 1), (PHONE_JID, 0)]


@pytest.mark.parametrize("lid_row_newer", [False, True])
def test_a_contact_that_moved_to_a_new_number_is_listed_once_per_number(
    svc, account, inbox_api, statuses_handler, lid_row_newer
):
    lid_at, phone_at = (T0 + 2_000, T0 + 1_000) if lid_row_newer else (T0, T0 + 2_000)
    report(statuses_handler, account, inbound(account, "3A0050", lid_at, LID, {"jid": LID}, "from the lid"))
    report(statuses_handler, account, mapping(account, PHONE, LID, T0 + 500))
    report(statuses_handler, account, inbound(account, "3A0051", phone_at, PHONE_JID, {"jid": PHONE_JID}, "old"))
    report(statuses_handler, account, mapping(account, NEW_PHONE, LID, T0 + 3_000))  # the account moved numbers

    assert svc.identities.learned(account.account_id, lids=[LID], phones=[PHONE, NEW_PHONE]) == (
        {LID: NEW_PHONE},
        {NEW_PHONE: LID},
    )
    for limit in (1, 25):
        rows = every_row(inbox_api, account, limit)
        # Every message counted once: the LID's thread goes with its new number, the old number's stays alone.
        assert sorted((r["jid"], r["unread_count"]) for r in rows) == [(NEW_PHONE_JID, 1), (PHONE_JID, 1)], limit


def test_a_mapping_seen_again_is_one_read_and_no_news(svc, account, monkeypatch):
    assert svc.identities.record(account.account_id, PHONE, LID) is True
    calls = DynamoCalls(monkeypatch)
    assert svc.identities.record(account.account_id, PHONE, LID) is False
    assert calls.names == ["BatchGetItem"]
    assert svc.identities.record(account.account_id, PHONE, NEW_LID) is True
    assert svc.identities.learned(account.account_id, lids=[LID, NEW_LID], phones=[PHONE]) == (
        {NEW_LID: PHONE},
        {PHONE: NEW_LID},
    )


def test_a_chat_whose_number_the_phone_metadata_does_not_know_is_still_recorded(
    svc, account, inbox_api, statuses_handler, published
):
    # WhatsApp delivered it, so the number exists, even if the numbering plan data has not caught up yet.
    unknown_range = "999123456789@s.whatsapp.net"
    report(statuses_handler, account, inbound(account, "3A0060", T0, unknown_range, {"jid": unknown_range}, "hi"))
    assert [e["type"] for e in published.events] == ["message.received"]
    _, _, page = request(inbox_api, "GET", "/conversations", account)
    assert [(r["jid"], r["phone"]) for r in page["data"]] == [(unknown_range, "+999123456789")]
    for jid in (unknown_range, "+999123456789"):
        status, _, thread = request(inbox_api, "GET", f"/conversations/{quote(jid)}/messages", account)
        assert status == 200 and [m["wa_message_id"] for m in thread["data"]] == ["3A0060"], jid
    _, _, sent = call(
        load_function("messages").handler,
        "POST",
        "/messages/text",
        body={"instance_id": account.instance_id, "to": unknown_range, "body": "x"},
        headers=account.auth,
    )
    assert sent["code"] == "validation_failed" and sent["param"] == "to"  # sends keep the strict check


@pytest.mark.parametrize("failing", ["delete", "save"])
def test_a_change_interrupted_midway_is_repaired_by_the_redelivered_report(svc, account, monkeypatch, failing):
    from bzapper.adapters.aws.models import IdentityModel

    svc.identities.record(account.account_id, PHONE, OLD_LID)
    real = getattr(IdentityModel, failing)

    def crash(*args, **kwargs):
        raise RuntimeError("the Lambda died here")

    monkeypatch.setattr(IdentityModel, failing, crash)
    with pytest.raises(RuntimeError):
        svc.identities.record(account.account_id, PHONE, NEW_LID)
    monkeypatch.setattr(IdentityModel, failing, real)

    svc.identities.record(account.account_id, PHONE, NEW_LID)  # SQS hands the report over again
    assert svc.identities.learned(account.account_id, lids=[OLD_LID, NEW_LID], phones=[PHONE]) == (
        {NEW_LID: PHONE},
        {PHONE: NEW_LID},
    )


def test_a_brazilian_mobile_reported_without_its_ninth_digit_is_one_contact(svc, account, inbox_api, statuses_handler):
    # Older Brazilian mobiles keep an 8-digit JID on WhatsApp; the inbox keys them with the ninth digit.
    old_jid = "551188887777@s.whatsapp.net"
    report(statuses_handler, account, inbound(account, "3A0070", T0, old_jid, {"jid": old_jid}, "from the phone"))
    report(statuses_handler, account, mapping(account, "+551188887777", LID, T0 + 1_000))
    report(statuses_handler, account, inbound(account, "3A0071", T0 + 2_000, LID, {"jid": LID}, "from the lid"))
    _, _, page = request(inbox_api, "GET", "/conversations", account)
    assert [(r["jid"], r["phone"], r["lid"], r["unread_count"]) for r in page["data"]] == [
        ("5511988887777@s.whatsapp.net", "+5511988887777", LID, 2)
    ]
