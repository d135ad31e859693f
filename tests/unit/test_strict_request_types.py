"""Every request body takes each value in its field's own JSON type, never a conversion of another: an integer
field refuses `"5"`, `5.0` and `5e0`, a number field `"12.5"`, a boolean field `1` and `"true"` (a number field
takes an integer). The walk covers every field of every model a route validates a body with, nested models and
list items included, and the sandbox's inbound contents: a new schema cannot slip back to coercion."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from fastapi import params
from fastapi.routing import APIRoute
from pydantic import BaseModel

from bzapper.api.apps import group_module
from bzapper.api.bodies import JsonRoute, parse_json
from bzapper.api.schemas.common import Strict
from bzapper.api.schemas.inbound import CONTENT_MODELS
from bzapper.topology import TOPOLOGY

PLACEHOLDER = "\u0000value"


@dataclass(frozen=True)
class Leaf:
    """A scalar field somewhere in a body: `path` as pydantic locates it (`contacts.0.phones.0.number`)."""

    kind: str  # integer, number or boolean
    path: tuple[str, ...]

    def body(self, value: str) -> str:
        """A body holding the JSON text `value` at this field (every other field left out)."""
        body: Any = PLACEHOLDER
        for part in reversed(self.path):
            body = [body] if part == "0" else {part: body}
        return json.dumps(body).replace(json.dumps(PLACEHOLDER), value)


def _routes() -> Iterator[APIRoute]:
    for group in TOPOLOGY.api_groups:
        yield from (route for route in group_module(group).router.routes if isinstance(route, APIRoute))


def _json_bodies() -> list[APIRoute]:
    return [
        route
        for route in _routes()
        if route.body_field is not None and not isinstance(route.body_field.field_info, params.Form)
    ]


JSON_NATIVE = (str, int, float, bool, type(None))


def _leaves(annotation: Any, path: tuple[str, ...]) -> Iterator[Leaf]:
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _leaves(get_args(annotation)[0], path)
    elif origin in (Union, types.UnionType):
        for member in get_args(annotation):
            yield from _leaves(member, path)
    elif origin is list:
        yield from _leaves(get_args(annotation)[0], (*path, "0"))
    elif origin is dict or origin is Literal or annotation is Any:
        return  # a dict is checked by its own model (the sandbox's `content`); a literal is a string here
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            yield from _leaves(field.annotation, (*path, field.alias or name))
    elif annotation is bool:
        yield Leaf("boolean", path)
    elif annotation is int:
        yield Leaf("integer", path)
    elif annotation is float:
        yield Leaf("number", path)
    else:
        # Strict mode validates the parsed body as Python data: it would refuse the JSON string of a datetime,
        # a UUID or an Enum. Such a field needs `Field(strict=False)` and a test that its string is accepted.
        assert annotation in JSON_NATIVE, f"{path}: {annotation!r} is not a JSON type"


WRONG = {
    "integer": ['"5"', "5.0", "5e0", "1e3", "true", '"true"'],
    "number": ['"12.5"', '"12"', "true", "false"],
    "boolean": ["1", "0", '"true"', '"false"', "1.0"],
}
RIGHT = {"integer": ["5"], "number": ["12.5", "12", "-23"], "boolean": ["true", "false"]}
TYPE_ERRORS = {"integer": "int_type", "number": "float_type", "boolean": "bool_type"}


def _cases() -> Iterator[tuple[str, Any, Leaf]]:
    for route in _json_bodies():
        name = f"{','.join(sorted(route.methods))} {route.path}"
        for leaf in _leaves(route.body_field.field_info.annotation, ()):
            yield name, route, leaf
    for message_type, model in CONTENT_MODELS.items():
        for leaf in _leaves(model, ()):
            yield f"sandbox content {message_type}", model, leaf


CASES = list(_cases())


def _type_errors(target: Any, leaf: Leaf, value: str) -> list[dict[str, Any]]:
    """The type errors at the leaf, the body validated as FastAPI validates it (Python data, once parsed)."""
    data = parse_json(leaf.body(value))
    if isinstance(target, APIRoute):
        _, errors = target.body_field.validate(data, {}, loc=("body",))
        errors = [{**error, "loc": error["loc"][1:]} for error in errors]
    else:
        try:
            target.model_validate(data)
            errors = []
        except Exception as error:  # a ValidationError
            errors = error.errors()  # type: ignore[attr-defined]
    return [e for e in errors if tuple(str(part) for part in e["loc"]) == leaf.path and e["type"].endswith("_type")]


def test_the_walk_finds_the_fields_it_must():
    found = {(name, ".".join(leaf.path), leaf.kind) for name, _, leaf in CASES}
    assert {
        ("POST /billing/checkout", "amount", "integer"),
        ("POST /messages/otp", "length", "integer"),
        ("POST /messages/otp", "ttl_seconds", "integer"),
        ("POST /messages/poll", "selectable_count", "integer"),
        ("POST /messages/location", "latitude", "number"),
        ("POST /messages/location", "longitude", "number"),
        ("POST /messages/audio", "voice", "boolean"),
        ("POST /sandbox/instances/{instance_id}/inbound", "from_me", "boolean"),
        ("POST /keys/{key_id}/roll", "expires_in_hours", "integer"),
        ("sandbox content reaction", "target.from_me", "boolean"),
        ("sandbox content text", "reply_to.from_me", "boolean"),
        ("sandbox content location", "latitude", "number"),
        ("sandbox content poll", "selectable_count", "integer"),
    } <= found


@pytest.mark.parametrize(("operation", "target", "leaf"), CASES, ids=[f"{c[0]} {'.'.join(c[2].path)}" for c in CASES])
def test_a_value_of_another_json_type_is_refused(operation, target, leaf):
    for value in WRONG[leaf.kind]:
        assert _type_errors(target, leaf, value), f"{operation}: {'.'.join(leaf.path)} took {value}"
    for value in RIGHT[leaf.kind]:
        assert not _type_errors(target, leaf, value), f"{operation}: {'.'.join(leaf.path)} refused {value}"


def test_every_json_body_is_a_strict_request_model():
    for route in _json_bodies():
        model = route.body_field.field_info.annotation
        assert isinstance(model, type) and issubclass(model, Strict), route.path
    for model in CONTENT_MODELS.values():
        assert model.model_config.get("strict") is True and model.model_config.get("extra") == "forbid"


def test_every_route_reads_its_json_body_with_the_strict_parser():
    assert [route.path for route in _routes() if not isinstance(route, JsonRoute)] == []


def test_query_parameters_are_strings_by_nature_and_keep_their_conversion():
    (wallet,) = [route for route in _routes() if route.path == "/billing/wallet"]
    (limit,) = [param for param in wallet.dependant.query_params if param.name == "limit"]
    assert limit.validate("10", {}, loc=("query",)) == (10, [])
