"""Profiles on moto: the `instances` function's GET/PATCH /instances/{id}/profile and the `contacts` function's
GET /contacts/{jid} ask the number's worker through the real control queue and answers table; a worker thread
(CommandHandler over the sandbox engine and an in-process network) answers and stores pictures in the media
bucket. Hostile input is a 4xx in our shape; another account's number a 404; restricted keys keep to their
scopes and numbers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from support.accounts import Account, make_account
from support.apigw import call
from support.media import png
from support.sandbox import FakeClock, InProcessClient, fake_network, online

from bzapper.adapters.aws.queues import SqsReader
from bzapper.config import settings
from bzapper.domain.engine import SessionSpec
from bzapper.engines.sandbox.engine import SandboxEngine
from bzapper.topology import control_queue_name
from bzapper.worker.control import CommandHandler
from bzapper_dev.local.functions import load_function
from bzapper_dev.sandbox.network import SandboxNetwork

OWN, SECOND = "+5511955550001", "+5511955550002"
ANA = "+5511988880001"


@pytest.fixture
def handlers(aws: None) -> dict[str, Any]:
    return {name: load_function(name).handler for name in ("instances", "contacts", "media")}


@pytest.fixture
def world(svc: Any, account: Account) -> Iterator[dict[str, Any]]:
    network: SandboxNetwork = fake_network(FakeClock())
    second = svc.instances.create(account.account_id, livemode=False, engine="sandbox", name="2", status="connected")
    client = InProcessClient(network)
    engine = SandboxEngine("http://unused", client=client, media_fetch=svc.media.read)  # type: ignore[arg-type]
    for instance_id, phone in ((account.instance_id, OWN), (second.instance_id, SECOND)):
        online(network, account.account_id, instance_id, phone)
        engine.open(SessionSpec(instance_id, account.account_id, False, phone), lambda event: None)

    def engine_call(instance_id: str, method: str, give_up_after: float | None = None, **kwargs: Any) -> Any:
        return getattr(engine, method)(instance_id, **kwargs)

    handler = CommandHandler(svc, open_instance=lambda *a, **k: True, close_instance=lambda *a: None, call=engine_call)
    stop = threading.Event()
    shards = {svc.instances.get(i).shard for i in (account.instance_id, second.instance_id)}
    threads = [
        threading.Thread(
            target=handler.consume,
            args=(SqsReader(settings().queue(control_queue_name(shard), fifo=False)), stop, 1),
            daemon=True,
        )
        for shard in shards
    ]
    for thread in threads:
        thread.start()
    yield {"network": network, "second": second.instance_id}
    stop.set()
    for thread in threads:
        thread.join(5)


def api(handler: Any, auth: dict[str, str], method: str, path: str, *, body: Any = None, **query: str):
    query_string = "&".join(f"{k}={quote(v)}" for k, v in query.items())
    return call(handler, method, path, body=body, headers=auth, query=query_string)


def test_own_profile_read_and_changed_and_a_contacts_profile_with_a_stable_picture_link(handlers, account, world, svc):
    instances, contacts, media = handlers["instances"], handlers["contacts"], handlers["media"]
    path = f"/instances/{account.instance_id}/profile"
    status, _, profile = api(instances, account.auth, "GET", path)
    assert status == 200, profile
    assert (profile["phone"], profile["push_name"], profile["business"], profile["picture"]) == (
        OWN,
        "Sandbox 0001",
        False,
        None,
    )

    upload = svc.media.put_bytes(account.account_id, False, png(), "image/png")
    body = {"push_name": "Acme", "about": "Seg-Sex 9-18h", "picture_media_id": upload["media_id"]}
    status, _, changed = api(instances, account.auth, "PATCH", path, body=body)
    assert status == 200, changed
    assert (changed["push_name"], changed["about"]) == ("Acme", "Seg-Sex 9-18h")
    assert changed["picture"]["url"] == f"/media/{changed['picture']['media_id']}"
    assert world["network"].profile_seen(account.account_id, OWN)["name"] == "Acme"
    status, _, instance = api(instances, account.auth, "GET", f"/instances/{account.instance_id}")
    assert (status, instance["push_name"], instance["status"]) == (200, "Acme", "connected")

    status, _, ana = api(contacts, account.auth, "GET", f"/contacts/{quote(ANA)}", instance_id=account.instance_id)
    assert status == 200, ana
    assert (ana["phone"], ana["name"], ana["business"]) == (ANA, "Contact 0001", False)
    status, _, again = api(
        contacts, account.auth, "GET", "/contacts/5511988880001@s.whatsapp.net", instance_id=account.instance_id
    )
    assert again["picture"] == ana["picture"]
    status, _, _ = api(media, account.auth, "GET", ana["picture"]["url"])
    assert status == 302  # the account's media: GET /media/{id} answers it like any other

    status, _, error = api(
        contacts, account.auth, "GET", f"/contacts/{quote('+5511900000123')}", instance_id=account.instance_id
    )
    assert (status, error["code"]) == (404, "not_on_whatsapp")


def test_a_picture_of_another_account_or_not_an_image_is_422(handlers, account, world, svc):
    path = f"/instances/{account.instance_id}/profile"
    other = make_account(svc)
    theirs = svc.media.put_bytes(other.account_id, False, png(), "image/png")
    status, _, error = api(
        handlers["instances"], account.auth, "PATCH", path, body={"picture_media_id": theirs["media_id"]}
    )
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "picture_media_id")
    text = svc.media.put_bytes(account.account_id, False, b"plain text", "text/plain")
    status, _, error = api(
        handlers["instances"], account.auth, "PATCH", path, body={"picture_media_id": text["media_id"]}
    )
    assert (status, error["code"], error["param"]) == (422, "validation_failed", "picture_media_id")


def test_another_accounts_number_is_404(handlers, account, world, svc):
    other = make_account(svc)
    status, _, error = api(handlers["instances"], other.auth, "GET", f"/instances/{account.instance_id}/profile")
    assert (status, error["code"]) == (404, "not_found")
    status, _, error = api(
        handlers["instances"], other.auth, "PATCH", f"/instances/{account.instance_id}/profile", body={"about": "x"}
    )
    assert (status, error["code"]) == (404, "not_found")
    status, _, error = api(
        handlers["contacts"], other.auth, "GET", f"/contacts/{quote(ANA)}", instance_id=account.instance_id
    )
    assert (status, error["code"]) == (404, "not_found")


def test_restricted_keys_keep_to_their_scopes_and_numbers(handlers, account, world, svc):
    reader = svc.keys.create(
        account.account_id, name="r", mode="test", scopes=frozenset({"instances:read"}), instance_ids=None
    ).secret
    status, _, _ = api(
        handlers["instances"], {"Authorization": f"Bearer {reader}"}, "GET", f"/instances/{account.instance_id}/profile"
    )
    assert status == 200
    status, _, error = api(
        handlers["instances"],
        {"Authorization": f"Bearer {reader}"},
        "PATCH",
        f"/instances/{account.instance_id}/profile",
        body={"about": "x"},
    )
    assert (status, error["code"], error["param"]) == (403, "forbidden", "instances:write")
    status, _, error = api(
        handlers["contacts"], {"Authorization": f"Bearer {reader}"}, "GET", f"/contacts/{quote(ANA)}",
        instance_id=account.instance_id,
    )  # fmt: skip
    assert (status, error["code"], error["param"]) == (403, "forbidden", "contacts:read")

    only_second = svc.keys.create(
        account.account_id, name="s", mode="test", scopes=None, instance_ids=frozenset({world["second"]})
    ).secret
    auth = {"Authorization": f"Bearer {only_second}"}
    status, _, error = api(
        handlers["contacts"], auth, "GET", f"/contacts/{quote(ANA)}", instance_id=account.instance_id
    )
    assert (status, error["code"]) == (404, "not_found")
    status, _, ana = api(handlers["contacts"], auth, "GET", f"/contacts/{quote(ANA)}", instance_id=world["second"])
    assert status == 200 and ana["phone"] == ANA


HOSTILE = [
    ("instances", "PATCH", "/instances/{own}/profile", {"about": "x" * 5000}, None, "about"),
    ("instances", "PATCH", "/instances/{own}/profile", {"about": "a\u0000b"}, None, "about"),
    ("instances", "PATCH", "/instances/{own}/profile", {"push_name": "Ana\u202eanuS"}, None, "push_name"),
    ("instances", "PATCH", "/instances/{own}/profile", {"push_name": "n" * 26}, None, "push_name"),
    ("instances", "PATCH", "/instances/{own}/profile", {"push_name": ["x"]}, None, "push_name"),
    ("instances", "PATCH", "/instances/{own}/profile", {"push_name": "   "}, None, "push_name"),
    ("instances", "PATCH", "/instances/{own}/profile", {"about": 7}, None, "about"),
    (
        "instances",
        "PATCH",
        "/instances/{own}/profile",
        {"picture_media_id": "../../etc/passwd"},
        None,
        "picture_media_id",
    ),
    ("instances", "PATCH", "/instances/{own}/profile", {"picture_media_id": 12}, None, "picture_media_id"),
    ("instances", "PATCH", "/instances/{own}/profile", {}, None, "request_body"),
    ("instances", "PATCH", "/instances/{own}/profile", {"nickname": "x"}, None, "nickname"),
    ("instances", "PATCH", "/instances/{own}/profile", "x", None, None),
    ("instances", "GET", "/instances/%00/profile", None, None, None),
    ("contacts", "GET", "/contacts/%00", None, "instance_id={own}", "jid"),
    ("contacts", "GET", "/contacts/120363025246125888%40g.us", None, "instance_id={own}", "jid"),
    ("contacts", "GET", "/contacts/abc%40evil.com", None, "instance_id={own}", "jid"),
    ("contacts", "GET", "/contacts/" + "9" * 300, None, "instance_id={own}", "jid"),
    ("contacts", "GET", "/contacts/%2B5511988880001", None, "instance_id=%00", None),
    ("contacts", "GET", "/contacts/%2B5511988880001", None, None, None),
]


@pytest.mark.parametrize(("group", "method", "path", "body", "query", "param"), HOSTILE)
def test_hostile_input_is_a_4xx_in_our_shape(handlers, account, world, group, method, path, body, query, param):
    path = path.format(own=account.instance_id)
    query = query.format(own=account.instance_id) if query else ""
    kwargs: dict[str, Any] = {"headers": account.auth, "query": query}
    if body is not None:
        kwargs["body"] = body
    status, _, answer = call(handlers[group], method, path, **kwargs)
    assert 400 <= status < 500 and {"code", "message", "locale"} <= set(answer), answer
    if param is not None:
        assert (status, answer.get("param")) == (422, param), answer


def test_a_get_on_the_contacts_check_path_is_a_405_not_a_contact_of_that_name(handlers, account):
    status, headers, error = call(handlers["contacts"], "GET", "/contacts/checkIsOnWhatsApp", headers=account.auth)
    assert (status, error["code"]) == (405, "method_not_allowed")
    assert {k.lower(): v for k, v in headers.items()}["allow"] == "POST"


@pytest.mark.parametrize(
    "body", [{"picture": None}, {"name": None}, {"business": "yes"}, {"about": "x" * 140}, {"nickname": "x"}]
)
def test_the_sandbox_profile_control_refuses_bad_bodies_in_our_shape(aws, account, body):
    status, _, error = call(
        load_function("sandbox").handler, "PATCH", "/sandbox/contacts/%2B5511988880001/profile", headers=account.auth,
        body=body,
    )  # fmt: skip
    assert (status, error["code"]) == (422, "validation_failed")
