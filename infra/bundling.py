"""Asset staging without Docker: the Lambda layers with pip, the worker's build context by copying.

- Dependencies layer: `[project].dependencies` of pyproject.toml (the runtime set only: no moto, typer,
  uvicorn or pytest), installed by pip for Lambda's platform (manylinux2014 aarch64, CPython 3.12,
  wheels only). Cached in `build/cdk/deps-<hash>/`, keyed by the requirement list and the pip target,
  so a repeated synth does no pip work at all.
- Core layer: the `bzapper` package from `layers/core/`, copied into `build/cdk/core-<hash>/python/`; never
  the dev package (`dev/bzapper_dev`: the CLI, the local runtime, the sandbox network).
- Server layer (streaming functions only): `[project.optional-dependencies].streaming` (uvicorn, which
  the Lambda Web Adapter forwards requests to), resolved by pip against the exact versions the
  dependencies layer holds, then stripped of every distribution that layer already ships: the two layers
  never hold two copies of a package. Cached in `build/cdk/server-<hash>/`.
- Worker context: `worker/Dockerfile` with only what the image installs (pyproject.toml, README.md,
  layers/core), so `cdk synth` never walks the virtualenv or node_modules.

Every staged directory is named by the hash of its content and written to a temporary name first,
then renamed: parallel synths (pytest workers) never see half a directory.

Bytecode: the layers and the function assets ship `__pycache__/*.cpython-312.pyc`, compiled by the Lambda
runtime's own Python (`LAMBDA_PYTHON`, found by `lambda_python()`) with `compileall --invalidation-mode
unchecked-hash`. Lambda's /opt and /var/task are read-only: without these files every cold start compiles
every module it imports, and cannot keep the result. Hash-based, because the CDK CLI zips every asset file
with the same fixed mtime (1980-01-01, for reproducible hashes): a timestamp pyc would never match its
source in the zip, and would be recompiled on every cold start (docs/performance.md, "Bytecode").
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "cdk"
CORE_SOURCE = ROOT / "layers" / "core"
PACKAGE = "bzapper"

LAMBDA_PYTHON = "3.12"
"""The Lambda runtime's Python: the functions' runtime (infra/components/function.py RUNTIME is derived from it),
pip's target and the interpreter that compiles the bytecode. They move together, and a test checks it."""
LAMBDA_PLATFORM = "manylinux2014_aarch64"


def pip_target_args(platform: str = LAMBDA_PLATFORM) -> tuple[str, ...]:
    return (
        "--platform",
        platform,
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON,
        "--only-binary=:all:",
    )


PIP_TARGET_ARGS = pip_target_args()
PYC_TAG = "cpython-" + LAMBDA_PYTHON.replace(".", "")
"""What the runtime looks for: `__pycache__/<module>.cpython-312.pyc`."""
INVALIDATION_MODE = "unchecked-hash"
"""The source is never checked: the asset zip's fixed mtimes cannot invalidate it, and /opt never changes."""
COMPILE_ARGS = ("-m", "compileall", "-q", "-j", "0", "--invalidation-mode", INVALIDATION_MODE)
_SKIP = ("__pycache__", "*.pyc", "*.pyo", ".DS_Store")
TEST_ONLY = ("adapters/memory",)
"""Parts of the package only tests use (the in-memory fakes of the ports): shipped in no layer and no image."""


def _ignore(directory: str, names: list[str]) -> set[str]:
    """copytree's filter: caches, and the test-only parts of the package."""
    ignored = set(shutil.ignore_patterns(*_SKIP)(directory, names))
    for part in TEST_ONLY:
        parent, _, name = part.rpartition("/")
        if Path(directory).as_posix().endswith(f"/{PACKAGE}/{parent}") and name in names:
            ignored.add(name)
    return ignored


STREAMING_EXTRA = "streaming"


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The runtime dependencies the layer ships: `[project].dependencies`, never an optional extra."""
    with pyproject.open("rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def streaming_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """What a streaming function adds to the runtime set: the `streaming` extra (the ASGI server)."""
    with pyproject.open("rb") as handle:
        return list(tomllib.load(handle)["project"]["optional-dependencies"][STREAMING_EXTRA])


def lambda_python() -> str:
    """An interpreter of the Lambda runtime's version, to compile the bytecode the runtime will load.

    `BZ_LAMBDA_PYTHON` when set, else `python3.12` on PATH, else pyenv's; its version is checked, since a
    pyc of another version is ignored by the runtime (a different magic number).
    """
    name = f"python{LAMBDA_PYTHON}"
    candidates = [os.environ.get("BZ_LAMBDA_PYTHON", ""), shutil.which(name) or ""]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(path) for path in sorted(pyenv_root.glob(f"versions/{LAMBDA_PYTHON}.*/bin/{name}"), reverse=True)
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == LAMBDA_PYTHON:
            return candidate
    raise RuntimeError(
        f"no Python {LAMBDA_PYTHON} found (the Lambda runtime's, to compile the layers' bytecode): "
        f"install {name} or set BZ_LAMBDA_PYTHON to one"
    )


def compile_bytecode(directory: Path) -> None:
    """`__pycache__/*.cpython-312.pyc` next to every module under `directory`, hash-based, by the runtime's Python.

    A file that does not compile (a package's Python 2 leftovers, a template) is left to fail only if it
    is ever imported, as it would without bytecode; compileall says which, and the build goes on.
    """
    done = subprocess.run([lambda_python(), *COMPILE_ARGS, str(directory)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"compileall: some files of {directory} did not compile:\n{done.stdout[-2000:]}", file=sys.stderr)


def pip_command(
    requirements: Iterable[str],
    target: Path,
    constraints: Path | None = None,
    platform: str = LAMBDA_PLATFORM,
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--no-input",
        *pip_target_args(platform),
        *(("--constraint", str(constraints)) if constraints else ()),
        "--target",
        str(target),
        *requirements,
    ]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(site: Path) -> dict[str, importlib.metadata.Distribution]:
    """Canonical project name → distribution, for a directory pip installed into with `--target`."""
    return {_canonical(dist.metadata["Name"]): dist for dist in importlib.metadata.distributions(path=[str(site)])}


def _remove_distribution(site: Path, dist: importlib.metadata.Distribution) -> None:
    """Delete what a distribution installed (its RECORD), then the directories that left empty."""
    parents = set()
    for record in dist.files or ():
        path = Path(str(dist.locate_file(record))).resolve()
        if path.is_relative_to(site.resolve()) and path.is_file():
            path.unlink()
            parents.add(path.parent)
    for directory in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        while directory != site.resolve() and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _tree_digest(root: Path) -> str:
    """The digest of what ships from `root` (the package): a change to a test-only fake rebuilds nothing."""
    digest = hashlib.sha256()
    for path in sorted(_files(root)):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _files(root: Path) -> Iterable[Path]:
    for path in root.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            relative = path.relative_to(root).as_posix()
            if not any(relative.startswith(f"{part}/") for part in TEST_ONLY):
                yield path


def _publish(staging: Path, final: Path) -> Path:
    """Rename a finished staging directory into place; a concurrent twin that won the race is kept."""
    try:
        os.replace(staging, final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _prune(prefix: str, keep: Path) -> None:
    for stale in BUILD.glob(f"{prefix}-*"):
        if stale != keep and stale.is_dir() and not stale.name.endswith((".tmp", "-placeholder")):
            shutil.rmtree(stale, ignore_errors=True)


def _staging(prefix: str) -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-", suffix=".tmp", dir=BUILD))


def dependencies_layer(placeholder: bool = False, platform: str = LAMBDA_PLATFORM) -> Path:
    """The directory to zip as the dependencies layer (`python/` inside, as Lambda expects), with its bytecode.

    `platform`: another one than Lambda's builds the same layer for this machine (bench/cold_start.py
    imports it to measure cold starts), cached apart so neither evicts the other.
    """
    if placeholder:
        final = BUILD / "deps-placeholder"
        if not final.is_dir():
            staging = _staging("deps-placeholder")
            (staging / "python").mkdir()
            (staging / "python" / "PLACEHOLDER.txt").write_text(
                "Synthesized with BZ_CDK_LAYER=placeholder (tests): no dependencies bundled. Never deploy this.\n"
            )
            _publish(staging, final)
        return final
    requirements = runtime_requirements()
    prefix = "deps" if platform == LAMBDA_PLATFORM else f"host-deps-{platform}"
    final = BUILD / f"{prefix}-{_digest(requirements, pip_target_args(platform), COMPILE_ARGS)}"
    if not (final / "python").is_dir():
        staging = _staging(prefix)
        try:
            subprocess.run(pip_command(requirements, staging / "python", platform=platform), check=True)
            # Console scripts carry this machine's interpreter path: useless in a layer.
            shutil.rmtree(staging / "python" / "bin", ignore_errors=True)
            compile_bytecode(staging / "python")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _publish(staging, final)
        _prune(prefix, final)
    return final


def server_layer(dependencies: Path, placeholder: bool = False) -> Path:
    """The directory to zip as a streaming function's server layer (`python/uvicorn/`, …).

    `dependencies` is the dependencies layer's directory: pip resolves the `streaming` extra with that
    layer's versions pinned as constraints (a conflict fails the synth), and whatever that layer already
    holds (h11, …) is then removed, so the server layer carries only what it adds.
    """
    if placeholder:
        final = BUILD / "server-placeholder"
        if not final.is_dir():
            staging = _staging("server-placeholder")
            (staging / "python").mkdir()
            (staging / "python" / "PLACEHOLDER.txt").write_text(
                "Synthesized with BZ_CDK_LAYER=placeholder (tests): no ASGI server bundled. Never deploy this.\n"
            )
            _publish(staging, final)
        return final
    requirements = streaming_requirements()
    shipped = installed(dependencies / "python")
    pins = sorted(f"{name}=={dist.version}" for name, dist in shipped.items())
    final = BUILD / f"server-{_digest(requirements, pins, PIP_TARGET_ARGS, COMPILE_ARGS)}"
    if not (final / "python").is_dir():
        staging = _staging("server")
        try:
            constraints = staging / "constraints.txt"
            constraints.write_text("\n".join(pins) + "\n")
            site = staging / "python"
            subprocess.run(pip_command(requirements, site, constraints), check=True)
            constraints.unlink()
            for name, dist in installed(site).items():
                if name in shipped:
                    _remove_distribution(site, dist)
            shutil.rmtree(site / "bin", ignore_errors=True)
            compile_bytecode(site)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _publish(staging, final)
        _prune("server", final)
    return final


def core_layer(source: Path = CORE_SOURCE / PACKAGE) -> Path:
    """The directory to zip as the core layer: `python/bzapper/`, the shared package, with its bytecode.

    `source`: another checkout's package (bench/cold_start.py measures a commit against this one).
    """
    final = BUILD / f"core-{_digest(_tree_digest(source), COMPILE_ARGS)}"
    if not final.is_dir():
        staging = _staging("core")
        try:
            shutil.copytree(source, staging / "python" / PACKAGE, ignore=_ignore)
            compile_bytecode(staging / "python")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _publish(staging, final)
        if source == CORE_SOURCE / PACKAGE:
            _prune("core", final)
    return final


WORKER_CONTEXT_FILES = ("pyproject.toml", "README.md", "worker/Dockerfile")


def worker_context() -> Path:
    """The Docker build context of the worker image: the Dockerfile and what it installs, nothing more."""
    digest = hashlib.sha256()
    for name in WORKER_CONTEXT_FILES:
        digest.update(name.encode())
        digest.update((ROOT / name).read_bytes())
    digest.update(_tree_digest(CORE_SOURCE / PACKAGE).encode())
    final = BUILD / f"worker-{digest.hexdigest()[:16]}"
    if not final.is_dir():
        staging = _staging("worker")
        for name in WORKER_CONTEXT_FILES:
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, staging / name)
        shutil.copytree(
            CORE_SOURCE / PACKAGE,
            staging / "layers" / "core" / PACKAGE,
            ignore=_ignore,
        )
        _publish(staging, final)
        _prune("worker", final)
    return final


def function_asset(group: str, functions: Path = ROOT / "functions") -> Path:
    """The directory to zip as a function's code: `functions/<group>/` with its bytecode (/var/task is read-only)."""
    source = functions / group
    final = BUILD / f"fn-{group}-{_digest(_tree_digest(source), COMPILE_ARGS)}"
    if not final.is_dir():
        staging = _staging(f"fn-{group}")
        try:
            shutil.copytree(source, staging, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_SKIP))
            compile_bytecode(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _publish(staging, final)
        if functions == ROOT / "functions":
            _prune(f"fn-{group}", final)
    return final
