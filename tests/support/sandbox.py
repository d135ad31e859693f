"""The sandbox network under a fake clock, and helpers to bring its instances online (no sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bzapper_dev.sandbox.network import SandboxNetwork


class FakeClock:
    """Model time (seconds) and wall time (ms) that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.wall_ms = 1_700_000_000_000

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall_ms += round(seconds * 1000)

    def ms(self) -> int:
        return self.wall_ms


def fake_network(clock: FakeClock, **options: Any) -> SandboxNetwork:
    return SandboxNetwork(clock=clock, now_ms=clock.ms, **options)


def drain(net: SandboxNetwork, instance_id: str) -> list[dict[str, Any]]:
    """Every event available now for the instance, acked (so later polls see only what comes next)."""
    events = net.poll([instance_id], max_events=10_000)
    net.ack([event["event_id"] for event in events])
    return events


def online(net: SandboxNetwork, account_id: str, instance_id: str, phone: str | None = None) -> dict[str, Any]:
    """Connect and pair (scan the QR) an instance, then drain its state events: it is ready to send."""
    net.connect(account_id, instance_id)
    state = net.scan(account_id, instance_id, phone)
    drain(net, instance_id)
    return state


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(kind, what) of each event: the state, the receipt status, the inbound type, or the identity's phone."""
    what = {"state": "state", "receipt": "status", "inbound": "type", "identity": "phone", "group": "change"}
    return [(event["kind"], event[what[event["kind"]]]) for event in events]


class InProcessClient:
    """The HTTP client's interface, answered by a network in this process (the engine's unit tests).

    Errors come back as the HTTP client raises them: NotConnected as it is, a refusal as a 422
    SandboxNetworkError with its code, bad input as a 400, missing media as a 404.
    """

    def __init__(self, network: SandboxNetwork) -> None:
        self.network = network

    def __getattr__(self, name: str) -> Any:
        from bzapper.engines.sandbox.client import SandboxNetworkError
        from bzapper_dev.sandbox.network import InvalidInput, Rejected

        method = getattr(self.network, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except Rejected as refusal:
                body = {"error": {"code": refusal.code, "message": refusal.code}}
                raise SandboxNetworkError(refusal.code, status_code=422, body=body) from refusal
            except InvalidInput as bad:
                body = {"error": {"code": "bad_request", "message": str(bad), "problem": bad.problem}}
                raise SandboxNetworkError(str(bad), status_code=400, body=body) from bad

        return call

    def media(self, media_id: str) -> tuple[str, bytes]:
        from bzapper.engines.sandbox.client import SandboxNetworkError

        found = self.network.media(media_id)
        if found is None:
            raise SandboxNetworkError("gone", status_code=404, body={"error": {"code": "not_found"}})
        return found

    def profile_picture(self, account_id: str, jid: str, picture_id: str) -> tuple[str, bytes]:
        from bzapper.engines.sandbox.client import SandboxNetworkError

        found = self.network.profile_picture(account_id, jid, picture_id)
        if found is None:
            raise SandboxNetworkError("gone", status_code=404, body={"error": {"code": "not_found"}})
        return found


def point_at(monkeypatch: Any, url: str | None) -> None:
    """Where the API finds the sandbox network (BZ_SANDBOX_URL), or nowhere; settings are read again."""
    from support.environment import Environment

    if url is None:
        Environment(monkeypatch).unset("BZ_SANDBOX_URL")
    else:
        Environment(monkeypatch).set("BZ_SANDBOX_URL", url)


def served_network(monkeypatch: Any) -> Iterator[SandboxNetwork]:
    """A sandbox network served on a loopback thread, the API pointed at it for the test (a fixture's body)."""
    from bzapper_dev.sandbox.server import serve_network

    world = SandboxNetwork()
    server, thread = serve_network(world)
    point_at(monkeypatch, f"http://127.0.0.1:{server.server_address[1]}")
    yield world
    server.shutdown()
    server.server_close()
    thread.join(5)
    point_at(monkeypatch, None)
