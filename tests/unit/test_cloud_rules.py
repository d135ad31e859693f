"""The Cloud API's rules (bzapper.domain.cloud, bzapper.domain.cloud_webhooks): Meta's errors as our codes, the
backoff on its rate limits, the webhook signature, and every webhook shape as our reports."""

from __future__ import annotations

import json

import pytest
from support.meta import (
    BUSINESS_DISPLAY,
    CONTACT,
    PHONE_NUMBER_ID,
    TEST_SECRET,
    contacts,
    envelope,
    failed,
    status,
    text_message,
)

from bzapper.domain.cloud import (
    RATE_LIMIT_ATTEMPTS,
    CloudNumber,
    Credentials,
    GraphFailure,
    cloud_refusal,
    meta_error,
    retry_delay,
    sign,
    verify_signature,
)
from bzapper.domain.cloud_webhooks import MalformedWebhook, bsuid_jid, webhook_changes
from bzapper.i18n import MESSAGES

CHAT = f"{CONTACT}@s.whatsapp.net"

# --- Meta's errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "ours"),
    [
        (131026, "not_on_whatsapp"),
        (131047, "outside_customer_service_window"),
        (131049, "recipient_unavailable"),
        (131050, "recipient_unavailable"),
        (190, "cloud_token_invalid"),
        (0, "cloud_token_invalid"),
        (10, "cloud_permission_denied"),
        (200, "cloud_permission_denied"),
        (131051, "not_supported"),
        (368, "account_restricted"),
        (132001, "template_not_found"),
    ],
)
def test_each_known_meta_code_is_one_stable_code_of_ours_never_retried(code, ours):
    mapped = meta_error(code, "whatever Meta says")
    assert (mapped.code, mapped.retry, mapped.details) == (ours, None, None)


@pytest.mark.parametrize("code", [130429, 131056, 80007, 4])
def test_rate_limits_are_retried_and_end_as_rate_limited(code):
    assert meta_error(code, "Rate limit hit") == meta_error(code) and meta_error(code).retry == "rate"
    assert meta_error(code).code == "rate_limited"


def test_an_unknown_code_keeps_metas_code_and_title():
    mapped = meta_error(133999, "Some new error", 400)
    assert (mapped.code, mapped.retry) == ("cloud_api_error", None)
    assert mapped.details == {"meta_code": 133999, "meta_title": "Some new error"}


def test_a_server_error_or_no_answer_is_transient():
    assert meta_error(131000, "Something went wrong").retry == "transient"
    assert meta_error(None, None, 502).retry == "transient"
    assert GraphFailure(0).meta.retry == "transient"  # Graph not reached at all


def test_every_code_the_mapping_gives_that_is_ours_has_its_text():
    ours = {
        "not_on_whatsapp",
        "recipient_unavailable",
        "cloud_token_invalid",
        "cloud_permission_denied",
        "cloud_api_error",
        "rate_limited",
        "not_supported",
        "account_restricted",
        "media_rejected",
    }
    codes = {meta_error(code).code for code in (131026, 131049, 190, 10, 133999, 130429, 131051, 368)}
    assert codes <= ours
    assert [code for code in codes if f"error.{code}" not in MESSAGES] == []


# --- Backoff ----------------------------------------------------------------------------------------------------


def test_pair_rate_waits_at_least_metas_six_seconds_and_doubles():
    assert [retry_delay(131056, n) for n in (1, 2, 3)] == [6, 12, 24]


def test_throughput_backs_off_from_two_seconds_capped_at_five_minutes():
    assert [retry_delay(130429, n) for n in (1, 2, 3)] == [2, 4, 8]
    assert retry_delay(130429, RATE_LIMIT_ATTEMPTS - 1) == 300


def test_refused_too_often_it_is_given_up():
    assert retry_delay(130429, RATE_LIMIT_ATTEMPTS) is None
    assert retry_delay(131056, RATE_LIMIT_ATTEMPTS + 5) is None


# --- The signature ----------------------------------------------------------------------------------------------


BODY = json.dumps(envelope({"statuses": [status("wamid.A", "sent")]})).encode()


def test_the_exact_body_signed_with_the_secret_verifies():
    assert verify_signature(BODY, sign(BODY, TEST_SECRET), TEST_SECRET)


def test_a_tampered_body_does_not_verify():
    header = sign(BODY, TEST_SECRET)
    assert not verify_signature(BODY.replace(b"sent", b"read"), header, TEST_SECRET)
    assert not verify_signature(BODY + b" ", header, TEST_SECRET)  # not even a byte of whitespace


def test_another_secret_a_missing_or_malformed_header_does_not_verify():
    assert not verify_signature(BODY, sign(BODY, "another-secret"), TEST_SECRET)
    assert not verify_signature(BODY, None, TEST_SECRET)
    assert not verify_signature(BODY, "", TEST_SECRET)
    assert not verify_signature(BODY, sign(BODY, TEST_SECRET).removeprefix("sha256="), TEST_SECRET)
    assert not verify_signature(BODY, "sha1=" + sign(BODY, TEST_SECRET)[7:], TEST_SECRET)
    assert not verify_signature(BODY, sign(BODY, TEST_SECRET), None)  # no secret configured: nothing verifies


# --- Statuses ---------------------------------------------------------------------------------------------------


def test_statuses_carry_the_wamid_the_time_and_metas_pricing():
    [change] = webhook_changes(envelope({"statuses": [status("wamid.A", "delivered", category="utility")]}))
    assert (change.phone_number_id, change.display_phone_number) == (PHONE_NUMBER_ID, BUSINESS_DISPLAY)
    assert change.statuses == [
        {
            "kind": "status",
            "wa_message_id": "wamid.A",
            "status": "delivered",
            "at": 1_700_000_000_000,
            "pricing": {"category": "utility", "billable": True, "model": "PMP"},
        }
    ]


def test_a_failed_status_carries_our_code_and_an_unknown_one_metas_details():
    [change] = webhook_changes(
        envelope({"statuses": [failed("wamid.A", 131026, "Message undeliverable"), failed("wamid.B", 135000, "New")]})
    )
    first, second = change.statuses
    assert (first["status"], first["error_code"]) == ("failed", "not_on_whatsapp") and "error_details" not in first
    assert second["error_code"] == "cloud_api_error"
    assert second["error_details"] == {"meta_code": 135000, "meta_title": "New"}


def test_statuses_we_do_not_model_are_left_out():
    [change] = webhook_changes(envelope({"statuses": [status("wamid.A", "deleted"), {"status": "sent"}]}))
    assert change.statuses == []


def test_other_fields_and_other_objects_are_not_messages():
    template_update = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "1", "changes": [{"field": "message_template_status_update", "value": {"event": "APPROVED"}}]}
        ],
    }
    assert webhook_changes(template_update) == []
    with pytest.raises(MalformedWebhook):
        webhook_changes({"object": "page"})
    with pytest.raises(MalformedWebhook):
        webhook_changes([1, 2])


# --- Inbound ----------------------------------------------------------------------------------------------------


def inbound_of(message: dict, **value) -> dict:
    [change] = webhook_changes(envelope({"contacts": contacts(), "messages": [message], **value}))
    [event] = change.inbound
    return event


def test_a_text_names_its_chat_sender_and_time():
    event = inbound_of(text_message("hello"))
    assert event == {
        "kind": "inbound",
        "wa_message_id": "wamid.IN1",
        "chat_jid": CHAT,
        "from_me": False,
        "sender": {"jid": CHAT, "phone": f"+{CONTACT}", "push_name": "Kerry Fisher"},
        "type": "text",
        "content": {"body": "hello"},
        "at": 1_700_000_000_000,
    }


@pytest.mark.parametrize(
    ("kind", "body", "content"),
    [
        (
            "image",
            {"id": "M1", "mime_type": "image/jpeg", "sha256": "x", "caption": "look"},
            {"media": {"cloud_media_id": "M1", "mime_type": "image/jpeg"}, "caption": "look"},
        ),
        (
            "video",
            {"id": "M2", "mime_type": "video/mp4"},
            {"media": {"cloud_media_id": "M2", "mime_type": "video/mp4"}},
        ),
        (
            "document",
            {"id": "M3", "mime_type": "application/pdf", "filename": "a.pdf"},
            {
                "media": {"cloud_media_id": "M3", "mime_type": "application/pdf", "filename": "a.pdf"},
                "filename": "a.pdf",
            },
        ),
        (
            "audio",
            {"id": "M4", "mime_type": "audio/ogg; codecs=opus", "voice": True},
            {"media": {"cloud_media_id": "M4", "mime_type": "audio/ogg; codecs=opus"}, "voice": True},
        ),
        (
            "sticker",
            {"id": "M5", "mime_type": "image/webp", "animated": False},
            {"media": {"cloud_media_id": "M5", "mime_type": "image/webp"}},
        ),
        (
            "location",
            {"latitude": -23.5, "longitude": -46.6, "name": "Office", "address": "Av. Paulista"},
            {"latitude": -23.5, "longitude": -46.6, "name": "Office", "address": "Av. Paulista"},
        ),
    ],
)
def test_media_and_locations(kind, body, content):
    event = inbound_of({"from": CONTACT, "id": "wamid.M", "timestamp": "1", "type": kind, kind: body})
    assert (event["type"], event["content"]) == (kind, content)


def test_contacts_become_cards_with_vcards():
    card = {
        "name": {"formatted_name": "Ana Lima", "first_name": "Ana"},
        "phones": [{"phone": "+55 11 98888-7777", "wa_id": "5511988887777", "type": "CELL"}],
        "emails": [{"email": "ana@example.com", "type": "WORK"}],
        "org": {"company": "Acme"},
    }
    event = inbound_of({"from": CONTACT, "id": "wamid.C", "timestamp": "1", "type": "contacts", "contacts": [card]})
    assert event["type"] == "contact"
    assert event["content"]["contacts"] == [
        {
            "name": "Ana Lima",
            "phones": [{"number": "+55 11 98888-7777", "type": "CELL"}],
            "emails": ["ana@example.com"],
            "organization": "Acme",
        }
    ]
    [vcard] = event["content"]["vcards"]
    assert vcard.startswith("BEGIN:VCARD") and "FN:Ana Lima" in vcard and vcard.endswith("END:VCARD")


def test_a_reaction_and_its_removal():
    added = inbound_of(
        {
            "from": CONTACT,
            "id": "wamid.R",
            "timestamp": "1",
            "type": "reaction",
            "reaction": {"message_id": "wamid.OUT", "emoji": "👍"},
        }
    )
    removed = inbound_of(
        {
            "from": CONTACT,
            "id": "wamid.R2",
            "timestamp": "1",
            "type": "reaction",
            "reaction": {"message_id": "wamid.OUT"},
        }
    )
    assert added["content"] == {
        "target": {"wa_message_id": "wamid.OUT", "chat_jid": CHAT, "from_me": True},
        "emoji": "👍",
    }
    assert removed["content"]["emoji"] == ""


@pytest.mark.parametrize(
    ("interactive", "content"),
    [
        (
            {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}},
            {"body": "Yes", "selected_id": "yes"},
        ),
        (
            {"type": "list_reply", "list_reply": {"id": "r2", "title": "Row 2", "description": "d"}},
            {"body": "Row 2", "selected_id": "r2"},
        ),
    ],
)
def test_button_and_list_replies_are_texts_with_the_chosen_id(interactive, content):
    event = inbound_of(
        {
            "from": CONTACT,
            "id": "wamid.I",
            "timestamp": "1",
            "type": "interactive",
            "interactive": interactive,
            "context": {"from": BUSINESS_DISPLAY, "id": "wamid.OUT"},
        }
    )
    assert event["type"] == "text"
    assert event["content"] == {
        **content,
        "reply_to": {"wa_message_id": "wamid.OUT", "chat_jid": CHAT, "from_me": True},
    }


def test_a_template_quick_reply_button_is_a_text_with_its_payload():
    event = inbound_of(
        {
            "from": CONTACT,
            "id": "wamid.B",
            "timestamp": "1",
            "type": "button",
            "button": {"text": "Stop", "payload": "STOP_PROMO"},
        }
    )
    assert event["content"] == {"body": "Stop", "selected_id": "STOP_PROMO"}


def test_a_quote_of_the_contacts_own_message_names_them():
    event = inbound_of(text_message("see above", context={"from": CONTACT, "id": "wamid.THEIRS"}))
    assert event["content"]["reply_to"] == {
        "wa_message_id": "wamid.THEIRS",
        "chat_jid": CHAT,
        "from_me": False,
        "sender_jid": CHAT,
    }


def test_what_we_do_not_model_is_unknown_with_its_type():
    event = inbound_of(
        {"from": CONTACT, "id": "wamid.U", "timestamp": "1", "type": "unsupported", "errors": [{"code": 131051}]}
    )
    assert (event["type"], event["content"]) == ("unknown", {"raw_type": "unsupported"})


def test_a_contact_with_a_bsuid_and_a_phone_carries_both():
    [change] = webhook_changes(
        envelope({"contacts": contacts(user_id="US.1349120865"), "messages": [text_message("hi")]})
    )
    assert change.inbound[0]["sender"] == {
        "jid": CHAT,
        "phone": f"+{CONTACT}",
        "bsuid": "US.1349120865",
        "push_name": "Kerry Fisher",
    }


def test_a_contact_meta_names_only_by_its_bsuid_is_identified_by_it():
    message = {
        "from_user_id": "US.1349120865",
        "id": "wamid.B1",
        "timestamp": "1",
        "type": "text",
        "text": {"body": "no phone"},
    }
    [change] = webhook_changes(
        envelope({"contacts": contacts(wa_id=None, user_id="US.1349120865"), "messages": [message]})
    )
    [event] = change.inbound
    assert event["chat_jid"] == bsuid_jid("US.1349120865")
    assert event["sender"] == {"jid": bsuid_jid("US.1349120865"), "bsuid": "US.1349120865", "push_name": "Kerry Fisher"}


# --- Records and refusals ----------------------------------------------------------------------------------------


def test_a_number_shows_only_the_tokens_last_four():
    number = CloudNumber("1", "2", "bzs1.sealed", "WXYZ", "+1 555", "Acme", "GREEN")
    assert "bzs1.sealed" not in json.dumps(number.public()) and number.public()["token_last4"] == "WXYZ"
    assert CloudNumber.from_json(number.to_json()) == number
    assert "secret-token" not in repr(Credentials("1", "2", "secret-token", True))


@pytest.mark.parametrize("kind", ["poll", "edit", "revoke", "otp"])
def test_what_the_cloud_api_cannot_send_is_refused_by_name(kind):
    assert cloud_refusal(kind, CHAT) == "error.engine_type_unsupported"


def test_the_cloud_api_writes_to_phones_only():
    assert cloud_refusal("text", CHAT) is None
    assert cloud_refusal("text", "120363025246125486@g.us") == "error.cloud_recipient_unsupported"
    assert cloud_refusal("text", "123456789012345@lid") == "error.cloud_recipient_unsupported"


def test_a_bsuid_chat_is_read_in_the_inbox_but_never_a_recipient():
    from bzapper.domain.phones import InvalidRecipient, parse_chat, parse_recipient

    chat = parse_chat("US.1349120865@bsuid")
    assert (chat.jid, chat.phone, chat.lid) == ("US.1349120865@bsuid", None, None)
    with pytest.raises(InvalidRecipient):
        parse_recipient("US.1349120865@bsuid")
    with pytest.raises(InvalidRecipient):
        parse_chat("not a bsuid@bsuid")
