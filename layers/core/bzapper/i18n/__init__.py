"""Locale negotiation and message lookup for every user-facing text (en, pt-BR, es).

Pure and dependency-free on purpose: it runs on every request, including cold starts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from bzapper.i18n.catalog import MESSAGES

__all__ = [
    "DEFAULT_LOCALE",
    "MESSAGES",
    "SUPPORTED_LOCALES",
    "negotiate",
    "normalize_locale",
    "terminal_locale",
    "translate",
]

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "pt-BR", "es")
DEFAULT_LOCALE = "en"

# We ship one variant per language, so any regional tag maps to it: pt-PT reads pt-BR, es-AR reads es.
_BY_LANGUAGE: dict[str, str] = {"en": "en", "pt": "pt-BR", "es": "es"}

_TAG = re.compile(r"[a-z]{1,8}(?:-[a-z0-9]{1,8})*")
# Headers are client-controlled: bound the work instead of trusting them.
_MAX_HEADER_CHARS = 4096
_MAX_RANGES = 64


def normalize_locale(value: str | None) -> str | None:
    """Map a locale-ish string ("pt-br", "pt_BR", "pt", "EN", "es-AR", "pt_BR.UTF-8") to a supported locale.

    Returns None for anything we do not ship, so callers can fall back explicitly.
    """
    if not value:
        return None
    # POSIX forms from $LANG ("pt_BR.UTF-8", "es_ES@euro") are accepted for the CLI.
    tag = value.strip().split(".", 1)[0].split("@", 1)[0].replace("_", "-").lower()
    if not _TAG.fullmatch(tag):
        return None
    return _BY_LANGUAGE.get(tag.split("-", 1)[0])


def negotiate(accept_language: str | None, fallback: str | None = None) -> str | None:
    """Pick the best supported locale for an HTTP Accept-Language header (RFC 9110 section 12.5.4).

    Returns None when the header is missing, empty or matches nothing, so the caller can fall back to the
    account's locale; passing that as `fallback` returns it (normalised) instead. "*" ("any language") also
    picks the fallback, unless a q=0 range excludes it: a client that accepts anything gets the account's
    language, not English. Never raises.

    babel's negotiate_locale is deliberately not used: it ignores q-values and "*", and its default alias
    table maps "pt" to pt_PT, so it returns None for "pt" and "pt-PT" against our pt-BR.
    """
    ranges = _parse_accept_language(accept_language)
    # Every locale some range names, even with q=0: "*" means "anything not named", and q=0 means "not this".
    named = {normalize_locale(tag) for tag, _ in ranges} - {None}
    for tag, quality in sorted(ranges, key=lambda r: -r[1]):  # stable: header order breaks ties
        if quality <= 0:
            break
        if tag == "*":
            for locale in (normalize_locale(fallback), DEFAULT_LOCALE, *SUPPORTED_LOCALES):
                if locale is not None and locale not in named:
                    return locale
            continue
        locale = normalize_locale(tag)
        if locale is not None:
            return locale
    return normalize_locale(fallback)


def _parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """Parse into (tag, q) pairs, skipping malformed ranges rather than rejecting the whole header."""
    if not header:
        return []
    ranges: list[tuple[str, float]] = []
    for part in header[:_MAX_HEADER_CHARS].split(",")[:_MAX_RANGES]:
        tag, *params = (p.strip() for p in part.split(";"))
        tag = tag.replace("_", "-").lower()
        if tag != "*" and not _TAG.fullmatch(tag):
            continue
        quality = _quality(params)
        if quality is not None:
            ranges.append((tag, quality))
    return ranges


def _quality(params: list[str]) -> float | None:
    """The q-value of one range: 1.0 when absent, None when malformed or out of range."""
    for param in params:
        name, sep, raw = param.partition("=")
        if name.strip().lower() != "q":
            continue
        if not sep:
            return None
        try:
            quality = float(raw.strip())
        except ValueError:
            return None
        # float() also accepts "nan" and "inf"; only a number in [0, 1] is a q-value.
        if math.isnan(quality) or not 0.0 <= quality <= 1.0:
            return None
        return quality
    return 1.0


class _KeepMissing(dict[str, object]):
    """Leaves unknown {placeholders} visible instead of raising KeyError mid-response."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def translate(key: str, locale: str, **params: object) -> str:
    """Return the text for `key` in `locale` (falling back to English), formatted with `params`.

    Never raises: an unknown key returns the key itself, so a missing text shows up as "error.foo" in a
    response rather than as a 500.
    """
    texts = MESSAGES.get(key)
    if texts is None:
        return key
    text = texts.get(normalize_locale(locale) or DEFAULT_LOCALE) or texts.get(DEFAULT_LOCALE) or key
    try:
        return text.format_map(_KeepMissing(params))
    except (ValueError, IndexError, AttributeError, TypeError, KeyError):
        return text


LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")
"""The POSIX locale variables, in their order of precedence."""


def terminal_locale(environ: Mapping[str, str]) -> str:
    """The language of the CLI's output: the POSIX locale variables in their order of precedence (LC_ALL,
    LC_MESSAGES, LANG; the first one set decides), English when it is one we do not ship. Pure: the CLI passes
    what the settings read (`settings().local.locale_variables`)."""
    for name in LOCALE_VARIABLES:
        if environ.get(name):
            return normalize_locale(environ[name]) or DEFAULT_LOCALE
    return DEFAULT_LOCALE
