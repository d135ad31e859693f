"""The simulated Cloud API's model under a fake clock (no sockets, no HTTP): statuses and their timing, the
24-hour window, pricing, reserved recipients, templates' review, webhooks' signatures and redelivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import pytest
from support.graph_sim import CALLBACK, TOKEN, Callback, fake_sim
from support.sandbox import FakeClock

from bzapper_dev.sandbox.graph import TEST_APP_SECRET, GraphError, GraphSim
from bzapper_dev.sandbox.graph.model import ControlError

NUMBER = "106540352242922"
WABA = "102290129340398"
CONTACT = "+5511988887777"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> GraphSim:
    sim = fake_sim(clock)
    sim.provision(NUMBER, {"waba_id": WABA})
    return sim


@pytest.fixture
def callback() -> Callback:
    return Callback()


def text(to: str = CONTACT, body: str = "Hi") -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def template(name: str, language: str = "en", *components: dict[str, Any], to: str = CONTACT) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": list(components)},
    }


def body_params(*values: str) -> dict[str, Any]:
    return {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}


def code_button(code: str) -> dict[str, Any]:
    return {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": code}]}


def order_update(to: str = CONTACT) -> dict[str, Any]:
    return template("order_update", "en", body_params("Ana", "#1234"), to=to)


def write_in(sim: GraphSim, who: str = CONTACT, **extra: Any) -> dict[str, Any]:
    return sim.inbound(NUMBER, {"from": who, "text": "Oi!"} | extra)


def wamid_of(answer: dict[str, Any]) -> str:
    return answer["messages"][0]["id"]


def status_items(callback: Callback) -> list[dict[str, Any]]:
    return [s for value in callback.values() for s in value.get("statuses", [])]


# -- statuses on the clock --------------------------------------------------------------------------------


def test_a_reply_in_the_window_goes_sent_delivered_read_on_the_clock(
    sim: GraphSim, clock: FakeClock, callback: Callback
) -> None:
    write_in(sim)
    sim.pump(callback)
    callback.clear()
    wamid = wamid_of(sim.send(NUMBER, TOKEN, text()))

    sim.pump(callback)
    assert callback.statuses() == [(wamid, "sent")]
    clock.advance(0.2)
    sim.pump(callback)
    assert callback.statuses()[-1] == (wamid, "delivered")
    clock.advance(0.39)
    sim.pump(callback)
    assert len(callback.statuses()) == 2  # read is due at 0.6 s, not before
    clock.advance(0.01)
    sim.pump(callback)
    assert callback.statuses() == [(wamid, "sent"), (wamid, "delivered"), (wamid, "read")]

    sent, delivered, read = status_items(callback)
    assert sent["recipient_id"] == CONTACT[1:]
    # Timestamps are the sim's wall time (string seconds) when each status happened.
    assert (sent["timestamp"], read["timestamp"]) == ("1700000000", "1700000001")
    assert sent["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_customer_service",
    }
    assert sent["conversation"]["origin"] == {"type": "service"}
    assert "expiration_timestamp" in sent["conversation"]
    assert delivered["conversation"]["id"] == sent["conversation"]["id"]
    assert "conversation" not in read and read["pricing"] == sent["pricing"]


def test_time_scale_multiplies_every_delay(clock: FakeClock, callback: Callback) -> None:
    sim = fake_sim(clock, time_scale=10)
    write_in(sim)
    wamid = wamid_of(sim.send(NUMBER, TOKEN, text()))
    clock.advance(1.9)
    sim.pump(callback)
    assert (wamid, "delivered") not in callback.statuses()
    clock.advance(0.1)
    sim.pump(callback)
    assert (wamid, "delivered") in callback.statuses()


def test_the_offline_range_is_sent_and_never_delivered(sim: GraphSim, clock: FakeClock, callback: Callback) -> None:
    wamid = wamid_of(sim.send(NUMBER, TOKEN, order_update("+5511900001234")))
    clock.advance(3600)
    sim.pump(callback)
    assert callback.statuses() == [(wamid, "sent")]


def test_not_on_whatsapp_is_accepted_then_failed_131026(sim: GraphSim, callback: Callback) -> None:
    answer = sim.send(NUMBER, TOKEN, order_update("+5511900000042"))
    assert answer["contacts"] == [{"input": "+5511900000042", "wa_id": "5511900000042"}]
    sim.pump(callback)
    (failed,) = status_items(callback)
    assert failed["status"] == "failed" and "pricing" not in failed
    assert failed["errors"][0]["code"] == 131026
    assert failed["errors"][0]["title"] == "Message undeliverable"


def test_the_replying_range_answers_quoting_the_message_and_opens_the_window(
    sim: GraphSim, clock: FakeClock, callback: Callback
) -> None:
    replier = "+5511900002001"
    wamid = wamid_of(sim.send(NUMBER, TOKEN, order_update(replier)))
    clock.advance(1.2)
    sim.pump(callback)
    (reply,) = callback.messages()
    assert reply["text"] == {"body": f"Auto-reply to {wamid}"}
    assert reply["context"]["id"] == wamid
    assert reply["context"]["from"] == sim.number_state(NUMBER)["display_phone_number"].translate(
        str.maketrans("", "", "+- ")
    )
    # The reply opened the window: a free-form message to them is now a free service message.
    free = wamid_of(sim.send(NUMBER, TOKEN, text(replier)))
    sim.pump(callback)
    assert (free, "sent") in callback.statuses()


# -- the 24-hour customer service window -------------------------------------------------------------------


def test_free_form_outside_the_window_is_accepted_then_failed_131047(sim: GraphSim, callback: Callback) -> None:
    answer = sim.send(NUMBER, TOKEN, text())
    sim.pump(callback)
    (failed,) = status_items(callback)
    assert (failed["id"], failed["status"]) == (wamid_of(answer), "failed")
    assert failed["errors"][0]["code"] == 131047
    assert failed["errors"][0]["title"] == "Re-engagement message"
    assert "24 hours" in failed["errors"][0]["error_data"]["details"]


def test_the_window_closes_24_hours_after_the_last_inbound(sim: GraphSim, clock: FakeClock, callback: Callback) -> None:
    write_in(sim)
    clock.advance(24 * 3600 - 1)
    inside = wamid_of(sim.send(NUMBER, TOKEN, text()))
    clock.advance(1)
    outside = wamid_of(sim.send(NUMBER, TOKEN, text()))
    sim.pump(callback)
    assert (inside, "sent") in callback.statuses()
    assert (outside, "failed") in callback.statuses()
    # A new inbound opens it again.
    write_in(sim)
    again = wamid_of(sim.send(NUMBER, TOKEN, text()))
    sim.pump(callback)
    assert (again, "sent") in callback.statuses()


def test_the_clock_control_closes_the_window_without_waiting(sim: GraphSim, callback: Callback) -> None:
    write_in(sim)
    assert CONTACT in sim.number_state(NUMBER)["windows"]
    state = sim.advance(24 * 3600)
    assert state["offset_seconds"] == 24 * 3600
    assert sim.number_state(NUMBER)["windows"] == {}
    wamid = wamid_of(sim.send(NUMBER, TOKEN, text()))
    sim.pump(callback)
    assert callback.statuses()[-1] == (wamid, "failed")
    with pytest.raises(ControlError):
        sim.advance(-1)


def test_windows_are_per_number_and_contact(sim: GraphSim, callback: Callback) -> None:
    write_in(sim)
    other_contact = wamid_of(sim.send(NUMBER, TOKEN, text("+5511977776666")))
    other_number = wamid_of(sim.send("999000111", TOKEN, text()))
    sim.pump(callback)
    assert (other_contact, "failed") in callback.statuses()
    assert (other_number, "failed") in callback.statuses()


# -- pricing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "window", "category", "billable"),
    [
        (order_update(), True, "utility", False),
        (order_update(), False, "utility", True),
        (
            template("verification_code", "pt_BR", body_params("123456"), code_button("123456")),
            True,
            "authentication",
            True,
        ),
        (template("weekly_offer", "es", body_params("Ana")), True, "marketing", True),
        (template("weekly_offer", "en", body_params("Ana")), False, "marketing", True),
    ],
)
def test_templates_are_priced_by_category_and_window(
    sim: GraphSim, callback: Callback, message: dict[str, Any], window: bool, category: str, billable: bool
) -> None:
    if window:
        write_in(sim)
    answer = sim.send(NUMBER, TOKEN, message)
    assert answer["messages"][0]["message_status"] == "accepted"
    sim.pump(callback)
    (sent,) = [s for s in status_items(callback) if s["id"] == wamid_of(answer)]
    assert sent["status"] == "sent"
    assert sent["pricing"]["category"] == category
    assert sent["pricing"]["billable"] is billable
    assert sent["pricing"]["type"] == ("regular" if billable else "free_customer_service")
    assert sent["conversation"]["origin"]["type"] == category


# -- throughput and pair-rate refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(("recipient", "code"), [("+5511900007001", 130429), ("+5511900007555", 131056)])
def test_the_limited_ranges_refuse_twice_then_accept(sim: GraphSim, recipient: str, code: int) -> None:
    for _ in range(2):
        with pytest.raises(GraphError) as refused:
            sim.send(NUMBER, TOKEN, order_update(recipient))
        assert (refused.value.status, refused.value.code) == (400, code)
    assert wamid_of(sim.send(NUMBER, TOKEN, order_update(recipient)))
    # The next message meets the limit again (a backoff that retries twice always gets through).
    with pytest.raises(GraphError):
        sim.send(NUMBER, TOKEN, order_update(recipient))


@pytest.mark.parametrize(("recipient", "code"), [("+5511900007100", 130429), ("+5511900007699", 131056)])
def test_the_always_limited_ranges_never_accept(sim: GraphSim, recipient: str, code: int) -> None:
    for _ in range(5):
        with pytest.raises(GraphError) as refused:
            sim.send(NUMBER, TOKEN, order_update(recipient))
        assert refused.value.code == code
    assert sim.sent_by(NUMBER) == []


# -- templates ---------------------------------------------------------------------------------------------


def test_a_new_waba_has_the_approved_defaults_in_three_languages(sim: GraphSim) -> None:
    found = sim.list_templates(WABA, TOKEN, {"limit": "100"})["data"]
    assert {(t["name"], t["language"], t["category"], t["status"]) for t in found} == {
        (name, language, category, "APPROVED")
        for name, category in (
            ("verification_code", "AUTHENTICATION"),
            ("order_update", "UTILITY"),
            ("weekly_offer", "MARKETING"),
        )
        for language in ("en", "pt_BR", "es")
    }
    auth = next(t for t in found if t["name"] == "verification_code" and t["language"] == "es")
    body, _footer, buttons = auth["components"]
    assert body["type"] == "BODY" and "{{1}}" in body["text"] and "código" in body["text"]
    assert buttons["buttons"][0]["type"] == "URL" and buttons["buttons"][0]["url"].endswith("otp{{1}}")
    # Ids are derived: another sim gives the same template the same id.
    other = fake_sim(FakeClock()).list_templates(WABA, TOKEN, {"limit": "100"})["data"]
    assert sorted(t["id"] for t in other) == sorted(t["id"] for t in found)


def test_a_created_template_is_pending_then_approved_with_a_webhook(
    sim: GraphSim, clock: FakeClock, callback: Callback
) -> None:
    created = sim.create_template(
        WABA,
        TOKEN,
        {
            "name": "appointment_reminder",
            "language": "pt_BR",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Sua consulta é amanhã às {{1}}."}],
        },
    )
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    with pytest.raises(GraphError) as not_yet:
        sim.send(NUMBER, TOKEN, template("appointment_reminder", "pt_BR", body_params("10h")))
    assert not_yet.value.code == 132001
    clock.advance(5)
    sim.pump(callback)
    (body,) = callback.bodies()
    change = body["entry"][0]["changes"][0]
    assert body["entry"][0]["id"] == WABA
    assert change["field"] == "message_template_status_update"
    assert change["value"] == {
        "event": "APPROVED",
        "message_template_id": int(created["id"]),
        "message_template_name": "appointment_reminder",
        "message_template_language": "pt_BR",
        "message_template_category": "UTILITY",
        "reason": "NONE",
    }
    assert sim.send(NUMBER, TOKEN, template("appointment_reminder", "pt_BR", body_params("10h")))


def test_a_template_named_to_be_rejected_is_rejected(sim: GraphSim, clock: FakeClock, callback: Callback) -> None:
    sim.create_template(
        WABA,
        TOKEN,
        {
            "name": "rejected_promo",
            "language": "en",
            "category": "MARKETING",
            "components": [{"type": "BODY", "text": "Buy now"}],
        },
    )
    clock.advance(5)
    sim.pump(callback)
    assert callback.values()[0]["event"] == "REJECTED"
    assert callback.values()[0]["reason"] == "INVALID_FORMAT"
    assert set(callback.values()[0]["rejection_info"]) == {"reason", "recommendation"}


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (template("order_update", "en", body_params("Ana")), 132000),
        (template("order_update", "en"), 132000),
        (template("verification_code", "en", body_params("123456")), 132000),  # the copy-code button's param
        (template("order_update", "en", body_params("Ana", "")), 132012),
        (template("order_update", "fr", body_params("Ana", "#1")), 132001),
        (template("no_such_template", "en"), 132001),
    ],
)
def test_template_sends_are_checked_against_the_template(sim: GraphSim, message: dict[str, Any], code: int) -> None:
    with pytest.raises(GraphError) as refused:
        sim.send(NUMBER, TOKEN, message)
    assert refused.value.code == code
    assert refused.value.status == (404 if code == 132001 else 400)


# -- webhooks: signature, redelivery, duplicates ----------------------------------------------------------------


def test_every_webhook_is_signed_with_the_test_app_secret(sim: GraphSim, callback: Callback) -> None:
    write_in(sim)
    sim.pump(callback)
    ((url, body, headers),) = callback.received
    assert url == CALLBACK
    expected = "sha256=" + hmac.new(b"bzapper-sandbox-cloud-app-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == expected
    assert TEST_APP_SECRET == "bzapper-sandbox-cloud-app-secret"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["object"] == "whatsapp_business_account"


def test_inbound_webhook_shape(sim: GraphSim, callback: Callback) -> None:
    answer = write_in(sim, name="Ana")
    sim.pump(callback)
    (value,) = callback.values()
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"]["phone_number_id"] == NUMBER
    assert value["metadata"]["display_phone_number"].isdigit()
    (contact,) = value["contacts"]
    assert contact["profile"] == {"name": "Ana"}
    assert contact["wa_id"] == CONTACT[1:]
    assert contact["user_id"].startswith("BR.")
    (message,) = value["messages"]
    assert message["id"] == answer["id"]
    assert message["from"] == CONTACT[1:] and message["from_user_id"] == contact["user_id"]
    assert message["type"] == "text" and message["text"] == {"body": "Oi!"}
    assert message["timestamp"].isdigit()


def test_username_users_write_with_a_bsuid_and_no_phone_and_can_be_answered_by_it(
    sim: GraphSim, callback: Callback
) -> None:
    write_in(sim, "+5511900006001")
    sim.pump(callback)
    (value,) = callback.values()
    (contact,) = value["contacts"]
    assert "wa_id" not in contact and "from" not in value["messages"][0]
    bsuid = contact["user_id"]
    assert value["messages"][0]["from_user_id"] == bsuid
    callback.clear()
    wamid = wamid_of(sim.send(NUMBER, TOKEN, text(bsuid)))
    sim.pump(callback)
    (sent,) = status_items(callback)
    assert (sent["id"], sent["status"]) == (wamid, "sent")
    assert sent["recipient_user_id"] == bsuid


def test_a_delivery_not_answered_200_is_redelivered_with_backoff(sim: GraphSim, clock: FakeClock) -> None:
    callback = Callback(answers=[500, ConnectionError("refused"), 404])
    write_in(sim)
    assert sim.pump(callback) == 1
    assert sim.pump(callback) == 0  # the retry waits 1 s
    clock.advance(1)
    assert sim.pump(callback) == 1
    clock.advance(1.9)
    assert sim.pump(callback) == 0  # then 2 s
    clock.advance(0.1)
    assert sim.pump(callback) == 1
    clock.advance(4)  # then 4 s; this one is answered 200
    assert sim.pump(callback) == 1
    clock.advance(3600)
    assert sim.pump(callback) == 0
    bodies = {body for _, body, _ in callback.received}
    assert len(callback.received) == 4 and len(bodies) == 1  # the exact same bytes every time
    (webhook,) = sim.webhooks(NUMBER)
    assert [a.get("status", a.get("error")) for a in webhook["attempts"]] == [
        500,
        "ConnectionError: refused",
        404,
        200,
    ]
    assert webhook["delivered"] is True and webhook["pending"] is False


def test_redelivery_backs_off_to_a_cap_and_gives_up_after_the_horizon(clock: FakeClock) -> None:
    sim = fake_sim(clock, retry_max=8, retry_horizon=60)
    sim.inbound(NUMBER, {"from": CONTACT, "text": "x"})
    failing = Callback(answers=[503] * 100)
    sim.pump(failing)
    for _ in range(100):
        clock.advance(1)
        sim.pump(failing)
    # 1, 2, 4, 8, 8, 8 … seconds apart, until 60 s after the first attempt.
    assert len(failing.received) == 1 + 4 + (60 - 15) // 8
    assert sim.webhooks()[0]["pending"] is False and sim.webhooks()[0]["delivered"] is False


def test_the_duplicate_controls_deliver_the_same_bytes_twice(sim: GraphSim, callback: Callback) -> None:
    answer = write_in(sim, duplicate=True)
    sim.pump(callback)
    assert len(callback.received) == 2
    assert callback.received[0][1:] == callback.received[1][1:]
    sim.redeliver(answer["webhook_id"])
    sim.pump(callback)
    assert len(callback.received) == 3 and callback.received[2][1] == callback.received[0][1]
    with pytest.raises(ControlError):
        sim.redeliver(9999)


def test_without_a_callback_webhooks_are_kept_not_sent(clock: FakeClock, callback: Callback) -> None:
    sim = fake_sim(clock, callback_url=None)
    sim.inbound(NUMBER, {"from": CONTACT, "text": "x"})
    assert sim.pump(callback) == 0
    assert callback.received == []
    assert len(sim.webhooks(NUMBER)) == 1
    sim.set_callback(CALLBACK)
    write_in(sim)
    assert sim.pump(callback) == 1  # only what came after the callback was set


def test_a_failing_callback_logs_once_and_once_more_when_it_recovers(
    sim: GraphSim, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    callback = Callback(answers=[404] * 5)
    caplog.set_level(logging.INFO, logger="bzapper_dev.sandbox.graph.model")
    for _ in range(6):
        write_in(sim)
        clock.advance(100)
        sim.pump(callback)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(lines) == 2
    assert "failed" in lines[0] and "succeed again" in lines[1]


# -- numbers, WABAs, determinism, reset -----------------------------------------------------------------------


def test_numbers_are_provisioned_on_first_use_and_derived(clock: FakeClock) -> None:
    first = fake_sim(clock).phone_number("123456", TOKEN)
    again = fake_sim(clock).phone_number("123456", TOKEN)
    assert first == again
    assert first["verified_name"] == "Sandbox Business" and first["quality_rating"] == "GREEN"
    assert first["display_phone_number"].startswith("+1 555-")


def test_a_token_that_names_a_waba_links_its_numbers_to_it(clock: FakeClock, callback: Callback) -> None:
    sim = fake_sim(clock)
    sim.phone_number("555", "token-a")
    sim.list_templates("waba-a", "token-a", {})
    assert sim.number_state("555")["waba_id"] == "waba-a"
    assert [n["id"] for n in sim.waba_phone_numbers("waba-a", "token-a")["data"]] == ["555"]
    sim.inbound("555", {"from": CONTACT, "text": "x"})
    sim.pump(callback)
    assert callback.bodies()[0]["entry"][0]["id"] == "waba-a"
    # A control's link wins over a token's.
    sim.provision("555", {"waba_id": "waba-b"})
    sim.list_templates("waba-a", "token-a", {})
    assert sim.number_state("555")["waba_id"] == "waba-b"


def test_same_inputs_same_ids(clock: FakeClock) -> None:
    def run() -> list[str]:
        sim = fake_sim(FakeClock())
        inbound = sim.inbound(NUMBER, {"from": CONTACT, "text": "x"})["id"]
        return [inbound, wamid_of(sim.send(NUMBER, TOKEN, text()))]

    assert run() == run()


def test_reset_forgets_everything_but_keeps_ids_increasing(sim: GraphSim, callback: Callback) -> None:
    first = write_in(sim)
    sim.advance(10)
    sim.reset()
    assert sim.webhooks() == [] and sim.sent_by(NUMBER) == []
    assert sim.clock_state()["offset_seconds"] == 0
    assert write_in(sim)["webhook_id"] > first["webhook_id"]


def test_statuses_echo_the_senders_tracking_data(sim: GraphSim, clock: FakeClock, callback: Callback) -> None:
    wamid = wamid_of(sim.send(NUMBER, TOKEN, order_update() | {"biz_opaque_callback_data": "job-42"}))
    clock.advance(1)
    sim.pump(callback)
    items = status_items(callback)
    assert [s["status"] for s in items] == ["sent", "delivered", "read"]
    assert all(s["id"] == wamid and s["biz_opaque_callback_data"] == "job-42" for s in items)


def test_a_type_the_cloud_api_cannot_deliver_comes_as_unsupported(sim: GraphSim, callback: Callback) -> None:
    sim.inbound(NUMBER, {"from": CONTACT, "type": "unsupported", "unsupported": {"type": "poll"}})
    sim.pump(callback)
    (message,) = callback.messages()
    assert message["type"] == "unsupported" and message["unsupported"] == {"type": "poll"}
    assert message["errors"][0]["code"] == 131051
