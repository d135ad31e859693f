"""HTTP client of the sandbox WhatsApp network: what the session worker, the sandbox API and tests use.

Answers map back to the network's own outcomes: a 409 is re-raised as NotConnected (with the state), a
422 as SandboxNetworkError with `code` (the stable reason, e.g. not_on_whatsapp), anything else as
SandboxNetworkError.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bzapper.domain.engine import NotConnected

if TYPE_CHECKING:
    import httpx

# Added to a long poll's wait for the client timeout, so the server answers before the client gives up.
_LONG_POLL_MARGIN_SECONDS = 5.0


class SandboxNetworkError(Exception):
    """The network could not be reached, or answered with an error (status_code then set)."""

    def __init__(self, message: str, *, status_code: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body

    @property
    def code(self) -> str | None:
        """The network's stable reason on an error answer (e.g. "not_on_whatsapp" on a 422)."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("code") if isinstance(error, dict) else None


def _path(*segments: str) -> str:
    return "/v1/" + "/".join(quote(segment, safe="") for segment in segments)


class SandboxNetworkClient:
    """One method per endpoint over one keep-alive connection pool; thread-safe as httpx.Client is."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()  # two first calls from two threads must not open two pools

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                # Imported here: httpx costs tens of milliseconds, and cold starts pay for every import.
                import httpx

                self._client = httpx.Client(base_url=self.base_url, timeout=self.timeout)
            return self._client

    def _response(
        self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float | None = None
    ) -> httpx.Response:
        import httpx

        try:
            response = self._http().request(
                method, path, json=body, timeout=timeout if timeout is not None else self.timeout
            )
        except httpx.HTTPError as exc:
            raise SandboxNetworkError(f"{method} {path}: {exc!r}") from exc
        if not response.is_success:
            try:
                payload = response.json()
            except ValueError:
                payload = response.text
            error = payload.get("error") if isinstance(payload, dict) else None
            if response.status_code == 409 and isinstance(error, dict) and isinstance(error.get("state"), str):
                raise NotConnected(error["state"])
            raise SandboxNetworkError(
                f"{method} {path}: HTTP {response.status_code}: {payload}",
                status_code=response.status_code,
                body=payload,
            )
        return response

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        response = self._response(method, path, body, timeout)
        try:
            return response.json()
        except ValueError as exc:
            raise SandboxNetworkError(f"{method} {path}: not JSON", status_code=response.status_code) from exc

    def send(
        self, account_id: str, instance_id: str, to_jid: str, wa_message_id: str, message: dict[str, Any]
    ) -> dict[str, Any]:
        """The server ack: {"wa_message_id", "server_timestamp_ms", "duplicate"}."""
        return self._request(
            "POST",
            "/v1/send",
            {
                "account_id": account_id,
                "instance_id": instance_id,
                "to_jid": to_jid,
                "wa_message_id": wa_message_id,
                "message": message,
            },
        )

    def poll(
        self,
        instance_ids: list[str],
        max_events: int = 100,
        visibility_timeout: float = 5.0,
        wait_seconds: float = 0.0,
    ) -> list[dict[str, Any]]:
        """Due events for these instances, now in flight until acked or visibility_timeout passes."""
        body = {
            "instance_ids": list(instance_ids),
            "max_events": max_events,
            "visibility_timeout": visibility_timeout,
            "wait_seconds": wait_seconds,
        }
        timeout = max(self.timeout, wait_seconds + _LONG_POLL_MARGIN_SECONDS)
        return self._request("POST", "/v1/poll", body, timeout=timeout)["events"]

    def ack(self, event_ids: list[int]) -> int:
        """Remove these events; returns how many existed."""
        return self._request("POST", "/v1/ack", {"event_ids": list(event_ids)})["acked"]

    def received(self, account_id: str, phone: str) -> list[dict[str, Any]]:
        """What one contact (phone "+55...", "55..." or JID) of this account received, oldest first."""
        return self._request("GET", _path("accounts", account_id, "contacts", phone, "messages"))["data"]

    def sent_by(self, account_id: str, phone: str) -> list[dict[str, Any]]:
        """What one contact sent to this account's instances, oldest first, with read_at once read."""
        return self._request("GET", _path("accounts", account_id, "contacts", phone, "sent"))["data"]

    # -- groups (the same names and arguments as the network's methods) ----------------------------

    def _group(self, op: str, account_id: str, instance_id: str, **body: Any) -> Any:
        return self._request("POST", f"/v1/groups/{op}", {"account_id": account_id, "instance_id": instance_id, **body})

    def create_group(self, account_id: str, instance_id: str, subject: str, participants: list[str]) -> dict[str, Any]:
        """{"group": info, "participants": a result per input}."""
        return self._group("create", account_id, instance_id, subject=subject, participants=list(participants))

    def group_info(self, account_id: str, instance_id: str, jid: str) -> dict[str, Any]:
        return self._group("info", account_id, instance_id, group_jid=jid)

    def joined_groups(self, account_id: str, instance_id: str) -> list[dict[str, Any]]:
        return self._group("joined", account_id, instance_id)["data"]

    def update_group(self, account_id: str, instance_id: str, jid: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._group("update", account_id, instance_id, group_jid=jid, changes=changes)

    def update_participants(
        self, account_id: str, instance_id: str, jid: str, action: str, participants: list[str]
    ) -> list[dict[str, Any]]:
        body = {"group_jid": jid, "action": action, "participants": list(participants)}
        return self._group("participants", account_id, instance_id, **body)["data"]

    def invite_link(self, account_id: str, instance_id: str, jid: str, *, reset: bool = False) -> str:
        return self._group("invite-link", account_id, instance_id, group_jid=jid, reset=reset)["invite_link"]

    def join_with_link(self, account_id: str, instance_id: str, link: str) -> dict[str, Any]:
        return self._group("join", account_id, instance_id, invite_link=link)

    def leave_group(self, account_id: str, instance_id: str, jid: str) -> None:
        self._group("leave", account_id, instance_id, group_jid=jid)

    def contact_join(self, account_id: str, phone: str, link: str) -> dict[str, Any]:
        """A simulated contact joins a group by its invite link."""
        body = {"account_id": account_id, "phone": phone, "invite_link": link}
        return self._request("POST", "/v1/groups/contact-join", body)

    # -- presence and the blocklist (the same names and arguments as the network's methods) -----------

    def _presence(self, op: str, account_id: str, instance_id: str, **body: Any) -> Any:
        return self._request(
            "POST", f"/v1/presence/{op}", {"account_id": account_id, "instance_id": instance_id, **body}
        )

    def send_chat_presence(self, account_id: str, instance_id: str, chat_jid: str, state: str) -> None:
        self._presence("chat", account_id, instance_id, chat_jid=chat_jid, state=state)

    def send_presence(self, account_id: str, instance_id: str, state: str) -> None:
        self._presence("own", account_id, instance_id, state=state)

    def get_blocklist(self, account_id: str, instance_id: str) -> list[dict[str, Any]]:
        return self._presence("blocklist", account_id, instance_id)["data"]

    def update_blocklist(self, account_id: str, instance_id: str, jid: str, action: str) -> dict[str, Any]:
        """{jid, phone, lid, blocked} of the contact after the block or unblock."""
        return self._presence("block", account_id, instance_id, jid=jid, action=action)

    def show_presence(
        self, account_id: str, instance_id: str, from_: str, state: str, chat: str | None = None
    ) -> dict[str, Any]:
        """A simulated contact shows its presence to the instance (a test control): {delivered, at}."""
        body: dict[str, Any] = {"from": from_, "state": state} | ({"chat": chat} if chat else {})
        return self._presence("show", account_id, instance_id, **body)

    def contact_presence(self, account_id: str, phone: str) -> list[dict[str, Any]]:
        """What one contact saw of the account's numbers: their presence, typing, and whether they block it."""
        return self._request("GET", _path("accounts", account_id, "contacts", phone, "presence"))["data"]

    # -- profiles ---------------------------------------------------------------------------------

    def own_profile(self, account_id: str, instance_id: str) -> dict[str, Any]:
        return self._request("POST", "/v1/profiles/own", {"account_id": account_id, "instance_id": instance_id})

    def update_profile(self, account_id: str, instance_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """changes: push_name, about, picture ({mime_type, data_base64} or None): the profile after."""
        body = {"account_id": account_id, "instance_id": instance_id, "changes": changes}
        return self._request("POST", "/v1/profiles/update", body)

    def contact_profile(self, account_id: str, instance_id: str, jid: str) -> dict[str, Any]:
        body = {"account_id": account_id, "instance_id": instance_id, "jid": jid}
        return self._request("POST", "/v1/profiles/contact", body)

    def profile_picture(self, account_id: str, jid: str, picture_id: str) -> tuple[str, bytes]:
        """(mime type, bytes) of a user's current picture; a 404 once it changed."""
        body = {"account_id": account_id, "jid": jid, "picture_id": picture_id}
        response = self._response("POST", "/v1/profiles/picture", body)
        return response.headers.get("Content-Type", "application/octet-stream"), response.content

    def set_contact_profile(self, account_id: str, phone: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A test control: what a simulated contact shows (name, about, business, picture: true/false)."""
        return self._request("POST", "/v1/profiles/set", {"account_id": account_id, "phone": phone, "changes": changes})

    def profile_seen(self, account_id: str, phone: str) -> dict[str, Any]:
        """What every user sees of this phone (a simulated contact or one of the account's numbers)."""
        return self._request("POST", "/v1/profiles/seen", {"account_id": account_id, "phone": phone})

    # -- devices: pairing and connection ----------------------------------------------------------

    def connect(self, account_id: str, instance_id: str, phone: str | None = None) -> dict[str, Any]:
        """Open the instance's socket; returns its state (the same arrives as a state event)."""
        body = {"account_id": account_id, "instance_id": instance_id}
        return self._request("POST", "/v1/connect", body | ({"phone": phone} if phone else {}))

    def disconnect(self, account_id: str, instance_id: str) -> dict[str, Any]:
        return self._request("POST", "/v1/disconnect", {"account_id": account_id, "instance_id": instance_id})

    def logout(self, account_id: str, instance_id: str) -> dict[str, Any]:
        return self._request("POST", "/v1/logout", {"account_id": account_id, "instance_id": instance_id})

    def scan(
        self,
        account_id: str,
        instance_id: str,
        phone: str | None = None,
        *,
        code: str | None = None,
        push_name: str | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Scan the instance's QR (or confirm its pairing code); returns its state. `history`: the phone's earlier
        conversations, handed to the newly paired device when its session asked for history (docs/history.md)."""
        body: dict[str, Any] = {"account_id": account_id, "instance_id": instance_id}
        for name, value in (("phone", phone), ("code", code), ("push_name", push_name), ("history", history)):
            if value is not None:
                body[name] = value
        return self._request("POST", "/v1/scan", body)

    def redeliver_history(self, account_id: str, instance_id: str, chunk: int = 0) -> dict[str, Any]:
        """The network hands a history chunk of the pairing again: {sync_id, chunk_id, final}."""
        body = {"account_id": account_id, "instance_id": instance_id, "chunk": chunk}
        return self._request("POST", "/v1/history/redeliver", body)

    def pairing_code(self, account_id: str, instance_id: str, phone: str) -> str:
        body = {"account_id": account_id, "instance_id": instance_id, "phone": phone}
        return self._request("POST", "/v1/pairing-code", body)["code"]

    def instance(self, account_id: str, instance_id: str) -> dict[str, Any]:
        """{instance_id, state, open, paired, phone, lid, push_name, error, qr}."""
        return self._request("GET", _path("accounts", account_id, "instances", instance_id))

    # -- contacts ---------------------------------------------------------------------------------

    def check_numbers(self, account_id: str, instance_id: str, inputs: list[str]) -> list[dict[str, Any]]:
        body = {"account_id": account_id, "instance_id": instance_id, "inputs": list(inputs)}
        return self._request("POST", "/v1/check", body)["data"]

    def inject_inbound(
        self,
        account_id: str,
        instance_id: str,
        from_: str,
        message_type: str,
        content: dict[str, Any],
        *,
        from_me: bool = False,
        push_name: str | None = None,
        wa_message_id: str | None = None,
        group: str | None = None,
        group_name: str | None = None,
    ) -> str:
        """A contact writes to the instance (content.media carries data_base64), or in a `group` (a `@g.us`
        JID) the instance is in; returns the WhatsApp id."""
        body: dict[str, Any] = {
            "account_id": account_id,
            "instance_id": instance_id,
            "from": from_,
            "type": message_type,
            "content": content,
            "from_me": from_me,
        }
        if push_name is not None:
            body["push_name"] = push_name
        for name, value in (("wa_message_id", wa_message_id), ("group", group), ("group_name", group_name)):
            if value is not None:
                body[name] = value
        return self._request("POST", "/v1/inbound", body)["wa_message_id"]

    def mark_read(
        self,
        account_id: str,
        instance_id: str,
        chat_jid: str,
        wa_message_ids: list[str],
        sender_jid: str | None = None,
    ) -> None:
        body = {
            "account_id": account_id,
            "instance_id": instance_id,
            "chat_jid": chat_jid,
            "wa_message_ids": list(wa_message_ids),
        }
        if sender_jid:
            body["sender_jid"] = sender_jid
        self._request("POST", "/v1/read", body)

    def configure(self, account_id: str, instance_id: str, settings: dict[str, Any]) -> dict[str, Any]:
        """The session's own settings (never a proxy's password): recorded by the network."""
        body = {"account_id": account_id, "instance_id": instance_id, "settings": settings}
        return self._request("POST", "/v1/settings", body)

    def call(self, account_id: str, instance_id: str, from_: str, *, video: bool = False) -> dict[str, Any]:
        """A simulated contact calls the instance (a test control): the call's record."""
        body = {"account_id": account_id, "instance_id": instance_id, "from": from_, "video": video}
        return self._request("POST", "/v1/call", body)

    def reject_call(self, account_id: str, instance_id: str, call_id: str, caller_jid: str) -> None:
        body = {"account_id": account_id, "instance_id": instance_id, "call_id": call_id, "caller_jid": caller_jid}
        self._request("POST", "/v1/call/reject", body)

    def end_call(self, account_id: str, instance_id: str, call_id: str, reason: str = "hangup") -> dict[str, Any]:
        body = {"account_id": account_id, "instance_id": instance_id, "call_id": call_id, "reason": reason}
        return self._request("POST", "/v1/call/end", body)

    def settings_of(self, account_id: str, instance_id: str) -> dict[str, Any]:
        return self._request("GET", _path("accounts", account_id, "instances", instance_id, "settings"))

    def calls(self, account_id: str, instance_id: str) -> list[dict[str, Any]]:
        return self._request("GET", _path("accounts", account_id, "instances", instance_id, "calls"))["data"]

    def reads(self, account_id: str, instance_id: str) -> list[dict[str, Any]]:
        return self._request("GET", _path("accounts", account_id, "instances", instance_id, "reads"))["data"]

    def media(self, media_id: str) -> tuple[str, bytes]:
        """(mime type, bytes) of an inbound message's media; a 404 once its event was acked."""
        response = self._response("GET", _path("media", media_id))
        return response.headers.get("Content-Type", "application/octet-stream"), response.content

    def health(self) -> bool:
        """True when the network answers; False instead of raising, for readiness checks."""
        try:
            payload = self._request("GET", "/v1/health")
        except SandboxNetworkError:
            return False
        return isinstance(payload, dict) and payload.get("ok") is True

    def reset(self) -> None:
        self._request("POST", "/v1/reset")

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def __enter__(self) -> SandboxNetworkClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
