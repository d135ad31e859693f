"""The SandboxWorld port over the sandbox network's HTTP client (the network runs beside the local stack)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bzapper.config import settings
from bzapper.domain.sandbox import SandboxRefused, SandboxUnavailable

if TYPE_CHECKING:
    from bzapper.engines.sandbox.client import SandboxNetworkClient, SandboxNetworkError

# The engine modules are imported on first use: every API function builds this adapter, few call it.


def _configured_url() -> str | None:
    return settings().sandbox_url


def _shared_client(url: str) -> SandboxNetworkClient:
    from bzapper.engines.sandbox.engine import shared_client

    return shared_client(url)


class HttpSandboxWorld:
    """Finds the network at call time (settings may name it after the process's adapters were built) and
    speaks to it through the process's one pooled client."""

    def __init__(
        self,
        url: Callable[[], str | None] = _configured_url,
        client_for: Callable[[str], SandboxNetworkClient] = _shared_client,
    ) -> None:
        self._url = url
        self._client_for = client_for

    @property
    def enabled(self) -> bool:
        return bool(self._url())

    def _client(self) -> SandboxNetworkClient:
        url = self._url()
        if not url:
            raise SandboxUnavailable("no sandbox network is configured")
        return self._client_for(url)

    def received(self, account_id: str, contact: str) -> list[dict[str, Any]]:
        with _translated():
            return self._client().received(account_id, contact)

    def contact_join(self, account_id: str, contact: str, invite_link: str) -> dict[str, Any]:
        with _translated():
            return self._client().contact_join(account_id, contact, invite_link)

    def scan(
        self,
        account_id: str,
        instance_id: str,
        phone: str | None = None,
        *,
        code: str | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        extra = {"history": history} if history is not None else {}
        with _translated():
            return self._client().scan(account_id, instance_id, phone, code=code, **extra)

    def redeliver_history(self, account_id: str, instance_id: str, chunk: int = 0) -> dict[str, Any]:
        with _translated():
            return self._client().redeliver_history(account_id, instance_id, chunk)

    def inject_inbound(
        self,
        account_id: str,
        instance_id: str,
        sender: str,
        message_type: str,
        content: dict[str, Any],
        *,
        from_me: bool = False,
        push_name: str | None = None,
        wa_message_id: str | None = None,
        group: str | None = None,
        group_name: str | None = None,
    ) -> str:
        with _translated():
            return self._client().inject_inbound(
                account_id,
                instance_id,
                sender,
                message_type,
                content,
                from_me=from_me,
                push_name=push_name,
                wa_message_id=wa_message_id,
                group=group,
                group_name=group_name,
            )

    def cloud_inbound(
        self, phone_number_id: str, sender: str, message_type: str, content: dict[str, Any], push_name: str | None
    ) -> str:
        """The simulated Graph API's control (`/graph-sim/…`, beside the sandbox network, on its port)."""
        import httpx

        url = self._url()
        if not url:
            raise SandboxUnavailable("no sandbox network is configured")
        body: dict[str, Any] = {"from": sender, "type": message_type, "content": content}
        if message_type == "text":
            body["text"] = content.get("body", "")
        if push_name:
            body["push_name"] = push_name
        try:
            answer = httpx.post(f"{url.rstrip('/')}/graph-sim/numbers/{phone_number_id}/inbound", json=body, timeout=10)
        except httpx.HTTPError as error:
            raise SandboxUnavailable(type(error).__name__) from error
        if answer.status_code in (400, 422):
            raise SandboxRefused("invalid", answer.text[:200] or "invalid", None)
        if answer.status_code >= 300:
            raise SandboxUnavailable(f"simulated Graph API answered {answer.status_code}")
        try:
            data = answer.json()
        except ValueError:
            data = {}
        found = (
            data.get("wa_message_id") or data.get("id") or data.get("message_id") if isinstance(data, dict) else None
        )
        return str(found or "")

    def call(self, account_id: str, instance_id: str, caller: str, *, video: bool = False) -> dict[str, Any]:
        with _translated():
            return self._client().call(account_id, instance_id, caller, video=video)

    def contact_presence(self, account_id: str, contact: str) -> list[dict[str, Any]]:
        with _translated():
            return self._client().contact_presence(account_id, contact)

    def show_presence(
        self, account_id: str, instance_id: str, contact: str, state: str, chat: str | None = None
    ) -> dict[str, Any]:
        with _translated():
            return self._client().show_presence(account_id, instance_id, contact, state, chat)

    def contact_profile(self, account_id: str, contact: str, changes: dict[str, Any] | None = None) -> dict[str, Any]:
        with _translated():
            if changes:
                return self._client().set_contact_profile(account_id, contact, changes)
            return self._client().profile_seen(account_id, contact)


@contextmanager
def _translated() -> Iterator[None]:
    """The client's errors in the port's words: a 400 or 422 answer is a refusal, anything else (no answer,
    a 5xx, a body that is not JSON) is the network being unavailable. NotConnected (a 409) passes as is."""
    from bzapper.engines.sandbox.client import SandboxNetworkError

    try:
        yield
    except SandboxNetworkError as error:
        if error.status_code in (400, 422):
            raise SandboxRefused(error.code, _reason(error), _problem(error)) from error
        raise SandboxUnavailable(str(error)) from error


def _reason(error: SandboxNetworkError) -> str:
    answer = error.body.get("error") if isinstance(error.body, dict) else None
    message = answer.get("message") if isinstance(answer, dict) else None
    return message if isinstance(message, str) and message else str(error.code or "invalid")


def _problem(error: SandboxNetworkError) -> str | None:
    answer = error.body.get("error") if isinstance(error.body, dict) else None
    problem = answer.get("problem") if isinstance(answer, dict) else None
    return problem if isinstance(problem, str) and problem else None
