"""GET /stream with an unknown event id to resume after: the 422 names where the client gave it."""

from __future__ import annotations

import pytest
from support.apigw import call

from bzapper_dev.local.functions import load_function


@pytest.fixture
def stream_api(aws, environment):
    environment.set("BZ_STREAM_MAX_SECONDS", "0")  # an accepted stream ends at once
    return load_function("stream").handler


@pytest.mark.parametrize(
    ("query", "header", "param"),
    [
        ("last_event_id=evt_nope", None, "last_event_id"),
        ("", "evt_nope", "Last-Event-ID"),
        ("last_event_id=evt_other", "evt_nope", "Last-Event-ID"),  # the header wins, as it is the one used
    ],
)
def test_an_unknown_event_id_is_a_422_on_the_param_used(stream_api, account, query, header, param):
    headers = {**account.auth, **({"Last-Event-ID": header} if header else {})}
    status, _, error = call(stream_api, "GET", "/stream", query=query, headers=headers)
    assert (status, error["code"], error["param"]) == (422, "validation_failed", param)
