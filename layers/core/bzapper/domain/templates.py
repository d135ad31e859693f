"""Message templates (WhatsApp Cloud API): the records a number's WhatsApp Business Account holds, and the pure
check of a send's `components` against the template it names. docs/templates.md.

A template as Meta defines it (`components` in Meta's definition shape, kept as Meta gave it):

    {"type": "HEADER", "format": "TEXT"|"IMAGE"|"VIDEO"|"DOCUMENT"|"LOCATION", "text"?: "Order {{1}}"}
    {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ..."}          named: "Hi {{first_name}}"
    {"type": "FOOTER", "text": "..."}
    {"type": "BUTTONS", "buttons": [{"type": "URL", "url": "https://x.com/{{1}}"}, {"type": "QUICK_REPLY"},
                                    {"type": "OTP", "otp_type": "COPY_CODE"}, {"type": "COPY_CODE"}, ...]}

A send names the template by `name` and `language` (an exact match: Meta never falls back to another language)
and fills its variables with `components` in Meta's send shape:

    {"type": "header", "parameters": [{"type": "text", "text"} | {"type": "image"|"video"|"document",
                                       "<kind>": {"id": "med_…"} | {"link": "https://…"}} | {"type": "location", …}]}
    {"type": "body", "parameters": [{"type": "text", "text", "parameter_name"?} | {"type": "currency", "currency":
                                     {"fallback_value", "code", "amount_1000"}} | {"type": "date_time",
                                     "date_time": {"fallback_value"}}]}
    {"type": "button", "sub_type": "url"|"quick_reply"|"copy_code", "index": 0, "parameters": [...]}

Header media go by OUR media id (`med_…`, uploaded with POST /media) or a public link Meta fetches itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bzapper.domain.errors import BzError

APPROVED = "APPROVED"

TEMPLATE_STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "PENDING_DELETION")
"""Meta's review states; only APPROVED may be sent."""

REFRESH_MS = 5 * 60 * 1000
"""A number's stored templates are read again from its WhatsApp Business Account when older than this: a
template approved (or paused) a few minutes ago is seen without a Graph call on every read or send."""

TEXT_PARAM_MAX = 1024
HEADER_TEXT_PARAM_MAX = 60
BUTTON_PARAM_MAX = 2000
CODE_PARAM_MAX = 15
"""An OTP or coupon code: Meta's limit."""

MEDIA_HEADERS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
_LINK = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_MEDIA_ID = re.compile(r"^med_[0-9A-HJKMNP-TV-Z]{26}$")


@dataclass(frozen=True, slots=True)
class Template:
    """One template of a WhatsApp Business Account, in one language, as Meta lists it."""

    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]] = field(default_factory=list)
    id: str | None = None

    @property
    def key(self) -> str:
        return template_key(self.name, self.language)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "status": self.status,
            "components": self.components,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Template:
        return cls(
            name=str(raw["name"]),
            language=str(raw["language"]),
            category=str(raw.get("category") or "").lower(),
            status=str(raw.get("status") or "").upper(),
            components=list(raw.get("components") or []),
            id=str(raw["id"]) if raw.get("id") is not None else None,
        )


def template_key(name: str, language: str) -> str:
    return f"{name}#{language}"


@dataclass(frozen=True, slots=True)
class TemplateSet:
    """A number's templates as last read from its account, and when."""

    templates: list[Template]
    synced_at: int

    def find(self, name: str, language: str) -> Template | None:
        return next((t for t in self.templates if t.name == name and t.language == language), None)

    def stale(self, now: int) -> bool:
        return now - self.synced_at >= REFRESH_MS


@dataclass(frozen=True, slots=True)
class MediaParam:
    """A header media parameter naming one of our files: the send resolves it (the account's own, right kind)."""

    component: int
    parameter: int
    kind: str
    media_id: str

    @property
    def param(self) -> str:
        return f"template.components.{self.component}.parameters.{self.parameter}.{self.kind}.id"


@dataclass(frozen=True, slots=True)
class CheckedSend:
    """A send's template content, checked: what the message stores (before its media are resolved)."""

    content: dict[str, Any]
    media: list[MediaParam]


# --- refusals -------------------------------------------------------------------------------------------------


def _invalid(param: str, reason: str, **params: Any) -> BzError:
    return BzError(
        "template_parameters_invalid",
        message_key=f"error.template_parameters_invalid.{reason}",
        param=param,
        params={"param": param, **params},
    )


def refuse_missing(name: str, language: str) -> BzError:
    return BzError("template_not_found", param="template.name", params={"name": name, "language": language})


def refuse_status(template: Template) -> BzError:
    return BzError(
        "template_not_approved",
        param="template.name",
        params={"name": template.name, "language": template.language, "status": template.status},
    )


# --- what a template expects ----------------------------------------------------------------------------------


def placeholders(text: str | None) -> list[str]:
    """The distinct variables of a text, in order of first appearance (`{{1}}`, `{{first_name}}`)."""
    seen: list[str] = []
    for match in _PLACEHOLDER.finditer(text or ""):
        if match.group(1) not in seen:
            seen.append(match.group(1))
    return seen


def _definition(template: Template, kind: str) -> dict[str, Any] | None:
    return next(
        (c for c in template.components if isinstance(c, dict) and str(c.get("type", "")).upper() == kind), None
    )


def _buttons(template: Template) -> list[dict[str, Any]]:
    definition = _definition(template, "BUTTONS") or {}
    return [b for b in definition.get("buttons") or [] if isinstance(b, dict)]


def _button_needs(button: dict[str, Any]) -> tuple[str, str | None]:
    """(the send's sub_type for this button, the one parameter type it needs or None when it takes none)."""
    kind = str(button.get("type", "")).upper()
    if kind == "URL":
        return "url", "text" if placeholders(button.get("url")) else None
    if kind == "OTP":  # an authentication template's code button: Meta takes the code as a url parameter
        return "url", "text"
    if kind == "COPY_CODE":
        return "copy_code", "coupon_code"
    if kind == "QUICK_REPLY":
        return "quick_reply", "payload"
    return kind.lower(), None


# --- the check ------------------------------------------------------------------------------------------------


def check_send(template: Template | None, name: str, language: str, components: Any) -> CheckedSend:
    """The content of a send of `template` (None: the account has none by that name and language), or the 422 of
    the first rule it breaks: template_not_found, template_not_approved, template_parameters_invalid (`param` is
    the path of the offending field, e.g. `template.components.0.parameters.1.text`)."""
    if template is None:
        raise refuse_missing(name, language)
    if template.status != APPROVED:
        raise refuse_status(template)
    if components is None:
        components = []
    if not isinstance(components, list):
        raise _invalid("template.components", "shape")
    given: dict[str, int] = {}
    buttons_given: dict[int, int] = {}
    out: list[dict[str, Any]] = []
    media: list[MediaParam] = []
    for index, component in enumerate(components):
        path = f"template.components.{index}"
        if not isinstance(component, dict):
            raise _invalid(path, "shape")
        kind = component.get("type")
        if kind not in ("header", "body", "button"):
            raise _invalid(f"{path}.type", "component_type", type=str(kind))
        if kind == "button":
            position, checked = _check_button(template, component, path)
            if position in buttons_given:
                raise _invalid(f"{path}.index", "duplicate")
            buttons_given[position] = index
        else:
            if kind in given:
                raise _invalid(f"{path}.type", "duplicate")
            given[kind] = index
            if kind == "header":
                checked, found = _check_header(template, component, path, index)
                media += found
            else:
                checked = _check_body(template, component, path)
        out.append(checked)
    _check_required(template, given, buttons_given)
    content = {
        "template": {
            "name": template.name,
            "language": template.language,
            "category": template.category,
            "components": out,
        }
    }
    if template.id:
        content["template"]["id"] = template.id
    return CheckedSend(content, media)


def _parameters(component: dict[str, Any], path: str) -> list[Any]:
    parameters = component.get("parameters", [])
    if not isinstance(parameters, list):
        raise _invalid(f"{path}.parameters", "shape")
    unknown = sorted(set(component) - {"type", "parameters", "sub_type", "index"})
    if unknown:
        raise _invalid(f"{path}.{unknown[0]}", "unknown_field")
    return parameters


def _count(parameters: list[Any], expected: int, path: str, component: str) -> None:
    if len(parameters) != expected:
        raise _invalid(f"{path}.parameters", "count", component=component, expected=expected, given=len(parameters))


def _check_body(template: Template, component: dict[str, Any], path: str) -> dict[str, Any]:
    definition = _definition(template, "BODY") or {}
    names = placeholders(definition.get("text"))
    parameters = _parameters(component, path)
    _count(parameters, len(names), path, "body")
    checked = [
        _text_parameter(parameter, f"{path}.parameters.{i}", TEXT_PARAM_MAX, names[i], _named(template))
        for i, parameter in enumerate(parameters)
    ]
    if _named(template):
        given = [parameter["parameter_name"] for parameter in checked]
        if sorted(given) != sorted(names):
            missing = next(name for name in names if name not in given)
            raise _invalid(f"{path}.parameters", "names", missing=missing)
    return {"type": "body", "parameters": checked}


def _named(template: Template) -> bool:
    """Named variables (`{{first_name}}`): each parameter says which one it fills (`parameter_name`)."""
    body = _definition(template, "BODY") or {}
    return any(not name.isdigit() for name in placeholders(body.get("text")))


def _text_parameter(raw: Any, path: str, limit: int, variable: str, named: bool) -> dict[str, Any]:
    """A variable's value: text, currency or date_time (Meta shows the last two localised, with a fallback)."""
    if not isinstance(raw, dict):
        raise _invalid(path, "shape")
    kind = raw.get("type")
    extra = sorted(set(raw) - {"type", str(kind), "parameter_name"})
    if extra:
        raise _invalid(f"{path}.{extra[0]}", "unknown_field")
    out: dict[str, Any] = {"type": kind}
    if named:
        given = raw.get("parameter_name")
        if not isinstance(given, str) or not given:
            raise _invalid(f"{path}.parameter_name", "parameter_name")
        out["parameter_name"] = given
    if kind == "text":
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > limit:
            raise _invalid(f"{path}.text", "text", limit=limit)
        out["text"] = text
    elif kind == "currency":
        value = raw.get("currency")
        if not isinstance(value, dict):
            raise _invalid(f"{path}.currency", "shape")
        fallback, code, amount = value.get("fallback_value"), value.get("code"), value.get("amount_1000")
        if not isinstance(fallback, str) or not fallback.strip():
            raise _invalid(f"{path}.currency.fallback_value", "text", limit=limit)
        if not isinstance(code, str) or not _CURRENCY_CODE.match(code):
            raise _invalid(f"{path}.currency.code", "currency_code")
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise _invalid(f"{path}.currency.amount_1000", "integer")
        out["currency"] = {"fallback_value": fallback, "code": code, "amount_1000": amount}
    elif kind == "date_time":
        value = raw.get("date_time")
        if not isinstance(value, dict) or not isinstance(value.get("fallback_value"), str):
            raise _invalid(f"{path}.date_time.fallback_value", "text", limit=limit)
        if not value["fallback_value"].strip():
            raise _invalid(f"{path}.date_time.fallback_value", "text", limit=limit)
        out["date_time"] = {"fallback_value": value["fallback_value"]}
    else:
        raise _invalid(f"{path}.type", "parameter_type", expected="text, currency, date_time", variable=variable)
    return out


def _check_header(
    template: Template, component: dict[str, Any], path: str, index: int
) -> tuple[dict[str, Any], list[MediaParam]]:
    definition = _definition(template, "HEADER")
    parameters = _parameters(component, path)
    header_format = str((definition or {}).get("format", "TEXT")).upper()
    expected_kind = MEDIA_HEADERS.get(header_format)
    if definition is None or (header_format == "TEXT" and not placeholders(definition.get("text"))):
        raise _invalid(f"{path}.type", "unexpected", component="header")
    _count(parameters, 1, path, "header")
    param_path = f"{path}.parameters.0"
    raw = parameters[0]
    if header_format == "TEXT":
        variable = placeholders(definition.get("text"))[0]
        return {
            "type": "header",
            "parameters": [_text_parameter(raw, param_path, HEADER_TEXT_PARAM_MAX, variable, False)],
        }, []
    if not isinstance(raw, dict):
        raise _invalid(param_path, "shape")
    if header_format == "LOCATION":
        return {"type": "header", "parameters": [_location(raw, param_path)]}, []
    if expected_kind is None:
        raise _invalid(f"{path}.type", "unexpected", component="header")
    if raw.get("type") != expected_kind:
        raise _invalid(f"{param_path}.type", "parameter_type", expected=expected_kind, variable="header")
    extra = sorted(set(raw) - {"type", expected_kind})
    if extra:
        raise _invalid(f"{param_path}.{extra[0]}", "unknown_field")
    value = raw.get(expected_kind)
    if not isinstance(value, dict):
        raise _invalid(f"{param_path}.{expected_kind}", "media")
    media_id, link = value.get("id"), value.get("link")
    unknown = sorted(set(value) - {"id", "link", "filename", "caption"})
    if unknown or (media_id is None) == (link is None):
        raise _invalid(f"{param_path}.{expected_kind}", "media")
    out: dict[str, Any] = {}
    found: list[MediaParam] = []
    if media_id is not None:
        if not isinstance(media_id, str) or not _MEDIA_ID.match(media_id):
            raise _invalid(f"{param_path}.{expected_kind}.id", "media_id")
        out["id"] = media_id
        found.append(MediaParam(index, 0, expected_kind, media_id))
    else:
        if not isinstance(link, str) or len(link) > 2048 or not _LINK.match(link):
            raise _invalid(f"{param_path}.{expected_kind}.link", "link")
        out["link"] = link
    filename = value.get("filename")
    if filename is not None:
        if expected_kind != "document" or not isinstance(filename, str) or not 0 < len(filename) <= 240:
            raise _invalid(f"{param_path}.{expected_kind}.filename", "shape")
        out["filename"] = filename
    return {"type": "header", "parameters": [{"type": expected_kind, expected_kind: out}]}, found


def _location(raw: dict[str, Any], path: str) -> dict[str, Any]:
    value = raw.get("location")
    if raw.get("type") != "location" or not isinstance(value, dict):
        raise _invalid(f"{path}.type", "parameter_type", expected="location", variable="header")
    latitude, longitude = value.get("latitude"), value.get("longitude")
    for key, number, bound in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if isinstance(number, bool) or not isinstance(number, int | float) or not -bound <= number <= bound:
            raise _invalid(f"{path}.location.{key}", "shape")
    out: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    for key in ("name", "address"):
        if value.get(key) is not None:
            if not isinstance(value[key], str) or not 0 < len(value[key]) <= 1000:
                raise _invalid(f"{path}.location.{key}", "shape")
            out[key] = value[key]
    return {"type": "location", "location": out}


def _check_button(template: Template, component: dict[str, Any], path: str) -> tuple[int, dict[str, Any]]:
    parameters = _parameters(component, path)
    index = component.get("index")
    if isinstance(index, str) and index.isdigit():
        index = int(index)
    buttons = _buttons(template)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(buttons):
        raise _invalid(f"{path}.index", "button_index", count=len(buttons))
    sub_type, needs = _button_needs(buttons[index])
    if component.get("sub_type") != sub_type:
        raise _invalid(f"{path}.sub_type", "sub_type", index=index, expected=sub_type)
    if needs is None:
        _count(parameters, 0, path, f"button {index}")
        checked: list[dict[str, Any]] = []
    elif needs == "payload":  # a quick reply's payload is optional
        if len(parameters) > 1:
            _count(parameters, 1, path, f"button {index}")
        checked = [_button_parameter(raw, f"{path}.parameters.{i}", "payload") for i, raw in enumerate(parameters)]
    else:
        _count(parameters, 1, path, f"button {index}")
        checked = [_button_parameter(parameters[0], f"{path}.parameters.0", needs, otp=_is_code(buttons[index]))]
    return index, {"type": "button", "sub_type": sub_type, "index": index, "parameters": checked}


def _is_code(button: dict[str, Any]) -> bool:
    return str(button.get("type", "")).upper() in ("OTP", "COPY_CODE")


def _button_parameter(raw: Any, path: str, kind: str, otp: bool = False) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _invalid(path, "shape")
    if raw.get("type") != kind:
        raise _invalid(f"{path}.type", "parameter_type", expected=kind, variable="button")
    extra = sorted(set(raw) - {"type", kind})
    if extra:
        raise _invalid(f"{path}.{extra[0]}", "unknown_field")
    value = raw.get(kind)
    limit = CODE_PARAM_MAX if otp or kind == "coupon_code" else BUTTON_PARAM_MAX
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _invalid(f"{path}.{kind}", "text", limit=limit)
    return {"type": kind, kind: value}


def _check_required(template: Template, given: dict[str, int], buttons_given: dict[int, int]) -> None:
    """Every variable the template has must be filled: a component left out is named by what it misses."""
    body = _definition(template, "BODY") or {}
    if placeholders(body.get("text")) and "body" not in given:
        raise _invalid("template.components", "missing", component="body")
    header = _definition(template, "HEADER")
    if header is not None and "header" not in given:
        header_format = str(header.get("format", "TEXT")).upper()
        if header_format != "TEXT" or placeholders(header.get("text")):
            raise _invalid("template.components", "missing", component="header")
    for index, button in enumerate(_buttons(template)):
        _, needs = _button_needs(button)
        if needs not in (None, "payload") and index not in buttons_given:
            raise _invalid("template.components", "missing", component=f"button {index}")
