"""The OTP's pure rules: codes from the CSPRNG, the stored content (mask only), the generated texts in every
language, and the echoguard that masks a code bubble coming back from the phone."""

from __future__ import annotations

import pytest

from bzapper.domain import otp
from bzapper.domain.inbox import OTP_MASK, public_content
from bzapper.i18n import SUPPORTED_LOCALES
from bzapper.i18n.catalog import MESSAGES

# --- codes --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", range(otp.CODE_LENGTH_MIN, otp.CODE_LENGTH_MAX + 1))
def test_generated_codes_have_their_length_in_digits(length: int) -> None:
    codes = {otp.generate_code(length) for _ in range(200)}
    assert all(len(code) == length and code.isdigit() and code.isascii() for code in codes)
    assert len(codes) > 150  # random, not a counter or a constant


def test_codes_come_from_the_secrets_module_and_keep_leading_zeros(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def randbelow(limit: int) -> int:
        asked.append(limit)
        return 42

    monkeypatch.setattr(otp.secrets, "randbelow", randbelow)
    assert otp.generate_code(6) == "000042"
    assert asked == [10**6]  # uniform over every 6-digit code, from the CSPRNG


def test_every_digit_appears_in_every_position() -> None:
    codes = [otp.generate_code(4) for _ in range(2000)]
    for position in range(4):
        assert {code[position] for code in codes} == set("0123456789")


@pytest.mark.parametrize("length", [0, 3, 11, -1])
def test_a_length_out_of_range_is_refused(length: int) -> None:
    with pytest.raises(ValueError):
        otp.generate_code(length)


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("1234", True),
        ("0000000000", True),
        ("123", False),
        ("12345678901", False),
        ("12a456", False),
        ("12 456", False),
        ("١٢٣٤٥٦", False),  # Arabic-Indic digits are digits to str.isdigit, not to WhatsApp's copy button
        ("123456\n", False),
        ("", False),
    ],
)
def test_valid_codes_are_4_to_10_ascii_digits(code: str, valid: bool) -> None:
    assert otp.valid_code(code) is valid


# --- what is stored -------------------------------------------------------------------------------------------


def test_the_stored_content_has_the_mask_and_the_expiry_never_the_code() -> None:
    content = otp.stored("Acme: your code follows.", 1_790_000_000_123)
    assert content == {"body": "Acme: your code follows.", "code": OTP_MASK, "expires": "2026-09-21T14:13:20.123Z"}
    assert otp.expires_at_ms(content) == 1_790_000_000_123
    assert public_content("otp", content) == {"body": "Acme: your code follows.", "code": OTP_MASK}


@pytest.mark.parametrize("content", [{}, {"expires": 12}, {"expires": "tomorrow"}])
def test_an_expiry_that_cannot_be_read_is_none(content: dict) -> None:
    assert otp.expires_at_ms(content) is None


# --- the generated text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ttl", "locale", "expected"),
    [
        (600, "en", "10 minutes"),
        (60, "en", "1 minute"),
        (3600, "en", "1 hour"),
        (90, "en", "90 seconds"),
        (600, "pt-BR", "10 minutos"),
        (60, "pt-BR", "1 minuto"),
        (3600, "pt-BR", "1 hora"),
        (90, "pt-BR", "90 segundos"),
        (600, "es", "10 minutos"),
        (3600, "es", "1 hora"),
        (61, "es", "61 segundos"),
    ],
)
def test_the_expiry_in_words(ttl: int, locale: str, expected: str) -> None:
    assert otp.expiry_text(ttl, locale) == expected


def test_the_generated_text_names_the_brand_and_the_expiry_in_each_language() -> None:
    texts = {locale: otp.default_body("Acme Pagamentos", 300, locale) for locale in SUPPORTED_LOCALES}
    assert texts == {
        "en": "Acme Pagamentos: your verification code is in the next message. It expires in 5 minutes. "
        "Never share it with anyone.",
        "pt-BR": "Acme Pagamentos: seu código de verificação está na próxima mensagem. Ele expira em 5 minutos. "
        "Nunca o compartilhe com ninguém.",
        "es": "Acme Pagamentos: tu código de verificación está en el siguiente mensaje. Vence en 5 minutos. "
        "Nunca lo compartas con nadie.",
    }


def test_a_long_or_blank_brand() -> None:
    long = otp.default_body("  A   very " + "long " * 30 + "name", 600, "en")
    assert long.startswith("A very long long") and len(long.split(":", 1)[0]) <= otp.BRAND_MAX_CHARS
    assert otp.default_body("   ", 600, "pt-BR").startswith("Seu código de verificação")
    assert otp.default_body(None, 600, "es").startswith("Tu código de verificación")


def test_every_otp_text_is_in_every_language() -> None:
    keys = [key for key in MESSAGES if key.startswith(("otp.", "error.otp_"))]
    assert len(keys) >= 11
    for key in keys:
        assert set(MESSAGES[key]) == set(SUPPORTED_LOCALES), key


# --- echoguard ------------------------------------------------------------------------------------------------


def _echo(body: str, *, from_me: bool = True, message_type: str = "text", **extra) -> dict:
    return {
        "kind": "inbound",
        "instance_id": "inst_1",
        "wa_message_id": "3EB0C0DE",
        "chat_jid": "5511900008001@s.whatsapp.net",
        "from_me": from_me,
        "type": message_type,
        "content": {"body": body, **extra},
        "at": 1,
    }


@pytest.mark.parametrize("code", ["1234", "482913", " 0987654321 ", "000000\n"])
def test_the_code_bubble_echo_is_masked(code: str) -> None:
    guarded = otp.guard_event(_echo(code))
    assert guarded["content"] == {"body": OTP_MASK}
    assert code.strip() not in str(guarded)
    assert otp.guard_event(guarded) == guarded  # idempotent: the inbox guards again


@pytest.mark.parametrize(
    "event",
    [
        _echo("482913", from_me=False),  # the contact typed it: their message, not our echo
        _echo("Your code is 482913 and more"),  # not a code bubble (and not something we send)
        _echo("123"),
        _echo("hello"),
    ],
)
def test_other_messages_pass_untouched(event: dict) -> None:
    assert otp.guard_event(event) is event


def test_a_quoted_message_of_ours_loses_its_preview_even_from_the_contact() -> None:
    quoted = {"wa_message_id": "3EB0C0DE", "chat_jid": "x", "from_me": True, "preview": "482913"}
    event = _echo("which code?", from_me=False, reply_to=quoted)
    guarded = otp.guard_event(event)
    assert guarded["content"]["reply_to"] == {"wa_message_id": "3EB0C0DE", "chat_jid": "x", "from_me": True}
    assert "482913" not in str(guarded)


def test_events_that_carry_no_message_content_pass_untouched() -> None:
    receipt = {"kind": "receipt", "instance_id": "i", "wa_message_id": "w", "status": "read", "at": 1}
    state = {"kind": "state", "instance_id": "i", "state": "connected", "at": 1, "phone": "+5511900000123"}
    assert otp.guard_event(receipt) is receipt
    assert otp.guard_event(state) is state


def test_guard_content_for_the_inbox() -> None:
    assert otp.guard_content("text", {"body": "4829"}, True) == {"body": OTP_MASK}
    assert otp.guard_content("text", {"body": "4829"}, False) == {"body": "4829"}
    assert otp.guard_content("image", {"caption": "4829", "media": {}}, True) == {"caption": "4829", "media": {}}
