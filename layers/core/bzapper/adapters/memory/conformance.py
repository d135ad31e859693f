"""Each fake assigned to its port: mypy (strict) checks here that every fake satisfies its Protocol, including
the ports the services container does not hold (the worker's, the engine's, the parts of another port)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bzapper.adapters.memory import memory_fakes
    from bzapper.adapters.memory.billing import MemoryPaymentProvider
    from bzapper.adapters.memory.engine import MemoryEngine
    from bzapper.adapters.memory.events import MemoryEventBatch
    from bzapper.adapters.memory.sealing import MemorySealer
    from bzapper.adapters.memory.webhooks import MemoryDownload
    from bzapper.adapters.memory.workers import MemoryLeaseStore, MemoryQueueReader
    from bzapper.ports.billing import PaymentProvider
    from bzapper.ports.engine import Engine
    from bzapper.ports.events import EventBatch
    from bzapper.ports.sealing import Sealer
    from bzapper.ports.webhooks import Download
    from bzapper.ports.workers import LeaseStore, QueueReader
    from bzapper.services.container import Services

    services: Services = memory_fakes().services  # every port the use cases receive
    lease_store: LeaseStore = MemoryLeaseStore()
    queue_reader: QueueReader = MemoryQueueReader()
    engine: Engine = MemoryEngine()
    sealer: Sealer = MemorySealer()
    provider: PaymentProvider = MemoryPaymentProvider("sandbox")
    batch: EventBatch = memory_fakes().event_log.batch([])
    download: Download = MemoryDownload(b"")
    _ = MemoryEventBatch
