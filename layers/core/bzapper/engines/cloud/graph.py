"""The Graph API client of the `cloud` engine (bzapper.ports.cloud.CloudApi), on httpx.

Live numbers talk to graph.facebook.com, test-mode numbers to the simulated Graph API at
`{BZ_SANDBOX_URL}/graph`; the version is `BZ_GRAPH_API_VERSION`. A send is one call (text, location, contacts,
reaction, interactive) or two (media: `POST /{phone_number_id}/media`, then the message naming the upload's id).
The token travels in the Authorization header only: no URL, log line or exception carries it.
"""

from __future__ import annotations

import threading
from typing import Any

from bzapper.domain.cloud import Credentials, GraphFailure, error_of
from bzapper.domain.content import MEDIA_TYPES
from bzapper.engines.cloud import builders

TEMPLATES_PAGE = 100
TEMPLATE_PAGES_MAX = 50
"""A WABA holds at most a few thousand templates (250 per page would be Meta's most): 5,000 at 100 a page."""


class GraphApi:
    def __init__(
        self, *, live_url: str, test_url: str | None, version: str, transport: Any = None, timeout: float = 10.0
    ) -> None:
        """`transport`: an httpx transport (tests pass a MockTransport)."""
        self.live_url = live_url.rstrip("/")
        self.test_url = test_url.rstrip("/") if test_url else None
        self.version = version
        self._transport = transport
        self._timeout = timeout
        self._client: Any = None
        self._lock = threading.Lock()

    def _http(self) -> Any:
        with self._lock:
            if self._client is None:
                import httpx  # lazy: only the functions that talk to Graph pay for it

                self._client = httpx.Client(
                    transport=self._transport, timeout=self._timeout, follow_redirects=False, trust_env=False
                )
            return self._client

    def _base(self, credentials: Credentials) -> str:
        if credentials.livemode:
            return f"{self.live_url}/{self.version}"
        if not self.test_url:
            raise GraphFailure(0, None, "no simulated Graph API configured (BZ_SANDBOX_URL)")
        return f"{self.test_url}/{self.version}"

    def _call(self, method: str, url: str, credentials: Credentials, **kwargs: Any) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {credentials.token}"}
        try:
            answer = self._http().request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise GraphFailure(0, None, type(error).__name__) from None
        if answer.status_code >= 400:
            try:
                body = answer.json()
            except ValueError:
                body = {}
            code, title = error_of(body)
            raise GraphFailure(answer.status_code, code, title)
        return answer

    def number(self, credentials: Credentials) -> dict[str, Any]:
        answer = self._call(
            "GET",
            f"{self._base(credentials)}/{credentials.phone_number_id}",
            credentials,
            params={"fields": "display_phone_number,verified_name,quality_rating"},
        )
        body: dict[str, Any] = answer.json()
        return body

    def send(self, credentials: Credentials, job: dict[str, Any], media: bytes | None = None) -> str:
        message_type, content = job["type"], job.get("content") or {}
        payload = builders.build(message_type, content, job["to_jid"], media_id="pending")  # refuse before upload
        if message_type in MEDIA_TYPES:
            if media is None:
                raise builders.UnsupportedContent("media bytes missing")
            payload = builders.build(
                message_type, content, job["to_jid"], media_id=self._upload(credentials, content, media)
            )
        answer = self._call(
            "POST", f"{self._base(credentials)}/{credentials.phone_number_id}/messages", credentials, json=payload
        )
        messages = answer.json().get("messages") or [{}]
        wa_id = messages[0].get("id")
        if not wa_id:
            raise GraphFailure(answer.status_code, None, "no message id in the answer")
        return str(wa_id)

    def _upload(self, credentials: Credentials, content: dict[str, Any], data: bytes) -> str:
        media = content.get("media") or {}
        mime = str(media.get("mime_type") or "application/octet-stream")
        if content.get("voice"):
            mime = "audio/ogg"  # Meta takes a voice note as OGG/Opus
        filename = str(content.get("filename") or media.get("filename") or "file")
        answer = self._call(
            "POST",
            f"{self._base(credentials)}/{credentials.phone_number_id}/media",
            credentials,
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (filename, data, mime)},
        )
        media_id = answer.json().get("id")
        if not media_id:
            raise GraphFailure(answer.status_code, None, "no media id in the answer")
        return str(media_id)

    def media(self, credentials: Credentials, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        info = self._call("GET", f"{self._base(credentials)}/{media_id}", credentials).json()
        url, mime = info.get("url"), str(info.get("mime_type") or "application/octet-stream")
        if not url:
            raise GraphFailure(404, None, "no url for the media")
        if int(info.get("file_size") or 0) > max_bytes:
            raise GraphFailure(413, None, "media too large")
        data = self._call("GET", str(url), credentials).content
        if len(data) > max_bytes:
            raise GraphFailure(413, None, "media too large")
        return data, mime

    def templates(self, credentials: Credentials) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": TEMPLATES_PAGE, "fields": "id,name,language,status,category,components"}
        for _ in range(TEMPLATE_PAGES_MAX):
            page = self._call(
                "GET", f"{self._base(credentials)}/{credentials.waba_id}/message_templates", credentials, params=params
            ).json()
            found += [item for item in page.get("data") or [] if isinstance(item, dict)]
            after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (page.get("paging") or {}).get("next"):
                return found
            params = {**params, "after": after}
        return found

    def mark_read(self, credentials: Credentials, wa_message_id: str) -> None:
        self._call(
            "POST",
            f"{self._base(credentials)}/{credentials.phone_number_id}/messages",
            credentials,
            json=builders.mark_read(wa_message_id),
        )
