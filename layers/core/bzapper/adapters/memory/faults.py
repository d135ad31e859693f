"""What every in-memory fake can be told and asked: fail its next calls, run something before them, and
which calls it got. Modelled on the fakes of the aws-samples cns427 sample: a test names a method, the fake
raises the given error (a throttling error, a conditional failure, a publish error) on its next N calls
before touching any state, as a failed AWS call leaves nothing behind."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


class Faults:
    """Fault injection and call recording, mixed into every fake. Thread-safe."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._injected: dict[str, list[BaseException | Callable[[], None]]] = {}
        self._faults_lock = threading.Lock()

    def fail_next(self, method: str, error: BaseException, times: int = 1) -> None:
        """The next `times` calls of `method` raise `error` without changing anything."""
        self._queue(method, error, times)

    def before_next(self, method: str, action: Callable[[], None], times: int = 1) -> None:
        """Runs `action` at the start of the next `times` calls of `method`, then the call goes on: a
        concurrent request's write staged between a service's read and its write."""
        self._queue(method, action, times)

    def calls_of(self, method: str) -> list[Call]:
        with self._faults_lock:
            return [call for call in self.calls if call.method == method]

    def call_count(self, method: str) -> int:
        return len(self.calls_of(method))

    def _queue(self, method: str, step: BaseException | Callable[[], None], times: int) -> None:
        if not callable(getattr(self, method, None)):
            raise AttributeError(f"{type(self).__name__} has no method {method!r}")  # a typo never fails silently
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._faults_lock:
            self._injected.setdefault(method, []).extend([step] * times)

    def _enter(self, method: str, /, *args: Any, **kwargs: Any) -> None:
        """Called first by every port method: records the call, then runs or raises what was queued for it."""
        with self._faults_lock:
            self.calls.append(Call(method, args, kwargs))
            queue = self._injected.get(method)
            step = queue.pop(0) if queue else None
        if isinstance(step, BaseException):
            raise step
        if step is not None:
            step()


class ConditionFailed(Exception):
    """A write whose condition did not hold where the AWS adapter lets the conditional failure escape (creating
    what exists, updating what does not): services never catch it, as they never catch PynamoDB's."""
