"""Recipient parsing: phone numbers and WhatsApp JIDs, with Brazil's ninth digit."""

from __future__ import annotations

import dataclasses

import pytest

from bzapper.domain.phones import InvalidRecipient, Recipient, chat_phone, normalize_phone, parse_chat, parse_recipient


def _reason(value: str) -> str:
    with pytest.raises(InvalidRecipient) as info:
        parse_recipient(value)
    return info.value.reason


# --- phone numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "+5511988888888",
        "5511988888888",
        "+55 (11) 98888-8888",
        "55 11 98888 8888",
        "+55.11.98888.8888",
        "  +55 11 98888-8888\t",
        "(+55) 11 9 8888-8888",
    ],
)
def test_formatted_phone_is_normalised(value: str) -> None:
    assert normalize_phone(value) == "+5511988888888"
    assert parse_recipient(value) == Recipient(jid="5511988888888@s.whatsapp.net", phone="+5511988888888", lid=None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+1 (415) 555-2671", "+14155552671"),
        ("447911123456", "+447911123456"),
        ("+54 9 11 2345-6789", "+5491123456789"),  # Argentina's mobile 9 is untouched
    ],
)
def test_non_brazilian_numbers(value: str, expected: str) -> None:
    assert normalize_phone(value) == expected
    assert parse_recipient(value).jid == expected[1:] + "@s.whatsapp.net"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+55 11 8888-8888", "+5511988888888"),
        ("551188888888", "+5511988888888"),
        ("+55 21 6123-4567", "+5521961234567"),
        ("+55 61 7123-4567", "+5561971234567"),  # 7-prefixed: valid as-is to phonenumbers, still rewritten
        ("+55 84 9123-4567", "+5584991234567"),
    ],
)
def test_brazilian_ninth_digit_is_inserted(value: str, expected: str) -> None:
    assert normalize_phone(value) == expected


@pytest.mark.parametrize("value", ["+55 11 2123-4567", "+55 11 3333-4444", "+55 21 4004-1234", "+55 11 5888-8888"])
def test_brazilian_landline_is_untouched(value: str) -> None:
    digits = "+" + "".join(ch for ch in value if ch.isdigit())
    assert normalize_phone(value) == digits


def test_brazilian_nine_digit_mobile_is_untouched() -> None:
    assert normalize_phone("+55 11 99999-9999") == "+5511999999999"


@pytest.mark.parametrize(
    "value",
    [
        "+55 10 98888-8888",  # no area code 10
        "+55 20 8888-8888",  # no area code 20: the ninth-digit rewrite must not make it valid
        "+55 11 1888-8888",  # no subscriber starts with 1
        "+5511988888888888",  # too long
        "+999 1234 5678",  # no such country code
        "0055 11 98888-8888",  # 00 is a dialling prefix, not part of E.164
        "1234567",  # fewer than 8 digits
        "+1234567",
        "12345678",  # 8 digits but not a real number
    ],
)
def test_invalid_numbers(value: str) -> None:
    assert _reason(value) == "invalid_phone"
    with pytest.raises(InvalidRecipient):
        normalize_phone(value)


@pytest.mark.parametrize("value", ["+55 11 9888-CALL", "1-800-FLOWERS", "abc", "5511988888888 ext 2"])
def test_letters_are_rejected(value: str) -> None:
    assert _reason(value) == "invalid_phone"


@pytest.mark.parametrize(
    "value",
    [
        "+55 11 98888#8888",
        "55+11988888888",  # "+" anywhere but first
        "++5511988888888",
        "5511988888888/1",
        "٥٥١١٩٨٨٨٨٨٨٨٨",  # Arabic-Indic digits: phonenumbers would accept them, we do not
    ],
)
def test_non_phone_characters_are_rejected(value: str) -> None:
    assert _reason(value) == "not_a_phone"


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_empty(value: str) -> None:
    assert _reason(value) == "empty"
    with pytest.raises(InvalidRecipient) as info:
        normalize_phone(value)
    assert info.value.reason == "empty"


def test_overlong_input_is_rejected_cheaply() -> None:
    assert _reason("5" * 10_000) == "invalid_phone"
    assert _reason("5" * 10_000 + "@s.whatsapp.net") == "not_a_phone"


# --- JIDs ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "5511988888888@s.whatsapp.net",
        "5511988888888@S.WhatsApp.NET",
        "5511988888888@c.us",
        "551188888888@s.whatsapp.net",  # old 8-digit form gets the ninth digit
        "551188888888@c.us",
        "5511988888888:12@s.whatsapp.net",  # device suffix dropped
        "5511988888888.0:3@s.whatsapp.net",  # agent + device suffix dropped
        " 5511988888888@s.whatsapp.net ",
    ],
)
def test_phone_jids(value: str) -> None:
    assert parse_recipient(value) == Recipient(jid="5511988888888@s.whatsapp.net", phone="+5511988888888", lid=None)


def test_lid() -> None:
    assert parse_recipient("123456789012345@lid") == Recipient(
        jid="123456789012345@lid", phone=None, lid="123456789012345@lid"
    )
    assert parse_recipient("123456789012345@LID").jid == "123456789012345@lid"
    assert parse_recipient("123456789012345:7@lid").jid == "123456789012345@lid"
    assert parse_recipient("1@lid").lid == "1@lid"
    assert parse_recipient("1" * 20 + "@lid").lid == "1" * 20 + "@lid"


@pytest.mark.parametrize("value", ["@lid", "abc@lid", "12 34@lid", "1" * 21 + "@lid", "+123@lid"])
def test_malformed_lid(value: str) -> None:
    assert _reason(value) == "not_a_phone"


@pytest.mark.parametrize(
    "value",
    [
        "120363025246125888@g.us",
        "5511988888888-1596040000@g.us",
        "status@broadcast",
        "120363025246125888@newsletter",
        "5511988888888@example.com",
        "5511988888888@",
    ],
)
def test_unsupported_servers(value: str) -> None:
    assert _reason(value) == "unsupported_jid"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("@s.whatsapp.net", "not_a_phone"),
        ("bob@s.whatsapp.net", "not_a_phone"),
        ("+5511988888888@s.whatsapp.net", "not_a_phone"),
        ("a@b@s.whatsapp.net", "not_a_phone"),
        ("1234@s.whatsapp.net", "invalid_phone"),
        ("5510988888888@s.whatsapp.net", "invalid_phone"),
    ],
)
def test_malformed_phone_jids(value: str, reason: str) -> None:
    assert _reason(value) == reason


# --- the types -----------------------------------------------------------------------------------------


def test_invalid_recipient_is_a_value_error_with_reason() -> None:
    err = InvalidRecipient("invalid_phone", "+5511")
    assert isinstance(err, ValueError)
    assert err.reason == "invalid_phone"
    assert err.value == "+5511"
    assert "+5511" not in str(err)  # keep phone numbers out of logs


def test_recipient_is_frozen() -> None:
    recipient = parse_recipient("+5511988888888")
    with pytest.raises(dataclasses.FrozenInstanceError):
        recipient.jid = "x"  # type: ignore[misc]


# --- chats WhatsApp itself named: lenient about numbering data, strict about shape ---------------------------


def test_a_chat_whose_number_the_metadata_does_not_know_is_still_a_contact():
    with pytest.raises(InvalidRecipient):
        parse_recipient("999123456789@s.whatsapp.net")  # a send keeps refusing it
    assert parse_chat("999123456789:3@s.whatsapp.net") == Recipient(
        jid="999123456789@s.whatsapp.net", phone="+999123456789", lid=None
    )


def test_a_known_chat_parses_as_a_send_would():
    for jid in ("551188887777@s.whatsapp.net", "5511988887777@c.us", "123456789012345@lid"):
        assert parse_chat(jid) == parse_recipient(jid)


@pytest.mark.parametrize(
    "jid",
    [
        "0999123456@s.whatsapp.net",
        "123@s.whatsapp.net",
        "1234567890123456@s.whatsapp.net",
        "abc@s.whatsapp.net",
        "status@broadcast",
        "120363000000000009@newsletter",
        "120363000000000009@g.us",
        "",
        "@s.whatsapp.net",
    ],
)
def test_what_is_not_a_readable_one_to_one_chat_is_refused(jid):
    with pytest.raises(InvalidRecipient):
        parse_chat(jid)


def test_a_chat_named_back_as_e164_reads_like_its_jid():
    assert parse_chat("+999 123-456-789") == parse_chat("999123456789@s.whatsapp.net")


@pytest.mark.parametrize(
    ("reported", "key"),
    [
        ("+551188887777", "+5511988887777"),  # a Brazilian mobile WhatsApp still names without its ninth digit
        ("551188887777@s.whatsapp.net", "+5511988887777"),
        ("5511988887777:12@s.whatsapp.net", "+5511988887777"),
        ("+999123456789", "+999123456789"),  # unknown to the metadata: kept as WhatsApp reported it
        ("123456789@lid", None),
        ("not a phone", None),
        (None, None),
    ],
)
def test_an_engine_reported_phone_is_keyed_as_the_inbox_keys_its_chat(reported, key):
    assert chat_phone(reported) == key
