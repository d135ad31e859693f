"""openapi.yaml is a valid OpenAPI 3.2 document that says everything a client needs, all of it generated.

Also: the rendered reference (served at /docs) is built from the committed openapi.yaml and loads
nothing from elsewhere, and the hooks for the event stream and webhooks pick up what a router declares.
"""

from __future__ import annotations

import json
import re
import sys
import types
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from fastapi import APIRouter, Depends
from openapi_schema_validator import OAS32Validator
from openapi_spec_validator import validate
from pydantic import BaseModel, ConfigDict
from referencing import Registry, Resource

from bzapper.api.apps import allowed_methods
from bzapper.api.auth import authenticate
from bzapper.api.contract import HEADERS, HTTP_METHODS, openapi_document
from bzapper.api.schemas.common import error_responses, event_stream_response
from bzapper.domain.errors import ERROR_CODES, HTTP_STATUS
from bzapper.topology import TOPOLOGY

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "layers" / "core" / "bzapper" / "api" / "static" / "reference.html"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "openapi.yaml").read_text())


def operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_the_document_is_valid_openapi_3_2(document):
    assert document["openapi"].startswith("3.2.")
    validate(document)  # raises on the first violation of the OpenAPI 3.2 schema


def test_the_bearer_scheme_documents_both_key_kinds(document):
    (scheme,) = document["components"]["securitySchemes"].values()
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    text = scheme["bearerFormat"] + scheme["description"]
    assert "bz_live_" in text and "bz_test_" in text


def test_operation_ids_are_unique_and_readable(document):
    ids = [operation["operationId"] for _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", operation_id) for operation_id in ids), ids


def test_every_operation_has_request_and_success_examples(document):
    for name, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if "$ref" in parameter:
                continue
            if parameter["in"] == "path":
                assert parameter["schema"].get("examples"), f"{name}: path parameter {parameter['name']}"
        for media_type, body in operation.get("requestBody", {}).get("content", {}).items():
            assert "example" in body or "examples" in body, f"{name}: request {media_type}"
        successes = {status: r for status, r in operation["responses"].items() if status[0] in "23"}
        assert successes, name
        for status, response in successes.items():
            if status.startswith("3"):  # a redirect (GET /media/{id}): its Location is the answer
                assert "Location" in response.get("headers", {}), f"{name} {status}"
                continue
            assert response.get("content") or status == "204", f"{name} {status}"
            for media_type, body in response.get("content", {}).items():
                assert "example" in body or "examples" in body, f"{name} {status} {media_type}"


def test_every_example_conforms_to_its_schema(document):
    registry = Registry().with_resource("urn:bzapper", Resource.opaque(document))
    checked = 0

    def check(schema: dict[str, Any], value: Any, where: str) -> None:
        nonlocal checked
        # Refs in the document are local (#/components/...): resolve them against the whole document.
        wrapped = {"$ref": "urn:bzapper#" + schema["$ref"].removeprefix("#")} if "$ref" in schema else schema
        errors = list(OAS32Validator(wrapped, registry=registry).iter_errors(value))
        assert not errors, f"{where}: {errors[0].message}"
        checked += 1

    for name, operation in operations(document):
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(status, response) for status, response in operation["responses"].items()]
        for where, holder in bodies:
            for media_type, body in holder.get("content", {}).items():
                if media_type != "application/json":
                    continue
                if "example" in body:
                    check(body["schema"], body["example"], f"{name} {where}")
                for example in body.get("examples", {}).values():
                    check(body["schema"], resolve(document, example)["value"], f"{name} {where}")
    assert checked > 2 * len(operations(document))


def test_authenticated_operations_declare_rate_limit_headers_and_retry_after(document):
    routes = {(route.method, route.path): route for route in TOPOLOGY.routes}
    for name, operation in operations(document):
        method, path = name.split(" ", 1)
        authenticated = routes[(method, path)].auth
        assert bool(operation.get("security")) == authenticated, name
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            assert "X-Request-Id" in headers, f"{name} {status}"
            if authenticated and status.startswith("2"):
                for header in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
                    assert resolve(document, headers[header])["required"] is True, f"{name} {status} {header}"
            if status in ("429", "503"):
                assert resolve(document, headers["Retry-After"])["required"] is True, f"{name} {status}"
    assert set(document["components"]["headers"]) == set(HEADERS)


def test_the_send_documents_idempotency_key_and_every_rate_limit_answer(document):
    operation = document["paths"]["/messages/text"]["post"]
    (key,) = [p for p in operation["parameters"] if p.get("name") == "Idempotency-Key"]
    assert key["in"] == "header" and key["required"] is False
    assert key["schema"]["type"] == "string" and key["schema"]["maxLength"] == 255
    assert "Idempotent-Replayed" in operation["responses"]["202"]["headers"]
    assert {"402", "409", "422", "429", "503"} <= set(operation["responses"])


def test_the_error_schema_lists_every_code_with_an_example_each(document):
    components = document["components"]
    assert components["schemas"]["ErrorBody"]["properties"]["code"]["enum"] == list(ERROR_CODES)
    assert set(components["examples"]) == set(ERROR_CODES)
    for code, status in HTTP_STATUS.items():
        assert components["examples"][code]["value"]["code"] == code
        assert f"| `{code}` | {status} |" in document["info"]["description"]


def test_optional_parameters_are_never_null_and_accept_language_is_everywhere(document):
    for name, operation in operations(document):
        parameters = [resolve(document, parameter) for parameter in operation.get("parameters", [])]
        for parameter in parameters:
            assert "anyOf" not in parameter["schema"], f"{name}: {parameter['name']}"
        assert "Accept-Language" in {parameter["name"] for parameter in parameters}, name


def test_allow_lists_the_methods_of_the_most_specific_resource():
    assert allowed_methods("/messages/text") == ["POST"]
    assert allowed_methods("/messages/msg_01JD5V6W4E7R8T9Y0U1I2O3P4Q") == ["DELETE", "GET", "PATCH"]
    assert allowed_methods("/me") == ["GET", "PATCH"]
    assert allowed_methods("/nowhere") == []


# --- hooks: what the events/stream work adds is documented with no change to the generator ---------------


SSE_SAMPLE = "id: evt_1\nevent: message.status\ndata: {}\n\n"
SSE_ITEM = {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}


class MessageStatusEvent(BaseModel):
    """A webhook payload as the events group will declare one (module level: FastAPI resolves it by name)."""

    id: str
    type: str
    data: dict[str, Any]

    model_config = ConfigDict(
        json_schema_extra={"example": {"id": "evt_1", "type": "message.status", "data": {"status": "sent"}}}
    )


@pytest.fixture
def events_group(monkeypatch):
    """A stand-in router module with an SSE operation and a webhook, as the events group will declare them."""
    module = types.ModuleType("bzapper.api.routers.hook_probe")
    module.router = APIRouter(tags=["events"])
    module.webhooks = APIRouter()

    @module.router.get(
        "/stream",
        response_model=None,
        summary="Live events",
        responses={**event_stream_response("Events", SSE_SAMPLE, SSE_ITEM), **error_responses(401)},
    )
    def stream(principal=Depends(authenticate)) -> None:  # pragma: no cover - documented, never called
        raise NotImplementedError

    @module.webhooks.post("message.status", summary="A message changed status")
    def message_status(event: MessageStatusEvent) -> None:  # pragma: no cover
        raise NotImplementedError

    monkeypatch.setitem(sys.modules, module.__name__, module)
    return "hook_probe"


def test_sse_operations_and_webhooks_are_picked_up_from_the_routers(events_group):
    document = openapi_document("platform", events_group)
    validate(document)
    stream = document["paths"]["/stream"]["get"]["responses"]["200"]
    assert stream["content"]["text/event-stream"]["example"].startswith("id: evt_1")
    assert stream["content"]["text/event-stream"]["itemSchema"] == SSE_ITEM  # each event; no whole-stream `schema`
    assert "schema" not in stream["content"]["text/event-stream"]
    assert "RateLimit-Remaining" in stream["headers"]
    webhook = document["webhooks"]["message.status"]["post"]
    body = webhook["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/MessageStatusEvent"}
    assert body["example"]["type"] == "message.status"


# --- the rendered reference ---------------------------------------------------------------------------------


def embedded_definition(html: str) -> dict[str, Any]:
    match = re.search(r"const __redoc_definition = (\{.*?\});\s*$", html, re.MULTILINE)
    assert match, "no embedded definition in the reference"
    return json.loads(match.group(1))


class AssetRefs(HTMLParser):
    """Every URL the page would load by itself (scripts, styles, images, frames, fonts, preloads)."""

    ATTRS: ClassVar[dict[str, str]] = {
        "script": "src",
        "link": "href",
        "img": "src",
        "iframe": "src",
        "source": "src",
        "embed": "src",
    }

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = self.ATTRS.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def test_the_rendered_reference_is_built_from_the_committed_openapi(document):
    html = REFERENCE.read_text()
    assert embedded_definition(html) == document, "reference.html is stale: run `make openapi` and commit it"


def test_the_rendered_reference_loads_nothing_from_elsewhere():
    html = REFERENCE.read_text()
    parser = AssetRefs()
    parser.feed(html)
    external = [url for url in parser.urls if re.match(r"(?i)(https?:)?//", url)]
    assert not external, external
    styles = " ".join(re.findall(r"<style[^>]*>(.*?)</style>", html, re.DOTALL))
    assert not re.search(r"(?i)(@import|url\()\s*['\"]?(https?:)?//", styles)
    assert "cdn.redocly.com/redoc" not in html and "fonts.googleapis.com" not in html  # the bundle is inline


def test_every_parameter_bound_is_a_json_schema_keyword(document):
    """A bound given to the framework the wrong way lands in the document as pydantic's `ge`/`le`, which JSON
    Schema ignores: clients and the contract fuzz then see an unbounded integer (it happened to `limit`)."""
    strays = [
        f"{label} {parameter['name']}"
        for label, operation in operations(document)
        for parameter in operation.get("parameters", [])
        if {"ge", "le", "gt", "lt"} & set(resolve(document, parameter.get("schema", {})))
    ]
    assert strays == []
