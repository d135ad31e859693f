"""Pure rules: statuses, ids, keys, idempotency fingerprints, events, errors and their texts."""

from __future__ import annotations

import re

import pytest

from bzapper import i18n
from bzapper.domain import errors, events, idempotency, ids, keys, statuses
from bzapper.domain.statuses import MessageStatus, can_advance, rank, ranks_below
from bzapper.topology import TOPOLOGY, match_route

S = MessageStatus


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (S.QUEUED, S.SENDING, True),
        (S.QUEUED, S.READ, True),
        (S.SENT, S.DELIVERED, True),
        (S.READ, S.DELIVERED, False),
        (S.DELIVERED, S.DELIVERED, False),
        (S.READ, S.PLAYED, True),
        (S.SENDING, S.FAILED, True),
        (S.SENT, S.FAILED, False),
        (S.FAILED, S.SENT, False),
        (S.CANCELED, S.READ, False),
    ],
)
def test_status_only_moves_forward(current, new, allowed):
    assert can_advance(current, new) is allowed
    # The storage condition says the same as the rule.
    assert (rank(current) in ranks_below(new)) is allowed


def test_every_status_has_a_rank():
    assert set(statuses.RANK) == set(MessageStatus)


def test_whatsapp_id_is_derived_and_shaped_like_whatsapps():
    first = ids.whatsapp_message_id("msg_1")
    assert first == ids.whatsapp_message_id("msg_1")
    assert first != ids.whatsapp_message_id("msg_2")
    assert re.fullmatch(r"3EB0[0-9A-F]{16}", first)


def test_new_ids_are_prefixed_and_sortable():
    first, second = ids.new_id("msg"), ids.new_id("msg")
    assert first.startswith("msg_") and len(first) == 30
    assert first != second


def test_keys_are_hashed_and_typed():
    key = keys.generate_key("test")
    assert keys.key_mode(key) == "test"
    assert keys.key_mode(keys.generate_key("live")) == "live"
    assert keys.key_mode("bz_test_") is None
    assert keys.key_mode("sk_live_x") is None
    assert keys.hash_key(key) != key and len(keys.hash_key(key)) == 64
    assert key not in keys.key_hint(key)


def test_fingerprint_ignores_formatting_but_not_content():
    a = idempotency.fingerprint("POST", "/m", {"a": 1, "b": "x"})
    assert a == idempotency.fingerprint("POST", "/m", {"b": "x", "a": 1})
    assert a != idempotency.fingerprint("POST", "/m", {"a": 1, "b": "y"})
    assert a != idempotency.fingerprint("POST", "/other", {"a": 1, "b": "x"})


@pytest.mark.parametrize(
    ("key", "valid"), [("k", True), ("x" * 255, True), ("", False), ("x" * 256, False), ("a\nb", False)]
)
def test_idempotency_key_shape(key, valid):
    assert idempotency.valid_key(key) is valid


def test_event_id_is_stable_for_the_same_fact_and_sorted_by_time():
    one = events.event_id(1_000, "message.sent", "msg_1")
    assert one == events.event_id(1_000, "message.sent", "msg_1")
    assert one != events.event_id(1_000, "message.read", "msg_1")
    assert events.event_id(999, "x") < events.event_id(1_000, "x") < events.event_id(1_001, "x")
    envelope = events.envelope(
        "message.sent", at_ms=0, account_id="a", instance_id="i", livemode=False, data={}, identity=("m",)
    )
    assert set(envelope) == {"id", "type", "created", "livemode", "account_id", "instance_id", "data"}
    assert envelope["created"] == "1970-01-01T00:00:00.000Z"


@pytest.mark.parametrize("code", errors.ERROR_CODES)
def test_every_error_code_has_a_text_in_every_language(code):
    for locale in i18n.SUPPORTED_LOCALES:
        assert f"error.{code}" in i18n.MESSAGES, code
        assert i18n.MESSAGES[f"error.{code}"][locale].strip()


def test_unknown_error_code_is_refused():
    with pytest.raises(ValueError):
        errors.BzError("teapot")


def test_route_matching_for_the_gateway():
    route, _ = match_route("POST", "/messages/text")
    assert route and route.group == "messages"
    route, _ = match_route("GET", "/messages/msg_123")
    assert route and route.path == "/messages/{message_id}"
    assert match_route("DELETE", "/health") == (None, ["GET"])
    assert match_route("GET", "/messages/a/b") == (None, [])


def test_topology_names_are_unique():
    for items in (TOPOLOGY.tables, TOPOLOGY.queues):
        names = [item.name for item in items]
        assert len(names) == len(set(names))
    assert len({(route.method, route.path) for route in TOPOLOGY.routes}) == len(TOPOLOGY.routes)


def test_ids_are_recognised_by_shape():
    value = ids.new_id("msg")
    assert ids.is_id(value, "msg")
    assert not ids.is_id(value, "inst")
    assert not ids.is_id("msg_" + "A" * 3000, "msg")
    assert not ids.is_id("msg_01m87n2rv1rqhj90b2b8gw183p", "msg")  # lower case is not ours
    assert not ids.is_id("msg_01M87N2RV1RQHJ90B2B8GW183U", "msg")  # U is not Crockford base32


def test_ttl_cache_expires_and_stays_bounded(monkeypatch):
    from bzapper import cache

    clock = [100.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: clock[0])
    store = cache.TTLCache(max_entries=3)
    for key in "abcd":
        store.put(key, key.upper(), ttl_seconds=10)
    assert len(store) == 3
    assert store.get("a") is cache.MISSING  # the oldest went first
    assert store.get("d") == "D"
    clock[0] += 11
    assert store.get("d") is cache.MISSING


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/h",
        "https://2130706433/h",
        "https://0177.0.0.1/h",
        "https://127.1/h",
        "https://[::ffff:127.0.0.1]/h",
        "https://[64:ff9b::a9fe:a9fe]/h",
        "https://[2002:7f00:1::]/h",
        "https://[fec0::1]/h",
        "https://10.1.2.3/h",
        "https://169.254.169.254/latest",
        "https://[::1]/h",
        "http://93.184.215.14/h",
        "https://user:pw@93.184.215.14/h",
        "file:///etc/passwd",
    ],
)
def test_the_ssrf_guard_refuses_internal_addresses_in_every_spelling(url):
    from bzapper.net import UnsafeUrl, check_url

    with pytest.raises(UnsafeUrl):
        check_url(url, allow_loopback=False)


def test_the_ssrf_guard_allows_public_and_local_mode_loopback():
    from bzapper.net import check_url

    assert check_url("https://93.184.215.14/hook", allow_loopback=False) == "93.184.215.14"
    assert check_url("http://127.0.0.1:8080/hook", allow_loopback=True) == "127.0.0.1"
