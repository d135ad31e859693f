"""Asset staging without Docker: the layers (pip, for Lambda's platform), the functions, the worker's context."""

from __future__ import annotations

import tomllib

import pytest
from support.cdk import ROOT

from infra import bundling

pytestmark = pytest.mark.xdist_group("infra")


def test_the_layer_ships_the_runtime_dependencies_only() -> None:
    requirements = bundling.runtime_requirements()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert requirements == project["dependencies"]
    names = " ".join(requirements).lower()
    for dev_only in ("moto", "typer", "uvicorn", "pytest", "aws-cdk-lib", "cdk-nag", "cfn-lint"):
        assert dev_only not in names


def test_pip_targets_lambda_arm64_python312_wheels_only(tmp_path) -> None:
    command = bundling.pip_command(["fastapi>=0.115"], tmp_path)
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--implementation cp" in joined and "--python-version 3.12" in joined
    assert "--only-binary=:all:" in command
    assert command[command.index("--target") + 1] == str(tmp_path)


def test_core_layer_and_worker_context_are_staged_small() -> None:
    core = bundling.core_layer()
    assert (core / "python" / "bzapper" / "topology.py").is_file()
    assert not list(core.rglob("__pycache__"))
    context = bundling.worker_context()
    assert (context / "worker" / "Dockerfile").is_file()
    assert (context / "layers" / "core" / "bzapper" / "worker" / "__main__.py").is_file()
    assert {path.name for path in context.iterdir()} == {"pyproject.toml", "README.md", "worker", "layers"}


def test_the_dev_package_ships_in_no_layer_and_no_image() -> None:
    """The CLI, the local runtime and the sandbox network simulator (bzapper_dev) stay on developers' machines."""
    core = bundling.core_layer()
    assert [path.name for path in (core / "python").iterdir()] == ["bzapper"]
    staged = {str(path.relative_to(core / "python")) for path in core.rglob("*")}
    for dev_only in ("bzapper_dev", "bzapper/local", "bzapper/cli.py", "bzapper/engines/sandbox/network.py"):
        assert dev_only not in staged
    assert "bzapper/engines/sandbox/engine.py" in staged  # the worker's side of the sandbox stays
    # The ports' in-memory fakes are for tests only.
    assert "bzapper/adapters/memory" not in staged and "bzapper/adapters/aws" in staged
    context = bundling.worker_context()
    assert not (context / "layers" / "core" / "bzapper" / "adapters" / "memory").exists()
    assert not (context / "dev").exists()
    assert "bzapper_dev" not in {path.name for path in context.rglob("*")}


def test_worker_image_runs_the_worker_on_python312() -> None:
    dockerfile = (ROOT / "worker" / "Dockerfile").read_text()
    assert "FROM python:3.12-slim" in dockerfile
    assert 'CMD ["python", "-m", "bzapper.worker"]' in dockerfile
    assert "USER bzapper" in dockerfile


def test_queue_url_variable_is_the_one_the_runtime_reads(environment) -> None:
    from bzapper.adapters.aws import clients
    from infra.components.permissions import queue_url_env_key

    name = "bzapper-ci-shard-0.fifo"
    environment.set(queue_url_env_key(name), "https://sqs.example/123/q")
    clients.queue_url.cache_clear()
    try:
        assert clients.queue_url(name) == "https://sqs.example/123/q"
    finally:
        clients.queue_url.cache_clear()
