"""What the webhook client takes of an answer's body: up to the cap, then no further read."""

from __future__ import annotations

from collections.abc import Iterator

from bzapper.adapters.http import RESPONSE_BODY_CAP, read_at_most


def test_an_answers_body_is_read_up_to_the_cap_and_no_further():
    drawn: list[bytes] = []

    def endless(size: int) -> Iterator[bytes]:
        while True:
            drawn.append(b"x" * size)
            yield drawn[-1]

    assert RESPONSE_BODY_CAP == 4096
    assert read_at_most(endless(1024), RESPONSE_BODY_CAP) == 4096 and len(drawn) == 4
    drawn.clear()
    assert read_at_most(endless(65536), RESPONSE_BODY_CAP) == 65536 and len(drawn) == 1  # one network read
    assert read_at_most(iter([b"ok"]), RESPONSE_BODY_CAP) == 2  # a short body is read whole (the connection is reused)
