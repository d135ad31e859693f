"""The simulated Cloud API under a fake clock, reached through an httpx client with no socket, and a callback
that records the signed webhooks it is sent (tests of the sim, and of anything that talks to Meta)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from bzapper_dev.sandbox.graph import GraphSim
from bzapper_dev.sandbox.graph.http import transport
from support.sandbox import FakeClock

CALLBACK = "http://api.test/cloud/webhook"
TOKEN = "EAAsandbox-token"
VERSION = "v23.0"


def fake_sim(clock: FakeClock, **options: Any) -> GraphSim:
    """A sim on the fake clock (model time and wall time move together), posting to CALLBACK."""
    options.setdefault("callback_url", CALLBACK)
    return GraphSim(clock=clock, wall=lambda: clock.ms() / 1000, **options)


def graph_client(sim: GraphSim, token: str | None = TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(transport=transport(sim), base_url="http://sim.test", headers=headers)


@dataclass
class Callback:
    """A webhook receiver: answers each delivery with the next of `answers` (then 200), records everything."""

    answers: list[int | Exception] = field(default_factory=list)
    received: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.received.append((url, body, headers))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body, _ in self.received]

    def values(self) -> list[dict[str, Any]]:
        """The `value` of every change received, in order."""
        return [change["value"] for body in self.bodies() for entry in body["entry"] for change in entry["changes"]]

    def statuses(self) -> list[tuple[str, str]]:
        """(wamid, status) of every status received, in order."""
        return [(s["id"], s["status"]) for value in self.values() for s in value.get("statuses", [])]

    def messages(self) -> list[dict[str, Any]]:
        return [m for value in self.values() for m in value.get("messages", [])]

    def clear(self) -> None:
        self.received.clear()
