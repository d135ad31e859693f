"""The identity service's own emails (its confirmation and reset codes), written in the user's language by the
user pool's CustomMessage trigger. Cognito puts the code where `codeParameter` stands."""

from __future__ import annotations

from typing import Any

from bzapper.domain import emails

_CONFIRMATIONS = {"CustomMessage_SignUp", "CustomMessage_ResendCode"}
_RESETS = {"CustomMessage_ForgotPassword"}


def custom_message(event: dict[str, Any]) -> dict[str, Any]:
    request = event.get("request") or {}
    attributes = request.get("userAttributes") or {}
    code = str(request.get("codeParameter") or "{####}")
    locale = str(attributes.get("locale") or "en")
    source = event.get("triggerSource")
    if source in _CONFIRMATIONS:
        subject, text = emails.confirmation(locale, str(attributes.get("name") or ""), code)
    elif source in _RESETS:
        subject, text = emails.password_reset(locale, code)
    else:
        return event  # other messages (an admin invitation, an attribute check): Cognito's own text
    event.setdefault("response", {}).update(emailSubject=subject, emailMessage=text)
    return event
