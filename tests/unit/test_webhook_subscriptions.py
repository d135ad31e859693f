"""The one rule for which event types a subscriber may ask for: webhook `events` and GET /stream's `types`."""

from __future__ import annotations

import pytest

from bzapper.domain.errors import BzError
from bzapper.domain.webhooks import EVENT_TYPES, subscribed, validated_subscriptions


def test_known_types_and_families_are_accepted():
    assert validated_subscriptions(["message.sent", "webhook.*"], "events") == {"message.sent", "webhook.*"}
    assert validated_subscriptions(list(EVENT_TYPES), "types", name_each=False) == set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("patterns", "name_each", "param", "key"),
    [
        (["message.sent", "MESSAGE.SENT"], True, "events.1", "error.invalid_event_type"),
        (["nothing.*"], True, "events.0", "error.invalid_event_type"),
        (["*"], False, "events", "error.invalid_event_type"),
        (["message"], False, "events", "error.invalid_event_type"),
        ([], True, "events", "error.no_event_types"),
    ],
)
def test_unknown_types_and_empty_lists_are_refused_at_their_param(patterns, name_each, param, key):
    with pytest.raises(BzError) as refused:
        validated_subscriptions(patterns, "events", name_each=name_each)
    assert (refused.value.code, refused.value.param, refused.value.message_key) == ("validation_failed", param, key)


def test_a_family_matches_its_types_only():
    assert subscribed({"message.*"}, "message.read") and not subscribed({"message.*"}, "webhook.test")
    assert subscribed(None, "webhook.test")  # no list: every event
