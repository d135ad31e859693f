"""An instance's settings (PATCH /instances/{id} {settings}): the record, its defaults and its rules. Pure.

Stored on the instance item as the JSON of `stored()`; a proxy's password is stored sealed (the OTP sealer,
KMS on AWS) under `proxy_secret`, never in `proxy_url`, and is never shown: the API shows `user:***@`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from bzapper.domain.errors import validation_failed

REJECT_MESSAGE_MAX = 1024
PROXY_SCHEMES = ("http", "https", "socks5")
MASK = "***"


@dataclass(frozen=True, slots=True)
class InstanceSettings:
    reject_calls: bool = False
    """Incoming calls are rejected by the engine at once (before the phone rings long)."""
    reject_call_message: str | None = None
    """Sent to a rejected caller as an ordinary outbound text (client_reference `auto:reject_call`)."""
    ignore_groups: bool = False
    """Group traffic is dropped where inbound is applied: no inbox row, no event."""
    always_online: bool = False
    """The number shows as online while its session is open."""
    read_incoming: bool = False
    """Incoming messages get read receipts automatically."""
    presence_events: bool = False
    """Contacts' presence (online, typing…) becomes presence.updated events; dropped by the worker when off."""
    history_sync: bool = False
    """What WhatsApp hands a newly paired device is imported into the inbox (docs/history.md). Read by the
    session and the worker when history arrives: it matters before pairing; after it, WhatsApp sends no history
    again until the next pairing."""
    proxy_url: str | None = None
    """The proxy WITHOUT its password (`scheme://user@host:port`); the password is `proxy_secret`."""
    proxy_secret: str | None = None
    """The proxy's password, sealed. Only the engine's host unseals it."""

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> InstanceSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (stored or {}).items() if k in known})

    def stored(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v != getattr(DEFAULTS, k)}

    def public(self) -> dict[str, Any]:
        """What the API shows: every setting with its default, the proxy with its password masked."""
        shown = {k: v for k, v in asdict(self).items() if k != "proxy_secret"}
        shown["proxy_url"] = masked_proxy(self.proxy_url, self.proxy_secret is not None)
        return shown

    def for_engine(self) -> dict[str, Any]:
        """What the session needs (JSON-able: it crosses the host pipe); the password stays sealed."""
        return asdict(self)


DEFAULTS = InstanceSettings()
BOOLEAN_KEYS = ("reject_calls", "ignore_groups", "always_online", "read_incoming", "presence_events", "history_sync")
KEYS = (*BOOLEAN_KEYS, "reject_call_message", "proxy_url")
"""What a customer may set (proxy_secret is ours)."""
WORKER_KEYS = frozenset(
    {
        "always_online",
        "proxy_url",
        "proxy_secret",
        "reject_calls",
        "ignore_groups",
        "read_incoming",
        "presence_events",
        "history_sync",
    }
)
"""Settings the number's worker applies (the session itself: online, proxy, calls, history; the worker around
it: groups dropped, automatic read receipts, presence events and history reported or dropped): a change to one of
them is sent to the worker holding the number."""


@dataclass(frozen=True, slots=True)
class ProxyUrl:
    scheme: str
    host: str
    """As written in the URL (an IPv6 address keeps its brackets)."""
    port: int
    username: str | None
    password: str | None

    def without_password(self) -> str:
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def parse_proxy(url: str) -> ProxyUrl:
    """Reads a proxy URL: http, https or socks5, a host, an explicit port, credentials allowed, nothing else
    (no path, query or fragment). The host itself is judged by the SSRF rules (bzapper.net.check_proxy)."""
    if not isinstance(url, str) or len(url) > 2048 or any(c.isspace() or ord(c) < 0x20 for c in url):
        raise validation_failed("settings.proxy_url", "error.proxy_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:  # a bad port or bracket
        raise validation_failed("settings.proxy_url", "error.proxy_url") from error
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname or port is None or port == 0:
        raise validation_failed("settings.proxy_url", "error.proxy_url")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise validation_failed("settings.proxy_url", "error.proxy_url")
    host = parts.netloc.rpartition("@")[2].rsplit(":", 1)[0]
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return ProxyUrl(parts.scheme, host, port, username, password)


def masked_proxy(proxy_url: str | None, has_password: bool) -> str | None:
    """`socks5://user:***@host:1080` for a proxy with a password; as stored otherwise."""
    if proxy_url is None or not has_password:
        return proxy_url
    scheme, _, rest = proxy_url.partition("://")
    user, at, host = rest.rpartition("@")
    return f"{scheme}://{user}:{MASK}@{host}" if at else f"{scheme}://:{MASK}@{rest}"


def with_password(proxy_url: str, password: str | None) -> str:
    """The full proxy URL an engine dials (inside the host only, after unsealing)."""
    if not password:
        return proxy_url
    scheme, _, rest = proxy_url.partition("://")
    user, at, host = rest.rpartition("@")
    return f"{scheme}://{user if at else ''}:{quote(password, safe='')}@{host if at else rest}"


def drops_inbound(settings: InstanceSettings, chat_jid: str) -> bool:
    """settings.ignore_groups: a group's traffic (`…@g.us`) is dropped before the inbox and the events."""
    return settings.ignore_groups and chat_jid.endswith("@g.us")


def check_patch(patch: dict[str, Any]) -> dict[str, Any]:
    """The patch's keys and value types, checked (422 naming `settings.<key>`); the proxy is parsed later."""
    if not isinstance(patch, dict):
        raise validation_failed("settings")
    for key, value in patch.items():
        param = f"settings.{key}"
        if key not in KEYS:
            raise validation_failed(param, "error.unknown_setting", setting=key)
        if key in BOOLEAN_KEYS and not isinstance(value, bool):
            raise validation_failed(param, "error.setting_boolean", setting=key)
        if key == "reject_call_message" and value is not None and not _message_ok(value):
            raise validation_failed(param, "error.reject_call_message", limit=REJECT_MESSAGE_MAX)
        if key == "proxy_url" and value is not None and not isinstance(value, str):
            raise validation_failed(param, "error.proxy_url")
    return patch


def _message_ok(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= REJECT_MESSAGE_MAX


def apply_patch(
    current: InstanceSettings, patch: dict[str, Any], *, proxy_url: str | None = None, proxy_secret: str | None = None
) -> InstanceSettings:
    """Only the given keys change. `proxy_url`/`proxy_secret`: the proxy as checked and sealed by the caller
    (when the patch names `proxy_url`; null removes the proxy and its password)."""
    changes = {k: v for k, v in check_patch(patch).items() if k != "proxy_url"}
    if "proxy_url" in patch:
        changes.update(proxy_url=proxy_url, proxy_secret=proxy_secret)
    return replace(current, **changes)


def session_changed(before: InstanceSettings, after: InstanceSettings) -> bool:
    return any(getattr(before, key) != getattr(after, key) for key in WORKER_KEYS)
