"""Message templates: the copy we keep of each number's templates, and where they come from (its WhatsApp
Business Account)."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # types only: the send path imports this port's exception, not the templates' rules
    from bzapper.domain.model import InstanceView
    from bzapper.domain.templates import Template, TemplateSet


class TemplateStore(Protocol):
    def list(self, instance_id: str) -> TemplateSet | None:
        """The number's templates as last synced, with when (None: never synced)."""
        ...

    def get(self, instance_id: str, name: str, language: str) -> Template | None: ...

    def lookup(self, instance_id: str, name: str, language: str) -> tuple[Template | None, int | None]:
        """One template and when the number's templates were synced (None: never), in one read: what a
        template send needs, without reading every template of the account."""
        ...

    def replace(self, instance_id: str, templates: builtins.list[Template], synced_at: int) -> None:
        """The number's templates become exactly these (the ones gone from the account are removed)."""
        ...


class TemplateSource(Protocol):
    def fetch(self, instance: InstanceView) -> list[Template]:
        """What the number's WhatsApp Business Account holds now, every language and status. Raises
        TemplateSourceUnavailable when the account cannot be read right now."""
        ...


class TemplateSourceUnavailable(Exception):
    """The account could not be read (network, Meta's rate limit, an expired token): retry later."""
