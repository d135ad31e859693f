"""Contract fuzzing in CI (see contract_fuzz.py for what is checked and how it is bounded).

The stack and schemathesis run together in a new network namespace with only a loopback interface
(`unshare --net`, as root), so whatever the fuzzer invents (a webhook URL on a public address, a host
name to resolve) stays on this machine. Where namespaces are not permitted, the fuzzing runs here
without the operations that take a URL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.fuzz_output import failures_first

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("contract_fuzz")]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def loopback_namespace() -> list[str]:
    """The command prefix that runs a program in a fresh network namespace with `lo` up, if allowed."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")
    if not unshare or not ip:
        return []
    prefix = [unshare, "--net", "--", "sh", "-c", f'{ip} link set lo up && exec "$@"', "sh"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30)
    return prefix if probe.returncode == 0 else []


def test_every_operation_honours_the_contract_under_generated_input(tmp_path: Path):
    sandbox = loopback_namespace()
    command = [sys.executable, "-m", "pytest", str(HERE / "contract_fuzz.py"), "-q", "-s", "-p", "no:cacheprovider"]
    command += ["--basetemp", str(tmp_path / "inner")]
    env = {**os.environ, "BZ_FUZZ_SANDBOXED": "1" if sandbox else "0"}
    result = subprocess.run([*sandbox, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    output = result.stdout + result.stderr
    print(output[-4000:])
    assert result.returncode == 0, failures_first(output)
    assert "1 passed" in output, output[-5000:]
