"""The web console, through its UI only, in real Chromium against the booted local stack.

A user signs up (the code comes from the local mailbox: their email), creates a key, adds a number and pairs it by
the sandbox's simulated scan, sends a message and sees it read in the inbox, writes to the number as a contact and
sees it arrive live, registers a webhook on a local receiver that fails twice, sees each attempt and replays the
delivery, tops up through the sandbox checkout, reads the console in pt-BR, revokes the key, and signs out; a second
account then sees nothing of the first. One pass runs at 375 px wide. Every page is checked with axe-core (no
serious or critical violation) and photographed at both widths into the run's artifacts; the browser console must
stay free of errors (a CSP violation is one). The tests share one browser tab and run in file order."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from support.browser import (
    CHROMIUM_ARGS,
    CONSOLE,
    DESKTOP,
    PHONE,
    ConsoleProblems,
    artifacts_dir,
    axe_violations,
    chromium_path,
    mailbox_code,
    screenshot,
    serve_axe,
)
from support.receiver import WebhookReceiver
from support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("console")]

PASSWORD = "C0nsole-Passw0rd!"
PAGES = ["", "numbers", "send", "inbox", "events", "webhooks", "usage", "wallet", "keys", "settings"]
SLOW = 60_000  # ms: a loaded 2-core CI machine moves every hop of the pipeline in its turn


def _node(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", *args], cwd=CONSOLE.parent, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def console_built() -> Path:
    """`make test` builds the console first (make console); run alone, this builds it when it is missing."""
    if not (CONSOLE / "dist" / "index.html").exists():
        subprocess.run(["make", "console"], cwd=CONSOLE.parent, check=True, timeout=600)
    return CONSOLE / "dist"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        pytest.fail("Chromium is not installed (.ci/run installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Session:
    """The one tab the tests share, with what they learned along the way."""

    def __init__(self, page: Any, base_url: str, shots: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.shots = shots
        self.problems = ConsoleProblems()
        self.problems.watch(page)
        self.facts: dict[str, Any] = {}
        self.violations: dict[str, list[dict]] = {}
        self.timeline: list[str] = []  # visits and every API answer >= 400: what a failure's evidence shows
        page.on(
            "response",
            lambda r: (
                self.timeline.append(f"{time.strftime('%H:%M:%S')} {r.status} {r.request.method} {r.url}")
                if r.status >= 400
                else None
            ),
        )

    def visit(self, route: str) -> None:
        self._note(f"visit {route!r} from")
        self.page.goto(f"{self.base_url}/console/#/{route}")
        self._note("  arrived")
        self.settle()

    def _note(self, what: str) -> None:
        try:
            held = self.page.evaluate("() => sessionStorage.getItem('bz.session') !== null")
        except Exception as error:  # a page between documents
            held = f"? {type(error).__name__}"
        self.timeline.append(f"{time.strftime('%H:%M:%S')} {what} {self.page.url} session={held}")

    def settle(self) -> None:
        """The page has drawn its data: no loading state left (the stream's own status line aside)."""
        self.page.wait_for_function("() => document.querySelectorAll('main .state-loading').length === 0", timeout=SLOW)

    def check(self, name: str) -> None:
        """axe-core on the page as it is, and its screenshot at the current width."""
        self.settle()
        width = self.page.viewport_size["width"]
        found = axe_violations(self.page)
        if found:
            self.violations[f"{name}@{width}"] = found
        screenshot(self.page, self.shots, f"{name or 'home'}-{width}")


@pytest.fixture(scope="module")
def session(stack: Stack, console_built: Path, browser: Any, tmp_path_factory) -> Iterator[Session]:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    serve_axe(context)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.base_url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    shared = Session(page, stack.base_url, artifacts_dir(tmp_path_factory.mktemp("console-shots")))
    yield shared
    context.close()


@pytest.fixture(autouse=True)
def _what_the_page_showed_on_a_failure(request) -> Iterator[None]:
    """A failed step leaves its page behind for the next test: keep what it showed (screenshot, URL, text)."""
    yield
    if "session" not in request.fixturenames:
        return
    shared: Session = request.getfixturevalue("session")
    failed = request.node.rep_call.failed if hasattr(request.node, "rep_call") else False
    if failed:
        name = f"failed-{request.node.name}"
        screenshot(shared.page, shared.shots, name)
        (shared.shots / f"{name}.txt").write_text(
            f"{shared.page.url}\n\n{shared.page.inner_text('body')}\n\n" + "\n".join(shared.timeline[-40:])
        )


@pytest.fixture(autouse=True)
def _clean_browser_console(request) -> Iterator[None]:
    """No test may leave an error in the browser console (CSP violations, failed requests, exceptions)."""
    yield
    if "session" in request.fixturenames:
        shared: Session = request.getfixturevalue("session")
        allowed = getattr(request.node.function, "allowed_console_errors", ())
        problems = [p for p in shared.problems.take() if not any(text in p for text in allowed)]
        assert problems == [], problems
        assert shared.violations == {}, json.dumps(shared.violations, indent=1)


WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > innerWidth + 1)
    .slice(0, 6).map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


def tiny_png() -> bytes:
    """A 2x2 PNG, made here (no file in the repository)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x22\x51\xcc" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _sign_up(session: Session, email: str, name: str) -> None:
    page = session.page
    session.visit("signup")
    session.check("sign-up")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**#/confirm*")
    session.check("confirm")
    page.get_by_label("Code").fill(mailbox_code(session.base_url, email))
    page.get_by_label("Password").fill(PASSWORD)  # the sign-up's own: a code confirms only it
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**#/signin*")


def _sign_in(session: Session, email: str) -> None:
    page = session.page
    if page.get_by_label("Email").input_value() != email:
        page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("main h1").wait_for()


def test_the_console_is_served_under_a_strict_content_security_policy(stack: Stack, console_built: Path):
    answer = requests.get(f"{stack.base_url}/console/", timeout=10)
    assert answer.ok and '<div id="app">' in answer.text
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "unsafe" not in policy
    config = requests.get(f"{stack.base_url}/console/config.json", timeout=10).json()
    assert config == {"apiBaseUrl": "", "mode": "local"}


def test_the_catalogs_have_every_text_in_three_languages_and_the_first_load_fits_the_budget(console_built: Path):
    catalogs = _node("console/scripts/check-i18n.mjs")
    assert catalogs.returncode == 0, catalogs.stdout + catalogs.stderr
    budget = _node("console/scripts/budget.mjs")
    print(budget.stdout)
    assert budget.returncode == 0, budget.stdout + budget.stderr
    assert "first-load JavaScript:" in budget.stdout


def test_sign_up_confirm_from_the_mailbox_and_sign_in_to_the_home_page(session: Session):
    email = f"console-{uuid.uuid4().hex[:10]}@example.com"
    session.facts["email"] = email
    _sign_up(session, email, "Console Test Co")
    session.check("sign-in")
    _sign_in(session, email)
    page = session.page
    page.get_by_role("heading", name="Welcome, Console Test Co").wait_for()
    # The checklist reads real state: a new account has a connected sandbox number, nothing else yet.
    checklist = page.get_by_test_id("checklist")
    checklist.locator("li[data-done='true']", has_text="Connect a number").wait_for()
    assert checklist.locator("li[data-done='false']").count() == 3
    assert page.evaluate("() => localStorage.getItem('bz.session')") is None  # tokens live in sessionStorage
    assert page.evaluate("() => JSON.parse(sessionStorage.getItem('bz.session')).refreshToken.length > 0")
    session.check("home")


def test_create_a_key_shown_once_with_a_copy_button(session: Session):
    page = session.page
    session.visit("keys")
    page.get_by_label("Name").fill("Backend")
    page.get_by_role("button", name="Create a key").click()
    secret = page.get_by_test_id("secret-value")
    secret.wait_for()
    key = secret.inner_text().strip()
    assert key.startswith("bz_test_")
    page.get_by_role("button", name="Copy").click()
    assert page.evaluate("() => navigator.clipboard.readText()") == key
    session.facts["key"] = key
    page.locator("[data-testid=keys-table] tr", has_text="Backend").wait_for()
    session.check("keys")
    # The key works against the API, and the home checklist sees it.
    assert requests.get(f"{session.base_url}/me", headers={"Authorization": f"Bearer {key}"}, timeout=10).ok
    session.visit("")
    session.page.get_by_test_id("checklist").locator("li[data-done='true']", has_text="Create an API key").wait_for()


def test_create_a_number_and_pair_it_by_the_simulated_scan(session: Session):
    page = session.page
    session.visit("numbers")
    session.check("numbers")
    page.get_by_label("Name of the new number").fill("Sales")
    started = time.monotonic()
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**#/numbers/inst_*")
    session.facts["instance_id"] = page.url.rsplit("/", 1)[1]
    # The QR comes with the first `instance.qr` event on the stream, fetched with the token as a blob.
    qr = page.get_by_test_id("qr")
    qr.wait_for(timeout=SLOW)
    assert qr.get_attribute("src").startswith("blob:")
    page.wait_for_function("() => document.querySelector('[data-testid=qr]').naturalWidth > 0")
    session.check("number-pairing")
    page.get_by_role("button", name="Simulate the phone scanning").click()
    page.locator("[data-testid=instance-status] [data-status=connected]").wait_for(timeout=SLOW)
    seconds = time.monotonic() - started
    session.facts["create_to_connected_s"] = round(seconds, 2)
    print(f"create number → connected through the UI: {seconds:.2f} s")
    (session.shots / "timings.json").write_text(json.dumps({"create_to_connected_s": round(seconds, 2)}))
    session.check("number-connected")


def test_send_a_message_and_see_it_reach_read_in_the_inbox(session: Session):
    page = session.page
    instance_id = session.facts["instance_id"]
    session.visit(f"send?instance={instance_id}")
    page.get_by_label("To", exact=True).fill("+5511977770001")
    page.get_by_label("Text").fill("Hello from the console")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_test_id("sent-message").wait_for()
    session.check("send")
    session.visit(f"inbox?instance={instance_id}")
    page.get_by_test_id("conversations").get_by_text("+5511977770001").first.click()
    bubble = page.locator("[data-testid=thread] li.outbound", has_text="Hello from the console")
    bubble.wait_for(timeout=SLOW)
    page.locator("[data-testid=thread] li.outbound[data-status=read]", has_text="Hello from the console").wait_for(
        timeout=SLOW
    )
    # A photo: uploaded from the form (POST /media), then previewed in the thread from a blob: URL.
    session.visit(f"send?instance={instance_id}")
    page.get_by_label("To", exact=True).fill("+5511977770001")
    page.get_by_label("Type").select_option("image")
    page.get_by_test_id("media-file").set_input_files(
        files=[{"name": "dot.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )
    page.get_by_label("Caption").fill("A tiny photo")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_test_id("sent-message").wait_for()
    session.visit(f"inbox?instance={instance_id}&jid=%2B5511977770001")
    page.get_by_test_id("conversations").get_by_text("+5511977770001").first.click()
    preview = page.locator("[data-testid=thread] [data-testid=media-preview]").first
    preview.wait_for(timeout=SLOW)
    assert preview.get_attribute("src").startswith("blob:")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=media-preview]')].some(i => i.naturalWidth > 0)"
    )
    session.check("inbox-thread")


def test_an_incoming_message_from_the_sandbox_form_appears_live_in_the_inbox(session: Session):
    page = session.page
    instance_id = session.facts["instance_id"]
    session.visit(f"inbox?instance={instance_id}")
    # A second tab of the same session (window.open copies sessionStorage) plays the contact's phone.
    with page.context.expect_page() as opened:
        page.evaluate(f"() => window.open(location.pathname + '#/numbers/{instance_id}')")
    phone = opened.value
    session.problems.watch(phone)
    phone.get_by_label("From (contact's phone)").fill("+5511966660002")
    phone.get_by_label("Push name").fill("Bia")
    phone.get_by_label("Text", exact=True).fill("Oi! Chegou ao vivo?")
    phone.get_by_role("button", name="Send as the contact").click()
    phone.get_by_text("The contact wrote").wait_for()
    phone.close()
    # No reload here: the conversation list follows the stream.
    conversation = page.get_by_test_id("conversations").get_by_text("Bia")
    conversation.wait_for(timeout=SLOW)
    conversation.click()
    page.locator("[data-testid=thread] li.inbound", has_text="Oi! Chegou ao vivo?").wait_for(timeout=SLOW)
    session.check("inbox-inbound")


def test_the_events_page_tails_the_stream_live_and_replays_after_an_event(session: Session):
    page = session.page
    instance_id = session.facts["instance_id"]
    session.visit("events")
    page.get_by_text("Connected. Waiting for events…").wait_for(timeout=SLOW)
    with page.context.expect_page() as opened:
        page.evaluate(f"() => window.open(location.pathname + '#/numbers/{instance_id}')")
    phone = opened.value
    session.problems.watch(phone)

    def write(text: str) -> None:
        phone.get_by_label("Text", exact=True).fill(text)
        phone.get_by_role("button", name="Send as the contact").click()
        phone.get_by_text("The contact wrote").wait_for()

    events = page.get_by_test_id("events")
    write("Events page, first")
    first = events.locator("li", has=page.locator(".event-type", has_text="message.received")).first
    first.wait_for(timeout=SLOW)
    first.locator("summary").click()
    first_id = first.locator("p .mono").inner_text().strip()
    assert first_id.startswith("evt_")
    write("Events page, second")
    phone.close()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=events] pre')].some(p => p.textContent.includes('second'))",
        timeout=SLOW,
    )
    session.check("events-live")
    # Filters: this number's instance events only (none come now: the tail waits).
    page.get_by_label("instance.*").check()
    page.get_by_label("Number", exact=True).select_option(instance_id)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**#/events?types=instance.*&instance=*")
    page.get_by_text("Connected. Waiting for events…").wait_for(timeout=SLOW)
    # The replay after the first message: the second comes back from the log (Last-Event-ID), not the first.
    first.locator("a", has_text="Replay from here")  # the link every event carries; here by its address
    session.visit(f"events?after={first_id}")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=events] pre')].some(p => p.textContent.includes('second'))",
        timeout=SLOW,
    )
    texts = page.get_by_test_id("events").locator("pre").all_text_contents()
    assert not any("Events page, first" in text for text in texts)
    session.check("events-replay")


def test_a_webhook_that_fails_twice_shows_every_attempt_and_its_delivery_replays(session: Session):
    page = session.page
    receiver = WebhookReceiver(script=[500, 500])
    try:
        session.visit("webhooks")
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("Description").fill("Local receiver")
        page.get_by_label("webhook.test").check()
        page.get_by_role("button", name="Create").click()
        secret = page.get_by_test_id("secret-value").inner_text().strip()
        assert secret.startswith("whsec_")
        session.check("webhooks")
        page.get_by_role("link", name=f"Open {receiver.url}").click()
        page.wait_for_url("**#/webhooks/wh_*")
        session.facts["webhook_route"] = page.url.split("#/", 1)[1]
        page.get_by_role("button", name="Send a test event").click()
        delivery = page.locator("[data-testid=deliveries] li.delivery").first
        delivery.locator("[data-status=delivered]").first.wait_for(timeout=SLOW)
        page.wait_for_function("() => document.querySelectorAll('[data-testid=attempt]').length >= 3", timeout=SLOW)
        statuses = delivery.get_by_test_id("attempt-status").all_inner_texts()
        assert statuses[:3] == ["500", "500", "200"], statuses
        session.check("webhook-deliveries")
        delivery.get_by_role("button", name="Replay").click()
        page.get_by_text("is on its way again").wait_for()
        deadline = time.monotonic() + 60
        while len(receiver.requests) < 4:
            assert time.monotonic() < deadline, f"the replay never arrived: {len(receiver.requests)} requests"
            time.sleep(0.2)
        ids = {request.headers["webhook-id"] for request in receiver.requests}
        assert len(ids) == 1  # a replay is the same event again
        from standardwebhooks.webhooks import Webhook

        last = receiver.requests[-1]
        Webhook(secret).verify(last.body, last.headers)  # signed with the secret the console showed once
    finally:
        receiver.close()


def test_top_up_through_the_sandbox_checkout_changes_the_balance(session: Session):
    page = session.page
    session.visit("wallet")
    balance = page.get_by_test_id("balance")
    before = int(balance.get_attribute("data-centavos"))
    session.check("wallet")
    page.get_by_label("Amount (R$)").fill("25.00")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Top up").click()
    checkout = opened.value
    checkout.wait_for_load_state()
    assert "/sandbox/checkout/" in checkout.url
    checkout.locator("form[action$='/complete'] button").click()
    checkout.wait_for_load_state()
    checkout.close()
    page.wait_for_function(
        f"() => Number(document.querySelector('[data-testid=balance]').dataset.centavos) === {before + 2500}",
        timeout=SLOW,
    )


def test_switch_to_pt_br_and_the_pages_are_translated(session: Session):
    page = session.page
    session.visit("")
    page.get_by_test_id("language").select_option("pt-BR")
    page.get_by_role("link", name="Carteira").wait_for()
    assert page.evaluate("() => document.documentElement.lang") == "pt-BR"
    expected = {"numbers": "Números", "wallet": "Carteira", "keys": "Chaves de API", "usage": "Uso"}
    for route, title in expected.items():
        session.visit(route)
        page.get_by_role("heading", name=title, exact=True).wait_for()
        session.check(f"pt-br-{route}")
    # The API's errors come back in the chosen language too (Accept-Language): a webhook URL it refuses.
    session.visit("webhooks")
    page.get_by_label("URL").fill("https://10.0.0.1/hook")
    page.get_by_role("button", name="Criar").click()
    page.locator(".state-error").wait_for()
    session.check("pt-br-error")
    page.get_by_test_id("language").select_option("en")
    page.get_by_role("link", name="Wallet").wait_for()


test_switch_to_pt_br_and_the_pages_are_translated.allowed_console_errors = ("status of 422",)


def test_every_page_at_375_px_through_the_menu(session: Session):
    page = session.page
    page.set_viewport_size(PHONE)
    try:
        session.visit("")
        for route in PAGES:
            page.get_by_role("button", name="Menu").click()
            nav = page.locator("#main-nav")
            link = nav.locator(f"a[href='#/{route}']")
            link.click()
            page.wait_for_url(f"**#/{route}")
            session.settle()
            # The page fits: nothing wider than the screen but the tables' own scrolling boxes.
            assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"] + 1, (
                route,
                page.evaluate(WIDER_THAN_THE_SCREEN),
            )
            session.check(route or "home")
        session.visit(f"numbers/{session.facts['instance_id']}")
        session.check("number-detail")
        session.visit(session.facts["webhook_route"])
        session.check("webhooks-detail")
        # A message sent from the phone-sized form, with the mode switch still in reach.
        assert page.get_by_test_id("mode-switch").is_visible()
        session.visit(f"send?instance={session.facts['instance_id']}")
        page.get_by_label("Text").fill("Sent at 375 px")
        page.get_by_role("button", name="Send", exact=True).click()
        page.get_by_test_id("sent-message").wait_for()
    finally:
        page.set_viewport_size(DESKTOP)
    for route in [*PAGES, f"numbers/{session.facts['instance_id']}", session.facts["webhook_route"]]:
        session.visit(route)
        session.check(route.split("/")[0] + ("-detail" if "/" in route else ""))


def test_live_mode_reads_live_data(session: Session):
    page = session.page
    session.visit("wallet")
    page.get_by_test_id("mode-switch").click()
    assert page.get_by_test_id("mode-switch").get_attribute("aria-checked") == "true"
    assert page.get_by_test_id("test-banner").count() == 0
    session.settle()
    assert page.get_by_test_id("balance").get_attribute("data-centavos") == "0"  # the live wallet starts empty
    session.check("wallet-live")
    session.visit("numbers")
    assert page.locator("text=Sales").count() == 0  # test numbers are not live numbers
    page.get_by_test_id("mode-switch").click()
    page.get_by_test_id("test-banner").wait_for()


def test_revoke_a_key(session: Session):
    page = session.page
    session.visit("keys")
    row = page.locator("[data-testid=keys-table] tr", has_text="Backend")
    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Confirm revoke").click()
    row.locator("[data-status=revoked]").wait_for()
    deadline = time.monotonic() + 15  # refused everywhere within 5 s
    while True:
        answer = requests.get(
            f"{session.base_url}/me", headers={"Authorization": f"Bearer {session.facts['key']}"}, timeout=10
        )
        if answer.status_code == 401:
            break
        assert time.monotonic() < deadline, answer.status_code
        time.sleep(0.5)


def test_an_expired_session_returns_to_sign_in_and_back_to_the_page(session: Session):
    page = session.page
    session.visit("settings")
    # An access token past its time is refreshed with the refresh token before the next request.
    old = page.evaluate("() => JSON.parse(sessionStorage.getItem('bz.session')).accessToken")
    page.evaluate(
        """() => {
            const s = JSON.parse(sessionStorage.getItem('bz.session'));
            sessionStorage.setItem('bz.session', JSON.stringify({...s, expiresAt: 0}));
        }"""
    )
    page.reload()
    page.get_by_test_id("account-name").wait_for()
    renewed = page.evaluate("() => JSON.parse(sessionStorage.getItem('bz.session'))")
    assert renewed["expiresAt"] > time.time() * 1000 and renewed["accessToken"] != old
    # Both tokens dead (as after a revocation): the refresh fails, so the console must sign in again.
    page.evaluate(
        """() => {
            const s = JSON.parse(sessionStorage.getItem('bz.session'));
            sessionStorage.setItem('bz.session', JSON.stringify({...s, accessToken: 'x.y.z', refreshToken: 'gone'}));
        }"""
    )
    page.reload()
    page.wait_for_url("**#/signin?expired=1&next=%2Fsettings")
    page.get_by_text("Your session expired").wait_for()
    _sign_in(session, session.facts["email"])
    page.wait_for_url("**#/settings")
    page.get_by_test_id("account-name").wait_for()


test_an_expired_session_returns_to_sign_in_and_back_to_the_page.allowed_console_errors = (
    "status of 401",
    "status of 422",
)


def test_sign_out_clears_everything_and_another_account_sees_none_of_it(session: Session):
    page = session.page
    session.visit("numbers")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**#/signin")
    assert page.evaluate("() => sessionStorage.length") == 0
    assert page.locator("text=Sales").count() == 0
    # The second account goes through the signed-out pages at 375 px: sign-up, confirm, a password reset.
    page.set_viewport_size(PHONE)
    try:
        other = f"console-other-{uuid.uuid4().hex[:8]}@example.com"
        _sign_up(session, other, "Other Co")
        session.check("sign-in")
        session.visit("forgot")
        session.check("forgot")
        page.get_by_label("Email").fill(other)
        page.get_by_role("button", name="Send me a code").click()
        page.wait_for_url("**#/reset*")
        session.check("reset")
        page.get_by_label("Code").fill(mailbox_code(session.base_url, other, subject_hint="password"))
        page.get_by_role("textbox", name="New password").fill(PASSWORD + "2")
        page.get_by_role("button", name="Change password").click()
        page.wait_for_url("**#/signin?reset=1*")
        page.get_by_label("Password").fill(PASSWORD + "2")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Welcome, Other Co").wait_for()
    finally:
        page.set_viewport_size(DESKTOP)
    session.visit("numbers")
    assert page.locator("text=Sales").count() == 0
    session.visit("keys")
    assert page.locator("text=Backend").count() == 0
    session.visit("webhooks")
    page.get_by_text("No endpoints yet.").wait_for()
