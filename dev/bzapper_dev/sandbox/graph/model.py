"""The simulated WhatsApp Cloud API: phone numbers, WABAs and their templates, contacts, in memory.

Like the sandbox network (network.py), everything is deterministic: ids are hashes of what they name, and
every delay runs on an injected clock, multiplied by time_scale; timers are applied lazily, in due order,
before every call. A clock offset (the `advance` control) moves the sim's time forward so tests can close a
24-hour window without waiting. Webhooks are signed with the app secret and kept in an outbox; `pump()`
hands the due ones to a sender (the HTTP server's delivery thread, or a test's function) and schedules
Meta-like redeliveries of any not answered with a 200. No sockets here: http.py serves it.

Ids are global, as at Meta: a phone_number_id or waba_id names the same number for every caller, and one the
sim has never seen is provisioned on first use. Tests pick their own ids to stay apart.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from bzapper_dev.sandbox.graph import templates as tpl
from bzapper_dev.sandbox.numbers import OFFLINE, REPLIES, contact_key, kind_of, on_whatsapp

logger = logging.getLogger(__name__)

TEST_APP_SECRET = "bzapper-sandbox-cloud-app-secret"  # noqa: S105 - public by design
"""The sim's app secret: a public test constant (our side: BZ_CLOUD_TEST_APP_SECRET)."""
INVALID_TOKEN = "invalid-token"  # noqa: S105 - public by design
"""The one access token the sim refuses (401, code 190); any other non-empty token is valid."""
WINDOW_SECONDS = 24 * 3600
"""Meta's customer service window: a rule, not a delay, so time_scale never shortens it."""
ERROR_CODES_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
PRICING_MODEL = "PMP"

# Reserved recipients of the cloud sim, in the sandbox's free +55 11 90000-7xxx range: Meta's throughput
# (130429) and pair-rate (131056) refusals, either for the first two attempts in a row (a backoff that
# retries succeeds) or always (the retries run out). The sandbox's other ranges keep their meaning where
# Meta has one: 0xxx not on WhatsApp, 1xxx offline (sent, never delivered), 2xxx reply automatically,
# 6xxx users with a username (their messages carry only a BSUID, no phone).
THROTTLED_TWICE = "+55119000070"
THROTTLED_ALWAYS = "+55119000071"
PAIR_LIMITED_TWICE = "+55119000075"
PAIR_LIMITED_ALWAYS = "+55119000076"
USERNAME_ONLY = "+5511900006"
REFUSALS_BEFORE_ACCEPTING = 2

PHONE_FIELDS: tuple[str, ...] = (
    "verified_name",
    "display_phone_number",
    "quality_rating",
    "code_verification_status",
    "platform_type",
    "throughput",
    "name_status",
)
WABA_FIELDS: tuple[str, ...] = ("name", "currency", "timezone_id", "message_template_namespace")

SendFn = Callable[[str, bytes, dict[str, str]], int]
"""(url, body, headers) -> the HTTP status the callback answered; raises when nothing answered."""


class GraphError(Exception):
    """An error in Meta's shape: {"error": {message, type, code, error_subcode?, error_data?, fbtrace_id}}."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        type_: str = "OAuthException",
        subcode: int | None = None,
        details: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.type = status, code, message, type_
        self.subcode, self.details = subcode, details

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        return {"error": error | {"fbtrace_id": fbtrace_id}}


def invalid_parameter(details: str) -> GraphError:
    return GraphError(400, 100, "(#100) Invalid parameter", details=details)


def missing_parameter(details: str) -> GraphError:
    return GraphError(400, 131008, "(#131008) Required parameter is missing", details=details)


def invalid_value(details: str) -> GraphError:
    return GraphError(400, 131009, "(#131009) Parameter value is not valid", details=details)


def unknown_object(object_id: str) -> GraphError:
    return GraphError(
        400,
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to missing "
        "permissions, or does not support this operation.",
        type_="GraphMethodException",
        subcode=33,
    )


class ControlError(Exception):
    """A test control refused (not Meta's: answered in the sandbox network's error shape)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def sign(body: bytes, secret: str = TEST_APP_SECRET) -> str:
    """The X-Hub-Signature-256 value of a webhook body: sha256=<hex HMAC-SHA256 with the app secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def derived_digits(*parts: object, length: int) -> str:
    """A decimal id of `length` digits (no leading zero), derived from what it names."""
    number = int.from_bytes(_digest(*parts), "big")
    return str(10 ** (length - 1) + number % (9 * 10 ** (length - 1)))


def _status_error(code: int, title: str, details: str) -> dict[str, Any]:
    return {"code": code, "title": title, "message": title, "error_data": {"details": details}, "href": ERROR_CODES_URL}


UNDELIVERABLE = (131026, "Message undeliverable", "Message Undeliverable.")
RE_ENGAGEMENT = (
    131047,
    "Re-engagement message",
    "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
)


@dataclass
class Number:
    id: str
    waba_id: str
    display_phone_number: str  # "+1 555-010-1234", as GET answers it
    verified_name: str = "Sandbox Business"
    quality_rating: str = "GREEN"
    linked: bool = False  # its WABA was named (control or a token's WABA), not derived from its id
    refusals: dict[str, int] = field(default_factory=dict)  # recipient -> throughput refusals in a row

    @property
    def metadata_phone(self) -> str:
        """The display number as webhooks' metadata carry it: digits only."""
        return "".join(ch for ch in self.display_phone_number if ch.isdigit())

    def describe(self) -> dict[str, Any]:
        return {
            "verified_name": self.verified_name,
            "display_phone_number": self.display_phone_number,
            "quality_rating": self.quality_rating,
            "id": self.id,
        }


@dataclass
class Template:
    id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = "APPROVED"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "components": copy.deepcopy(self.components),
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        }


@dataclass
class Sent:
    """A message a number sent, as the other side (the contact's phone) sees it."""

    id: str
    phone_number_id: str
    to: str  # the phone, +E.164
    type: str
    request: dict[str, Any]
    created_at: int  # epoch seconds
    pricing: dict[str, Any] | None
    statuses: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "to": self.to,
            "type": self.type,
            "request": copy.deepcopy(self.request),
            "created_at": self.created_at,
            "pricing": copy.deepcopy(self.pricing),
            "statuses": copy.deepcopy(self.statuses),
        }


@dataclass
class Webhook:
    id: int
    kind: str  # the change's field: messages, message_template_status_update
    waba_id: str
    phone_number_id: str | None
    body: bytes  # the exact bytes sent (and signed), every time
    signature: str
    attempts: list[dict[str, Any]] = field(default_factory=list)  # {"at", "status"} or {"at", "error"}
    delivered: bool = False
    pending: int = 0  # deliveries queued or in flight

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "field": self.kind,
            "waba_id": self.waba_id,
            "phone_number_id": self.phone_number_id,
            "body": json.loads(self.body),
            "signature": self.signature,
            "attempts": copy.deepcopy(self.attempts),
            "delivered": self.delivered,
            "pending": self.pending > 0,
        }


@dataclass(order=True)
class _Delivery:
    due: float
    sequence: int
    webhook_id: int = field(compare=False)
    first_at: float = field(compare=False)  # model time of the first attempt: redeliveries stop after a horizon
    tries: int = field(compare=False, default=0)


@dataclass(order=True)
class _Timer:
    due: float
    sequence: int
    at: int = field(compare=False)  # epoch seconds it happens at (a webhook's timestamp)
    action: Callable[[int], None] = field(compare=False)


class GraphSim:
    """Thread-safe simulated Cloud API. Delays (model seconds, times time_scale): delivered_after and
    read_after count from the send, reply_after is the automatic reply of the replying range,
    template_review_after how long a created template stays PENDING, retry_first the first redelivery of a
    webhook not answered 200 (doubling each time up to retry_max, for retry_horizon in all)."""

    def __init__(
        self,
        *,
        callback_url: str | None = None,
        app_secret: str = TEST_APP_SECRET,
        delivered_after: float = 0.2,
        read_after: float = 0.6,
        reply_after: float = 1.2,
        template_review_after: float = 5.0,
        retry_first: float = 1.0,
        retry_max: float = 900.0,
        retry_horizon: float = 7 * 24 * 3600.0,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.callback_url = callback_url
        self.app_secret = app_secret
        self.delivered_after = delivered_after
        self.read_after = read_after
        self.reply_after = reply_after
        self.template_review_after = template_review_after
        self.retry_first = retry_first
        self.retry_max = retry_max
        self.retry_horizon = retry_horizon
        self.time_scale = time_scale
        self._clock = clock
        self._wall = wall
        self._lock = threading.RLock()
        # Never restarted, not even by reset(): ids from before a reset must not name newer things.
        self._sequence = itertools.count(1)
        self._webhook_ids = itertools.count(1)
        self._failing_urls: set[str] = set()
        self._reset_state()

    def _reset_state(self) -> None:
        self._offset = 0.0
        self._timers: list[_Timer] = []
        self._deliveries: list[_Delivery] = []
        self._numbers: dict[str, Number] = {}
        self._templates: dict[str, dict[tuple[str, str], Template]] = {}  # waba -> (name, language) -> template
        self._template_wabas: dict[str, str] = {}  # template id -> waba
        self._token_wabas: dict[str, str] = {}  # token -> the WABA it last named
        self._token_numbers: dict[str, set[str]] = {}  # token -> numbers it used
        self._windows: dict[tuple[str, str], float] = {}  # (number, contact phone) -> model time of the last inbound
        self._sent: dict[str, Sent] = {}  # wamid -> message a number sent
        self._inbound: dict[str, tuple[str, str]] = {}  # wamid -> (number, contact phone) of what contacts wrote
        self._reads: dict[str, list[str]] = {}  # number -> wamids it marked read
        self._media: dict[str, tuple[str, bytes, str]] = {}  # media id -> (mime type, bytes, number)
        self._deleted_media: set[str] = set()
        self._webhooks: dict[int, Webhook] = {}

    # -- time ---------------------------------------------------------------------------------------

    def now(self) -> float:
        """Model time (seconds), the clock control's offset included."""
        return self._clock() + self._offset

    def wall(self) -> int:
        """Epoch seconds as the sim's webhooks state them (offset included)."""
        return int(self._wall() + self._offset)

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the sim's time forward (windows close, timers fire, redeliveries come due)."""
        if seconds < 0:
            raise ControlError(400, "bad_request", "advance_seconds must be a non-negative number")
        with self._lock:
            self._offset += seconds
            self._apply_timers()
            return self.clock_state()

    def clock_state(self) -> dict[str, Any]:
        with self._lock:
            return {"now": self.wall(), "offset_seconds": self._offset}

    def _later(self, delay: float, action: Callable[[int], None]) -> None:
        scaled = delay * self.time_scale
        timer = _Timer(self.now() + scaled, next(self._sequence), self.wall() + round(scaled), action)
        heapq.heappush(self._timers, timer)

    def _apply_timers(self) -> None:
        now = self.now()
        while self._timers and self._timers[0].due <= now:
            timer = heapq.heappop(self._timers)
            timer.action(timer.at)

    def trace_id(self) -> str:
        """An error's fbtrace_id: opaque, like Meta's, and derived (deterministic) like every sim id."""
        return base64.b32encode(_digest("trace", next(self._sequence))[:15]).decode()

    # -- numbers, WABAs, tokens --------------------------------------------------------------------------

    def check_token(self, token: str | None) -> str:
        if not token:
            raise GraphError(400, 104, "An access token is required to request this resource.")
        if token == INVALID_TOKEN:
            raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
        return token

    def _number(self, phone_number_id: str, token: str | None = None) -> Number:
        number = self._numbers.get(phone_number_id)
        if number is None:
            waba_id = derived_digits("waba", phone_number_id, length=15)
            digits = derived_digits("display", phone_number_id, length=7)
            display = f"+1 555-{digits[:3]}-{digits[3:]}"
            number = self._numbers[phone_number_id] = Number(phone_number_id, waba_id, display)
        if token is not None:
            self._token_numbers.setdefault(token, set()).add(phone_number_id)
            named = self._token_wabas.get(token)
            if named is not None and not number.linked:
                self._link(number, named)
        self._waba(number.waba_id)
        return number

    def _link(self, number: Number, waba_id: str) -> None:
        number.waba_id, number.linked = waba_id, True
        self._waba(waba_id)

    def _waba(self, waba_id: str, token: str | None = None) -> dict[tuple[str, str], Template]:
        """The WABA's templates; a new WABA starts with the approved defaults. A token that names a WABA
        links the numbers it used (and will use) to it, unless a control linked them."""
        templates = self._templates.get(waba_id)
        if templates is None:
            templates = self._templates[waba_id] = {}
            for item in tpl.default_templates():
                self._add_template(waba_id, item, "APPROVED")
        if token is not None:
            self._token_wabas[token] = waba_id
            for phone_number_id in self._token_numbers.get(token, ()):
                number = self._numbers[phone_number_id]
                if not number.linked:
                    self._link(number, waba_id)
        return templates

    def _add_template(self, waba_id: str, item: dict[str, Any], status: str) -> Template:
        template_id = derived_digits("template", waba_id, item["name"], item["language"], length=16)
        template = Template(
            template_id, item["name"], item["language"], item["category"].upper(), item["components"], status
        )
        self._templates[waba_id][(template.name, template.language)] = template
        self._template_wabas[template_id] = waba_id
        return template

    def node(self, object_id: str, token: str, fields: str | None = None) -> dict[str, Any]:
        """GET /{id}: a WABA the sim knows as one (or one asked for WABA fields), else a phone number (provisioned
        on first use). With `fields`, only those and the id, as Meta answers; a field the node lacks is error 100."""
        wanted = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
        with self._lock:
            self._apply_timers()
            known_waba = object_id in self._templates or bool(wanted and set(wanted) & set(WABA_FIELDS))
            if known_waba and object_id not in self._numbers:
                self._waba(object_id, token)
                node_type, allowed = "WhatsAppBusinessAccount", WABA_FIELDS
                full: dict[str, Any] = {
                    "id": object_id,
                    "name": "Sandbox Business",
                    "currency": "USD",
                    "timezone_id": "1",
                    "message_template_namespace": _digest("namespace", object_id).hex()[:36],
                }
            else:
                node_type, allowed = "WhatsAppBusinessPhoneNumber", PHONE_FIELDS
                full = self._number(object_id, token).describe() | {
                    "code_verification_status": "VERIFIED",
                    "platform_type": "CLOUD_API",
                    "throughput": {"level": "STANDARD"},
                    "name_status": "APPROVED",
                }
        if wanted is None:
            return full
        for name in wanted:
            if name != "id" and name not in allowed:
                raise GraphError(
                    400, 100, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})"
                )
        return {name: full[name] for name in wanted if name != "id"} | {"id": object_id}

    def phone_number(self, phone_number_id: str, token: str) -> dict[str, Any]:
        return self.node(phone_number_id, token)

    def provision(self, phone_number_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Control: create or change a number (waba_id links it to that WABA; display and name fields)."""
        with self._lock:
            number = self._number(phone_number_id)
            for key in ("display_phone_number", "verified_name", "quality_rating"):
                if key in body:
                    value = body[key]
                    if not isinstance(value, str) or not value:
                        raise ControlError(400, "bad_request", f"{key} must be a non-empty string")
                    setattr(number, key, value)
            if "waba_id" in body:
                if not isinstance(body["waba_id"], str) or not body["waba_id"]:
                    raise ControlError(400, "bad_request", "waba_id must be a non-empty string")
                self._link(number, body["waba_id"])
            return self._describe_number(number)

    def number_state(self, phone_number_id: str) -> dict[str, Any]:
        with self._lock:
            self._apply_timers()
            return self._describe_number(self._number(phone_number_id))

    def _describe_number(self, number: Number) -> dict[str, Any]:
        now = self.now()
        windows = {
            contact: self.wall() + round(opened + WINDOW_SECONDS - now)
            for (number_id, contact), opened in self._windows.items()
            if number_id == number.id and opened + WINDOW_SECONDS > now
        }
        return number.describe() | {
            "waba_id": number.waba_id,
            "windows": windows,  # contact -> epoch seconds its window closes
            "reads": list(self._reads.get(number.id, [])),
        }

    def waba_phone_numbers(self, waba_id: str, token: str) -> dict[str, Any]:
        with self._lock:
            self._waba(waba_id, token)
            numbers = [n.describe() for n in self._numbers.values() if n.waba_id == waba_id]
            return {"data": numbers, "paging": {"cursors": {"before": "", "after": ""}}}

    # -- the customer service window --------------------------------------------------------------------

    def _window_open(self, number_id: str, phone: str) -> bool:
        opened = self._windows.get((number_id, phone))
        return opened is not None and self.now() < opened + WINDOW_SECONDS

    # -- templates ------------------------------------------------------------------------------------------

    def list_templates(self, waba_id: str, token: str, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self._apply_timers()
            found = [t.describe() for t in self._waba(waba_id, token).values()]
        found.sort(key=lambda t: (t["name"], t["language"]))
        for key in ("name", "language", "status", "category"):
            if query.get(key):
                wanted = query[key].upper() if key in ("status", "category") else query[key]
                found = [t for t in found if (t[key] == wanted if key != "name" else wanted in t["name"])]
        try:
            limit = int(query.get("limit") or 25)
        except ValueError:
            raise invalid_parameter("limit must be a number") from None
        if limit < 1:
            raise invalid_parameter("limit must be positive")
        after = query.get("after")
        start = _cursor_index(after) if after else 0
        page = found[start : start + limit]
        paging: dict[str, Any] = {
            "cursors": {"before": _cursor(start), "after": _cursor(start + max(len(page) - 1, 0))}
        }
        if start + limit < len(found):
            paging["cursors"]["after"] = _cursor(start + limit)
            paging["next"] = f"?limit={limit}&after={_cursor(start + limit)}"
        return {"data": page, "paging": paging}

    def create_template(self, waba_id: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        problem = tpl.check_create(body)
        if problem:
            raise invalid_parameter(problem)
        with self._lock:
            self._apply_timers()
            templates = self._waba(waba_id, token)
            if (body["name"], body["language"]) in templates:
                raise GraphError(
                    400,
                    100,
                    "Invalid parameter",
                    subcode=2388024,
                    details=f"Content in {body['language']} already exists for the template {body['name']}",
                )
            template = self._add_template(waba_id, copy.deepcopy(body), "PENDING")
            # A name with "reject" in it is rejected, every other is approved: tests can reach both.
            verdict = "REJECTED" if "reject" in template.name else "APPROVED"
            self._later(self.template_review_after, lambda at: self._review(template, verdict, at))
            return {"id": template.id, "status": "PENDING", "category": template.category}

    def set_template_status(self, template_id: str, status: str, reason: str | None) -> dict[str, Any]:
        """Control: Meta's review (or a pause, a disabling) changes a template's status now."""
        if status not in ("APPROVED", "REJECTED", "PAUSED", "DISABLED", "PENDING"):
            raise ControlError(400, "bad_request", "status must be APPROVED, REJECTED, PAUSED, DISABLED or PENDING")
        with self._lock:
            waba_id = self._template_wabas.get(template_id)
            template = next((t for t in self._templates.get(waba_id or "", {}).values() if t.id == template_id), None)
            if template is None:
                raise ControlError(404, "not_found", f"no template {template_id!r}")
            self._review(template, status, self.wall(), reason)
            return template.describe()

    def _review(self, template: Template, status: str, at: int, reason: str | None = None) -> None:
        template.status = status
        waba_id = self._template_wabas[template.id]
        value = {
            "event": status,
            "message_template_id": int(template.id),
            "message_template_name": template.name,
            "message_template_language": template.language,
            "message_template_category": template.category,
            "reason": reason or ("INVALID_FORMAT" if status == "REJECTED" else "NONE"),
        }
        if status == "REJECTED":
            value["rejection_info"] = {
                "reason": "The sandbox rejects every template whose name contains 'reject'.",
                "recommendation": "Choose another name to have it approved.",
            }
        envelope = {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": waba_id, "time": at, "changes": [{"value": value, "field": "message_template_status_update"}]}
            ],
        }
        self._webhook("message_template_status_update", waba_id, None, envelope)

    # -- sending ----------------------------------------------------------------------------------------------

    def send(self, phone_number_id: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST /{phone_number_id}/messages: a message, or a read receipt ({"status": "read", "message_id"})."""
        if body.get("messaging_product") != "whatsapp":
            raise invalid_parameter("messaging_product must be whatsapp")
        with self._lock:
            self._apply_timers()
            number = self._number(phone_number_id, token)
            if body.get("status") == "read":
                return self._mark_read(number, body)
            return self._send_message(number, body)

    def _mark_read(self, number: Number, body: dict[str, Any]) -> dict[str, Any]:
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise missing_parameter("message_id is required")
        if self._inbound.get(message_id, ("",))[0] != number.id:
            raise invalid_value(f"message_id {message_id} is not a message this number received")
        self._reads.setdefault(number.id, []).append(message_id)
        return {"success": True}

    def _recipient(self, number: Number, body: dict[str, Any]) -> tuple[str, str]:
        """(the input as given, the contact's phone in +E.164) of a send."""
        given = body.get("to", body.get("recipient"))
        if not isinstance(given, str) or not given.strip():
            raise missing_parameter("to is required")
        for (number_id, phone), _ in self._windows.items():
            if number_id == number.id and given == self._bsuid(number, phone):
                return given, phone
        try:
            phone = contact_key(given)
        except ValueError:
            raise invalid_parameter(f"to: {given!r} is not a phone number") from None
        if "@" in phone:
            raise invalid_parameter(f"to: {given!r} is not a phone number")
        return given, phone

    def _send_message(self, number: Number, body: dict[str, Any]) -> dict[str, Any]:
        recipient_type = body.get("recipient_type", "individual")
        if recipient_type != "individual":
            raise invalid_parameter("recipient_type must be individual (groups are not simulated)")
        given, phone = self._recipient(number, body)
        message_type = body.get("type", "text")
        template = None
        if message_type == "template":
            template = self._check_template(number, body.get("template"))
        else:
            _check_content(message_type, body.get(message_type), self._media)
        self._throttle(number, phone)
        sequence = next(self._sequence)
        wamid = "wamid." + base64.b32encode(_digest("wamid", number.id, phone, sequence)[:25]).decode()
        at = self.wall()
        window = self._window_open(number.id, phone)
        pricing = _pricing(template.category if template else None, window)
        sent = Sent(wamid, number.id, phone, message_type, copy.deepcopy(body), at, pricing)
        self._sent[wamid] = sent
        if not on_whatsapp(phone):
            self._later(0, lambda at: self._status(sent, "failed", at, UNDELIVERABLE))
        elif template is None and not window:
            self._later(0, lambda at: self._status(sent, "failed", at, RE_ENGAGEMENT))
        else:
            self._later(0, lambda at: self._status(sent, "sent", at))
            if kind_of(phone) != OFFLINE:
                self._later(self.delivered_after, lambda at: self._status(sent, "delivered", at))
                self._later(self.read_after, lambda at: self._status(sent, "read", at))
            if kind_of(phone) == REPLIES and message_type != "reaction":
                self._later(self.reply_after, lambda at: self._auto_reply(number, phone, wamid, at))
        answer: dict[str, Any] = {"messaging_product": "whatsapp", "contacts": [{"input": given, "wa_id": phone[1:]}]}
        answer["messages"] = [{"id": wamid} | ({"message_status": "accepted"} if template else {})]
        return answer

    def _throttle(self, number: Number, phone: str) -> None:
        """Meta's throughput and pair-rate refusals for the reserved recipients (docs/sandbox.md)."""
        prefix = phone[: len(THROTTLED_TWICE)] if len(phone) == len(THROTTLED_TWICE) + 2 else ""
        if prefix in (THROTTLED_TWICE, THROTTLED_ALWAYS):
            error = GraphError(
                400, 130429, "(#130429) Rate limit hit", details="Cloud API message throughput has been reached."
            )
        elif prefix in (PAIR_LIMITED_TWICE, PAIR_LIMITED_ALWAYS):
            error = GraphError(
                400,
                131056,
                "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                details="Too many messages sent from the sender phone number to the same recipient phone number "
                "in a short period of time.",
            )
        else:
            return
        refused = number.refusals.get(phone, 0)
        if prefix in (THROTTLED_ALWAYS, PAIR_LIMITED_ALWAYS) or refused < REFUSALS_BEFORE_ACCEPTING:
            number.refusals[phone] = refused + 1
            raise error
        number.refusals[phone] = 0

    def _check_template(self, number: Number, template: Any) -> Template:
        if not isinstance(template, dict):
            raise missing_parameter("template is required for a template message")
        name, language = template.get("name"), template.get("language")
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(name, str) or not isinstance(code, str):
            raise missing_parameter("template.name and template.language.code are required")
        found = self._waba(number.waba_id).get((name, code))
        if found is None or found.status != "APPROVED":
            raise GraphError(
                404,
                132001,
                "(#132001) Template name does not exist in the translation",
                details=f"template name ({name}) does not exist in {code}",
            )
        given: dict[tuple[str, int], list[Any]] = {}
        components = template.get("components", [])
        if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
            raise invalid_parameter("template.components must be a list of objects")
        for component in components:
            kind = str(component.get("type", "")).lower()
            index = -1
            if kind == "button":
                try:
                    index = int(component.get("index", -1))
                except (TypeError, ValueError):
                    index = -1
            parameters = component.get("parameters", [])
            if not isinstance(parameters, list):
                raise invalid_parameter(f"template {kind} parameters must be a list")
            given[(kind, index)] = parameters
        wanted = tpl.expected_parameters(found.components)
        for key in set(wanted) | set(given):
            parameters = given.get(key, [])
            if len(parameters) != wanted.get(key, 0):
                where = key[0] if key[1] < 0 else f"button {key[1]}"
                raise GraphError(
                    400,
                    132000,
                    "(#132000) Number of parameters does not match the expected number of params",
                    details=f"{where}: number of localizable_params ({len(parameters)}) does not match the "
                    f"expected number of params ({wanted.get(key, 0)})",
                )
            for parameter in parameters:
                text = parameter.get("text") if isinstance(parameter, dict) else None
                if (
                    not isinstance(parameter, dict)
                    or parameter.get("type") != "text"
                    or not isinstance(text, str)
                    or not text.strip()
                ):
                    raise GraphError(
                        400,
                        132012,
                        "(#132012) Parameter format does not match format in the created template",
                        details=f'{key[0]}: every parameter must be {{"type": "text", "text": <non-empty>}}',
                    )
        return found

    def _status(self, sent: Sent, status: str, at: int, error: tuple[int, str, str] | None = None) -> None:
        number = self._numbers.get(sent.phone_number_id)
        if number is None:  # reset meanwhile
            return
        item: dict[str, Any] = {"id": sent.id, "status": status, "timestamp": str(at), "recipient_id": sent.to[1:]}
        tracker = sent.request.get("biz_opaque_callback_data")
        if isinstance(tracker, str) and tracker:
            item["biz_opaque_callback_data"] = tracker  # Meta echoes the sender's tracking data on every status
        if sent.to.startswith(USERNAME_ONLY) and len(sent.to) == len(USERNAME_ONLY) + 3:
            item["recipient_user_id"] = self._bsuid(number, sent.to)
        if error is not None:
            item["errors"] = [_status_error(*error)]
        else:
            assert sent.pricing is not None
            if status in ("sent", "delivered"):
                conversation: dict[str, Any] = {
                    "id": derived_digits(
                        "conversation", sent.phone_number_id, sent.to, sent.pricing["category"], length=16
                    )
                }
                if status == "sent":
                    conversation["expiration_timestamp"] = str(sent.created_at + WINDOW_SECONDS)
                item["conversation"] = conversation | {"origin": {"type": sent.pricing["category"]}}
            item["pricing"] = copy.deepcopy(sent.pricing)
        sent.statuses.append({"status": status, "timestamp": at} | ({"errors": item["errors"]} if error else {}))
        self._messages_webhook(number, {"statuses": [item]})

    # -- contacts writing in ----------------------------------------------------------------------------------

    def _bsuid(self, number: Number, phone: str) -> str:
        """The contact's business-scoped user id: "<region>.<digits>", the same for every number of a WABA."""
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(phone)) or "ZZ"
        except phonenumbers.NumberParseException:
            region = "ZZ"
        return f"{region}.{derived_digits('bsuid', number.waba_id, phone, length=16)}"

    def inbound(self, phone_number_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Control: a contact writes to a number (opens its window) → a `messages` webhook. See docs/sandbox.md."""
        sender = body.get("from")
        if not isinstance(sender, str) or not sender:
            raise ControlError(400, "bad_request", "from must be a phone number")
        try:
            phone = contact_key(sender)
        except ValueError:
            raise ControlError(400, "bad_request", f"from must be a phone number: {sender!r}") from None
        if "@" in phone or not on_whatsapp(phone):
            raise ControlError(422, "not_on_whatsapp", f"{sender} is not on WhatsApp: it cannot write")
        text = body.get("text")
        message_type = body.get("type", "text")
        if not isinstance(message_type, str):
            raise ControlError(400, "bad_request", "type must be a string")
        message: dict[str, Any] = {"type": message_type}
        if message_type == "text":
            if not isinstance(text, str) or not text:
                raise ControlError(400, "bad_request", "a text needs text (a non-empty string)")
            message["text"] = {"body": text}
        elif message_type in _MEDIA_TYPES:
            message[message_type] = self._inbound_media(phone_number_id, message_type, body)
        else:
            content = body.get(message_type)
            if not isinstance(content, dict):
                raise ControlError(
                    400, "bad_request", f"a {message_type} needs {message_type} (its object as Meta sends it)"
                )
            message[message_type] = copy.deepcopy(content)
            if message_type == "unsupported":  # what Meta sends for a type the Cloud API cannot deliver (a poll)
                message["errors"] = [
                    _status_error(131051, "Message type unknown", "Message type is currently not supported.")
                ]
        for key in ("name", "id", "context"):
            if key in body and (not isinstance(body[key], str) or not body[key]):
                raise ControlError(400, "bad_request", f"{key} must be a non-empty string")
        duplicate = body.get("duplicate", False)
        if not isinstance(duplicate, bool):
            raise ControlError(400, "bad_request", "duplicate must be true or false")
        with self._lock:
            self._apply_timers()
            number = self._number(phone_number_id)
            wamid, webhook = self._write_in(
                number, phone, message, self.wall(), body.get("name"), body.get("id"), body.get("context")
            )
            if duplicate:
                self._queue_delivery(webhook)
            closes = self.wall() + WINDOW_SECONDS
            return {"id": wamid, "webhook_id": webhook.id, "window_closes_at": closes}

    def _inbound_media(self, phone_number_id: str, message_type: str, body: dict[str, Any]) -> dict[str, Any]:
        media = body.get("media")
        if not isinstance(media, dict):
            raise ControlError(400, "bad_request", "media content needs media {mime_type, data_base64, filename?}")
        mime_type, encoded = media.get("mime_type"), media.get("data_base64")
        if not isinstance(mime_type, str) or "/" not in mime_type:
            raise ControlError(400, "bad_request", "media.mime_type must be a MIME type")
        try:
            data = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else b""
        except ValueError:
            data = b""
        if not data:
            raise ControlError(400, "bad_request", "media.data_base64 must be non-empty base64")
        with self._lock:
            media_id = self._store_media(phone_number_id, mime_type, data)
        item: dict[str, Any] = {"mime_type": mime_type, "sha256": hashlib.sha256(data).hexdigest(), "id": media_id}
        if isinstance(body.get("caption"), str) and message_type in ("image", "video", "document"):
            item["caption"] = body["caption"]
        if message_type == "document":
            item["filename"] = media.get("filename") if isinstance(media.get("filename"), str) else "file"
        if message_type == "audio":
            item["voice"] = body.get("voice") is True
        if message_type == "sticker":
            item["animated"] = body.get("animated") is True
        return item

    def _write_in(
        self,
        number: Number,
        phone: str,
        message: dict[str, Any],
        at: int,
        name: str | None = None,
        wamid: str | None = None,
        context: str | None = None,
    ) -> tuple[str, Webhook]:
        sequence = next(self._sequence)
        wamid = wamid or "wamid." + base64.b32encode(_digest("inbound", number.id, phone, sequence)[:25]).decode()
        self._inbound[wamid] = (number.id, phone)
        self._windows[(number.id, phone)] = self.now()
        bsuid = self._bsuid(number, phone)
        username_only = phone.startswith(USERNAME_ONLY) and len(phone) == len(USERNAME_ONLY) + 3
        contact: dict[str, Any] = {"profile": {"name": name or f"Contact {phone[-4:]}"}}
        item: dict[str, Any] = {}
        if not username_only:
            contact["wa_id"], item["from"] = phone[1:], phone[1:]
        else:
            contact["profile"]["username"] = f"user{phone[-4:]}"
        contact["user_id"], item["from_user_id"] = bsuid, bsuid
        item |= {"id": wamid, "timestamp": str(at)}
        if context:
            item["context"] = {"from": number.metadata_phone, "id": context}
        item |= message
        return wamid, self._messages_webhook(number, {"contacts": [contact], "messages": [item]})

    def _auto_reply(self, number: Number, phone: str, wamid: str, at: int) -> None:
        message = {"type": "text", "text": {"body": f"Auto-reply to {wamid}"}}
        self._write_in(number, phone, message, at, context=wamid)

    # -- media --------------------------------------------------------------------------------------------------

    def _store_media(self, phone_number_id: str, mime_type: str, data: bytes) -> str:
        media_id = derived_digits(
            "media", phone_number_id, hashlib.sha256(data).hexdigest(), next(self._sequence), length=16
        )
        self._media[media_id] = (mime_type, data, phone_number_id)
        return media_id

    def upload(self, phone_number_id: str, token: str, mime_type: str, data: bytes) -> dict[str, Any]:
        if not data:
            raise invalid_parameter("file is empty")
        if not _supported_media(mime_type):
            raise GraphError(400, 131053, "(#131053) Media upload error", details=f"Unsupported file type: {mime_type}")
        with self._lock:
            self._number(phone_number_id, token)
            return {"id": self._store_media(phone_number_id, mime_type, data)}

    def is_media(self, object_id: str) -> bool:
        with self._lock:
            return object_id in self._media or object_id in self._deleted_media

    def media_info(self, media_id: str, base_url: str) -> dict[str, Any]:
        with self._lock:
            found = self._media.get(media_id)
        if found is None:
            raise unknown_object(media_id)
        mime_type, data, _ = found
        url = f"{base_url}/graph/whatsapp_business/attachments/?mid={media_id}&hash={self._media_hash(media_id)}"
        return {
            "url": url,
            "mime_type": mime_type,
            "sha256": hashlib.sha256(data).hexdigest(),
            "file_size": len(data),
            "id": media_id,
            "messaging_product": "whatsapp",
        }

    def _media_hash(self, media_id: str) -> str:
        return hmac.new(self.app_secret.encode(), f"media:{media_id}".encode(), hashlib.sha256).hexdigest()[:16]

    def download(self, media_id: str, url_hash: str) -> tuple[str, bytes] | None:
        with self._lock:
            found = self._media.get(media_id)
        if found is None or not hmac.compare_digest(url_hash, self._media_hash(media_id)):
            return None
        return found[0], found[1]

    def delete_media(self, media_id: str) -> dict[str, Any]:
        with self._lock:
            if self._media.pop(media_id, None) is None:
                raise unknown_object(media_id)
            self._deleted_media.add(media_id)
            return {"success": True}

    # -- the other side: what numbers sent ------------------------------------------------------------------------

    def sent_by(self, phone_number_id: str) -> list[dict[str, Any]]:
        with self._lock:
            self._apply_timers()
            return [s.describe() for s in self._sent.values() if s.phone_number_id == phone_number_id]

    # -- webhooks ------------------------------------------------------------------------------------------------

    def _messages_webhook(self, number: Number, value: dict[str, Any]) -> Webhook:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": number.metadata_phone, "phone_number_id": number.id},
        } | value
        envelope = {
            "object": "whatsapp_business_account",
            "entry": [{"id": number.waba_id, "changes": [{"value": value, "field": "messages"}]}],
        }
        return self._webhook("messages", number.waba_id, number.id, envelope)

    def _webhook(self, field_name: str, waba_id: str, phone_number_id: str | None, envelope: dict[str, Any]) -> Webhook:
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
        webhook = Webhook(
            next(self._webhook_ids), field_name, waba_id, phone_number_id, body, sign(body, self.app_secret)
        )
        self._webhooks[webhook.id] = webhook
        if self.callback_url:
            self._queue_delivery(webhook)
        return webhook

    def _queue_delivery(self, webhook: Webhook, due: float | None = None) -> None:
        now = self.now()
        webhook.pending += 1
        heapq.heappush(self._deliveries, _Delivery(now if due is None else due, next(self._sequence), webhook.id, now))

    def redeliver(self, webhook_id: int) -> dict[str, Any]:
        """Control: deliver this webhook (the same bytes, the same signature) once more, now."""
        with self._lock:
            webhook = self._webhooks.get(webhook_id)
            if webhook is None:
                raise ControlError(404, "not_found", f"no webhook {webhook_id}")
            self._queue_delivery(webhook)
            return webhook.describe()

    def webhooks(
        self, phone_number_id: str | None = None, field_name: str | None = None, after: int = 0
    ) -> list[dict[str, Any]]:
        with self._lock:
            self._apply_timers()
            return [
                w.describe()
                for w in self._webhooks.values()
                if w.id > after
                and (phone_number_id is None or w.phone_number_id == phone_number_id)
                and (field_name is None or w.kind == field_name)
            ]

    def set_callback(self, url: str | None) -> dict[str, Any]:
        with self._lock:
            self.callback_url = url or None
            return self.config()

    def config(self) -> dict[str, Any]:
        return {"callback_url": self.callback_url, "app_secret": self.app_secret, "time_scale": self.time_scale}

    def pump(self, send: SendFn) -> int:
        """Apply due timers, then deliver every due webhook through `send` (outside the lock: a callback may
        call the sim back). A delivery not answered 200 is retried, backoff doubling from retry_first up to
        retry_max, until retry_horizon after its first attempt. Returns how many deliveries were attempted."""
        with self._lock:
            self._apply_timers()
            now = self.now()
            due: list[tuple[_Delivery, Webhook]] = []
            while self._deliveries and self._deliveries[0].due <= now:
                delivery = heapq.heappop(self._deliveries)
                webhook = self._webhooks.get(delivery.webhook_id)
                if webhook is not None:
                    due.append((delivery, webhook))
            url = self.callback_url
        for delivery, webhook in due:
            status: int | None = None
            error: str | None = None
            if url is None:
                error = "no callback URL"
            else:
                try:
                    status = send(
                        url,
                        webhook.body,
                        {"Content-Type": "application/json", "X-Hub-Signature-256": webhook.signature},
                    )
                except Exception as exc:  # any failure to reach the callback is a failed delivery
                    error = f"{type(exc).__name__}: {exc}"
            self._log_outcome(url, status, error)
            with self._lock:
                if self._webhooks.get(webhook.id) is not webhook:
                    continue  # reset meanwhile
                attempt: dict[str, Any] = {"at": self.wall()}
                attempt |= {"status": status} if status is not None else {"error": error}
                webhook.attempts.append(attempt)
                if status == 200:
                    webhook.delivered = True
                    webhook.pending -= 1
                    continue
                delivery.tries += 1
                delay = min(self.retry_first * 2 ** (delivery.tries - 1), self.retry_max) * self.time_scale
                if self.now() + delay - delivery.first_at > self.retry_horizon * self.time_scale:
                    webhook.pending -= 1  # Meta gives up after its horizon too
                    continue
                delivery.due, delivery.sequence = self.now() + delay, next(self._sequence)
                heapq.heappush(self._deliveries, delivery)
        return len(due)

    def _log_outcome(self, url: str | None, status: int | None, error: str | None) -> None:
        """One line when the callback starts failing and one when it recovers: a stack whose webhook route
        does not exist yet retries quietly instead of logging every attempt."""
        key = url or ""
        if status == 200:
            if key in self._failing_urls:
                self._failing_urls.discard(key)
                logger.info("cloud sim: webhook deliveries to %s succeed again", key)
            return
        if key not in self._failing_urls:
            self._failing_urls.add(key)
            logger.info("cloud sim: webhook delivery to %s failed (%s); retrying with backoff", key, status or error)
        else:
            logger.debug("cloud sim: webhook delivery to %s failed again (%s)", key, status or error)

    def reset(self) -> None:
        with self._lock:
            self._reset_state()


_MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
_INTERACTIVE_TYPES = ("button", "list", "cta_url", "product", "product_list", "flow", "location_request_message")


# The media types the Cloud API takes (documents: any application/* and text/plain).
_MEDIA_MIME_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "video/mp4",
        "video/3gpp",
        "audio/aac",
        "audio/amr",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "text/plain",
    }
)


def _supported_media(mime_type: str) -> bool:
    base = mime_type.split(";", 1)[0].strip().lower()
    return base in _MEDIA_MIME_TYPES or base.startswith("application/")


def _pricing(template_category: str | None, window_open: bool) -> dict[str, Any]:
    """What Meta reports under per-message pricing: free-form replies in the window are free `service`;
    utility templates are free inside the window; marketing and authentication are always billed."""
    if template_category is None:
        return {
            "billable": False,
            "pricing_model": PRICING_MODEL,
            "category": "service",
            "type": "free_customer_service",
        }
    category = template_category.lower()
    free = category == "utility" and window_open
    return {
        "billable": not free,
        "pricing_model": PRICING_MODEL,
        "category": category,
        "type": "free_customer_service" if free else "regular",
    }


def _check_content(message_type: Any, content: Any, media: dict[str, Any]) -> None:
    """Meta's checks of a free-form message's object (the ones a well-built client can still get wrong)."""
    known = ("text", "location", "contacts", "interactive", "reaction", *_MEDIA_TYPES)
    if message_type not in known:
        raise invalid_parameter(f"type must be one of {', '.join(known)} or template")
    if message_type == "contacts":
        if not isinstance(content, list) or not content:
            raise invalid_parameter("contacts must be a non-empty list")
        return
    if not isinstance(content, dict):
        raise missing_parameter(f"{message_type} is required for a {message_type} message")
    if message_type == "text":
        body = content.get("body")
        if not isinstance(body, str) or not body.strip():
            raise missing_parameter("text.body is required")
        if len(body) > 4096:
            raise invalid_value("text.body is longer than 4096 characters")
    elif message_type in _MEDIA_TYPES:
        has_id, has_link = isinstance(content.get("id"), str), isinstance(content.get("link"), str)
        if has_id == has_link:
            raise invalid_parameter(f"{message_type} needs exactly one of id and link")
        if has_id and content["id"] not in media:
            raise invalid_value(f"{message_type}.id {content['id']} is not an uploaded media id")
    elif message_type == "location":
        for key, bound in (("latitude", 90), ("longitude", 180)):
            value = content.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise missing_parameter(f"location.{key} is required")
            try:
                if abs(float(value)) > bound:
                    raise ValueError
            except ValueError:
                raise invalid_value(f"location.{key} must be a number within ±{bound}") from None
    elif message_type == "reaction":
        if not isinstance(content.get("message_id"), str) or not isinstance(content.get("emoji"), str):
            raise missing_parameter("reaction.message_id and reaction.emoji are required")
    elif message_type == "interactive":
        _check_interactive(content)


def _check_interactive(content: dict[str, Any]) -> None:
    kind = content.get("type")
    if kind not in _INTERACTIVE_TYPES:
        raise invalid_parameter(f"interactive.type must be one of {', '.join(_INTERACTIVE_TYPES)}")
    action = content.get("action")
    if not isinstance(action, dict):
        raise missing_parameter("interactive.action is required")
    if kind in ("button", "list") and not isinstance((content.get("body") or {}).get("text"), str):
        raise missing_parameter("interactive.body.text is required")
    if kind == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise invalid_value("interactive.action.buttons must hold 1 to 3 buttons")
        for button in buttons:
            reply = button.get("reply") if isinstance(button, dict) else None
            if not isinstance(reply, dict) or not isinstance(reply.get("id"), str):
                raise invalid_value("each button needs reply.id and reply.title")
            title = reply.get("title")
            if not isinstance(title, str) or not 1 <= len(title) <= 20:
                raise invalid_value("a button's reply.title must be 1 to 20 characters")
    elif kind == "list":
        sections = action.get("sections")
        if not isinstance(action.get("button"), str) or not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise invalid_value("interactive.action needs button and 1 to 10 sections")
        rows = [row for section in sections if isinstance(section, dict) for row in section.get("rows") or []]
        if not 1 <= len(rows) <= 10 or not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in rows):
            raise invalid_value("a list holds 1 to 10 rows in all, each with an id and a title")


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode().rstrip("=")


def _cursor_index(cursor: str) -> int:
    try:
        return max(int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))), 0)
    except ValueError:
        raise invalid_parameter("after is not a cursor this endpoint gave") from None


__all__ = [
    "INVALID_TOKEN",
    "TEST_APP_SECRET",
    "ControlError",
    "GraphError",
    "GraphSim",
    "sign",
]
