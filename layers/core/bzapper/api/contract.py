"""openapi.yaml, generated from the function apps: the contract can only say what the code does.

Every part of the document comes from the code:

- paths, parameters, bodies and schemas: the group routers and their pydantic models (`api/schemas/`, a module
  per group);
- the security scheme: the `HTTPBearer` dependency of `api/auth.py`;
- response headers: what `RequestContext` and the rate limiters set (`X-Request-Id` on every response,
  `RateLimit-*` once a key is authenticated, `Retry-After` on 429/503, `Idempotent-Replayed`);
- examples: each model's `examples` (lifted onto the request and response media types), each path
  parameter's `examples`, and one error example per code from `domain/errors.py` and the English catalog;
- the error reference in the description: every code, its HTTP status and its English text.

Hooks for what is still to come (they are picked up with no change here):

- a new route: declare it in `topology.py` and in its group router; it appears under `paths`.
- **the SSE stream** (`GET /stream`): declare its 200 response with `schemas.common.event_stream_response(...)`
  (`text/event-stream`); it is documented like any operation, and the fuzzing test reads a bounded
  number of events from it.
- **webhooks**: a group router module that defines `webhooks = APIRouter()` and one
  `@webhooks.post("<event type>")` per event, whose body is the event's payload model, is mounted on
  `app.webhooks` by `create_app`; its events land in the document's `webhooks` section.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from bzapper import i18n
from bzapper.api.apps import DESCRIPTION, TITLE, VERSION, create_app
from bzapper.domain.errors import HTTP_STATUS

OPENAPI_VERSION = "3.2.0"
"""3.2 for one field: `itemSchema`, each Server-Sent Event's shape on GET /stream (3.1 can only say "a string")."""

SERVERS = [
    {"url": "https://api.bzapper.com.br", "description": "Production"},
    {"url": "http://127.0.0.1:8000", "description": "Local stack (`make dev`)"},
]

TAGS = {
    "messages": "Send WhatsApp messages and follow each one through its statuses.",
    "account": "The calling account: its language, plan, limits and usage.",
    "billing": "The prepaid wallet: balance, ledger and top-ups (Pix or card).",
    "sandbox": "Test mode only: what the simulated WhatsApp contacts received.",
    "platform": "Liveness and this reference.",
}

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Referenced by responses; a Reference Object cannot say `required`, so each component says it.
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "This request's id, on every response (also `request_id` in error bodies): quote it to support.",
        "required": True,
        "schema": {"type": "string"},
        "example": "req_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
    },
    "RateLimit-Limit": {
        "required": True,
        "description": "Requests allowed in the window of the limit that binds this request (for a send: the "
        "account's sends per minute; otherwise the key's requests per minute).",
        "schema": {"type": "integer", "minimum": 0},
        "example": 120,
    },
    "RateLimit-Remaining": {
        "required": True,
        "description": "Requests left in the current window.",
        "schema": {"type": "integer", "minimum": 0},
        "example": 119,
    },
    "RateLimit-Reset": {
        "required": True,
        "description": "Seconds until the quota is whole again.",
        "schema": {"type": "integer", "minimum": 0},
        "example": 1,
    },
    "Retry-After": {
        "required": True,
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
        "example": 1,
    },
    "Idempotent-Replayed": {
        "description": "`true` when this response is the stored first response to the same `Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")

ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "The language of error messages (en, pt-BR, es; the best match wins; anything else is "
    "ignored); else the account's language.",
    "schema": {"type": "string"},
    "example": "pt-BR,pt;q=0.9,en;q=0.5",
}

# Sample values for the placeholders of the catalog's texts, so each error example reads like a real one.
_ERROR_PARAMS = {
    "param": "to",
    "value": "+55 11 0000",
    "method": "DELETE",
    "path": "/health",
    "retry_after": 1,
    "request_id": "req_01JD5V6W4E7R8T9Y0U1I2O3P4Q",
}


def openapi_document(*groups: str) -> dict[str, Any]:
    """The contract of the given groups' apps (all groups when none is given)."""
    app = create_app(*groups, contract=True)
    document = get_openapi(
        title=TITLE,
        version=VERSION,
        openapi_version=OPENAPI_VERSION,
        description=DESCRIPTION + "\n\n" + _errors_reference(),
        routes=app.routes,
        webhooks=app.webhooks.routes,
        servers=SERVERS,
    )
    _add_tags(document)
    components = document.setdefault("components", {})
    _restore_model_examples(components.get("schemas", {}))
    components["headers"] = copy.deepcopy(HEADERS)
    components["parameters"] = {"AcceptLanguage": copy.deepcopy(ACCEPT_LANGUAGE)}
    components["examples"] = {code: _error_example(code) for code in HTTP_STATUS}
    schemas = components.get("schemas", {})
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                _enrich_operation(operation, schemas)
    for item in document.get("webhooks", {}).values():
        for operation in item.values():
            _lift_examples(operation, schemas)
    return document


def openapi_yaml() -> str:
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        # Multi-line texts (the Markdown of descriptions) stay readable as literal blocks.
        style = "|" if "\n" in value and not value.endswith(" ") else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(openapi_document(), Dumper=Dumper, sort_keys=False, allow_unicode=True, width=110)


def _errors_reference() -> str:
    rows = [
        f"| `{code}` | {status} | {i18n.translate(f'error.{code}', 'en', **_ERROR_PARAMS)} |"
        for code, status in HTTP_STATUS.items()
    ]
    return "\n".join(
        [
            "## Errors",
            "",
            "Every error has the same body (`ErrorBody`): a stable, neutral `code` to branch on, a `message` "
            "translated by `Accept-Language` (else the account's language: en, pt-BR, es), the `locale` used, "
            "the `request_id`, and `param` on validation errors.",
            "",
            "| code | HTTP status | message (en) |",
            "| --- | --- | --- |",
            *rows,
            "",
            "## Types",
            "",
            "A request body's values have their field's JSON type, never another one converted: an `integer` is a "
            'JSON integer (`5`; not `"5"`, `5.0` or `5e0`), a `number` a JSON number (`12.5`, or an integer such '
            'as `12`; not `"12.5"`), a `boolean` is `true` or `false` (not `1` or `"true"`). A field the schema '
            "does not list is refused, and so is a key given twice in one object. Each is a 422 "
            "`validation_failed` naming the field in `param`. Query parameters are text by nature: `?limit=10` "
            "is the integer 10.",
            "",
            "## Rate limits",
            "",
            "Every authenticated response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; "
            "a 429 `rate_limited` (and a 503 `temporarily_unavailable`) carries `Retry-After` in seconds.",
            "",
            "## Idempotency",
            "",
            "Send `Idempotency-Key` on a request that sends or creates something (every `/messages` "
            "operation, `POST /webhooks`, `POST /instances`, `POST /billing/checkout`) to retry it safely: the "
            "first response is stored for 24 h and replayed (`Idempotent-Replayed: true`); the same key with "
            "another body is a 422 `idempotency_conflict`, and a request still in flight with the same key a 409 "
            "`idempotency_in_progress`. Keys belong to your account and mode, whatever the operation. Any other "
            "POST, PATCH or DELETE refuses the header (422 `validation_failed`, `param: Idempotency-Key`) rather "
            "than ignore it. A replay answers the thing the first request made as it is now: one deleted since "
            "is a 404, never a second one.",
        ]
    )


def _add_tags(document: dict[str, Any]) -> None:
    used: list[str] = []
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                used += [tag for tag in operation.get("tags", []) if tag not in used]
    document["tags"] = [{"name": tag, **({"description": TAGS[tag]} if tag in TAGS else {})} for tag in used]


def _restore_model_examples(schemas: dict[str, Any]) -> None:
    """Put back each model's example exactly as declared.

    FastAPI drops every `None` from the document it renders, so an example with a nullable field set
    to `null` (`"description": null`) loses that key and no longer matches its own schema.
    """
    classes: dict[str, set[type[BaseModel]]] = {}
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__name__ in schemas:
                classes.setdefault(subclass.__name__, set()).add(subclass)
    for name, found in classes.items():
        if len(found) != 1:
            continue  # two models with one name: FastAPI would not have named the component so
        extra = next(iter(found)).model_config.get("json_schema_extra")
        if not isinstance(extra, dict):
            continue
        for key in ("example", "examples"):
            if key in extra and key in schemas[name]:
                schemas[name][key] = copy.deepcopy(extra[key])


def _schema_example(schema: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """The example a schema (or the component it references) declares, if any."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = schemas.get(ref.rsplit("/", 1)[1], {})
    if schema.get("examples"):
        return schema["examples"][0]
    return schema.get("example")


def _lift_examples(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Each model's example becomes the media type's example (what the reference and the SDK docs show)."""
    body = operation.get("requestBody", {}).get("content", {})
    media_types = list(body.values())
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            media_types += list(response.get("content", {}).values())
    for media_type in media_types:
        if "example" not in media_type and "examples" not in media_type:
            example = _schema_example(media_type.get("schema", {}), schemas)
            if example is not None:
                media_type["example"] = copy.deepcopy(example)


def _error_example(code: str) -> dict[str, Any]:
    return {
        "summary": f"{code} ({HTTP_STATUS[code]})",
        "value": {
            "code": code,
            "message": i18n.translate(f"error.{code}", "en", **_ERROR_PARAMS),
            "locale": "en",
            "request_id": _ERROR_PARAMS["request_id"],
            **({"param": _ERROR_PARAMS["param"]} if code == "validation_failed" else {}),
        },
    }


def _error_examples(status: int) -> dict[str, Any]:
    """One example per error code answered with `status`, by reference."""
    return {
        code: {"$ref": f"#/components/examples/{code}"}
        for code, code_status in HTTP_STATUS.items()
        if code_status == status
    }


def _header_ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/headers/{name}"}


def _drop_null(parameter: dict[str, Any]) -> None:
    """A query, header or path parameter is absent or a string: never JSON `null` (pydantic's `X | None`)."""
    schema = parameter.get("schema", {})
    variants = schema.get("anyOf", [])
    others = [variant for variant in variants if variant != {"type": "null"}]
    if len(variants) == 2 and len(others) == 1:
        del schema["anyOf"]
        schema.update(others[0])


def _enrich_operation(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    _lift_examples(operation, schemas)
    for parameter in operation.get("parameters", []):
        _drop_null(parameter)
    # Every answer's language is negotiated (errors everywhere, pages too).
    operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/AcceptLanguage"})
    authenticated = bool(operation.get("security"))
    idempotent = any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if len(content) > 1 and content.get("application/json", {}).get("schema") == {}:
            # FastAPI's placeholder for a route without a response model (an HTML page): not a JSON body.
            del content["application/json"]
        error_body = {"$ref": "#/components/schemas/ErrorBody"}
        for media_type in [name for name, body in content.items() if name != "application/json"]:
            if content[media_type].get("schema") == error_body:
                # An error of a route whose success is text (GET /cloud/webhook's challenge): FastAPI files it
                # under the route's media type, but every error is our JSON body.
                content["application/json"] = content.pop(media_type)
        headers = response.setdefault("headers", {})
        headers["X-Request-Id"] = _header_ref("X-Request-Id")
        # Every authenticated success, and every 429, says where the caller stands.
        if authenticated and (status.startswith("2") or status == "429"):
            headers.update({header: _header_ref(header) for header in RATE_LIMIT_HEADERS})
        if status in ("429", "503"):
            headers["Retry-After"] = _header_ref("Retry-After")
        if idempotent and status.startswith("2"):
            headers["Idempotent-Replayed"] = _header_ref("Idempotent-Replayed")
        json_body = response.get("content", {}).get("application/json")
        if status[0] in "45" and json_body is not None and "examples" not in json_body:
            examples = _error_examples(int(status))
            if examples:
                json_body["examples"] = examples
