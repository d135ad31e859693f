"""Counting AWS requests with botocore's event hooks, by component, service and operation.

Every botocore client created in this process after `install()` gets the hooks: boto3's clients, and
PynamoDB's (`Model._get_connection().connection.client`, and the client of every `Connection()` a
transaction builds). Registering on the session's `create_client` instead of on a few known clients
matters here: `MessageStore.commit_send` builds a new `Connection` (so a new botocore session and
client) for every transaction, and a hook placed on the model's client would never see it.

Hooks used: `before-parameter-build` (the API-level parameters, and the start of the call),
`before-call` (the count), `request-created` (one per HTTP attempt, to see retries), `after-call` /
`after-call-error` (the end of the call, and the parsed answer). A `sizer` can look at the DynamoDB
items a call touches, before and after it, so request units are computed from real item sizes.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session


@dataclass
class Call:
    component: str
    service: str
    operation: str
    params: dict[str, Any]
    seconds: float = 0.0
    attempts: int = 0
    parsed: dict[str, Any] | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # what the sizer saw (item sizes)


class Recorder:
    """Thread-safe; records only while `active`, tagging each call with the current component."""

    def __init__(self) -> None:
        self.active = False
        self.component = "unlabelled"
        self.calls: list[Call] = []
        self.clients_created: Counter[str] = Counter()
        self.sizer: Callable[[Call, str], None] | None = None
        self._lock = threading.Lock()
        self._installed = False
        # Time spent inside botocore calls, all threads together, even while not recording: FastAPI runs
        # a sync endpoint on a worker thread, so a per-thread figure would miss the handler's calls.
        self._aws_seconds = 0.0

    # -- installation --------------------------------------------------------------------------

    def install(self) -> None:
        if self._installed:
            return
        recorder = self
        original = botocore.session.Session.create_client

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            if recorder.active:
                with recorder._lock:
                    recorder.clients_created[f"{recorder.component}:{client.meta.service_model.service_name}"] += 1
            events = client.meta.events
            events.register("before-parameter-build", recorder._on_start)
            events.register("before-call", recorder._on_call)
            events.register("request-created", recorder._on_attempt)
            events.register("after-call", recorder._on_end)
            events.register("after-call-error", recorder._on_error)
            return client

        create_client.__wrapped__ = original  # type: ignore[attr-defined]
        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        self._installed = True

    # -- hooks -----------------------------------------------------------------------------------

    def _on_start(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.active:
            call = Call(self.component, model.service_model.service_name, model.name, dict(params))
            context["bench_call"] = call
            if self.sizer is not None:
                self.sizer(call, "before")
        context["bench_started"] = time.perf_counter()

    def _on_call(self, context: dict[str, Any], **_: Any) -> None:
        call = context.get("bench_call")
        if call is not None:
            with self._lock:
                self.calls.append(call)

    def _on_attempt(self, request: Any = None, **_: Any) -> None:
        context = getattr(request, "context", None) or {}
        call = context.get("bench_call")
        if call is not None:
            call.attempts += 1

    def _finish(self, context: dict[str, Any]) -> Call | None:
        started = context.get("bench_started")
        if started is not None:
            elapsed = time.perf_counter() - started
            with self._lock:
                self._aws_seconds += elapsed
        call = context.get("bench_call")
        if call is not None and started is not None:
            call.seconds = time.perf_counter() - started
        return call

    def _on_end(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call = self._finish(context)
        if call is not None:
            call.parsed = parsed
            if self.sizer is not None:
                self.sizer(call, "after")

    def _on_error(self, exception: Exception, context: dict[str, Any], **_: Any) -> None:
        call = self._finish(context)
        if call is not None:
            call.error = type(exception).__name__

    # -- use ------------------------------------------------------------------------------------

    def aws_seconds(self) -> float:
        """Seconds spent inside botocore calls (all threads) since the process started."""
        return self._aws_seconds

    @contextmanager
    def recording(self, component: str) -> Iterator[None]:
        previous = (self.active, self.component)
        self.active, self.component = True, component
        try:
            yield
        finally:
            self.active, self.component = previous

    def take(self) -> list[Call]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls

    def take_clients(self) -> Counter[str]:
        with self._lock:
            created, self.clients_created = self.clients_created, Counter()
        return created


RECORDER = Recorder()


def by_operation(calls: list[Call], per: float = 1.0) -> dict[str, dict[str, float]]:
    """{component: {"service:Operation": count / per}}, sorted for reading."""
    table: dict[str, Counter[str]] = {}
    for call in calls:
        table.setdefault(call.component, Counter())[f"{call.service}:{call.operation}"] += 1
    return {
        component: {name: round(count / per, 3) for name, count in sorted(counter.items())}
        for component, counter in sorted(table.items())
    }


def eventbridge_entries(calls: list[Call]) -> int:
    return sum(len(call.params.get("Entries", [])) for call in calls if call.operation == "PutEvents")
