"""Webhooks (bzapper.services.webhooks): endpoints, one delivery per subscribed endpoint and event, signed POSTs
retried by the queue's visibility, an endpoint failing for 3 days disabled with a notice, secrets rotated."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace

import pytest
from support.memory import open_account

from bzapper.domain.errors import BzError
from bzapper.domain.events import envelope
from bzapper.domain.transport import HttpOutcome
from bzapper.domain.webhooks import DISABLE_AFTER_MS, MAX_ATTEMPTS, SECRET_OVERLAP_MS
from bzapper.services import webhooks

URL = "https://93.184.215.14/hooks"
"""A public address: the SSRF guard resolves it without DNS (sockets are off in unit tests)."""
QUEUE = "arn:aws:sqs:us-east-1:123456789012:bz-test-webhook-deliveries"


def refusal(call) -> BzError:
    with pytest.raises(BzError) as raised:
        call()
    return raised.value


def endpoint(fakes, tenant, events: list[str] | None = None, url: str = URL) -> webhooks.CreatedWebhook:
    return webhooks.create_webhook(fakes.services, tenant.principal, url, events, "orders")


def event(tenant, event_type: str = "message.sent", at: int = 1_736_942_400_000, livemode: bool = False) -> dict:
    return envelope(
        event_type,
        at_ms=at,
        account_id=tenant.account_id,
        instance_id=tenant.instance_id,
        livemode=livemode,
        data={"message_id": "msg_1"},
        identity=(event_type, str(at)),
    )


def dispatch_next(fakes) -> bool:
    job = fakes.delivery_jobs.jobs[-1]
    return webhooks.dispatch(fakes.services, job, QUEUE, "receipt-1")


def standard_signature(secret: str, event_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks' scheme, computed here independently of the library the service signs with."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


# Endpoints -----------------------------------------------------------------------------------------------------


def test_an_endpoint_is_created_enabled_with_a_secret_shown_once(fakes):
    tenant = open_account(fakes)
    created = endpoint(fakes, tenant, ["message.*"])
    assert created.secret.startswith("whsec_")
    assert created.webhook.status == "enabled" and created.webhook.events == frozenset({"message.*"})
    assert webhooks.list_webhooks(fakes.services, tenant.principal) == [created.webhook]
    assert webhooks.list_webhooks(fakes.services, open_account(fakes).principal) == []


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://10.0.0.8/hooks", "error.unsafe_url.private"),
        ("https://169.254.169.254/latest", "error.unsafe_url.link_local"),
        ("http://93.184.215.14/hooks", "error.unsafe_url.https_required"),
        ("https://hooks.example.invalid/x", "error.unsafe_url.unresolvable"),
    ],
)
def test_an_address_that_could_reach_inside_is_refused(fakes, url, key):
    tenant = open_account(fakes)
    error = refusal(lambda: endpoint(fakes, tenant, url=url))
    assert (error.code, error.param, error.message_key) == ("validation_failed", "url", key)
    assert fakes.webhooks.rows == {}


def test_event_lists_are_checked_and_plans_cap_the_count(fakes):
    tenant = open_account(fakes)
    assert refusal(lambda: endpoint(fakes, tenant, [])).param == "events"
    assert refusal(lambda: endpoint(fakes, tenant, ["message.sent", "nope"])).param == "events.1"
    for _ in range(5):  # payg: 5 endpoints
        endpoint(fakes, tenant)
    assert refusal(lambda: endpoint(fakes, tenant)).code == "limit_exceeded"


def test_an_update_changes_only_what_was_sent_and_enabling_ends_a_streak(fakes, clock):
    tenant = open_account(fakes)
    created = endpoint(fakes, tenant, ["message.sent"])
    webhook_id = created.webhook.webhook_id
    fakes.webhooks.note_failure(webhook_id, clock.now)
    fakes.webhooks.update(webhook_id, webhooks.WebhookChanges(given=frozenset({"status"}), status="disabled"))

    updated = webhooks.update_webhook(
        fakes.services, tenant.principal, webhook_id, {"status": "enabled", "events": None, "description": None}
    )

    assert (updated.status, updated.events, updated.description, updated.url) == ("enabled", None, None, URL)
    assert updated.failing_since is None
    assert webhooks.update_webhook(fakes.services, tenant.principal, webhook_id, {"other": 1}) == updated
    other = open_account(fakes)
    assert refusal(lambda: webhooks.update_webhook(fakes.services, other.principal, webhook_id, {})).code == "not_found"


def test_a_deleted_endpoint_is_gone(fakes):
    tenant = open_account(fakes)
    webhook_id = endpoint(fakes, tenant).webhook.webhook_id
    webhooks.delete_webhook(fakes.services, tenant.principal, webhook_id)
    assert refusal(lambda: webhooks.owned(fakes.services, tenant.principal, webhook_id)).code == "not_found"


# Rotation ---------------------------------------------------------------------------------------------------------


def test_after_a_rotation_both_secrets_sign_for_a_day_then_only_the_new_one(fakes, clock):
    tenant = open_account(fakes)
    created = endpoint(fakes, tenant)
    clock.advance(1_000)

    rotated = webhooks.rotate_secret(fakes.services, tenant.principal, created.webhook.webhook_id)

    assert rotated.webhook.signing_secrets(clock.now) == [rotated.secret, created.secret]
    assert rotated.webhook.signing_secrets(clock.now + SECRET_OVERLAP_MS) == [rotated.secret]
    clock.advance(SECRET_OVERLAP_MS)
    again = webhooks.rotate_secret(fakes.services, tenant.principal, created.webhook.webhook_id)
    assert [s.secret for s in again.webhook.secrets] == [again.secret, rotated.secret]  # the expired one dropped


def test_a_concurrent_rotation_is_read_again_never_losing_a_secret(fakes, clock):
    tenant = open_account(fakes)
    created = endpoint(fakes, tenant)
    webhook_id = created.webhook.webhook_id
    theirs = "whsec_" + base64.b64encode(b"t" * 24).decode()

    def another_rotation() -> None:  # lands between our read of the endpoint and our write
        clock.advance(1)
        fakes.webhooks.rotate(fakes.webhooks.rows[webhook_id], theirs)

    fakes.webhooks.before_next("rotate", another_rotation)
    ours = webhooks.rotate_secret(fakes.services, tenant.principal, webhook_id)

    assert [s.secret for s in ours.webhook.secrets] == [ours.secret, theirs, created.secret]
    assert fakes.webhooks.call_count("rotate") == 3  # theirs, ours refused, ours again on a fresh read


def test_rotation_gives_up_after_three_lost_races(fakes):
    tenant = open_account(fakes)
    webhook_id = endpoint(fakes, tenant).webhook.webhook_id

    def concurrent_change() -> None:
        current = fakes.webhooks.rows[webhook_id]
        fakes.webhooks.rows[webhook_id] = replace(current, updated_at=current.updated_at + 1)

    fakes.webhooks.before_next("rotate", concurrent_change, times=3)
    error = refusal(lambda: webhooks.rotate_secret(fakes.services, tenant.principal, webhook_id))
    assert (error.code, error.retry_after) == ("temporarily_unavailable", 1)
    assert len(fakes.webhooks.rows[webhook_id].secrets) == 1


# Fan-out ------------------------------------------------------------------------------------------------------


def test_an_event_goes_to_each_enabled_subscribed_endpoint_of_its_account_and_mode(fakes):
    tenant = open_account(fakes)
    every = endpoint(fakes, tenant).webhook
    family = endpoint(fakes, tenant, ["message.*"]).webhook
    endpoint(fakes, tenant, ["instance.connected"])
    off = endpoint(fakes, tenant).webhook
    fakes.webhooks.update(off.webhook_id, webhooks.WebhookChanges(given=frozenset({"status"}), status="disabled"))
    endpoint(fakes, open_account(fakes))

    assert webhooks.fan_out(fakes.services, event(tenant)) == 2

    assert {job["webhook_id"] for job in fakes.delivery_jobs.jobs} == {every.webhook_id, family.webhook_id}
    assert all(job["base"] == 0 for job in fakes.delivery_jobs.jobs)
    delivery = fakes.deliveries.get(every.webhook_id, fakes.delivery_jobs.jobs[0]["delivery_id"])
    assert json.loads(delivery.payload) == event(tenant) and delivery.status == "pending"


def test_a_redelivered_event_makes_no_second_delivery_once_its_job_ran(fakes):
    tenant = open_account(fakes)
    endpoint(fakes, tenant)
    webhooks.fan_out(fakes.services, event(tenant))
    dispatch_next(fakes)

    webhooks.fan_out(fakes.services, event(tenant))

    assert len(fakes.deliveries.rows) == 1 and len(fakes.delivery_jobs.jobs) == 1


def test_a_delivery_whose_job_may_never_have_been_sent_is_queued_again(fakes):
    tenant = open_account(fakes)
    endpoint(fakes, tenant)
    fakes.delivery_jobs.fail_next("enqueue", ConnectionError("SQS unavailable"))
    with pytest.raises(ConnectionError):
        webhooks.fan_out(fakes.services, event(tenant))

    webhooks.fan_out(fakes.services, event(tenant))  # the event's retry

    assert len(fakes.deliveries.rows) == 1 and len(fakes.delivery_jobs.jobs) == 1


# Dispatch -------------------------------------------------------------------------------------------------------


def test_a_2xx_delivers_a_signed_post_and_counts_it(fakes, clock):
    tenant = open_account(fakes)
    created = endpoint(fakes, tenant)
    webhooks.fan_out(fakes.services, event(tenant))

    assert dispatch_next(fakes) is True

    [post] = fakes.http.posted
    body = json.dumps(event(tenant), separators=(",", ":")).encode()
    assert post.url == URL and post.body == body
    assert post.headers["webhook-id"] == event(tenant)["id"]
    assert post.headers["webhook-timestamp"] == str(clock.now // 1000)
    assert post.headers["webhook-signature"] == standard_signature(
        created.secret, event(tenant)["id"], post.headers["webhook-timestamp"], body
    )
    [delivery] = fakes.deliveries.rows.values()
    assert delivery.status == "delivered" and delivery.attempts[0].status_code == 200
    assert fakes.usage.total(tenant.account_id, False, "webhook_deliveries") == 1


def test_during_a_rotation_every_live_secret_signs(fakes):
    tenant = open_account(fakes)
    created = endpoint(fakes, tenant)
    rotated = webhooks.rotate_secret(fakes.services, tenant.principal, created.webhook.webhook_id)
    webhooks.fan_out(fakes.services, event(tenant))
    dispatch_next(fakes)
    [post] = fakes.http.posted
    signatures = post.headers["webhook-signature"].split(" ")
    assert signatures == [
        standard_signature(secret, post.headers["webhook-id"], post.headers["webhook-timestamp"], post.body)
        for secret in (rotated.secret, created.secret)
    ]


@pytest.mark.parametrize(
    "outcome", [HttpOutcome(500, 30, None), HttpOutcome(429, 5, None), HttpOutcome(None, 10_000, "timeout")]
)
def test_a_retryable_failure_is_retried_by_the_queues_visibility(fakes, clock, outcome):
    tenant = open_account(fakes)
    webhook_id = endpoint(fakes, tenant).webhook.webhook_id
    webhooks.fan_out(fakes.services, event(tenant))
    fakes.http.answer_posts(outcome)

    assert dispatch_next(fakes) is False  # SQS brings the job back

    [(queue, receipt, seconds)] = fakes.delivery_jobs.postponed
    assert (queue, receipt) == (QUEUE, "receipt-1") and 4 <= seconds <= 6  # 5 s, ±20%
    [delivery] = fakes.deliveries.rows.values()
    assert delivery.status == "retrying" and delivery.attempts[0].error == outcome.error
    assert fakes.webhooks.rows[webhook_id].failing_since == clock.now


def test_a_final_answer_fails_the_delivery_at_once(fakes):
    tenant = open_account(fakes)
    endpoint(fakes, tenant)
    webhooks.fan_out(fakes.services, event(tenant))
    fakes.http.answer_posts(HttpOutcome(410, 12, None))

    assert dispatch_next(fakes) is True

    [delivery] = fakes.deliveries.rows.values()
    assert delivery.status == "failed" and fakes.delivery_jobs.dead_letters == []
    assert fakes.delivery_jobs.postponed == []


def test_the_last_attempt_fails_the_delivery_and_keeps_the_job_in_the_dlq(fakes):
    tenant = open_account(fakes)
    endpoint(fakes, tenant)
    webhooks.fan_out(fakes.services, event(tenant))
    fakes.http.answer_posts(*[HttpOutcome(503, 5, None)] * MAX_ATTEMPTS)

    results = [dispatch_next(fakes) for _ in range(MAX_ATTEMPTS)]

    assert results == [False] * (MAX_ATTEMPTS - 1) + [True]
    [delivery] = fakes.deliveries.rows.values()
    assert delivery.status == "failed" and len(delivery.attempts) == MAX_ATTEMPTS
    assert fakes.delivery_jobs.dead_letters == [fakes.delivery_jobs.jobs[0]]


def test_a_finished_delivery_is_not_sent_again_and_a_disabled_endpoint_gets_nothing(fakes):
    tenant = open_account(fakes)
    webhook_id = endpoint(fakes, tenant).webhook.webhook_id
    webhooks.fan_out(fakes.services, event(tenant))
    dispatch_next(fakes)
    assert dispatch_next(fakes) is True and len(fakes.http.posted) == 1

    webhooks.fan_out(fakes.services, event(tenant, "message.read"))
    fakes.webhooks.update(webhook_id, webhooks.WebhookChanges(given=frozenset({"status"}), status="disabled"))
    assert dispatch_next(fakes) is True

    assert len(fakes.http.posted) == 1
    failed = fakes.deliveries.get(webhook_id, fakes.delivery_jobs.jobs[-1]["delivery_id"])
    assert failed.status == "failed" and failed.attempts[0].error == "endpoint disabled or deleted"


# Failing for 3 days -----------------------------------------------------------------------------------------------


def test_an_endpoint_failing_for_3_days_is_disabled_once_with_a_notice_in_the_accounts_language(fakes, clock):
    tenant = open_account(fakes, locale="pt-BR")
    webhook_id = endpoint(fakes, tenant).webhook.webhook_id
    fakes.http.default_post = HttpOutcome(500, 5, None)
    since = clock.now
    webhooks.fan_out(fakes.services, event(tenant))
    dispatch_next(fakes)

    clock.advance(DISABLE_AFTER_MS - 1)
    webhooks.fan_out(fakes.services, event(tenant, "message.read"))
    dispatch_next(fakes)
    assert fakes.webhooks.rows[webhook_id].status == "enabled"

    clock.advance(1)
    dispatch_next(fakes)
    dispatch_next(fakes)  # another failing delivery racing in: no second notice

    assert fakes.webhooks.rows[webhook_id].status == "disabled"
    [notice] = fakes.events.of_type("webhook.disabled")
    assert notice["data"]["webhook_id"] == webhook_id and notice["data"]["failing_since"].startswith("2025-01-15T12:00")
    assert notice["data"]["locale"] == "pt-BR" and notice["data"]["message"].startswith("O endpoint de webhook")
    assert notice["created"].startswith("2025-01-18")
    assert fakes.webhooks.rows[webhook_id].failing_since == since


def test_a_success_ends_the_streak(fakes, clock):
    tenant = open_account(fakes)
    webhook_id = endpoint(fakes, tenant).webhook.webhook_id
    fakes.http.answer_posts(HttpOutcome(500, 5, None))
    webhooks.fan_out(fakes.services, event(tenant))
    dispatch_next(fakes)
    clock.advance(DISABLE_AFTER_MS)

    dispatch_next(fakes)  # this one succeeds
    assert fakes.webhooks.rows[webhook_id].failing_since is None

    fakes.http.answer_posts(HttpOutcome(500, 5, None))
    webhooks.fan_out(fakes.services, event(tenant, "message.read"))
    dispatch_next(fakes)
    assert fakes.webhooks.rows[webhook_id].status == "enabled"
    assert fakes.webhooks.rows[webhook_id].failing_since == clock.now


def test_a_streak_ended_by_a_concurrent_success_is_read_again_before_disabling(fakes, clock):
    tenant = open_account(fakes)
    webhook_id = endpoint(fakes, tenant).webhook.webhook_id
    fakes.webhooks.note_failure(webhook_id, clock.now)
    webhooks.fan_out(fakes.services, event(tenant))
    clock.advance(DISABLE_AFTER_MS)
    fakes.http.answer_posts(HttpOutcome(500, 5, None))
    fakes.http.before_next("post", lambda: fakes.webhooks.note_success(webhook_id))  # another delivery succeeded

    dispatch_next(fakes)

    assert fakes.webhooks.rows[webhook_id].status == "enabled"
    assert fakes.webhooks.rows[webhook_id].failing_since == clock.now  # a new streak, starting now
    assert fakes.events.published == []


# Replays, tests, listings ------------------------------------------------------------------------------------------


def test_a_replay_sends_the_delivery_again_with_fresh_attempts(fakes):
    tenant = open_account(fakes)
    webhook_id = endpoint(fakes, tenant).webhook.webhook_id
    webhooks.fan_out(fakes.services, event(tenant))
    fakes.http.answer_posts(HttpOutcome(400, 5, None))
    dispatch_next(fakes)
    delivery_id = fakes.delivery_jobs.jobs[0]["delivery_id"]

    webhooks.replay(fakes.services, tenant.principal, webhook_id, delivery_id)

    assert fakes.delivery_jobs.jobs[-1] == {"webhook_id": webhook_id, "delivery_id": delivery_id, "base": 1}
    assert dispatch_next(fakes) is True
    delivery = fakes.deliveries.get(webhook_id, delivery_id)
    assert delivery.status == "delivered" and len(delivery.attempts) == 2
    assert refusal(lambda: webhooks.replay(fakes.services, tenant.principal, webhook_id, "dlv_x")).code == "not_found"


def test_a_test_event_is_delivered_like_any_other(fakes):
    tenant = open_account(fakes)
    webhook_id = endpoint(fakes, tenant, ["message.sent"]).webhook.webhook_id
    sent = webhooks.send_test(fakes.services, tenant.principal, webhook_id)
    assert fakes.delivery_jobs.jobs == [{"webhook_id": webhook_id, "delivery_id": sent.delivery_id, "base": 0}]
    assert fakes.deliveries.get(webhook_id, sent.delivery_id).event_type == "webhook.test"


def test_deliveries_are_listed_newest_first_in_pages(fakes, clock):
    tenant = open_account(fakes)
    webhook_id = endpoint(fakes, tenant).webhook.webhook_id
    for n in range(3):
        webhooks.fan_out(fakes.services, event(tenant, at=clock.now + n))
    first, cursor = webhooks.list_deliveries(fakes.services, tenant.principal, webhook_id, 2, None)
    rest, end = webhooks.list_deliveries(fakes.services, tenant.principal, webhook_id, 2, cursor)
    ordered = [d.delivery_id for d in first + rest]
    assert ordered == sorted(ordered, reverse=True) and len(ordered) == 3 and end is None


# Keys limited to some numbers -------------------------------------------------------------------------------------


def limited(fakes, tenant, *instance_ids: str):
    """The tenant's principal as a key limited to these numbers."""
    return replace(tenant.principal, instance_ids=frozenset(instance_ids))


def second_number(fakes, tenant) -> str:
    other = fakes.instances.create(tenant.account_id, livemode=False, engine="sandbox", name="Two", status="connected")
    return other.instance_id


def test_a_limited_keys_endpoint_gets_only_its_numbers_events_and_account_level_ones(fakes):
    tenant = open_account(fakes)
    two = second_number(fakes, tenant)
    narrow = webhooks.create_webhook(fakes.services, limited(fakes, tenant, two), URL, None, None).webhook
    wide = endpoint(fakes, tenant).webhook
    assert narrow.instance_ids == frozenset({two}) and wide.instance_ids is None

    assert webhooks.fan_out(fakes.services, event(tenant)) == 1  # the first number's event: the full key's only
    assert [job["webhook_id"] for job in fakes.delivery_jobs.jobs] == [wide.webhook_id]
    on_two = envelope(
        "message.received",
        at_ms=1,
        account_id=tenant.account_id,
        instance_id=two,
        livemode=False,
        data={},
        identity=("a",),
    )
    assert webhooks.fan_out(fakes.services, on_two) == 2
    account_level = envelope(
        "wallet.low_balance",
        at_ms=2,
        account_id=tenant.account_id,
        instance_id=None,
        livemode=False,
        data={},
        identity=("b",),
    )
    assert webhooks.fan_out(fakes.services, account_level) == 2


def test_a_notice_about_an_endpoint_goes_only_to_endpoints_whose_key_could_see_it(fakes):
    tenant = open_account(fakes)
    two = second_number(fakes, tenant)
    narrow = webhooks.create_webhook(fakes.services, limited(fakes, tenant, two), URL, None, None).webhook
    wide = endpoint(fakes, tenant).webhook
    other_wide = endpoint(fakes, tenant).webhook

    def notice(about: str) -> dict:
        return envelope(
            "webhook.disabled",
            at_ms=3,
            account_id=tenant.account_id,
            instance_id=None,
            livemode=False,
            data={"webhook_id": about, "url": URL},
            identity=(about,),
        )

    webhooks.fan_out(fakes.services, notice(wide.webhook_id))  # names the full key's URL: not for the narrow one
    assert {job["webhook_id"] for job in fakes.delivery_jobs.jobs} == {wide.webhook_id, other_wide.webhook_id}
    fakes.delivery_jobs.jobs.clear()
    webhooks.fan_out(fakes.services, notice(narrow.webhook_id))
    assert {job["webhook_id"] for job in fakes.delivery_jobs.jobs} == {
        narrow.webhook_id,
        wide.webhook_id,
        other_wide.webhook_id,
    }


def test_a_limited_key_sees_and_manages_only_endpoints_within_its_numbers(fakes):
    tenant = open_account(fakes)
    two = second_number(fakes, tenant)
    only_two = limited(fakes, tenant, two)
    both = limited(fakes, tenant, two, tenant.instance_id)
    wide = endpoint(fakes, tenant).webhook
    narrow = webhooks.create_webhook(fakes.services, only_two, URL, None, None).webhook
    broader = webhooks.create_webhook(fakes.services, both, URL, None, None).webhook
    webhooks.fan_out(fakes.services, event(tenant))
    [delivery_id] = [job["delivery_id"] for job in fakes.delivery_jobs.jobs if job["webhook_id"] == wide.webhook_id]

    assert webhooks.list_webhooks(fakes.services, only_two) == [narrow]
    assert {w.webhook_id for w in webhooks.list_webhooks(fakes.services, both)} == {
        narrow.webhook_id,
        broader.webhook_id,
    }
    assert len(webhooks.list_webhooks(fakes.services, tenant.principal)) == 3  # a full key sees every endpoint
    for hidden in (wide.webhook_id, broader.webhook_id):
        for call in (
            lambda: webhooks.update_webhook(fakes.services, only_two, hidden, {"url": URL + "/hijacked"}),
            lambda: webhooks.rotate_secret(fakes.services, only_two, hidden),
            lambda: webhooks.list_deliveries(fakes.services, only_two, hidden, 10, None),
            lambda: webhooks.replay(fakes.services, only_two, hidden, delivery_id),
            lambda: webhooks.send_test(fakes.services, only_two, hidden),
            lambda: webhooks.delete_webhook(fakes.services, only_two, hidden),
        ):
            assert refusal(call).code == "not_found"
    assert fakes.webhooks.rows[wide.webhook_id].url == URL and len(fakes.webhooks.rows) == 3
    assert webhooks.rotate_secret(fakes.services, only_two, narrow.webhook_id).webhook.webhook_id == narrow.webhook_id
    webhooks.delete_webhook(fakes.services, tenant.principal, narrow.webhook_id)  # the full key manages any


def test_a_tally_adds_an_invocations_deliveries_once_per_hour_and_counts_none_twice(fakes, clock, monkeypatch):
    tenant = open_account(fakes)
    endpoint(fakes, tenant)
    increments: list[int] = []
    real = fakes.usage.increment
    monkeypatch.setattr(fakes.usage, "increment", lambda *args, by=1: increments.append(by) or real(*args, by=by))
    tally = webhooks.DeliveryTally()
    ms_to_next_hour = 3_600_000 - clock.now % 3_600_000
    for number, advance in enumerate((0, 1_000, ms_to_next_hour)):
        clock.advance(advance)
        webhooks.fan_out(fakes.services, event(tenant, at=1_736_942_400_000 + number))
        assert webhooks.dispatch(fakes.services, fakes.delivery_jobs.jobs[-1], QUEUE, "receipt", tally) is True
    assert webhooks.dispatch(fakes.services, fakes.delivery_jobs.jobs[-1], QUEUE, "receipt", tally) is True  # again

    assert increments == []  # nothing counted before the invocation ends
    tally.flush(fakes.services)
    tally.flush(fakes.services)  # a second flush has nothing left

    assert sorted(increments) == [1, 2]  # one update per hour's counter
    rows = fakes.usage.hourly(tenant.account_id, False, "2000-01-01T00", "2100-01-01T00")
    assert sorted(row.counts["webhook_deliveries"] for row in rows) == [1, 2]
