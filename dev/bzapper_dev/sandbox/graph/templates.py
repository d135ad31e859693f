"""Message templates as a WABA holds them: the approved ones every simulated WABA starts with, and the
checks Meta makes when a template is created or sent. Pure data and functions, no state."""

from __future__ import annotations

import re
from typing import Any

LANGUAGES = ("en", "pt_BR", "es")
CATEGORIES = ("AUTHENTICATION", "UTILITY", "MARKETING")
NAME_PATTERN = re.compile(r"^[a-z0-9_]{1,512}$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")

# Authentication templates: Meta fixes their text (only the language changes) and adds a copy-code button
# whose URL carries the code, so a send fills the body's {{1}} and the button's parameter with the code.
_AUTH_TEXTS = {
    "en": (
        "*{{1}}* is your verification code. For your security, do not share this code.",
        "This code expires in 10 minutes.",
        "Copy code",
    ),
    "pt_BR": (
        "*{{1}}* é seu código de verificação. Para sua segurança, não o compartilhe.",
        "Este código expira em 10 minutos.",
        "Copiar código",
    ),
    "es": (
        "*{{1}}* es tu código de verificación. Por tu seguridad, no lo compartas.",
        "Este código caduca en 10 minutos.",
        "Copiar código",
    ),
}
_ORDER_TEXTS = {
    "en": "Hi {{1}}, your order {{2}} has shipped and is on its way.",
    "pt_BR": "Olá {{1}}, seu pedido {{2}} foi enviado e está a caminho.",
    "es": "Hola {{1}}, tu pedido {{2}} fue enviado y está en camino.",
}
_OFFER_TEXTS = {
    "en": "{{1}}: this week only, 20% off everything in our store.",
    "pt_BR": "{{1}}: só nesta semana, 20% de desconto em toda a loja.",
    "es": "{{1}}: solo esta semana, 20% de descuento en toda la tienda.",
}
COPY_CODE_URL = "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code_expiration_minutes=10&code=otp{{1}}"


def default_templates() -> list[dict[str, Any]]:
    """name, language, category, components of the approved templates a new WABA has (ids and status are
    the WABA's to give)."""
    templates = []
    for language in LANGUAGES:
        body, footer, button = _AUTH_TEXTS[language]
        templates.append(
            {
                "name": "verification_code",
                "language": language,
                "category": "AUTHENTICATION",
                "components": [
                    {
                        "type": "BODY",
                        "text": body,
                        "add_security_recommendation": True,
                        "example": {"body_text": [["123456"]]},
                    },
                    {"type": "FOOTER", "text": footer, "code_expiration_minutes": 10},
                    {
                        "type": "BUTTONS",
                        "buttons": [
                            {
                                "type": "URL",
                                "text": button,
                                "url": COPY_CODE_URL,
                                "example": [COPY_CODE_URL[:-5] + "123456"],
                            }
                        ],
                    },
                ],
            }
        )
        templates.append(
            {
                "name": "order_update",
                "language": language,
                "category": "UTILITY",
                "components": [
                    {"type": "BODY", "text": _ORDER_TEXTS[language], "example": {"body_text": [["Ana", "#1234"]]}}
                ],
            }
        )
        templates.append(
            {
                "name": "weekly_offer",
                "language": language,
                "category": "MARKETING",
                "components": [{"type": "BODY", "text": _OFFER_TEXTS[language], "example": {"body_text": [["Ana"]]}}],
            }
        )
    return templates


def placeholders(text: Any) -> int:
    """How many distinct {{n}} a template text holds."""
    return len(set(_PLACEHOLDER.findall(text))) if isinstance(text, str) else 0


def expected_parameters(components: list[dict[str, Any]]) -> dict[tuple[str, int], int]:
    """(component, button index) -> the number of parameters a send must give; button index is -1 for the
    header and the body."""
    wanted: dict[tuple[str, int], int] = {}
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind in ("HEADER", "BODY") and (count := placeholders(component.get("text"))):
            wanted[(kind.lower(), -1)] = count
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                if count := placeholders(button.get("url")):
                    wanted[("button", index)] = count
    return wanted


def check_create(body: dict[str, Any]) -> str | None:
    """Why a template creation request is invalid (Meta's wording is loose; ours names the field), or None."""
    name, language, category = body.get("name"), body.get("language"), body.get("category")
    components = body.get("components")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return "name must be lowercase letters, digits and underscores (1 to 512)"
    if not isinstance(language, str) or not LANGUAGE_PATTERN.match(language):
        return "language must be a language code such as en or pt_BR"
    if not isinstance(category, str) or category.upper() not in CATEGORIES:
        return f"category must be one of {', '.join(CATEGORIES)}"
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        return "components must be a list of objects"
    if not any(str(c.get("type", "")).upper() == "BODY" for c in components):
        return "components must include a BODY"
    return None
