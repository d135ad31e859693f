"""The SandboxWorld port: the HTTP adapter speaks the port's errors, and the adapter and the fake keep its shape."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from support.fake_sandbox import FakeSandboxWorld

from bzapper.adapters.sandbox import HttpSandboxWorld
from bzapper.domain.engine import NotConnected
from bzapper.domain.sandbox import SandboxRefused, SandboxUnavailable
from bzapper.engines.sandbox.client import SandboxNetworkError
from bzapper.ports.sandbox import SandboxWorld


class StubClient:
    """Stands for SandboxNetworkClient: raises what a test gives it, else answers."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str, tuple, dict]] = []

    def _answer(self, name: str, args: tuple, kwargs: dict, value: Any) -> Any:
        self.calls.append((name, args, kwargs))
        if self.error:
            raise self.error
        return value

    def received(self, *args: Any, **kwargs: Any) -> list:
        return self._answer("received", args, kwargs, [])

    def scan(self, *args: Any, **kwargs: Any) -> dict:
        return self._answer("scan", args, kwargs, {"state": "connected"})

    def inject_inbound(self, *args: Any, **kwargs: Any) -> str:
        return self._answer("inject_inbound", args, kwargs, "3EB0X")


def world_over(client: StubClient, url: str | None = "http://net") -> HttpSandboxWorld:
    return HttpSandboxWorld(url=lambda: url, client_for=lambda _: client)  # type: ignore[arg-type,return-value]


def refusal(status: int, code: str | None, message: str | None) -> SandboxNetworkError:
    error: dict[str, Any] = {"code": code} | ({"message": message} if message else {})
    return SandboxNetworkError("refused", status_code=status, body={"error": error})


@pytest.mark.parametrize(
    ("error", "code", "reason"),
    [
        (
            refusal(422, "not_on_whatsapp", "+5511... is not on WhatsApp"),
            "not_on_whatsapp",
            "+5511... is not on WhatsApp",
        ),
        (refusal(400, "bad_request", None), "bad_request", "bad_request"),
        (SandboxNetworkError("HTTP 400", status_code=400, body="not json"), None, "invalid"),
    ],
)
def test_an_error_answer_is_a_refusal_with_its_code_and_reason(error, code, reason):
    with pytest.raises(SandboxRefused) as info:
        world_over(StubClient(error)).scan("acc_1", "inst_1", "+5511988888888")
    assert (info.value.code, info.value.reason) == (code, reason)


@pytest.mark.parametrize(
    "error",
    [
        SandboxNetworkError("connection refused"),
        SandboxNetworkError("HTTP 500", status_code=500, body="boom"),
        SandboxNetworkError("not JSON", status_code=200),
        refusal(404, "not_found", "no such route"),
    ],
)
def test_no_answer_or_a_failure_is_unavailable(error):
    with pytest.raises(SandboxUnavailable):
        world_over(StubClient(error)).received("acc_1", "+5511988888888")


def test_not_connected_passes_as_the_engine_ports_error():
    with pytest.raises(NotConnected):
        world_over(StubClient(NotConnected("disconnected"))).inject_inbound("acc_1", "inst_1", "+55", "text", {})


def test_calls_reach_the_client_with_every_argument():
    client = StubClient()
    world = world_over(client)
    assert (
        world.inject_inbound(
            "acc_1", "inst_1", "+5511988888888", "text", {"body": "x"}, push_name="M", group="1@g.us", group_name="G"
        )
        == "3EB0X"
    )
    assert world.scan("acc_1", "inst_1", code="ABCD-EFGH") == {"state": "connected"}
    assert client.calls[0][2] == {
        "from_me": False,
        "push_name": "M",
        "wa_message_id": None,
        "group": "1@g.us",
        "group_name": "G",
    }
    assert client.calls[1] == ("scan", ("acc_1", "inst_1", None), {"code": "ABCD-EFGH"})


def test_the_network_is_found_at_call_time():
    urls: list[str | None] = [None]
    seen: list[str] = []
    world = HttpSandboxWorld(url=lambda: urls[-1], client_for=lambda url: seen.append(url) or StubClient())  # type: ignore[arg-type,return-value]
    assert world.enabled is False
    with pytest.raises(SandboxUnavailable):
        world.received("acc_1", "+5511988888888")
    urls.append("http://127.0.0.1:8765")  # configured after the adapter was built (settings re-read)
    assert world.enabled is True and world.received("acc_1", "+5511988888888") == []
    assert seen == ["http://127.0.0.1:8765"]


@pytest.mark.parametrize("implementation", [HttpSandboxWorld, FakeSandboxWorld])
def test_the_adapter_and_the_fake_keep_the_ports_signatures(implementation):
    for name in ("received", "scan", "inject_inbound"):
        port = inspect.signature(getattr(SandboxWorld, name))
        assert inspect.signature(getattr(implementation, name)) == port, name


def test_the_fake_refuses_a_second_phone_and_injects_faults_in_order():
    fake = FakeSandboxWorld()
    fake.scan("acc_1", "inst_1", "+5511900000001")
    with pytest.raises(SandboxRefused) as info:
        fake.scan("acc_1", "inst_1", "+5511900000002")
    assert info.value.code == "already_paired"
    fake.fail_next()
    fake.refuse_next("not_on_whatsapp")
    with pytest.raises(SandboxUnavailable):
        fake.received("acc_1", "+5511900000003")
    with pytest.raises(SandboxRefused):
        fake.received("acc_1", "+5511900000003")
    assert fake.received("acc_1", "+5511900000003") == []
