"""Locale negotiation, translation, and the completeness of the message catalog."""

from __future__ import annotations

import string
import subprocess
import sys

import pytest

from bzapper.i18n import (
    DEFAULT_LOCALE,
    SUPPORTED_LOCALES,
    negotiate,
    normalize_locale,
    translate,
)
from bzapper.i18n.catalog import MESSAGES

# --- the catalog ---------------------------------------------------------------------------------------

REQUIRED_KEYS = {
    "error.unauthorized": set(),
    "error.forbidden": set(),
    "error.not_found": set(),
    "error.route_not_found": {"method", "path"},
    "error.method_not_allowed": {"method", "path"},
    "error.validation_failed": {"param"},
    "error.validation_missing": {"param"},
    "error.invalid_json": set(),
    "error.invalid_recipient": {"value"},
    "error.unsupported_jid": {"value"},
    "error.rate_limited": {"retry_after"},
    "error.instance_not_connected": set(),
    "error.not_connected": set(),
    "error.no_number_available": set(),
    "error.not_supported": set(),
    "error.not_on_whatsapp": set(),
    "error.insufficient_balance": set(),
    "error.idempotency_conflict": set(),
    "error.idempotency_in_progress": set(),
    "error.idempotency_key_invalid": set(),
    "error.account_restricted": set(),
    "error.test_mode_only": set(),
    "error.internal_error": {"request_id"},
    "error.payload_too_large": set(),
    "cli.dev.ready": {"url"},
    "cli.dev.stopping": set(),
    "cli.account.created": {"account_id"},
}


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_catalog_has_every_required_key_with_its_placeholders() -> None:
    missing = sorted(set(REQUIRED_KEYS) - set(MESSAGES))
    assert not missing, f"catalog lacks keys: {missing}"
    wrong = {
        key: _placeholders(MESSAGES[key][DEFAULT_LOCALE])
        for key, expected in REQUIRED_KEYS.items()
        if _placeholders(MESSAGES[key][DEFAULT_LOCALE]) != expected
    }
    assert not wrong, f"English placeholders differ from the documented ones: {wrong}"


def test_every_key_has_every_locale_and_nothing_else() -> None:
    problems = {
        key: sorted(set(SUPPORTED_LOCALES) ^ set(texts))
        for key, texts in MESSAGES.items()
        if set(texts) != set(SUPPORTED_LOCALES)
    }
    assert not problems, f"keys with missing or unknown locales: {problems}"


def test_every_translation_is_non_blank() -> None:
    blank = [(key, loc) for key, texts in MESSAGES.items() for loc, text in texts.items() if not text.strip()]
    assert not blank, f"blank translations: {blank}"


def test_every_translation_has_the_english_placeholders() -> None:
    mismatched = {}
    for key, texts in MESSAGES.items():
        expected = _placeholders(texts["en"])
        for locale, text in texts.items():
            try:
                found = _placeholders(text)
            except ValueError as exc:  # unbalanced braces
                mismatched[(key, locale)] = str(exc)
                continue
            if found != expected:
                mismatched[(key, locale)] = f"{sorted(found)} != {sorted(expected)}"
    assert not mismatched, f"placeholders differ from English: {mismatched}"


def test_every_translation_formats_cleanly() -> None:
    for key, texts in MESSAGES.items():
        params = dict.fromkeys(_placeholders(texts["en"]), "X")
        for text in texts.values():
            assert "{" not in text.format(**params), key


def test_placeholder_check_catches_a_drifted_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    drifted = {"en": "Retry after {retry_after} s.", "pt-BR": "Tente em {retry} s.", "es": "x"}
    monkeypatch.setitem(MESSAGES, "error.rate_limited", drifted)
    with pytest.raises(AssertionError):
        test_every_translation_has_the_english_placeholders()
    monkeypatch.setitem(MESSAGES, "error.rate_limited", {"en": "x", "pt-BR": "x"})
    with pytest.raises(AssertionError):
        test_every_key_has_every_locale_and_nothing_else()


# --- translate -----------------------------------------------------------------------------------------


def test_translate_formats_params() -> None:
    assert translate("error.rate_limited", "en", retry_after=30) == "Too many requests. Retry after 30 s."
    assert translate("error.rate_limited", "pt-BR", retry_after=30) == "Muitas requisições. Tente novamente em 30 s."
    assert translate("cli.account.created", "es", account_id="acc_1") == "Cuenta creada: acc_1"


def test_translate_accepts_unnormalised_locales() -> None:
    assert translate("error.not_found", "pt_br") == "Recurso não encontrado."
    assert translate("error.not_found", "ES-ar") == "Recurso no encontrado."


def test_translate_falls_back_to_english() -> None:
    assert translate("error.not_found", "fr") == "Resource not found."
    assert translate("error.not_found", "") == "Resource not found."


def test_translate_unknown_key_returns_the_key() -> None:
    assert translate("error.does_not_exist", "pt-BR", x=1) == "error.does_not_exist"


def test_translate_never_raises_on_missing_or_extra_params() -> None:
    assert translate("error.route_not_found", "en", method="GET") == "No route matches GET {path}."
    assert translate("error.not_found", "en", unused="x") == "Resource not found."


def test_translate_does_not_reinterpret_param_values() -> None:
    assert translate("error.invalid_recipient", "en", value="{0.__class__}").startswith("'{0.__class__}'")


# --- normalize_locale ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pt-BR", "pt-BR"),
        ("pt-br", "pt-BR"),
        ("pt_BR", "pt-BR"),
        ("pt", "pt-BR"),
        ("PT", "pt-BR"),
        ("pt-PT", "pt-BR"),
        ("pt_BR.UTF-8", "pt-BR"),
        ("en", "en"),
        ("EN", "en"),
        ("en-US", "en"),
        ("es", "es"),
        ("es-AR", "es"),
        ("es-419", "es"),
        ("es_ES@euro", "es"),
        ("fr", None),
        ("fr-CA", None),
        ("C", None),
        ("*", None),
        ("", None),
        (None, None),
        ("pt--BR", None),
        ("english", None),
    ],
)
def test_normalize_locale(value: str | None, expected: str | None) -> None:
    assert normalize_locale(value) == expected


# --- negotiate -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pt-BR", "pt-BR"),
        ("pt-br", "pt-BR"),
        ("pt", "pt-BR"),
        ("pt-PT", "pt-BR"),
        ("es-AR", "es"),
        ("es-419,es;q=0.9", "es"),
        ("en-US;q=0.8", "en"),
        ("EN-gb", "en"),
        # q ordering, not header order
        ("en;q=0.5, pt-BR;q=0.9", "pt-BR"),
        ("es;q=0.1, en;q=0.2, pt;q=0.3", "pt-BR"),
        ("fr-FR, fr;q=0.9, es;q=0.8, en;q=0.7", "es"),
        # equal q: header order wins
        ("es, pt-BR", "es"),
        ("pt-BR;q=0.7, es;q=0.7", "pt-BR"),
        # typical browsers
        ("pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7", "pt-BR"),
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        # q=0 excludes
        ("pt;q=0, es", "es"),
        ("en;q=0", None),
        # wildcard: anything not named, preferring the default
        ("*", "en"),
        ("fr, *;q=0.5", "en"),
        ("en;q=0, *", "pt-BR"),
        ("en;q=0, pt;q=0, *", "es"),
        ("en;q=0, pt;q=0, es;q=0, *", None),
        ("*;q=0.5, es;q=0.1", "en"),
        ("*;q=0", None),
        # nothing usable
        ("fr, de;q=0.8", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_negotiate(header: str | None, expected: str | None) -> None:
    assert negotiate(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (";;;,,,", None),
        ("pt-BR;q=abc, es", "es"),  # malformed q skips that range only
        ("pt-BR;q=2, es;q=0.1", "es"),
        ("pt-BR;q=-1, es;q=0.1", "es"),
        ("pt-BR;q=nan, es;q=0.1", "es"),
        ("pt-BR;q, es;q=0.1", "es"),
        ("pt-BR;q=inf, es;q=0.1", "es"),
        ("pt-BR; Q = 0.9 , en;q=0.5", "pt-BR"),
        ("pt-BR;level=1", "pt-BR"),  # unknown params are ignored
        ("=;q=1, 1234, en", "en"),
        ("en US, es", "es"),
        ("x" * 100, None),
        ("pt_BR", "pt-BR"),
        ("\x00\xff, es", "es"),
        ("🙂, pt", "pt-BR"),
    ],
)
def test_negotiate_skips_garbage(header: str, expected: str | None) -> None:
    assert negotiate(header) == expected


def test_negotiate_huge_header_does_not_blow_up() -> None:
    assert negotiate("fr;q=0.9, " * 100_000 + "es") is None  # beyond the parsing bound
    assert negotiate("fr, " * 10 + "es") == "es"


def test_negotiate_fallback() -> None:
    assert negotiate(None, fallback="pt_BR") == "pt-BR"
    assert negotiate("fr", fallback="es") == "es"
    assert negotiate("fr", fallback="de") is None
    assert negotiate("en", fallback="es") == "en"


def test_importing_i18n_does_not_import_babel() -> None:
    # Cold start matters: the request path must not pay for babel's import.
    code = "import sys, bzapper.i18n as i; i.negotiate('pt-BR,*'); print('babel' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
