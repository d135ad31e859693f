"""The sim's webhook deliveries over HTTP: a daemon thread that pumps the sim's outbox to the callback URL."""

from __future__ import annotations

import logging
import threading

import httpx

from bzapper_dev.sandbox.graph.model import GraphSim

logger = logging.getLogger(__name__)

# How often (real seconds) due timers and deliveries are looked at: statuses reach the callback this
# promptly after they are due, and an idle sim costs one lock acquisition per tick.
PUMP_INTERVAL = 0.05
DELIVERY_TIMEOUT = 10.0


class WebhookPump(threading.Thread):
    def __init__(self, sim: GraphSim, interval: float = PUMP_INTERVAL) -> None:
        super().__init__(name="graph-sim-webhooks", daemon=True)
        self.sim, self.interval = sim, interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        # No proxy from the environment: the callback is the local API; redirects are not followed (Meta's
        # deliveries are not either).
        with httpx.Client(timeout=DELIVERY_TIMEOUT, trust_env=False, follow_redirects=False) as client:

            def send(url: str, body: bytes, headers: dict[str, str]) -> int:
                return client.post(url, content=body, headers=headers).status_code

            while not self._stop_event.wait(self.interval):
                try:
                    self.sim.pump(send)
                except Exception:
                    logger.exception("cloud sim: the webhook pump failed")

    def stop(self) -> None:
        self._stop_event.set()
