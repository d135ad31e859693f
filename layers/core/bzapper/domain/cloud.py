"""Meta's WhatsApp Cloud API, the rules of it we depend on. Pure: no I/O, no clock.

- `CloudNumber`: what an instance of engine `cloud` keeps (its ids, its sealed token, what Graph said of it).
- `meta_error`: Meta's error codes as our stable codes, and whether (and how) a send is retried.
- `retry_delay`: the backoff of a send Meta refused for its rate limits (pair rate, throughput).
- `verify_signature`: `X-Hub-Signature-256` of a webhook, over the exact body, in constant time.
- `webhook_reports`: a verified webhook's changes as the reports every engine makes (statuses, inbound).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Literal

ENGINE = "cloud"

GRAPH_LIVE_URL = "https://graph.facebook.com"
"""Live numbers; test-mode numbers talk to the simulated Graph API at `{BZ_SANDBOX_URL}/graph`."""

TOKEN_SEAL_EXPIRY_MS = 253_402_300_799_000
"""A token is sealed like an OTP code (bzapper.adapters.sealing) but must never expire: the last ms of 9999."""


@dataclass(frozen=True, slots=True)
class CloudNumber:
    """The Cloud API side of an instance of engine `cloud`. The token is only ever stored sealed."""

    phone_number_id: str
    waba_id: str
    token_sealed: str
    token_last4: str
    display_phone_number: str | None = None
    verified_name: str | None = None
    quality_rating: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CloudNumber:
        return cls(**{k: data[k] for k in cls.__slots__ if data.get(k) is not None})

    def public(self) -> dict[str, Any]:
        """What the API shows: never the token, only its last four characters."""
        return {
            "phone_number_id": self.phone_number_id,
            "waba_id": self.waba_id,
            "token_last4": self.token_last4,
            "display_phone_number": self.display_phone_number,
            "verified_name": self.verified_name,
            "quality_rating": self.quality_rating,
        }


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a Graph call needs: the number, its WABA, the token in clear (never stored, never logged) and
    whether it is a live number (graph.facebook.com) or a test one (the simulated Graph API)."""

    phone_number_id: str
    waba_id: str
    token: str
    livemode: bool

    def __repr__(self) -> str:  # a Credentials in a traceback or a log line must not show the token
        return f"Credentials({self.phone_number_id!r}, livemode={self.livemode})"


UNSENDABLE = frozenset({"poll", "edit", "revoke", "otp"})
"""What the Cloud API cannot send: polls, edits and deletions of sent messages, and our two-bubble OTP (its way
to send a code is an authentication template)."""


def cloud_refusal(message_type: str, to_jid: str) -> str | None:
    """The catalog key of why a Cloud API number cannot send this, or None. It writes to phone numbers only."""
    if message_type in UNSENDABLE:
        return "error.engine_type_unsupported"
    user, _, server = to_jid.partition("@")
    if server != "s.whatsapp.net" or not user.isdigit():
        return "error.cloud_recipient_unsupported"
    return None


def token_last4(token: str) -> str:
    return token[-4:]


# --- Meta's errors ----------------------------------------------------------------------------------------

Retry = Literal["rate", "transient"]


@dataclass(frozen=True, slots=True)
class MetaError:
    """What one Meta error means to us: our stable `code` (the message's error, or the API's answer), whether
    the send is tried again (`retry`), and Meta's own code and title when we have no code of our own."""

    code: str
    retry: Retry | None = None
    details: dict[str, Any] | None = None


RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056})
"""Application (4), WABA (80007), throughput (130429) and pair-rate (131056) limits: tried again later."""
PAIR_RATE = 131056

TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})
"""Meta's "unknown", "service" and "temporarily unavailable" errors: retried like any failed send."""

_CODES: dict[int, str] = {
    0: "cloud_token_invalid",  # AuthException
    190: "cloud_token_invalid",  # access token expired or revoked
    3: "cloud_permission_denied",
    10: "cloud_permission_denied",
    131026: "not_on_whatsapp",  # message undeliverable: no account, or an old app, or the terms not accepted
    131047: "outside_customer_service_window",  # re-engagement: more than 24 h since the contact wrote
    131049: "recipient_unavailable",  # Meta chose not to deliver it (the contact's marketing limits)
    131050: "recipient_unavailable",  # the contact stopped marketing messages
    130472: "recipient_unavailable",  # the contact's number is part of an experiment
    131021: "recipient_unavailable",  # the recipient is the sender
    131051: "not_supported",  # a message type the Cloud API does not take
    131052: "media_rejected",  # the media could not be downloaded
    131053: "media_rejected",  # the media could not be uploaded
    368: "account_restricted",  # temporarily blocked for policy violations
    131031: "account_restricted",  # the business account is locked
    131048: "account_restricted",  # spam rate limit: too many of its messages blocked or flagged
    132001: "template_not_found",
    132000: "template_parameters_invalid",
    132012: "template_parameters_invalid",
    132015: "template_not_approved",  # paused for low quality
    132016: "template_not_approved",  # disabled
}
UNKNOWN = "cloud_api_error"


def meta_error(code: int | None, title: str | None = None, http_status: int | None = None) -> MetaError:
    """Meta's error (its `error.code`, its title or message, the HTTP status) as ours. A code we do not know
    keeps Meta's code and title in `details`; a 5xx without a known code is transient."""
    if code in RATE_LIMIT_CODES:
        return MetaError("rate_limited", retry="rate")
    if code in TRANSIENT_CODES:
        return MetaError(UNKNOWN, retry="transient", details=_details(code, title))
    if code is not None and 200 <= code <= 299:
        return MetaError("cloud_permission_denied")
    if code in _CODES:
        return MetaError(_CODES[code])
    if http_status is not None and http_status >= 500:
        return MetaError(UNKNOWN, retry="transient", details=_details(code, title))
    return MetaError(UNKNOWN, details=_details(code, title))


def _details(code: int | None, title: str | None) -> dict[str, Any]:
    return {"meta_code": code, "meta_title": (title or "")[:200]}


def error_of(body: Any) -> tuple[int | None, str | None]:
    """(code, title) of a Graph error body `{"error": {...}}` or of one webhook `errors[]` entry."""
    error = body.get("error", body) if isinstance(body, dict) else {}
    if not isinstance(error, dict):
        return None, None
    code = error.get("code")
    title = error.get("title") or error.get("message")
    return (int(code) if isinstance(code, int | str) and str(code).isdigit() else None), (str(title) if title else None)


# --- Backoff on Meta's rate limits -----------------------------------------------------------------------

PAIR_RATE_SECONDS = 6
"""Meta lets a number write to one user about once every 6 s; a refused pair waits at least that."""
THROUGHPUT_SECONDS = 2
RATE_BACKOFF_MAX_SECONDS = 300
RATE_LIMIT_ATTEMPTS = 10
"""Receives of a job Meta keeps refusing for rate, about 25 minutes in all, before it fails `rate_limited`."""


def retry_delay(meta_code: int | None, receive_count: int) -> int | None:
    """Seconds to hide a job Meta refused for its rate limits before trying it again (SQS visibility), by its
    receive count (1 on the first try); None when it has been refused too often: it fails `rate_limited`."""
    if receive_count >= RATE_LIMIT_ATTEMPTS:
        return None
    base = PAIR_RATE_SECONDS if meta_code == PAIR_RATE else THROUGHPUT_SECONDS
    return int(min(base * 2 ** max(receive_count - 1, 0), RATE_BACKOFF_MAX_SECONDS))


# --- Webhooks ---------------------------------------------------------------------------------------------

SIGNATURE_PREFIX = "sha256="


def verify_signature(body: bytes, header: str | None, secret: str | None) -> bool:
    """Whether `header` is `sha256=<hex HMAC-SHA256 of body with secret>`; compared in constant time."""
    if not header or not secret or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len(SIGNATURE_PREFIX) :].strip().lower().encode())


def sign(body: bytes, secret: str) -> str:
    """The header Meta (and the simulated Graph API) sends with `body`."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class GraphFailure(Exception):
    """Graph answered with an error (or could not be reached: `status` 0). Never carries the token."""

    def __init__(self, status: int, code: int | None = None, title: str | None = None) -> None:
        super().__init__(f"Graph API error {code} (HTTP {status}): {title or ''}".strip())
        self.status = status
        self.code = code
        self.title = title

    @property
    def meta(self) -> MetaError:
        if self.status == 0:
            return MetaError(UNKNOWN, retry="transient")
        return meta_error(self.code, self.title, self.status)


class UnsupportedCloudContent(ValueError):
    """This content cannot become a Cloud API message: the send fails `not_supported`."""
