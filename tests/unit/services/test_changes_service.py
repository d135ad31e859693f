"""Edits and deletions reaching WhatsApp (bzapper.services.changes): when the change's own message is sent, the
original changes once (a later edit wins), and one message.edited / message.deleted says so, with a stable id."""

from __future__ import annotations

from support.memory import open_account, report, send_text

from bzapper.domain.sending import SendDraft
from bzapper.services.changes import change_events
from bzapper.services.sending import change_message, send_message


def sent(fakes, tenant, body: str = "hello") -> str:
    message_id = send_text(fakes, tenant, body).accepted.message_id
    report(fakes, message_id, "sent")
    return message_id


def change(fakes, tenant, message_id: str, action: str, body: str | None = None) -> str:
    result = change_message(
        fakes.services, tenant.principal, message_id, action, body=body, client_reference=None, idempotency=None
    )
    return result.accepted.message_id


def test_an_edit_sent_rewrites_the_original_and_says_so(fakes, clock):
    tenant = open_account(fakes)
    original = sent(fakes, tenant)
    edit = change(fakes, tenant, original, "edit", "hello, fixed")
    clock.advance(1_000)

    report(fakes, edit, "sent")

    view = fakes.messages.get(original)
    assert view.content["body"] == "hello, fixed" and view.edited_at == clock.now
    [edited] = fakes.events.of_type("message.edited")
    assert edited["data"] == {
        "message_id": original,
        "change_id": edit,
        "to": "+5511988887777",
        "client_reference": None,
        "body": "hello, fixed",
    }


def test_a_caption_is_what_an_edit_of_an_image_changes(fakes):
    tenant = open_account(fakes)
    media = fakes.media.put_bytes(tenant.account_id, False, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")
    image = send_message(
        fakes.services,
        tenant.principal,
        SendDraft(type="image", to="+5511988887777", instance_id=tenant.instance_id, content={"caption": "old"}),
    ).accepted.message_id
    fakes.messages.rows[image].content["media"] = media
    report(fakes, image, "sent")
    edit = change(fakes, tenant, image, "edit", "new caption")
    report(fakes, edit, "sent")
    assert fakes.messages.get(image).content["caption"] == "new caption"


def test_a_deletion_sent_marks_the_original_deleted(fakes, clock):
    tenant = open_account(fakes)
    original = sent(fakes, tenant)
    revoke = change(fakes, tenant, original, "revoke")
    report(fakes, revoke, "sent")
    assert fakes.messages.get(original).deleted_at == clock.now
    [deleted] = fakes.events.of_type("message.deleted")
    assert deleted["data"]["message_id"] == original and "body" not in deleted["data"]


def test_a_redelivered_report_publishes_the_same_event_and_changes_nothing_more(fakes, clock):
    tenant = open_account(fakes)
    original = sent(fakes, tenant)
    edit = change(fakes, tenant, original, "edit", "v2")
    report(fakes, edit, "sent")
    edited_at = fakes.messages.get(original).edited_at
    clock.advance(5_000)

    report(fakes, edit, "sent")  # the record redelivered, later

    first, again = fakes.events.of_type("message.edited")
    assert first == again
    assert fakes.messages.get(original).edited_at == edited_at


def test_an_older_edit_arriving_late_never_overwrites_a_newer_one(fakes, clock):
    tenant = open_account(fakes)
    original = sent(fakes, tenant)
    first = change(fakes, tenant, original, "edit", "first")
    second = change(fakes, tenant, original, "edit", "second")

    report(fakes, second, "sent", at=clock.now + 2_000)
    report(fakes, first, "sent", at=clock.now + 1_000)  # its report came later, but it reached WhatsApp first

    assert fakes.messages.get(original).content["body"] == "second"


def test_only_a_change_just_sent_changes_anything(fakes):
    tenant = open_account(fakes)
    original = sent(fakes, tenant)
    edit = change(fakes, tenant, original, "edit", "v2")
    assert change_events(fakes.services, fakes.messages.get(edit), "delivered") == []
    assert change_events(fakes.services, fakes.messages.get(original), "sent") == []  # not a change at all
    assert fakes.messages.get(original).content["body"] == "hello"


def test_a_change_of_a_message_sent_from_the_phone_itself_changes_nothing_of_ours(fakes):
    tenant = open_account(fakes)
    original = sent(fakes, tenant)
    edit = change(fakes, tenant, original, "edit", "v2")
    fakes.messages.rows[edit].content["target"]["wa_message_id"] = "3EB0FROMTHEPHONE"
    report(fakes, edit, "sent")
    assert fakes.events.of_type("message.edited") == []
    assert fakes.messages.get(original).content["body"] == "hello"


def test_an_edit_whose_receipt_overtook_its_sent_report_still_changes_the_original(fakes, clock):
    tenant = open_account(fakes)
    original = sent(fakes, tenant)
    edit = change(fakes, tenant, original, "edit", "v2")

    report(fakes, edit, "delivered", at=clock.now + 200)  # the recipient's receipt, queued before the worker's report
    report(fakes, edit, "sent", at=clock.now + 100)

    assert fakes.messages.get(original).content["body"] == "v2"
    assert len(fakes.events.of_type("message.edited")) == 1
