"""Asset staging without Docker: the layers (pip, for Lambda's platform), the functions, the worker's context."""

from __future__ import annotations

import tomllib
from pathlib import Path

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


def _lambda_python(code: str) -> str:
    """What the runtime's Python (the one that compiles the layers) prints."""
    import subprocess

    return subprocess.run([bundling.lambda_python(), "-c", code], capture_output=True, text=True, check=True).stdout


def _unchecked_hash_pyc_for_every_module(site: Path) -> None:
    """Every module under `site` has `__pycache__/<name>.cpython-312.pyc`, made for the runtime's Python and
    valid whatever the files' mtimes (hash-based, unchecked); and there is no other bytecode (no stale cache
    of a developer's Python, no orphan)."""
    magic = bytes.fromhex(_lambda_python("import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"))
    modules = sorted(site.rglob("*.py"))
    assert modules
    expected = {module.parent / "__pycache__" / f"{module.stem}.{bundling.PYC_TAG}.pyc" for module in modules}
    assert set(site.rglob("*.pyc")) == expected
    for pyc in expected:
        header = pyc.read_bytes()[:8]
        assert header[:4] == magic, pyc
        # PEP 552 flags: bit 0 = hash-based, bit 1 = check the source. Unchecked: the zip's mtimes never matter.
        assert int.from_bytes(header[4:8], "little") == 0b01, pyc


def test_the_runtime_and_the_bytecode_compiler_are_one_python() -> None:
    from infra.components.function import RUNTIME

    assert RUNTIME.name == f"python{bundling.LAMBDA_PYTHON}"
    version = _lambda_python("import sys; print('%d.%d' % sys.version_info[:2])").strip()
    assert version == bundling.LAMBDA_PYTHON
    tag = _lambda_python("import sys; print(sys.implementation.cache_tag)").strip()
    assert tag == bundling.PYC_TAG
    assert bundling.PIP_TARGET_ARGS[bundling.PIP_TARGET_ARGS.index("--python-version") + 1] == bundling.LAMBDA_PYTHON


def test_core_layer_ships_the_runtimes_bytecode_for_every_module() -> None:
    # The layer holds no cache of whoever ran the tests (the source tree has cpython-311 ones): only the
    # build's own bytecode, for the runtime's Python.
    _unchecked_hash_pyc_for_every_module(bundling.core_layer() / "python")


def test_dependencies_layer_is_compiled_after_pip(tmp_path, monkeypatch) -> None:
    """pip installs with --no-compile (its bytecode would be the build machine's Python's); the layer is
    compiled afterwards by the runtime's. pip is stood in for by a script that installs two modules."""
    import sys

    monkeypatch.setattr(bundling, "BUILD", tmp_path)
    install = "import pathlib, sys; t = pathlib.Path(sys.argv[1]); (t / 'pkg').mkdir(parents=True); "
    install += "(t / 'pkg' / '__init__.py').write_text('X = 1'); (t / 'pkg' / 'mod.py').write_text('Y = 2')"

    real_pip = bundling.pip_command

    def fake_pip(requirements, target, constraints=None, platform=bundling.LAMBDA_PLATFORM):
        assert "--no-compile" in real_pip(requirements, target, constraints, platform)
        return [sys.executable, "-c", install, str(target)]

    monkeypatch.setattr(bundling, "pip_command", fake_pip)
    layer = bundling.dependencies_layer()
    _unchecked_hash_pyc_for_every_module(layer / "python")


def test_function_assets_ship_their_bytecode(synth) -> None:
    """What CDK zips for a function (its staged asset in cdk.out) has the handler's runtime bytecode."""
    functions = synth.group_functions()
    assert functions
    for function in functions.values():
        key = function["Properties"]["Code"]["S3Key"]
        asset = synth.outdir / f"asset.{(key if isinstance(key, str) else key['Fn::Sub']).removesuffix('.zip')}"
        assert (asset / "handler.py").is_file(), asset
        _unchecked_hash_pyc_for_every_module(asset)


def test_core_layer_and_worker_context_are_staged_small() -> None:
    core = bundling.core_layer()
    assert (core / "python" / "bzapper" / "topology.py").is_file()
    # No stale local caches (the source tree holds the developer's cpython-311 ones): the only bytecode is
    # the build's own, for the runtime's Python (checked in full above).
    assert all(path.name.endswith(f".{bundling.PYC_TAG}.pyc") for path in core.rglob("*.pyc"))
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
