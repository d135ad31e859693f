"""The emails a console user gets, in the user's language: a confirmation code, a reset code, and the notice a
repeated sign-up sends instead of telling the caller the address is taken."""

from __future__ import annotations

from bzapper import i18n


def _email(kind: str, locale: str, **params: str) -> tuple[str, str]:
    language = i18n.normalize_locale(locale) or i18n.DEFAULT_LOCALE
    return i18n.translate(f"email.{kind}.subject", language), i18n.translate(f"email.{kind}.text", language, **params)


def confirmation(locale: str, name: str, code: str) -> tuple[str, str]:
    """(subject, text); `code` may be the identity service's placeholder (Cognito's `{####}`)."""
    return _email("confirm", locale, name=name, code=code)


def password_reset(locale: str, code: str) -> tuple[str, str]:
    return _email("reset", locale, code=code)


def already_registered(locale: str) -> tuple[str, str]:
    return _email("already_registered", locale)
