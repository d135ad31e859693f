"""GET /stream on AWS: a response-streaming Function URL, the Lambda Web Adapter, uvicorn in a layer of its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bzapper.topology import TOPOLOGY, Route, Topology
from infra import bundling
from infra.components import streaming

if TYPE_CHECKING:
    from support.cdk import Synth

pytestmark = pytest.mark.xdist_group("infra")

ROOT = Path(__file__).resolve().parents[2]


def streaming_functions(synth: Synth) -> dict[str, str]:
    """Streaming group → logical id of its function."""
    return {group: synth.function_of_group(group) for group in TOPOLOGY.streaming_groups}


def function_urls(synth: Synth) -> dict[str, dict]:
    """Logical id of the target function → the Function URL's properties."""
    return {
        synth.target(url["Properties"]["TargetFunctionArn"]): url["Properties"]
        for url in synth.resources("AWS::Lambda::Url").values()
    }


def test_the_topology_marks_get_stream_as_streaming() -> None:
    (route,) = [route for route in TOPOLOGY.routes if route.streaming]
    assert (route.method, route.path, route.group) == ("GET", "/stream", "stream")
    assert TOPOLOGY.streaming_groups == ("stream",)
    assert Route("GET", "/x", "g").streaming is False, "a plain route by default"


def test_each_streaming_group_and_only_it_has_a_response_streaming_function_url(synth: Synth) -> None:
    urls = function_urls(synth)
    assert set(urls) == set(streaming_functions(synth).values())
    for props in urls.values():
        assert props["InvokeMode"] == "RESPONSE_STREAM"
        assert props["AuthType"] == "NONE"  # the app checks the Bearer key, as behind the HTTP API
        assert "Qualifier" not in props
        assert props["Cors"]["AllowOrigins"], "the web console's origin (test_infra_console)"


def test_the_url_may_be_invoked_publicly_but_only_through_the_url(synth: Synth) -> None:
    for function in streaming_functions(synth).values():
        grants = [
            p["Properties"]
            for p in synth.resources("AWS::Lambda::Permission", "api").values()
            if synth.target(p["Properties"]["FunctionName"]) == function and p["Properties"]["Principal"] == "*"
        ]
        by_action = {grant["Action"]: grant for grant in grants}
        assert set(by_action) == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
        assert by_action["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "NONE"
        # Since October 2025 a public URL also needs InvokeFunction, limited to calls through the URL.
        assert by_action["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True


def test_streaming_functions_run_uvicorn_behind_the_web_adapter(synth: Synth) -> None:
    for function in streaming_functions(synth).values():
        props = synth.resource(function)["Properties"]
        env = props["Environment"]["Variables"]
        assert props["Handler"] == "run.sh"
        assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
        assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
        assert env["AWS_LWA_PORT"] == str(streaming.WEB_ADAPTER_PORT)
        assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
        # A stream ends on its own before the invocation's deadline: no timeout counted as an error.
        assert props["Timeout"] == 900
        assert 0 < int(env["BZ_STREAM_MAX_SECONDS"]) <= props["Timeout"] - 15
        assert "ReservedConcurrentExecutions" not in props, "unset unless bzapper:streamConcurrency says so"

        layers = [json.dumps(layer) for layer in props["Layers"]]
        adapter = f":753240598075:layer:LambdaAdapterLayerArm64:{synth.config.web_adapter_layer_version}"
        assert [layer for layer in layers if adapter in layer], layers
        assert all("AWS::Region" in layer for layer in layers if adapter in layer), "the stack's own region"
        own = [synth.resource(synth.target(layer)) for layer in props["Layers"] if synth.target(layer)]
        descriptions = sorted(layer["Properties"]["Description"] for layer in own)
        assert len(own) == 3 and any("uvicorn" in d for d in descriptions), descriptions


def test_other_functions_know_nothing_of_the_adapter(synth: Synth) -> None:
    streamed = set(streaming_functions(synth).values())
    for logical_id, function in synth.group_functions("api").items():
        if logical_id in streamed:
            continue
        env = function["Properties"]["Environment"]["Variables"]
        assert not [key for key in env if key.startswith(("AWS_LWA_", "AWS_LAMBDA_EXEC"))], logical_id
        assert "LambdaAdapterLayer" not in json.dumps(function["Properties"]["Layers"]), logical_id


def test_the_stream_url_is_an_output_and_the_api_keeps_the_route(synth: Synth) -> None:
    outputs = synth.templates["api"]["Outputs"]
    assert "StreamUrl" in outputs
    url = synth.resource(outputs["StreamUrl"]["Value"]["Fn::GetAtt"][0])
    assert outputs["StreamUrl"]["Value"]["Fn::GetAtt"][1] == "FunctionUrl"
    assert synth.target(url["Properties"]["TargetFunctionArn"]) == synth.function_of_group("stream")
    assert "GET /stream" in outputs["StreamUrl"]["Description"]
    route_keys = {r["Properties"]["RouteKey"] for r in synth.resources("AWS::ApiGatewayV2::Route").values()}
    assert "GET /stream" in route_keys, "the HTTP API keeps the contract's route table"


def test_the_adapter_layer_version_and_stream_concurrency_are_settings() -> None:
    from infra.config import WEB_ADAPTER_LAYER_VERSION, InfraConfig

    class Node:
        def __init__(self, **context: object) -> None:
            self.context = context

        def try_get_context(self, key: str) -> object:
            return self.context.get(key)

    default = InfraConfig.from_context(Node())
    assert default.web_adapter_layer_version == WEB_ADAPTER_LAYER_VERSION and default.stream_concurrency is None
    tuned = InfraConfig.from_context(Node(**{"bzapper:webAdapterLayerVersion": "31", "bzapper:streamConcurrency": 50}))
    assert tuned.web_adapter_layer_version == 31 and tuned.stream_concurrency == 50


def test_a_streaming_group_must_stream_every_route_and_have_its_script() -> None:
    assert streaming.problems(TOPOLOGY) == []

    def topology(*routes: Route) -> Topology:
        return Topology(routes=routes, tables=(), queues=(), consumers=(), schedules=())

    mixed = topology(Route("GET", "/stream", "stream", streaming=True), Route("GET", "/other", "stream"))
    assert any("GET /other" in problem for problem in streaming.problems(mixed))
    missing = topology(Route("GET", "/live", "nowhere", streaming=True))
    assert any("functions/nowhere/run.sh" in problem for problem in streaming.problems(missing))


def test_run_sh_serves_the_group_app_on_the_adapter_port() -> None:
    """The script as the adapter runs it (here with the virtualenv's python): the app answers on AWS_LWA_PORT."""
    script = ROOT / "functions" / "stream" / streaming.HANDLER
    assert os.access(script, os.X_OK), "the adapter's bootstrap executes it"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        "LAMBDA_TASK_ROOT": str(script.parent),
        "AWS_LWA_PORT": str(port),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    }
    server = subprocess.Popen([str(script)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90  # uvicorn imports the whole app first: slow on a loaded machine
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                    connection.sendall(b"GET /stream HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    status = connection.recv(64).split(b"\r\n", 1)[0]
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:] if server.stderr else ""
                assert time.monotonic() < deadline, "uvicorn never listened"
                time.sleep(0.2)
        assert status == b"HTTP/1.1 401 Unauthorized", status  # the app itself: no key, no stream
    finally:
        server.terminate()
        server.wait(timeout=10)


def _fake_distribution(site: Path, name: str, version: str, module: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (site / module).mkdir()
    (site / module / "__init__.py").write_text("")
    files = (f"{module}/__init__.py", f"{info.name}/METADATA", f"{info.name}/RECORD")
    (info / "RECORD").write_text("".join(f"{path},,\n" for path in files))


def test_the_server_layer_holds_only_what_the_dependencies_layer_lacks(tmp_path, monkeypatch) -> None:
    dependencies = tmp_path / "deps"
    _fake_distribution(dependencies / "python", "h11", "0.16.0", "h11")
    _fake_distribution(dependencies / "python", "fastapi", "0.120.0", "fastapi")
    calls = []
    real_run = subprocess.run

    def fake_pip(command: list[str], check: bool = False, **kwargs: object) -> object:
        if "pip" not in command:
            return real_run(command, check=check, **kwargs)  # the bytecode step (and its probe) run for real
        target = Path(command[command.index("--target") + 1])
        constraints = Path(command[command.index("--constraint") + 1]).read_text().split()
        calls.append((command[-1], constraints))
        _fake_distribution(target, "uvicorn", "0.40.0", "uvicorn")
        _fake_distribution(target, "click", "8.2.0", "click")
        _fake_distribution(target, "h11", "0.16.0", "h11")  # pinned by the constraint: the layer's own

    monkeypatch.setattr(bundling, "BUILD", tmp_path / "build")
    monkeypatch.setattr(bundling.subprocess, "run", fake_pip)
    layer = bundling.server_layer(dependencies)

    assert calls == [("uvicorn>=0.30", ["fastapi==0.120.0", "h11==0.16.0"])]
    assert set(bundling.installed(layer / "python")) == {"uvicorn", "click"}
    assert sorted(path.name for path in (layer / "python").iterdir()) == [
        "click",
        "click-8.2.0.dist-info",
        "uvicorn",
        "uvicorn-0.40.0.dist-info",
    ]
    # Compiled after the strip: no bytecode of a removed package is left behind.
    assert sorted(path.relative_to(layer / "python").as_posix() for path in layer.rglob("*.pyc")) == [
        f"click/__pycache__/__init__.{bundling.PYC_TAG}.pyc",
        f"uvicorn/__pycache__/__init__.{bundling.PYC_TAG}.pyc",
    ]
    assert bundling.server_layer(dependencies) == layer and len(calls) == 1, "cached by content"
    assert [r for r in bundling.streaming_requirements() if r.startswith("uvicorn")]
