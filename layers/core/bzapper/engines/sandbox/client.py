"""HTTP client of the sandbox WhatsApp network: what the session worker (and tests) use to reach it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

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

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
        import httpx

        try:
            response = self._http().request(
                method, path, json=body, timeout=timeout if timeout is not None else self.timeout
            )
        except httpx.HTTPError as exc:
            raise SandboxNetworkError(f"{method} {path}: {exc!r}") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = response.text
        if not response.is_success:
            raise SandboxNetworkError(
                f"{method} {path}: HTTP {response.status_code}: {payload}",
                status_code=response.status_code,
                body=payload,
            )
        return payload

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
        path = f"/v1/accounts/{quote(account_id, safe='')}/contacts/{quote(phone, safe='')}/messages"
        return self._request("GET", path)["data"]

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
