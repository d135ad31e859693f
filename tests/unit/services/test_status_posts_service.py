"""Status posts (issue #18 part 6) over the in-memory fakes: a status is a message of type "status" to
status@broadcast on the one send path (charged as one send, Idempotency-Key honoured, a job for the number's
worker), refused with 422 not_supported where the engine cannot post it, with one status.posted when WhatsApp
accepts it, and per-viewer receipts kept like a group's participants."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support.memory import open_account, report

from bzapper.domain.errors import BzError
from bzapper.domain.idempotency import IdempotencyRequest
from bzapper.domain.media import MediaSource
from bzapper.domain.model import StatusReport
from bzapper.domain.status_posts import argb, per_recipient, posted_data, text_content
from bzapper.services import inbox, media
from bzapper.services.status_posts import StatusPost, post_status
from bzapper.services.statuses import apply_report

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 2_000
PDF = b"%PDF-1.7\n" + b"\0" * 2_000
VIEWER = {"jid": "5511988880001@s.whatsapp.net", "phone": "+5511988880001", "lid": "100000000000000001@lid"}
OTHER_VIEWER = {"jid": "5511988880002@s.whatsapp.net", "phone": "+5511988880002"}


def refusal(call) -> BzError:
    with pytest.raises(BzError) as raised:
        call()
    return raised.value


def text_post(tenant, **fields) -> StatusPost:
    fields.setdefault("instance_id", tenant.instance_id)
    return StatusPost(kind="text", body=fields.pop("body", "Open Sunday"), **fields)


def uploaded(fakes, tenant, data: bytes) -> str:
    return media.upload(fakes.services, tenant.principal, iter([data]), None, None)["media_id"]


def test_a_text_status_is_a_message_of_type_status_charged_as_one_send(fakes):
    tenant = open_account(fakes)
    result = post_status(
        fakes.services,
        tenant.principal,
        text_post(tenant, background_color="#25d366", font="bold", client_reference="promo-7"),
    )
    view = fakes.messages.get(result.accepted.message_id)
    assert (view.type, view.to_jid, view.to_phone, view.status) == ("status", "status@broadcast", None, "queued")
    assert view.content == {"kind": "text", "body": "Open Sunday", "background_color": "#25D366", "font": "bold"}
    assert view.participants == []  # each viewer's receipt is kept, as a group participant's
    assert fakes.wallets.balance(tenant.wallet) == 999  # one send's price (1 centavo on payg)
    [job] = fakes.jobs.jobs
    assert (job["type"], job["to_jid"], job["content"]["kind"]) == ("status", "status@broadcast", "text")


def test_an_image_status_resolves_its_media_like_a_message(fakes):
    tenant = open_account(fakes)
    media_id = uploaded(fakes, tenant, PNG)
    post = StatusPost(kind="image", instance_id=tenant.instance_id, media=MediaSource(media_id=media_id), caption="New")
    view = fakes.messages.get(post_status(fakes.services, tenant.principal, post).accepted.message_id)
    assert view.content["kind"] == "image" and view.content["caption"] == "New"
    assert view.content["media"]["media_id"] == media_id and view.content["media"]["mime_type"] == "image/png"


def test_a_media_id_of_the_wrong_kind_or_another_account_is_a_422_and_charges_nothing(fakes):
    tenant = open_account(fakes)
    stranger = open_account(fakes, name="Other")
    pdf = uploaded(fakes, tenant, PDF)
    theirs = uploaded(fakes, stranger, PNG)
    for kind, media_id in (("image", pdf), ("video", theirs), ("video", uploaded(fakes, tenant, PNG))):
        post = StatusPost(kind=kind, instance_id=tenant.instance_id, media=MediaSource(media_id=media_id))
        error = refusal(lambda post=post: post_status(fakes.services, tenant.principal, post))
        assert (error.code, error.param) == ("validation_failed", "media_id")
    assert fakes.jobs.jobs == [] and fakes.wallets.balance(tenant.wallet) == 1_000


def test_a_cloud_number_cannot_post_and_whatsmeow_cannot_restrict_the_audience(fakes):
    tenant = open_account(fakes)
    cloud = fakes.instances.create(tenant.account_id, livemode=False, engine="cloud", name="C", status="connected")
    error = refusal(lambda: post_status(fakes.services, tenant.principal, text_post(tenant, instance_id="x")))
    assert error.code == "not_found"  # another tenant's or no instance: 404 before anything else
    post = StatusPost(kind="text", instance_id=cloud.instance_id, body="hi")
    error = refusal(lambda: post_status(fakes.services, tenant.principal, post))
    assert (error.code, error.status, error.message_key) == ("not_supported", 422, "error.status_engine_unsupported")
    assert error.params == {"engine": "cloud"}

    live = open_account(fakes, mode="live")
    restricted = text_post(live, audience=("+5511988880001",))
    error = refusal(lambda: post_status(fakes.services, live.principal, restricted))
    assert (error.code, error.status, error.params) == ("not_supported", 422, {"engine": "whatsmeow"})
    assert post_status(fakes.services, live.principal, text_post(live)).accepted.status == "queued"
    assert len(fakes.jobs.jobs) == 1


def test_the_audience_is_stored_as_jids_each_once(fakes):
    tenant = open_account(fakes)
    post = text_post(tenant, audience=("+55 11 98888-0001", "100000000000000002@lid"))
    view = fakes.messages.get(post_status(fakes.services, tenant.principal, post).accepted.message_id)
    assert view.content["audience"] == ["5511988880001@s.whatsapp.net", "100000000000000002@lid"]
    for audience, param in ((("+5511988880001", "nope"), "audience.1"), (("+5511988880001",) * 2, "audience.1")):
        error = refusal(lambda a=audience: post_status(fakes.services, tenant.principal, text_post(tenant, audience=a)))
        assert (error.code, error.param) == ("validation_failed", param)


def test_an_idempotency_key_replay_posts_nothing_again(fakes):
    tenant = open_account(fakes)
    key = IdempotencyRequest("status-1", "fingerprint-1")
    first = post_status(fakes.services, tenant.principal, text_post(tenant, idempotency=key))
    again = post_status(fakes.services, tenant.principal, text_post(tenant, idempotency=key))
    assert again.replayed and again.accepted == first.accepted
    assert len(fakes.jobs.jobs) == 1 and fakes.wallets.balance(tenant.wallet) == 999
    other = IdempotencyRequest("status-1", "fingerprint-2")
    assert refusal(
        lambda: post_status(fakes.services, tenant.principal, text_post(tenant, idempotency=other))
    ).code == ("idempotency_conflict")


def _receipt(fakes, message_id: str, status: str, participant: dict, at: int) -> None:
    view = fakes.messages.get(message_id)
    apply_report(
        fakes.services, StatusReport(view.instance_id, view.wa_message_id, status, at, participant=participant)
    )


def test_status_posted_once_when_whatsapp_accepts_it_and_viewers_are_kept(fakes):
    tenant = open_account(fakes)
    message_id = post_status(fakes.services, tenant.principal, text_post(tenant)).accepted.message_id
    report(fakes, message_id, "sending", at=10)
    assert fakes.events.of_type("status.posted") == []
    report(fakes, message_id, "sent", at=20)
    report(fakes, message_id, "sent", at=21)  # a repeated ack: the same event again at most, never another
    _receipt(fakes, message_id, "delivered", VIEWER, 30)
    _receipt(fakes, message_id, "read", VIEWER, 40)
    _receipt(fakes, message_id, "delivered", OTHER_VIEWER, 50)
    posted = fakes.events.of_type("status.posted")
    assert {event["id"] for event in posted} == {posted[0]["id"]}
    assert posted[0]["data"] == {
        "message_id": message_id,
        "kind": "text",
        "audience_size": None,
        "client_reference": None,
        "posted": "1970-01-01T00:00:00.020Z",
    }
    assert [event["type"] for event in fakes.events.published].count("message.read") == 1
    view = fakes.messages.get(message_id)
    assert view.status == "read"
    assert {row["phone"]: row["status"] for row in view.participants} == {
        "+5511988880001": "read",
        "+5511988880002": "delivered",
    }


def test_status_posted_comes_with_the_first_receipt_when_it_overtakes_the_ack(fakes):
    tenant = open_account(fakes)
    message_id = post_status(fakes.services, tenant.principal, text_post(tenant)).accepted.message_id
    report(fakes, message_id, "sending", at=10)
    report(fakes, message_id, "delivered", at=30)
    report(fakes, message_id, "sent", at=20)  # late: dropped, and no second status.posted
    report(fakes, message_id, "read", at=40)
    posted = fakes.events.of_type("status.posted")
    assert len({event["id"] for event in posted}) == 1 and posted[0]["data"]["posted"].endswith("00.030Z")


def test_a_failed_status_post_is_refunded_and_never_posted(fakes):
    tenant = open_account(fakes)
    message_id = post_status(fakes.services, tenant.principal, text_post(tenant)).accepted.message_id
    report(fakes, message_id, "failed", at=10, error="not_supported")
    assert fakes.events.of_type("status.posted") == []
    assert fakes.wallets.balance(tenant.wallet) == 1_000


def test_pure_rules():
    assert argb("#25D366") == 0xFF25D366 and argb("#000000") == 0xFF000000
    with pytest.raises(ValueError):
        argb("25D366")
    assert per_recipient("status@broadcast") and per_recipient("120363025246125888@g.us")
    assert not per_recipient("5511988880001@s.whatsapp.net")
    assert text_content("x", None, None) == {"kind": "text", "body": "x"}
    assert posted_data("msg_1", {"kind": "image", "audience": ["a", "b"]}, "r", "t")["audience_size"] == 2


def test_a_key_limited_to_other_numbers_cannot_post_from_this_one(fakes):
    tenant = open_account(fakes)
    limited = replace(tenant.principal, instance_ids=frozenset({"inst_other"}))
    assert refusal(lambda: post_status(fakes.services, limited, text_post(tenant))).code == "not_found"
    assert fakes.jobs.jobs == []


def test_a_post_never_becomes_a_conversation(fakes):
    tenant = open_account(fakes)
    message_id = post_status(fakes.services, tenant.principal, text_post(tenant)).accepted.message_id
    report(fakes, message_id, "sending", at=10)
    report(fakes, message_id, "sent", at=20)
    assert inbox.list_conversations(fakes.services, tenant.principal, tenant.instance_id, 10, None).rows == []
