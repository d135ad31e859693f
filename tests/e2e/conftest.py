"""Boot `bzapper dev` as a user would (its own process tree, a free port) and stop it with Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
from support.stack import BZAPPER, Stack, _alive, _free_port, _port_open, read_env


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("stack")
    state_dir = home / ".bzapper"
    port = _free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "BZ_", "POWERTOOLS_"))}
    env.update({"BZ_OUTBOX_GRACE_SECONDS": "3", "BZ_LOCAL_SCHEDULE_SECONDS": "1", "BZ_WEBHOOK_BACKOFF_SCALE": "0.01"})
    log = open(home / "dev.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [BZAPPER, "dev", "--port", str(port), "--state-dir", str(state_dir)],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while not (state_dir / "dev.env").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("bzapper dev did not start:\n" + (home / "dev.log").read_text())
        time.sleep(0.1)
    values = read_env(state_dir / "dev.env")
    stack = Stack(
        base_url=values["BZ_BASE_URL"],
        key=values["BZ_KEY"],
        instance_id=values["BZ_INSTANCE"],
        account_id=values["BZ_ACCOUNT"],
        state_dir=state_dir,
        env={**env, **values},
        process=process,
    )
    try:
        yield stack
    finally:
        worker_pid = stack.worker_pid() if (state_dir / "worker.pid").exists() else None
        moto_url = values["AWS_ENDPOINT_URL"]
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            code = process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
        finally:
            log.close()
        output = (home / "dev.log").read_text()
        # Ctrl-C stops everything cleanly: the runner, the worker and moto, and no traceback.
        assert code == 0, output
        assert "Traceback" not in output, output
        assert worker_pid is None or not _alive(worker_pid)
        assert not _port_open(moto_url)
        assert not _port_open(stack.base_url)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Each test's outcome on its node (`rep_call`), for fixtures that keep evidence of a failure."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report
