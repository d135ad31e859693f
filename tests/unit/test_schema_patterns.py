"""The patterns openapi.yaml publishes agree with the rules the API runs (api/schemas/ states them for the contract
only; the domain refuses with its own messages).

Two directions: whatever the API accepts matches the pattern (else the contract calls valid input invalid), and
whatever matches is accepted (else the fuzzing's valid requests are refused), except for what a pattern cannot
say: whether a phone number exists in the numbering plan. ASCII only: JSON Schema's regex dialect reads `\\s`
and `\\w` apart from Python's, so the patterns spell ASCII and the API's wider Unicode reading is not claimed.
"""

from __future__ import annotations

import base64
import re

import jsonschema_rs
from hypothesis import given, settings
from hypothesis import strategies as st

from bzapper.api.idempotency import IDEMPOTENCY_KEY_PATTERN
from bzapper.api.schemas.common import GROUP_JID, HTTP_URL_PATTERN, PHONE_PATTERN, RECIPIENT_PATTERN, whole
from bzapper.api.schemas.inbound import BASE64
from bzapper.api.schemas.inbox import CHAT_PATTERN
from bzapper.api.schemas.stream import TYPES_PATTERN
from bzapper.domain.errors import BzError
from bzapper.domain.idempotency import valid_key
from bzapper.domain.phones import (
    InvalidRecipient,
    is_group_jid,
    normalize_phone,
    parse_chat,
    parse_group,
    parse_recipient,
)
from bzapper.net import UnsafeUrl, read_url
from bzapper.services.stream import checked_filters

SETTINGS = settings(max_examples=400, deadline=None, database=None)
REAL_NUMBERS = ["5511988888888", "551188888888", "14155552671", "447911123456", "5491123456789", "5521961234567"]
SPACES = " \t\n"
SEPARATORS = "-.() \t"


def _matches(pattern: str, value: str) -> bool:
    """As a JSON Schema validator reads `pattern` (ECMA-262: `$` is the end, not before a last newline)."""
    return jsonschema_rs.validator_for({"pattern": pattern}).is_valid(value)


def _refusal(parse, value: str) -> str | None:
    try:
        parse(value)
    except InvalidRecipient as error:
        return error.reason
    return None


@st.composite
def written_numbers(draw) -> str:
    """A real number as people write it: separators anywhere, maybe a `+`, maybe whitespace around."""
    digits = draw(st.sampled_from(REAL_NUMBERS))
    pieces = [digit + draw(st.text(SEPARATORS, max_size=2)) for digit in digits]
    plus = draw(st.sampled_from(["", "+", "(+", "+ "]))
    return draw(st.text(SPACES, max_size=2)) + plus + "".join(pieces) + draw(st.text(SPACES, max_size=2))


@st.composite
def jids(draw) -> str:
    user = draw(st.sampled_from(REAL_NUMBERS)) if draw(st.booleans()) else draw(st.from_regex(r"\A[0-9]{1,20}\Z"))
    device = draw(st.sampled_from(["", ".0", "_1", ":12", ".0:3"]))
    server = draw(st.sampled_from(["s.whatsapp.net", "S.WhatsApp.Net", "c.us", "lid", "LID", "g.us"]))
    return draw(st.text(SPACES, max_size=1)) + f"{user}{device}@{server}" + draw(st.text(SPACES, max_size=1))


ANYTHING = st.text("+-.() \t0123456789@:._sSwhatpneculigdx,*", max_size=24)


@SETTINGS
@given(st.one_of(written_numbers(), jids(), ANYTHING))
def test_every_recipient_the_api_takes_matches_the_published_pattern(value: str):
    if _refusal(parse_recipient, value) is None:
        assert _matches(RECIPIENT_PATTERN, value), value


@SETTINGS
@given(st.from_regex(RECIPIENT_PATTERN))
def test_a_recipient_of_the_pattern_is_refused_only_for_the_numbering_plan(value: str):
    assert _refusal(parse_recipient, value) in (None, "invalid_phone"), value


@SETTINGS
@given(st.one_of(written_numbers(), ANYTHING))
def test_a_phone_of_the_pattern_is_refused_only_for_the_numbering_plan(value: str):
    refusal = _refusal(normalize_phone, value)
    if refusal is None:
        assert _matches(PHONE_PATTERN, value), value
    if _matches(PHONE_PATTERN, value):
        assert refusal in (None, "invalid_phone"), value


def _chat(value: str) -> object:
    """What the inbox takes as a conversation's `{jid}` (bzapper.services.inbox.contact_of)."""
    return parse_group(value) if is_group_jid(value) else parse_chat(value)


@SETTINGS
@given(st.one_of(written_numbers(), jids(), ANYTHING, st.from_regex(CHAT_PATTERN)))
def test_the_inbox_takes_exactly_the_chats_of_the_pattern(value: str):
    assert (_refusal(_chat, value) is None) == _matches(CHAT_PATTERN, value), value


@SETTINGS
@given(st.one_of(jids(), ANYTHING, st.from_regex(whole(GROUP_JID))))
def test_a_group_is_taken_exactly_when_it_matches(value: str):
    assert (_refusal(parse_group, value) is None) == _matches(whole(GROUP_JID), value), value


EVENT_WORDS = st.sampled_from(["message.sent", "message.*", "webhook.test", "instance.*", "message", "sent", "*", ""])


@SETTINGS
@given(st.lists(st.tuples(EVENT_WORDS, st.sampled_from([",", " ,", ", ", "  ", ",,"])), max_size=4))
def test_the_stream_takes_exactly_the_types_of_the_pattern(words):
    types = "".join(word + separator for word, separator in words)
    try:
        checked_filters(None, None, None, types)  # type: ignore[arg-type]  # without an instance, nothing is read
        accepted = True
    except BzError:
        accepted = False
    assert accepted == _matches(TYPES_PATTERN, types), types


@SETTINGS
@given(st.from_regex(HTTP_URL_PATTERN))
def test_a_url_of_the_pattern_passes_the_guard_up_to_its_hosts_finer_rules(url: str):
    """Scheme, port, path and the absence of credentials, whitespace and control characters are the pattern's:
    with its host replaced by a plain name, every URL of the pattern reads. What is left to the guard is the host
    itself (DNS labels, IDNA, no IPv4 shorthand, what is inside brackets: docs/ssrf.md) and where it resolves."""
    if not _matches(HTTP_URL_PATTERN, url):  # Python's `$` also takes a last newline, which ECMA-262's does not
        return
    scheme, _, rest = re.fullmatch(r"([^:]+://)(\[[^\]]*\]|[^/?#:]*)(.*)", url, flags=re.DOTALL).groups()  # type: ignore[union-attr]
    plain = read_url(f"{scheme}example.com{rest}", allow_http=True)  # raises UnsafeUrl otherwise
    assert plain.port is None or 1 <= plain.port <= 65535
    try:
        read_url(url, allow_http=True)
    except UnsafeUrl as error:
        assert error.code == "malformed", url


def _decoded(encoded: str) -> bytes:
    """What the sandbox network reads of `data_base64` (b"" when it refuses it)."""
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        return b""


@SETTINGS
@given(st.one_of(st.from_regex(BASE64), st.text("AQ+/=", max_size=9)))
def test_injected_media_is_taken_exactly_when_it_matches_but_for_extra_padding(encoded: str):
    if _matches(BASE64, encoded):
        assert _decoded(encoded), encoded
    data = encoded.rstrip("=")
    # Python's decoder also takes `=` after a complete group ("AAAA="): a leniency the contract does not promise.
    extra_padding = len(data) % 4 == 0 and data != encoded
    if _decoded(encoded) and not extra_padding:
        assert _matches(BASE64, encoded), encoded


def test_an_idempotency_key_is_taken_exactly_when_it_matches():
    for code in range(256):  # a header value is read as Latin-1
        assert valid_key(chr(code)) == _matches(IDEMPOTENCY_KEY_PATTERN, chr(code)), hex(code)
