"""Meta's Cloud API (the Graph API) and the lookup of the numbers connected through it."""

from __future__ import annotations

from typing import Any, Protocol

from bzapper.domain.cloud import Credentials


class CloudApi(Protocol):
    """The Graph API calls of the `cloud` engine. Every call raises GraphFailure (bzapper.domain.cloud) when
    Graph refuses or cannot be reached; a content the Cloud API cannot carry raises UnsupportedCloudContent."""

    def number(self, credentials: Credentials) -> dict[str, Any]:
        """GET /{phone_number_id}: `display_phone_number`, `verified_name`, `quality_rating` (checks the token)."""
        ...

    def send(self, credentials: Credentials, job: dict[str, Any], media: bytes | None = None) -> str:
        """Upload the job's media (when it has some: `media` holds its bytes), send it; Meta's message id."""
        ...

    def media(self, credentials: Credentials, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        """A received media's bytes and MIME type (GET /{media_id}, then its URL)."""
        ...

    def mark_read(self, credentials: Credentials, wa_message_id: str) -> None: ...

    def templates(self, credentials: Credentials) -> list[dict[str, Any]]:
        """Every message template of the number's WABA as Graph lists them (`id`, `name`, `language`, `status`,
        `category`, `components`), every page followed. For the template source, wired with the templates."""
        ...


class CloudNumbers(Protocol):
    """phone_number_id -> the one instance connected through it (webhooks name only the phone_number_id)."""

    def claim(self, phone_number_id: str, instance_id: str) -> str | None:
        """Claims the number for the instance; the instance that already holds it (alive) instead, if any."""
        ...

    def owner(self, phone_number_id: str) -> str | None: ...

    def release(self, phone_number_id: str, instance_id: str) -> None:
        """Frees the number if this instance holds it."""
        ...
