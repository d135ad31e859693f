"""The one pagination cursor codec: round trip, owner binding, garbage, tampering, forged shapes."""

from __future__ import annotations

import base64
import json

import pytest

from bzapper.domain.cursors import MAX_CURSOR_CHARS, decode_cursor, encode_cursor
from bzapper.domain.errors import BzError

SHAPE = {"e": str, "t": int}


def refused(cursor: object, owner: str = "wal_1", shape: dict = SHAPE) -> bool:
    with pytest.raises(BzError) as info:
        decode_cursor(cursor, owner, shape)  # type: ignore[arg-type]
    return (info.value.code, info.value.param, info.value.status) == ("validation_failed", "cursor", 422)


def test_a_cursor_round_trips_and_is_url_safe():
    position = {"e": "01JABCDEF#ção/+?&=", "t": 1_700_000_000_000}
    cursor = encode_cursor("wal_1", position)
    assert decode_cursor(cursor, "wal_1", SHAPE) == position
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_cursor_of_another_owner_is_refused():
    cursor = encode_cursor("wal_1", {"e": "x", "t": 1})
    assert refused(cursor, owner="wal_2")
    assert refused(cursor, owner="wal_10")  # no prefix confusion
    assert refused(encode_cursor("wh_1", {"e": "x", "t": 1}), owner="wal_1")


@pytest.mark.parametrize(
    "garbage",
    ["", "%%%", "a", "abcde", "bm90LWEtY3Vyc29y", "not a cursor", "a" * (MAX_CURSOR_CHARS + 1), None, 7, ["x"]],
)
def test_garbage_is_refused(garbage):
    assert refused(garbage)


def test_the_unsigned_cursors_of_before_are_refused():
    legacy = base64.urlsafe_b64encode(json.dumps({"e": "x", "t": 1}).encode()).decode().rstrip("=")
    assert refused(legacy)


def test_every_single_character_edit_is_refused():
    cursor = encode_cursor("wal_1", {"e": "entry-1", "t": 5})
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for index, char in enumerate(cursor):
        replacement = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        edited = cursor[:index] + replacement + cursor[index + 1 :]
        try:
            decoded = decode_cursor(edited, "wal_1", SHAPE)
        except BzError as error:
            assert (error.code, error.param) == ("validation_failed", "cursor")
        else:
            # Only the last character's unused low bits can change without changing a byte.
            assert index == len(cursor) - 1 and decoded == {"e": "entry-1", "t": 5}
    assert refused(cursor + "A")
    assert refused(cursor[:-1])
    for outside_the_alphabet in "+/=. %":
        assert refused(cursor[:4] + outside_the_alphabet + cursor[4:])


@pytest.mark.parametrize(
    "position",
    [
        {"e": "x"},  # a field missing
        {"e": "x", "t": 1, "extra": 2},  # a field too many
        {"e": "", "t": 1},  # an empty key
        {"e": "x" * 257, "t": 1},  # longer than any key we issue
        {"e": "\ud800", "t": 1},  # a lone surrogate: not encodable for DynamoDB
        {"e": 5, "t": 1},
        {"e": "x", "t": "1"},
        {"e": "x", "t": True},
        {"e": "x", "t": 1.5},
        {"e": "x", "t": -1},
        {"e": "x", "t": 10**40},
        {"e": "x", "t": None},
    ],
)
def test_a_well_signed_cursor_of_the_wrong_shape_is_refused(position):
    # As if forged with a valid tag (the code is public): the shape is still checked, so it is a 422, never a 500.
    assert refused(encode_cursor("wal_1", position))


def test_a_well_signed_cursor_that_is_not_an_object_is_refused():
    from bzapper.domain import cursors

    for payload in (b"[1,2]", b'"x"', b"null", b"not json", b"\xff\xfe"):
        cursor = base64.urlsafe_b64encode(cursors._tag("wal_1", payload) + payload).decode().rstrip("=")
        assert refused(cursor)
