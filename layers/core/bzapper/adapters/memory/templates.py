"""Templates in memory (bzapper.ports.templates): the stored copy per number, and a WhatsApp Business Account
a test fills and can make unreachable."""

from __future__ import annotations

import builtins
import threading

from bzapper.adapters.memory.faults import Faults
from bzapper.domain.model import InstanceView
from bzapper.domain.templates import Template, TemplateSet
from bzapper.ports.templates import TemplateSourceUnavailable


class MemoryTemplateStore(Faults):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.sets: dict[str, TemplateSet] = {}

    def list(self, instance_id: str) -> TemplateSet | None:
        self._enter("list", instance_id)
        with self._lock:
            return self.sets.get(instance_id)

    def get(self, instance_id: str, name: str, language: str) -> Template | None:
        self._enter("get", instance_id, name, language)
        with self._lock:
            found = self.sets.get(instance_id)
        return found.find(name, language) if found else None

    def lookup(self, instance_id: str, name: str, language: str) -> tuple[Template | None, int | None]:
        self._enter("lookup", instance_id, name, language)
        with self._lock:
            found = self.sets.get(instance_id)
        return (found.find(name, language), found.synced_at) if found else (None, None)

    def replace(self, instance_id: str, templates: builtins.list[Template], synced_at: int) -> None:
        self._enter("replace", instance_id, templates, synced_at)
        with self._lock:
            self.sets[instance_id] = TemplateSet(list(templates), synced_at)


class MemoryTemplateSource(Faults):
    """The accounts' templates by instance id; `unavailable` makes every fetch fail as Meta's outage would."""

    def __init__(self) -> None:
        super().__init__()
        self.templates: dict[str, list[Template]] = {}
        self.unavailable = False
        self.fetches = 0

    def fetch(self, instance: InstanceView) -> list[Template]:
        self._enter("fetch", instance.instance_id)
        self.fetches += 1
        if self.unavailable:
            raise TemplateSourceUnavailable(instance.instance_id)
        return list(self.templates.get(instance.instance_id, []))
