"""`bzapper dev`: the whole system on one machine, on moto, with the same handlers as on AWS.

Process tree: this runner (API gateway + function apps under uvicorn, SQS pollers, timers, the
sandbox WhatsApp network), a moto server process, and the session worker process.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bzapper.adapters import sealing
from bzapper.config import reset_settings, settings
from bzapper_dev.local.processes import WorkerSupervisor, free_port, spawn, stop_process, wait_for_port

logger = logging.getLogger("bzapper_dev.local")

LOCAL_AWS = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
DEV_CREDITS = 10_000


def local_environment(moto_url: str) -> dict[str, str]:
    return {
        **LOCAL_AWS,
        "AWS_ENDPOINT_URL": moto_url,
        "BZ_STAGE": "local",
        "BZ_LOCAL_MODE": "1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": settings().local.powertools_log_level or "WARNING",
    }


def write_dev_env(path: Path, values: dict[str, str]) -> None:
    lines = [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)  # it holds an API key


def read_dev_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.startswith("export ") and "=" in line:
            name, _, value = line[len("export ") :].partition("=")
            values[name] = shlex.split(value)[0] if value else ""
    return values


class DevStack:
    def __init__(self, host: str, port: int, state_dir: Path, engine: str = "sandbox") -> None:
        self.host, self.port, self.state_dir = host, port, state_dir
        self.engine = engine
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.moto: Any = None
        self.network_server: Any = None
        self.worker: WorkerSupervisor | None = None

    def start_backends(self) -> dict[str, str]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        moto_port = free_port(self.host)
        env = local_environment(f"http://127.0.0.1:{moto_port}")
        # The stack's variables go into this process's own environment: its functions (in this process)
        # read them through settings, and its children (moto, the worker) inherit them.
        os.environ.update(env)
        self.moto_log = open(self.state_dir / "moto.log", "ab")  # noqa: SIM115 - open for the stack's life
        self.moto = spawn(
            [sys.executable, "-m", "bzapper_dev.local.moto_server", "-H", "127.0.0.1", "-p", str(moto_port)],
            dict(os.environ),  # a child's environment: this process's, as just completed
            self.moto_log,
        )
        wait_for_port("127.0.0.1", moto_port, timeout=30, process=self.moto)
        # This stack's OTP sealing key: in this process and its later children's environment only (the
        # worker and its hosts, not moto), never on disk (not in dev.env) nor in a log; the next stack
        # cannot open codes this one sealed (docs/otp.md).
        os.environ[sealing.LOCAL_KEY_ENV] = sealing.new_local_key()

        from bzapper_dev.sandbox.graph import GraphSim
        from bzapper_dev.sandbox.network import SandboxNetwork
        from bzapper_dev.sandbox.server import serve_network

        # The simulated Cloud API posts its signed webhooks to this stack's own API, as Meta would to ours.
        # Until something answers there, deliveries fail and are retried with backoff, quietly.
        graph = GraphSim(callback_url=self.cloud_callback_url)
        self.network_server, _ = serve_network(SandboxNetwork(), host="127.0.0.1", port=0, graph=graph)
        sandbox_url = f"http://127.0.0.1:{self.network_server.server_address[1]}"
        os.environ["BZ_SANDBOX_URL"] = env["BZ_SANDBOX_URL"] = sandbox_url

        # The environment is complete: settings are read again from here on. The table models read them
        # at import, so they are imported only now.
        reset_settings()
        import boto3

        from bzapper_dev.local.provision import provision

        provision(boto3.session.Session(), settings())
        # Console users: the pool on moto, its keys served by moto, emails into the stack's own mailbox.
        from bzapper_dev.local.identity import identity_environment, provision_identity

        pool_id, client_id = provision_identity(boto3.session.Session(), settings())
        identity = identity_environment(
            pool_id, client_id, f"{env['AWS_ENDPOINT_URL']}/{pool_id}/.well-known/jwks.json", self.mailbox_dir
        )
        os.environ.update(identity)
        env.update(identity)
        reset_settings()
        return env

    @property
    def cloud_callback_url(self) -> str:
        """The local API's Cloud API webhook route, reached over loopback when the API listens on every address."""
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:  # a name (localhost): it resolves here
            return f"http://{self.host}:{self.port}/cloud/webhook"
        if address.is_unspecified:
            address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
        host = f"[{address}]" if address.version == 6 else str(address)
        return f"http://{host}:{self.port}/cloud/webhook"

    @property
    def mailbox_dir(self) -> Path:
        return self.state_dir / "mailbox"

    def start_compute(self) -> Any:
        from bzapper.topology import TOPOLOGY
        from bzapper_dev.local.functions import load_function
        from bzapper_dev.local.gateway import LocalGateway
        from bzapper_dev.local.pollers import ScheduleLoop, SqsPoller

        current = settings()
        for consumer in TOPOLOGY.consumers:
            handler = load_function(consumer.group).handler
            self.threads.append(SqsPoller(consumer, handler, current, TOPOLOGY, self.stop))
        for schedule in TOPOLOGY.schedules:
            self.threads.append(ScheduleLoop(schedule, load_function(schedule.group).handler, current, self.stop))
        for thread in self.threads:
            thread.start()
        self.worker = WorkerSupervisor(self.state_dir, dict(os.environ))  # the worker's: this process's
        self.worker.start()
        from bzapper_dev.local.mailbox import MailPrinter

        printer = MailPrinter(self.mailbox_dir, self.stop, _terminal_locale())
        printer.start()
        apps = {group: load_function(group).app for group in TOPOLOGY.api_groups}
        return LocalGateway(apps, mailbox_dir=self.mailbox_dir)

    def bootstrap(self, env: dict[str, str]) -> dict[str, Any]:
        from bzapper.bootstrap import services
        from bzapper.services.accounts import create_test_account

        account = create_test_account(services(), name="Dev", locale="en", credits=DEV_CREDITS)
        live: dict[str, str] = {}
        if self.engine == "whatsmeow":
            from bzapper_dev.local import live_phone

            live = live_phone.bootstrap(account["account_id"], DEV_CREDITS)
            live_phone.watch_pairing(live["BZ_LIVE_INSTANCE"], _terminal_locale(), self.stop)
        account.update(live)
        base_url = f"http://{self.host}:{self.port}"
        write_dev_env(
            self.state_dir / "dev.env",
            {
                "BZ_BASE_URL": base_url,
                "BZ_KEY": account["api_key"],
                "BZ_INSTANCE": account["instance_id"],
                "BZ_ACCOUNT": account["account_id"],
                **live,
                **{
                    name: env[name]
                    for name in (
                        "AWS_ENDPOINT_URL",
                        "AWS_REGION",
                        "AWS_ACCESS_KEY_ID",
                        "AWS_SECRET_ACCESS_KEY",
                        "BZ_SANDBOX_URL",
                        "BZ_COGNITO_USER_POOL_ID",
                        "BZ_COGNITO_CLIENT_ID",
                        "BZ_MAILBOX_DIR",
                    )
                },
            },
        )
        return {**account, "base_url": base_url}

    def shutdown(self) -> None:
        self.stop.set()
        if self.worker:
            self.worker.shutdown()
        # A poller parked in its long poll holds nothing: it is not waited for (it dies with this process).
        deadline = time.monotonic() + 5
        for thread in self.threads:
            while not _settled(thread) and time.monotonic() < deadline:
                thread.join(timeout=0.05)
        if self.network_server:
            self.network_server.shutdown()
            self.network_server.server_close()
        if self.moto:
            stop_process(self.moto)
        (self.state_dir / "dev.env").unlink(missing_ok=True)


def _settled(thread: threading.Thread) -> bool:
    settled = getattr(thread, "settled", None)  # an SqsPoller's: parked in its long poll counts
    return bool(settled()) if settled is not None else not thread.is_alive()


def _terminal_locale() -> str:
    from bzapper import i18n

    return i18n.terminal_locale(settings().local.locale_variables)


def run_dev(host: str, port: int, state_dir: Path, engine: str = "sandbox") -> None:
    import uvicorn

    from bzapper import i18n, logs

    logs.configure()
    started = time.monotonic()
    if engine == "whatsmeow":
        from bzapper_dev.local import live_phone

        live_phone.prepare(state_dir, _terminal_locale())
    stack = DevStack(host, port, state_dir, engine)
    server: Any = None
    try:
        env = stack.start_backends()
        gateway = stack.start_compute()
        from bzapper_dev.local.http_protocol import ApiShapedH11Protocol

        server = uvicorn.Server(
            uvicorn.Config(
                gateway,
                host=host,
                port=port,
                http=ApiShapedH11Protocol,
                # The peer's own address is the caller's (API Gateway's sourceIp on AWS): an X-Forwarded-For a
                # client writes itself must not choose the address its failed authentications count against.
                proxy_headers=False,
                log_level="warning",
                lifespan="off",
                # Open SSE streams never end by themselves: Ctrl-C must not wait for their clients.
                timeout_graceful_shutdown=3,
            )
        )

        def announce() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.should_exit:
                return
            account = stack.bootstrap(env)
            ready = time.monotonic() - started
            locale = _terminal_locale()
            print(
                "\n".join(
                    [
                        "",
                        i18n.translate("cli.dev.ready", locale, url=account["base_url"]) + f" ({ready:.1f}s)",
                        "  " + i18n.translate("cli.dev.console", locale, url=account["base_url"] + "/console/"),
                        f"  BZ_KEY={account['api_key']}",
                        f"  BZ_INSTANCE={account['instance_id']}",
                        *(
                            f"  {name}={account[name]}"
                            for name in ("BZ_LIVE_KEY", "BZ_LIVE_INSTANCE")
                            if name in account
                        ),
                        "  " + i18n.translate("cli.dev.credits", locale, credits=DEV_CREDITS),
                        "  " + i18n.translate("cli.dev.env", locale, path=state_dir / "dev.env"),
                        "",
                    ]
                ),
                flush=True,
            )

        threading.Thread(target=announce, name="announce", daemon=True).start()
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        print(i18n.translate("cli.dev.stopping", _terminal_locale()), flush=True)
        stack.shutdown()
