"""The fuzzing's acceptance check: a request openapi.yaml calls valid is accepted, unless it breaks a rule the
contract cannot state in JSON Schema. Loaded into schemathesis by contract_fuzz.py (SCHEMATHESIS_HOOKS).

schemathesis' own `positive_data_acceptance` fails on every 4xx outside 401, 403, 404, 409 and 429 for
schema-valid input, so it cannot tell a loose schema from a rule JSON Schema has no words for (a number that
exists in the numbering plan, a cursor we issued, a URL that resolves). This check replaces it: each such rule
is in UNWRITABLE with why (the field's description in the contract says it too), and a refusal is excused only
when it is the documented 422 naming that field and, where the rule can be run here, the rule itself refuses
the value. Any other refusal of schema-valid data fails the run: tighten the schema, never loosen the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import schemathesis

from bzapper.domain.composing import valid_reaction
from bzapper.domain.phones import InvalidRecipient, normalize_phone, parse_recipient
from bzapper.net import UnsafeUrl, check_url

Refuses = Callable[[Any, Any], bool]
"""(the generated case, the value the 422's `param` names) -> whether the rule explains the refusal."""


def _off_the_numbering_plan(_: Any, value: Any) -> bool:
    """Well-formed (the schema saw to that) yet unknown to phonenumbers' metadata: whether a number exists
    is data, per country and range, revised every release, not a pattern."""
    try:
        parse_recipient(value) if "@" in str(value) else normalize_phone(str(value))
    except InvalidRecipient as error:
        return error.reason == "invalid_phone"
    return False  # the rule accepts it: the 422 was for something else


MOTO_PASSWORD_MAX = 98
"""moto refuses a password of 99 characters or more, which Cognito takes (up to 256): docs/accounts.md."""


def _weak_password(_: Any, value: Any) -> bool:
    """The strength rules the identity service applies too: the schema states the length only."""
    from bzapper.domain.identity import password_problem

    return isinstance(value, str) and (password_problem(value) is not None or len(value) > MOTO_PASSWORD_MAX)


def _unreachable(_: Any, value: Any) -> bool:
    """The SSRF guard refuses where the host resolves to (here: nowhere, or not a public address), or a host
    the pattern cannot judge (DNS labels, IDNA, IPv4 shorthands: `malformed`; docs/ssrf.md)."""
    try:
        check_url(str(value), allow_loopback=True)  # the local stack allows loopback, as here
    except UnsafeUrl as error:
        return error.code not in ("scheme", "port", "credentials")  # the schema's business: HTTP_URL_PATTERN
    return False


def _one_media_source(case: Any, _: Any) -> bool:
    """With exactly one of `url` and `media_id` (the schema's oneOf), what is left is the file itself."""
    body = case.body if isinstance(case.body, dict) else {}
    return (body.get("url") is None) != (body.get("media_id") is None)


def _audience_refused(case: Any, value: Any) -> bool:
    """An audience member off the numbering plan, or one named twice (a phone and its JID are one contact)."""
    if _off_the_numbering_plan(case, value):
        return True
    body = case.body if isinstance(case.body, dict) else {}
    seen: set[str] = set()
    for member in body.get("audience") or []:
        try:
            jid = parse_recipient(str(member)).jid
        except InvalidRecipient:
            continue
        if jid in seen:
            return True
        seen.add(jid)
    return False


def _not_one_emoji(_: Any, value: Any) -> bool:
    return not valid_reaction(value)


def _options_equal_once_folded(_: Any, value: Any) -> bool:
    return isinstance(value, list) and len({str(o).strip().casefold() for o in value}) < len(value)


def _group_without_number(case: Any, _: Any) -> bool:
    """A message to a group goes from a number in it: `instance_id` is optional for a person only."""
    body = case.body if isinstance(case.body, dict) else {}
    return str(body.get("to", "")).endswith("@g.us") and body.get("instance_id") is None


def _always(_: Any, __: Any) -> bool:
    return True


def _integral_float(_: Any, value: Any) -> bool:
    """JSON Schema's `integer` is a number with no fractional part, `5.0` included; the API takes a JSON integer
    only (`5`), as its description says: no keyword tells the two apart."""
    return isinstance(value, float) and value.is_integer()


class Unwritable(NamedTuple):
    operations: str
    """Regex over the operation's label (`POST /messages/text`)."""
    params: str
    """Regex over the `param` of the 422."""
    why: str
    refuses: Refuses = _always


UNWRITABLE = (
    Unwritable(
        r"POST /messages/\w+|POST /instances/.+/pairing-code|(GET|POST|PATCH) /sandbox/contacts/.+"
        r"|POST /sandbox/instances/.+|POST /chats/.+/presence|POST /contacts/.+/(block|unblock)|GET /contacts/.+",
        r"to|mentions\.\d+|phone|from|jid",
        "a phone must exist in the numbering plan, not just have 8 to 15 digits",
        _off_the_numbering_plan,
    ),
    Unwritable(r".*", r"cursor", "a cursor is opaque: only a `next_cursor` we issued reads"),
    Unwritable(r"GET /stream", r"Last-Event-ID|last_event_id", "the id of an event of this account, kept 7 days"),
    Unwritable(r"GET /usage", r"from|to", "an ISO 8601 instant of 2000-2100, `from` before `to`, a bounded span"),
    Unwritable(r"(POST|PATCH) /webhooks.*", r"url", "a URL whose host resolves to a public address", _unreachable),
    Unwritable(
        r"POST /messages/\w+",
        r"url|media_id|voice",
        "the file (downloaded, or uploaded before) decides its kind and size: its bytes, not the request",
        _one_media_source,
    ),
    Unwritable(r"POST /messages/\w+", r"reply_to|message_id", "a message of this conversation, sent or received"),
    Unwritable(
        r"POST /messages/\w+",
        r"instance_id",
        "a group's message names its number when several are connected",
        _group_without_number,
    ),
    Unwritable(
        r"POST /status/\w+",
        r"audience\.\d+",
        "each phone exists in the numbering plan and names a contact once (a phone and its JID are one contact)",
        _audience_refused,
    ),
    Unwritable(
        r"POST /status/\w+",
        r"url|media_id",
        "the file (downloaded, or uploaded before) decides its kind and size: its bytes, not the request",
        _one_media_source,
    ),
    Unwritable(r"POST /.*", r"(content\.)?emoji", "a single emoji (Unicode's emoji data)", _not_one_emoji),
    Unwritable(
        r"POST /.*", r"(content\.)?options", "options differ once trimmed and case-folded", _options_equal_once_folded
    ),
    Unwritable(r"POST /messages/(buttons|list)", r"buttons|sections", "ids unique across items; 10 rows in all"),
    Unwritable(r"POST /messages/otp", r"body", "the text must not contain the code"),
    Unwritable(r"\w+ /groups/.+", r"jid", "a group's JID as WhatsApp writes it (digits, or creator-time, @g.us)"),
    Unwritable(r"PATCH /groups/.+", r"request_body", "at least one change to the group"),
    Unwritable(
        r"POST /instances",
        r"cloud(\..+)?|engine",
        "a Cloud API number's ids go with engine `cloud` only, and name a number Meta knows",
    ),
    Unwritable(
        r"POST /groups/join|POST /sandbox/contacts/.+/join", r"invite_link", "a link WhatsApp issued for a group"
    ),
    Unwritable(
        r"PATCH /instances/.+",
        r"settings\.proxy_url",
        "an http, https or socks5 proxy with an explicit port, on a host that resolves to a public address",
    ),
    Unwritable(r"POST /instances", r"engine", "test keys use the sandbox engine: the key decides, not the body"),
    Unwritable(r"PATCH /instances/.+/profile", r"picture_media_id", "a JPEG or PNG of this account, uploaded before"),
    Unwritable(r"PATCH /groups/.+", r"picture", "a JPEG or PNG of this account, uploaded before"),
    Unwritable(r"PATCH (/instances/.+|/sandbox/contacts/.+)/profile", r"request_body", "at least one change"),
    Unwritable(r"PATCH /instances/.+/profile", r"push_name", "a name with at least one visible character"),
    Unwritable(r"POST /sandbox/instances/.*/scan", r"code", "the pairing code the instance shows right now"),
    Unwritable(
        r"POST /sandbox/instances/.*/scan",
        r"history",
        "each conversation names a contact or a group (one of the two), a group's messages their writer, every "
        "number in the numbering plan",
    ),
    Unwritable(r"POST /sandbox/instances/.*/history/redeliver", r"chunk", "a chunk of history this pairing was handed"),
    Unwritable(r"POST /media", r"file", "a file of at least one byte, within the size limit"),
    Unwritable(r"POST /auth/(confirm|password/reset)", r"code", "the code mailed to that address, before it expires"),
    Unwritable(r"POST /auth/confirm", r"password", "the password chosen at the sign-up the code was mailed for"),
    Unwritable(r"POST /auth/logout", r"refresh_token", "the refresh token of the bearer's own session"),
    Unwritable(
        r"POST /auth/(signup|password/reset)",
        r"password",
        "a lower- and an upper-case letter, a digit and a symbol (Unicode classes), no space at either end",
        _weak_password,
    ),
    Unwritable(r".*", r".+", "an integer field takes a JSON integer, not `5.0`", _integral_float),
)

STATE_CODES = {
    "insufficient_balance": "the wallet ran out: the account's state, not the request",
    "not_on_whatsapp": "the sandbox network's numbers in +55 11 90000-0xxx are not on WhatsApp",
    "idempotency_conflict": "the Idempotency-Key was used before with another body",
    "not_supported": "the number's engine decides (templates are a Cloud API number's; the fuzzed one is a sandbox)",
    "outside_customer_service_window": "a Cloud API number's contact must have written in the last 24 hours",
}
CREDENTIAL_CODES = {
    "invalid_signature": "only the payment provider signs its events (Stripe-Signature): no generated header can",
}
"""Refusals of credentials that are not an API key (so not a 401), right whatever the data."""
ACCEPTED_STATUSES = {401, 403, 404, 409, 429}
"""Refusals schemathesis accepts for valid data too: credentials, permissions, state and rate."""


def located(case: Any, param: str) -> Any:
    """The value a `param` names, in the body (`mentions.0`), the path, the query or the headers."""
    for container in (case.body, case.path_parameters, case.query, case.headers):
        value: Any = container
        for part in param.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                break
        else:
            return value
    return None


def excuse(label: str, error: dict[str, Any], case: Any) -> str | None:
    """Why this refusal of schema-valid data is right, or None when the schema should have ruled it out."""
    code, param = error.get("code"), error.get("param") or ""
    if code in STATE_CODES:
        return STATE_CODES[code]
    if code in CREDENTIAL_CODES:
        return CREDENTIAL_CODES[code]
    if code != "validation_failed":
        return None
    matching = [
        rule for rule in UNWRITABLE if re.fullmatch(rule.operations, label) and re.fullmatch(rule.params, param)
    ]
    return next((rule.why for rule in matching if rule.refuses(case, located(case, param))), None)


@schemathesis.check
def valid_data_refused_only_by_unwritable_rules(ctx: Any, response: Any, case: Any) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    status = response.status_code
    if status < 400 or status >= 500 or status in ACCEPTED_STATUSES:
        return
    try:
        error = response.json()
    except ValueError:
        error = None
    if not isinstance(error, dict):
        error = {}
    if excuse(case.operation.label, error, case) is None:
        raise AssertionError(
            f"Schema-valid request refused: {status} {error.get('code')} (param {error.get('param')!r}). "
            "Tighten the schema, or name the rule in contract_fuzz_checks.UNWRITABLE if JSON Schema cannot state it."
        )
