"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright for Python, for the console's tests.

Playwright's own browser download does not work here, so the system Chromium is launched; every page records
its console errors, uncaught exceptions and failed requests (a CSP violation is a console error), and a test
fails on any of them. axe-core (console/node_modules) checks accessibility; screenshots go to an artifacts
folder, never the repository."""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"
AXE = CONSOLE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("BZ_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@dataclass
class ConsoleProblems:
    """What the browser reported that a clean page never shows."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("console", lambda message: message.type == "error" and self.errors.append(f"console: {message.text}"))
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def take(self) -> list[str]:
        found, self.errors[:] = list(self.errors), []
        return found


AXE_URL_PATH = "/console/__test__/axe.min.js"


def serve_axe(context: Any) -> None:
    """axe-core as a same-origin script the test serves itself: the console's CSP (`script-src 'self'`) refuses
    the inline script `add_script_tag(path=...)` would add, and the CSP stays on for everything else."""
    context.route(f"**{AXE_URL_PATH}", lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))


def axe_violations(page: Any) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now (WCAG 2.x A/AA rules)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        origin = page.evaluate("() => location.origin")
        page.add_script_tag(url=origin + AXE_URL_PATH)
    result = page.evaluate(
        """async () => {
            const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return [violation for violation in result if violation["impact"] in ("serious", "critical")]


def artifacts_dir(fallback: Path) -> Path:
    folder = Path(os.environ["BZ_ARTIFACTS_DIR"]) / "console" if os.environ.get("BZ_ARTIFACTS_DIR") else fallback
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Any, folder: Path, name: str) -> Path:
    path = folder / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def mailbox_code(base_url: str, email: str, subject_hint: str = "", timeout: float = 30) -> str:
    """The newest 6-digit code mailed to `email` (the local mailbox is the user's inbox)."""
    deadline = time.monotonic() + timeout
    while True:
        messages = requests.get(f"{base_url}/sandbox/mailbox", params={"to": email}, timeout=10).json()["data"]
        for message in reversed(messages):
            if subject_hint.lower() in (message["subject"] + message["text"]).lower():
                found = re.search(r"\b(\d{6})\b", message["text"])
                if found:
                    return found.group(1)
        assert time.monotonic() < deadline, f"no code mailed to {email}: {messages}"
        time.sleep(0.2)
