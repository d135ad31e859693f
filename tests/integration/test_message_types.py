"""Every message type through the real messages handler against moto: the same envelope, charge and queue
as text; the content shape of bzapper.domain.content; WhatsApp's limits as 422 with `param`; buttons and
lists behind the entitlement; quoted replies and mentions; edits and deletions as messages of their own."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from support.accounts import Account, make_account
from support.apigw import call
from support.media import jpeg, mp3, ogg, pad, pdf, webp
from support.reports import CapturingPublisher, deliver

from bzapper.adapters.aws.models import AccountModel, MessageModel
from bzapper.api.schemas.events import MessageChangeEvent
from bzapper.config import settings
from bzapper.domain.composing import EDIT_WINDOW_MS
from bzapper.domain.model import StatusReport, wallet_id
from bzapper.domain.plans import EXPERIMENTAL_INTERACTIVE

TO = "+5511988888888"
CHAT = "5511988888888@s.whatsapp.net"


def _post(handler, account: Account, kind: str, key: str | None = None, **body):
    headers = {**account.auth, **({"Idempotency-Key": key} if key else {})}
    payload = {"instance_id": account.instance_id, "to": TO, **body}
    return call(handler, "POST", f"/messages/{kind}", body=payload, headers=headers)


def _jobs(svc, account: Account) -> list[dict]:
    sqs = boto3.client("sqs")
    shard = svc.instances.get(account.instance_id).shard
    url = sqs.get_queue_url(QueueName=settings().queue(f"shard-{shard}", fifo=True))["QueueUrl"]
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
    return [
        json.loads(message["Body"]) | {"_group": message["Attributes"]["MessageGroupId"]}
        for message in answer.get("Messages", [])
    ]


def _balance(svc, account: Account) -> int:
    return svc.wallets.balance(wallet_id(account.account_id, "test"))


@pytest.fixture
def uploads(svc, account):
    """Files already uploaded to the account (as POST /media stores them), by name."""
    files = {
        "jpeg": (jpeg(), "image/jpeg", None),
        "mp4": (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "video/mp4", None),
        "pdf": (pdf(), "application/pdf", "invoice.pdf"),
        "ogg": (ogg(), "audio/ogg", None),
        "mp3": (mp3(), "audio/mpeg", None),
        "webp": (webp(), "image/webp", None),
        "big_webp": (pad(webp(), 100 * 1024 + 1), "image/webp", None),
    }
    return {
        name: svc.media.put_bytes(account.account_id, False, data, mime, filename)
        for name, (data, mime, filename) in files.items()
    }


def _cases(uploads: dict) -> dict[str, tuple[dict, dict]]:
    """type -> (request fields, the content it must produce)."""
    return {
        "image": (
            {"media_id": uploads["jpeg"]["media_id"], "caption": "Catálogo"},
            {"media": uploads["jpeg"], "caption": "Catálogo"},
        ),
        "video": ({"media_id": uploads["mp4"]["media_id"]}, {"media": uploads["mp4"]}),
        "document": (
            {"media_id": uploads["pdf"]["media_id"], "filename": "nota-42.pdf"},
            {"media": uploads["pdf"], "filename": "nota-42.pdf"},
        ),
        "audio": ({"media_id": uploads["ogg"]["media_id"], "voice": True}, {"media": uploads["ogg"], "voice": True}),
        "sticker": ({"media_id": uploads["webp"]["media_id"]}, {"media": uploads["webp"]}),
        "location": (
            {"latitude": -23.561684, "longitude": -46.655981, "name": "MASP"},
            {"latitude": -23.561684, "longitude": -46.655981, "name": "MASP"},
        ),
        "poll": (
            {"name": "Dia?", "options": ["Seg", "Qua", "Sex"], "selectable_count": 2},
            {"name": "Dia?", "options": ["Seg", "Qua", "Sex"], "selectable_count": 2},
        ),
    }


def test_every_type_is_accepted_charged_once_and_queued_with_its_content(messages_handler, svc, account, uploads):
    cases = _cases(uploads)
    accepted = {}
    for kind, (fields, _) in cases.items():
        status, _, body = _post(messages_handler, account, kind, client_reference=f"ref-{kind}", **fields)
        assert status == 202, (kind, body)
        assert body["status"] == "queued" and body["client_reference"] == f"ref-{kind}"
        accepted[kind] = body["message_id"]

    assert _balance(svc, account) == 1000 - len(cases)  # every type is one send
    jobs = {job["message_id"]: job for job in _jobs(svc, account)}
    for kind, (_, content) in cases.items():
        item = MessageModel.get(accepted[kind])
        assert (item.type, item.content, item.to_jid) == (kind, content, CHAT)
        assert jobs[accepted[kind]]["type"] == kind and jobs[accepted[kind]]["content"] == content
        assert jobs[accepted[kind]]["_group"] == account.instance_id  # one order per number


def test_contacts_are_sent_as_structured_fields_and_their_vcards(messages_handler, account):
    card = {"name": "Maria", "phones": [{"number": "+55 11 97777-0001", "type": "CELL"}], "emails": ["m@example.com"]}
    status, _, body = _post(messages_handler, account, "contact", contacts=[card])
    assert status == 202
    content = MessageModel.get(body["message_id"]).content
    assert content["contacts"] == [card]
    [vcard] = content["vcards"]
    assert vcard.startswith("BEGIN:VCARD\nVERSION:3.0\n") and "waid=5511977770001" in vcard


def test_quoted_replies_and_mentions_on_any_type(messages_handler, svc, account):
    _, _, first = _post(messages_handler, account, "text", body="Qual dia?")
    first_wa = MessageModel.get(first["message_id"]).wa_message_id
    status, _, body = _post(
        messages_handler,
        account,
        "location",
        latitude=1.5,
        longitude=2.5,
        reply_to=first["message_id"],
        mentions=["+55 11 97777-0001", "123456789012345@lid"],
    )
    assert status == 202
    content = MessageModel.get(body["message_id"]).content
    assert content["reply_to"] == {"wa_message_id": first_wa, "chat_jid": CHAT, "from_me": True, "preview": "Qual dia?"}
    assert content["mentions"] == ["5511977770001@s.whatsapp.net", "123456789012345@lid"]

    # A WhatsApp id we have no record of: a message the contact sent in this chat.
    _, _, body = _post(messages_handler, account, "text", body="Sim", reply_to="3A1B2C3D4E5F6A7B8C9D")
    quoted = MessageModel.get(body["message_id"]).content["reply_to"]
    assert quoted == {"wa_message_id": "3A1B2C3D4E5F6A7B8C9D", "chat_jid": CHAT, "from_me": False, "sender_jid": CHAT}


def test_a_quote_or_reaction_must_name_a_message_of_this_conversation(messages_handler, svc, account):
    other = make_account(svc)
    _, _, theirs = _post(messages_handler, other, "text", body="x")
    _, _, elsewhere = _post(messages_handler, account, "text", body="x", to="+5511977770001")
    for param, extra in (("reply_to", {"body": "y"}), ("message_id", {"emoji": "👍"})):
        kind = "text" if param == "reply_to" else "reaction"
        for ref, key in (
            (theirs["message_id"], "unknown"),
            (elsewhere["message_id"], "other_chat"),
            ("bad id!", "invalid"),
        ):
            status, _, error = _post(messages_handler, account, kind, **extra, **{param: ref})
            assert (status, error["code"], error["param"]) == (422, "validation_failed", param), (ref, error)
            assert error["message"] != "", key


def test_reactions_name_their_target_and_an_empty_emoji_removes_it(messages_handler, account):
    _, _, first = _post(messages_handler, account, "text", body="Olá")
    for emoji in ("👍🏽", ""):
        status, _, body = _post(messages_handler, account, "reaction", message_id=first["message_id"], emoji=emoji)
        assert status == 202
        content = MessageModel.get(body["message_id"]).content
        target = {
            "wa_message_id": MessageModel.get(first["message_id"]).wa_message_id,
            "chat_jid": CHAT,
            "from_me": True,
        }
        assert content == {"emoji": emoji, "target": target}


@pytest.mark.parametrize(
    ("kind", "fields", "param"),
    [
        ("poll", {"name": "q", "options": ["only one"]}, "options"),
        (
            "poll",
            {"name": "q", "options": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"]},
            "options",
        ),
        ("poll", {"name": "q", "options": ["Sim", "sim "]}, "options"),
        ("poll", {"name": "q", "options": ["a", "b"], "selectable_count": 3}, "selectable_count"),
        ("reaction", {"message_id": "3A1B2C3D4E5F", "emoji": "ok"}, "emoji"),
        ("location", {"latitude": 91, "longitude": 0}, "latitude"),
        ("image", {}, "url"),
        ("image", {"url": "https://example.com/a.jpg", "media_id": "med_01JD5V6W4E7R8T9Y0U1I2O3P4Q"}, "media_id"),
        ("image", {"media_id": "med_01JD5V6W4E7R8T9Y0U1I2O3P4Q"}, "media_id"),
        ("image", {"media_id": "{pdf}"}, "media_id"),
        ("image", {"media_id": "{jpeg}", "caption": "x" * 1025}, "caption"),
        ("audio", {"media_id": "{mp3}", "voice": True}, "voice"),
        ("sticker", {"media_id": "{big_webp}"}, "media_id"),
        ("video", {"media_id": "{jpeg}"}, "media_id"),
        ("contact", {"contacts": []}, "contacts"),
        ("text", {"body": "x", "mentions": ["not a phone"]}, "mentions.0"),
        ("image", {"url": "http://127.0.0.1/a.jpg"}, "url"),
        ("image", {"url": "https://169.254.169.254/latest/meta-data"}, "url"),
        ("image", {"url": "https://10.0.0.8/a.jpg"}, "url"),
    ],
)
def test_whatsapp_limits_answer_422_naming_the_field_and_charge_nothing(
    messages_handler, svc, account, uploads, kind, fields, param
):
    fields = {
        name: uploads[value[1:-1]]["media_id"] if str(value).startswith("{") else value
        for name, value in fields.items()
    }
    status, _, error = _post(messages_handler, account, kind, **fields)
    assert (status, error["code"], error["param"]) == (422, "validation_failed", param), error
    assert _balance(svc, account) == 1000
    assert list(MessageModel.scan()) == []


def test_buttons_and_lists_are_not_supported_without_the_entitlement(messages_handler, svc, account):
    buttons = {"body": "Confirma?", "buttons": [{"id": "yes", "title": "Sim"}, {"id": "no", "title": "Não"}]}
    rows = {
        "body": "Horários",
        "button_text": "Ver",
        "sections": [{"title": "Seg", "rows": [{"id": "s10", "title": "10h"}]}],
    }
    for kind, fields in (("buttons", buttons), ("list", rows)):
        status, _, error = _post(messages_handler, account, kind, **fields)
        assert (status, error["code"]) == (403, "not_supported")
        assert "experimental_interactive_messages" in error["message"]
    assert _balance(svc, account) == 1000


def test_with_the_entitlement_buttons_and_lists_are_sent(messages_handler, svc):
    account = make_account(svc)
    AccountModel(account.account_id).update(actions=[AccountModel.features.set({EXPERIMENTAL_INTERACTIVE})])
    buttons = {"body": "Confirma?", "footer": "Clínica", "buttons": [{"id": "yes", "title": "Sim"}]}
    status, _, body = _post(messages_handler, account, "buttons", **buttons)
    assert status == 202
    assert MessageModel.get(body["message_id"]).content == buttons

    sections = [{"title": "Seg", "rows": [{"id": f"r{n}", "title": f"{n}h"} for n in range(6)]}]
    status, _, body = _post(messages_handler, account, "list", body="Horários", button_text="Ver", sections=sections)
    assert status == 202
    assert MessageModel.get(body["message_id"]).content == {
        "body": "Horários",
        "button_text": "Ver",
        "sections": sections,
    }

    too_many = [*sections, {"title": "Ter", "rows": [{"id": f"t{n}", "title": f"{n}h"} for n in range(5)]}]
    status, _, error = _post(messages_handler, account, "list", body="x", button_text="Ver", sections=too_many)
    assert (status, error["param"]) == (422, "sections")
    twice = {"body": "x", "buttons": [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}]}
    assert _post(messages_handler, account, "buttons", **twice)[2]["param"] == "buttons"


def test_an_idempotent_media_send_is_replayed_and_another_body_conflicts(messages_handler, svc, account, uploads):
    fields = {"media_id": uploads["jpeg"]["media_id"], "caption": "a"}
    first = _post(messages_handler, account, "image", key="img-1", **fields)
    again = _post(messages_handler, account, "image", key="img-1", **fields)
    assert first[0] == again[0] == 202 and first[2] == again[2]
    assert again[1]["idempotent-replayed"] == "true"
    assert _balance(svc, account) == 999
    conflict = _post(messages_handler, account, "image", key="img-1", **{**fields, "caption": "b"})
    assert (conflict[0], conflict[2]["code"]) == (422, "idempotency_conflict")


# --- Statuses, edits and deletions -------------------------------------------------------------------------


def _reach(statuses_handler, account: Account, message_id: str, *statuses: str, at: int | None = None) -> None:
    wa_id = MessageModel.get(message_id).wa_message_id
    at = at or int(time.time() * 1000)
    reports = [
        StatusReport(account.instance_id, wa_id, status, at + n, message_id) for n, status in enumerate(statuses)
    ]
    deliver(statuses_handler, *reports)


def test_a_voice_note_reaches_played_and_a_rejected_file_fails_with_its_code(
    messages_handler, statuses_handler, svc, account, uploads
):
    publisher = CapturingPublisher()
    svc.events = publisher
    _, _, voice = _post(messages_handler, account, "audio", media_id=uploads["ogg"]["media_id"], voice=True)
    _reach(statuses_handler, account, voice["message_id"], "sending", "sent", "delivered", "read", "played")
    _reach(statuses_handler, account, voice["message_id"], "read")  # late: never back
    item = MessageModel.get(voice["message_id"])
    assert item.status == "played"
    assert [change.status for change in item.history] == ["queued", "sending", "sent", "delivered", "read", "played"]
    events = [event for event in publisher.events if event["data"]["message_id"] == voice["message_id"]]
    assert {event["type"] for event in events} >= {
        "message.sent",
        "message.delivered",
        "message.read",
        "message.played",
    }
    # The late report re-publishes what was already published, under the same id (consumers dedupe it).
    assert len({event["id"] for event in events if event["type"] == "message.read"}) == 1

    _, _, image = _post(messages_handler, account, "image", media_id=uploads["jpeg"]["media_id"])
    wa_id = MessageModel.get(image["message_id"]).wa_message_id
    deliver(
        statuses_handler,
        StatusReport(account.instance_id, wa_id, "sending", 1, image["message_id"]),
        StatusReport(account.instance_id, wa_id, "failed", 2, image["message_id"], "media_rejected"),
    )
    [failed] = publisher.of_type("message.failed")
    assert failed["data"]["error"] == {"code": "media_rejected"}
    assert _balance(svc, account) == 1000 - 1  # the failed send was refunded


def test_an_edit_is_a_free_message_of_its_own_and_edits_the_original_when_sent(
    messages_handler, statuses_handler, svc, account
):
    publisher = CapturingPublisher()
    svc.events = publisher
    _, _, original = _post(messages_handler, account, "text", body="Olá, Mara", client_reference="lead-7")
    _reach(statuses_handler, account, original["message_id"], "sending", "sent")

    status, _, edit = call(
        messages_handler,
        "PATCH",
        f"/messages/{original['message_id']}",
        body={"body": "Olá, Maria", "client_reference": "fix-1"},
        headers=account.auth,
    )
    assert (status, edit["status"], edit["client_reference"]) == (202, "queued", "fix-1")
    assert _balance(svc, account) == 999  # the original only
    item = MessageModel.get(edit["message_id"])
    target = {
        "wa_message_id": MessageModel.get(original["message_id"]).wa_message_id,
        "chat_jid": CHAT,
        "from_me": True,
    }
    assert (item.type, item.content, item.to_jid) == ("edit", {"target": target, "body": "Olá, Maria"}, CHAT)
    assert [job["type"] for job in _jobs(svc, account)] == ["text", "edit"]  # ordered behind it, same group

    _reach(statuses_handler, account, edit["message_id"], "sending", "sent")
    _reach(statuses_handler, account, edit["message_id"], "sent")  # a redelivered report changes nothing more
    edits = publisher.of_type("message.edited")
    assert len({event["id"] for event in edits}) == 1  # re-published under the same id, never a second edit
    edited = edits[0]
    MessageChangeEvent.model_validate(edited)  # as the contract documents it
    assert edited["data"] == {
        "message_id": original["message_id"],
        "change_id": edit["message_id"],
        "to": TO,
        "client_reference": "lead-7",
        "body": "Olá, Maria",
    }
    status, _, shown = call(messages_handler, "GET", f"/messages/{original['message_id']}", headers=account.auth)
    assert shown["content"] == {"body": "Olá, Maria"} and shown["edited"] and shown["deleted"] is None


def test_a_deletion_for_everyone_marks_the_original_and_nothing_changes_it_after(
    messages_handler, statuses_handler, svc, account, uploads
):
    publisher = CapturingPublisher()
    svc.events = publisher
    _, _, original = _post(messages_handler, account, "image", media_id=uploads["jpeg"]["media_id"], caption="x")
    _reach(statuses_handler, account, original["message_id"], "sending", "sent")

    status, _, revoke = call(messages_handler, "DELETE", f"/messages/{original['message_id']}", headers=account.auth)
    assert status == 202
    assert MessageModel.get(revoke["message_id"]).type == "revoke"
    assert set(MessageModel.get(revoke["message_id"]).content) == {"target"}
    _reach(statuses_handler, account, revoke["message_id"], "sending", "sent")
    [deleted] = publisher.of_type("message.deleted")
    assert deleted["data"]["message_id"] == original["message_id"] and "body" not in deleted["data"]
    MessageChangeEvent.model_validate(deleted)
    assert MessageModel.get(original["message_id"]).deleted_at is not None

    for method, body in (("PATCH", {"body": "y"}), ("DELETE", None)):
        status, _, error = call(
            messages_handler, method, f"/messages/{original['message_id']}", body=body, headers=account.auth
        )
        assert (status, error["code"]) == (403, "not_supported")


def test_edits_and_deletions_are_refused_outside_whatsapps_rules(
    messages_handler, statuses_handler, svc, account, uploads
):
    _, _, late = _post(messages_handler, account, "text", body="x")
    _reach(
        statuses_handler,
        account,
        late["message_id"],
        "sending",
        "sent",
        at=int(time.time() * 1000) - EDIT_WINDOW_MS - 60_000,
    )
    status, _, error = call(
        messages_handler, "PATCH", f"/messages/{late['message_id']}", body={"body": "y"}, headers=account.auth
    )
    assert (status, error["code"]) == (409, "window_closed")
    # Still within the deletion window.
    assert call(messages_handler, "DELETE", f"/messages/{late['message_id']}", headers=account.auth)[0] == 202

    _, _, sticker = _post(messages_handler, account, "sticker", media_id=uploads["webp"]["media_id"])
    status, _, error = call(
        messages_handler, "PATCH", f"/messages/{sticker['message_id']}", body={"body": "y"}, headers=account.auth
    )
    assert (status, error["code"]) == (403, "not_supported")

    other = make_account(svc)
    _, _, theirs = _post(messages_handler, other, "text", body="x")
    for method, body in (("PATCH", {"body": "y"}), ("DELETE", None)):
        status, _, error = call(
            messages_handler, method, f"/messages/{theirs['message_id']}", body=body, headers=account.auth
        )
        assert (status, error["code"]) == (404, "not_found")
