"""The JSON body parser of every route: Python's, except that a key given twice in one object is refused, named
by its path in the body."""

from __future__ import annotations

import json

import pytest

from bzapper.api.bodies import DuplicateKey, parse_json


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"amount": 500, "amount": 5000}', "amount"),
        ('{"to": "+5511988888888", "contacts": [{"name": "A", "name": "B"}]}', "contacts.0.name"),
        ('{"a": [1, {"b": {"c": 1, "d": 2, "c": 3}}]}', "a.1.b.c"),
        # The object holding the repeated key is itself the first value of a repeated key: the outer one is named.
        ('{"a": {"b": 1, "b": 2}, "a": 3}', "a"),
        ('[{"x": 1}, {"y": 1, "y": 1}]', "1.y"),
        ('{"x": {"k": 1}, "y": {"k": 2, "k": 2}}', "y.k"),
    ],
)
def test_a_repeated_key_is_refused_with_its_path(body, path):
    with pytest.raises(DuplicateKey) as refused:
        parse_json(body.encode())
    assert refused.value.path == path
    assert isinstance(refused.value, json.JSONDecodeError)  # the framework reports it where it reports bad JSON


@pytest.mark.parametrize(
    "body",
    [
        '{"amount": 5000, "method": "pix"}',
        '{"a": {"k": 1}, "b": {"k": 1}}',  # the same key in two objects is no repetition
        '[{"k": 1}, {"k": 2}]',
        '"text"',
        "5",
        "null",
        '{"nested": {"deep": [1, 2.5, true, null, "é"]}}',
    ],
)
def test_anything_else_reads_as_pythons_parser_reads_it(body):
    assert parse_json(body.encode()) == json.loads(body)
    assert type(parse_json(body.encode())) is type(json.loads(body))  # plain dicts, not a subclass


def test_a_body_that_is_not_json_is_still_a_plain_decoding_error():
    with pytest.raises(json.JSONDecodeError) as refused:
        parse_json(b"{not json")
    assert not isinstance(refused.value, DuplicateKey)
