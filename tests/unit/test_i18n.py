"""Locale negotiation, translation, and the completeness of the message catalog."""

from __future__ import annotations

import ast
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from bzapper.domain.errors import ERROR_CODES
from bzapper.i18n import (
    DEFAULT_LOCALE,
    SUPPORTED_LOCALES,
    negotiate,
    normalize_locale,
    terminal_locale,
    translate,
)
from bzapper.i18n.catalog import MESSAGES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "core" / "bzapper"
DEV_PACKAGE = ROOT / "dev" / "bzapper_dev"

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
    "error.invalid_multipart": set(),
    "error.duplicate_key": {"param"},
    "error.expected_integer": {"param"},
    "error.expected_number": {"param"},
    "error.expected_boolean": {"param"},
    "error.invalid_signature": set(),
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
    "cli.dev.credits": {"credits"},
    "cli.dev.env": {"path"},
    "cli.error.locale": {"value", "choices"},
    "cli.error.no_stack": {"path"},
    "error.otp_not_configured": set(),
    "error.otp_code_invalid": {"min", "max"},
    "error.otp_code_in_body": set(),
    "otp.body": {"brand", "expiry"},
    "otp.body_unbranded": {"expiry"},
    **{f"otp.expiry.{unit}.{form}": {"count"} for unit in ("hours", "minutes", "seconds") for form in ("one", "other")},
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


# --- nothing escapes the catalog -----------------------------------------------------------------------


def test_every_error_code_has_its_text() -> None:
    assert [code for code in ERROR_CODES if f"error.{code}" not in MESSAGES] == []


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _key_nodes(tree: ast.AST) -> list[ast.expr]:
    """The expressions the code passes where a catalog key goes: translate(key), _t(key), _fail(key),
    message_key=key, validation_failed(param, key)."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in ("translate", "_t", "_fail") and node.args:
            found.append(node.args[0])
        if name == "validation_failed" and len(node.args) > 1:
            found.append(node.args[1])
        found += [keyword.value for keyword in node.keywords if keyword.arg == "message_key"]
    return found


def test_every_key_the_code_names_is_in_the_catalog() -> None:
    missing, checked = [], 0
    for path in [*PACKAGE.rglob("*.py"), *DEV_PACKAGE.rglob("*.py")]:
        for node in _key_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                checked += 1
                if node.value not in MESSAGES:
                    missing.append((path.name, node.value))
            elif isinstance(node, ast.JoinedStr):  # f"error.{action}_type": some key must have that shape
                checked += 1
                pattern = "".join(
                    re.escape(part.value) if isinstance(part, ast.Constant) else "[a-z0-9_]+" for part in node.values
                )
                if not any(re.fullmatch(pattern, key) for key in MESSAGES):
                    missing.append((path.name, pattern))
    assert checked > 50
    assert missing == []


def _words(node: ast.AST) -> list[str]:
    """Prose in literal strings under `node` (lowercase words of 3+ letters), outside catalog lookups and
    JSON; upper-case names such as BZ_KEY are not prose."""
    if isinstance(node, ast.Call) and _name(node.func) in ("translate", "_t", "dumps"):
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.findall(r"\b[a-z]{3,}\b", node.value)
    return [word for child in ast.iter_child_nodes(node) for word in _words(child)]


def test_what_the_cli_shows_comes_from_the_catalog() -> None:
    """Output users read (print, echo, errors, --help texts) in the CLI and the local runner's terminal."""
    files = [DEV_PACKAGE / "cli.py", DEV_PACKAGE / "local" / "dev.py", DEV_PACKAGE / "local" / "live_phone.py"]
    prose = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            if _name(node.func) in ("print", "echo", "BadParameter", "Exit", "secho"):
                prose += [(path.name, node.lineno, w) for arg in node.args for w in _words(arg)]
            prose += [(path.name, node.lineno, w) for k in node.keywords if k.arg == "help" for w in _words(k.value)]
    assert prose == []


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "pt_BR.UTF-8"}, "pt-BR"),
        ({"LANG": "es_AR.UTF-8"}, "es"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
        ({}, "en"),
        ({"LC_ALL": "es_ES.UTF-8", "LANG": "pt_BR.UTF-8"}, "es"),
        ({"LC_MESSAGES": "pt_PT.UTF-8", "LANG": "en_US.UTF-8"}, "pt-BR"),
        ({"LC_ALL": "", "LANG": "es_MX"}, "es"),
    ],
)
def test_the_terminals_language(environ: dict[str, str], expected: str) -> None:
    assert terminal_locale(environ) == expected


@pytest.mark.parametrize(
    ("lang", "help_text", "error"),
    [
        ("en_US.UTF-8", "Manage accounts.", "--locale fr: use one of en, pt-BR, es."),
        ("pt_BR.UTF-8", "Gerenciar contas.", "--locale fr: use um destes: en, pt-BR, es."),
        ("es_MX.UTF-8", "Administrar cuentas.", "--locale fr: usa uno de estos: en, pt-BR, es."),
    ],
)
def test_the_cli_speaks_the_terminals_language(lang: str, help_text: str, error: str) -> None:
    env = {**os.environ, "LANG": lang, "LC_ALL": "", "LC_MESSAGES": "", "COLUMNS": "200"}
    command = [str(Path(sys.executable).parent / "bzapper")]
    shown = subprocess.run([*command, "--help"], env=env, capture_output=True, text=True, check=True)
    assert help_text in shown.stdout
    refused = subprocess.run(
        [*command, "accounts", "create", "--locale", "fr"], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2 and refused.stderr.strip() == error


@pytest.mark.parametrize(
    ("header", "account_locale", "expected"),
    [
        ("*", "pt-BR", "pt-BR"),  # any language: the account's, not English
        ("fr, *;q=0.5", "es", "es"),
        ("es;q=0, *", "pt-BR", "pt-BR"),
        ("pt;q=0, *", "pt-BR", "en"),  # the account's language excluded: the default
        ("es;q=0", "pt-BR", "pt-BR"),  # a q=0 range alone chooses nothing
        ("*;q=0", "pt-BR", "pt-BR"),
        ("es, *", "pt-BR", "es"),  # a named language still wins
        ("*", None, "en"),
        ("*", "fr", "en"),
    ],
)
def test_a_wildcard_keeps_the_accounts_language(header: str, account_locale: str | None, expected: str) -> None:
    from bzapper.api.errors import resolve_locale

    assert resolve_locale(header, account_locale) == expected
