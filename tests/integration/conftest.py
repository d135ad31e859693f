"""Integration fixtures: moto in-process, every resource created from the topology, the real handlers."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from support.accounts import Account, make_account
from support.identity import Pool, start_pool
from support.reports import CapturingPublisher

from bzapper import bootstrap
from bzapper.adapters.aws import clients
from bzapper.config import settings
from bzapper.domain.auth_failures import FailedAuthentications
from bzapper.services.container import Services
from bzapper_dev.local import moto_speed
from bzapper_dev.local.functions import load_function
from bzapper_dev.local.moto_fidelity import install as install_moto_fidelity
from bzapper_dev.local.provision import provision

install_moto_fidelity()  # the same DynamoDB corrections the local stack runs with
moto_speed.install()  # and the same speed-ups, which change no answer (test_moto_speed.py)


@pytest.fixture(autouse=True)
def current_event_loop() -> Iterator[None]:
    """Mangum runs each request on the thread's current event loop, and a test's asyncio.run() leaves none
    set: every test starts with one of its own, so no test depends on what ran before it."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


def _forget_failed_authentications() -> None:
    """Every handler call comes from one source address (the event's sourceIp): one test's refused keys must not
    throttle the next test's."""
    auth = sys.modules.get("bzapper.api.auth")
    if auth is not None:
        auth._failures = FailedAuthentications()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        bootstrap.services.cache_clear()
        clients.client.cache_clear()
        clients.queue_url.cache_clear()
        clients.dynamodb_connection.cache_clear()
        provision(boto3.session.Session(), settings())
        _forget_failed_authentications()
        yield
        bootstrap.services.cache_clear()
        clients.client.cache_clear()
        clients.queue_url.cache_clear()
        clients.dynamodb_connection.cache_clear()


@pytest.fixture
def svc(aws: None) -> Services:
    return bootstrap.services()


@pytest.fixture
def account(svc: Services) -> Account:
    return make_account(svc)


@pytest.fixture
def messages_handler(aws: None):
    return load_function("messages").handler


@pytest.fixture
def platform_handler(aws: None):
    return load_function("platform").handler


@pytest.fixture
def statuses_handler(aws: None):
    return load_function("statuses").handler


@pytest.fixture
def inbox_api(aws: None):
    return load_function("inbox").handler


@pytest.fixture
def published(svc: Services) -> CapturingPublisher:
    """The bus replaced by a list of what would have been published."""
    svc.events = CapturingPublisher()
    return svc.events


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DNS here: example.com resolves to a public address, nothing.invalid to nothing, the rest as usual."""
    import socket

    real = socket.getaddrinfo

    def resolve(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]
        if host == "nothing.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


# The accounts surface (sign-up, sign-in, keys) on the local identity service: moto's user pool, our codes.


@pytest.fixture
def pool(aws: None, environment: Any, tmp_path: Any) -> Pool:
    started = start_pool(environment, tmp_path)
    bootstrap.services.cache_clear()
    return started


@pytest.fixture
def auth_api(pool: Pool) -> Any:
    return load_function("auth").handler


@pytest.fixture
def account_api(pool: Pool) -> Any:
    return load_function("account").handler
