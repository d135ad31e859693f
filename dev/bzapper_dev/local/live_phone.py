"""`bzapper dev --engine whatsmeow`: a live instance on a real phone, paired from the terminal's QR code."""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import Any

from bzapper import i18n


def prepare(state_dir: Path, locale: str) -> None:
    """Before the worker starts: the session store it opens whatsmeow sessions from (kept across runs)."""
    if importlib.util.find_spec("neonize") is None:
        raise SystemExit(i18n.translate("cli.dev.whatsmeow_missing", locale))
    store = state_dir / "whatsmeow"
    store.mkdir(parents=True, exist_ok=True)
    # For the worker this runner starts later: a child inherits this process's environment.
    os.environ["BZ_WHATSMEOW_STORE"] = str(store.resolve())


def bootstrap(account_id: str, credits: int) -> dict[str, str]:
    """A live key, live credits (local money) and a whatsmeow instance for the dev account."""
    from bzapper.bootstrap import services
    from bzapper.domain.model import wallet_id
    from bzapper.services.control import command

    svc = services()
    live_key = svc.accounts.create_key(account_id, "live")
    svc.wallets.credit(wallet_id(account_id, "live"), credits, reason="local_live_credits")
    instance = svc.instances.create(account_id, livemode=True, engine="whatsmeow", name="Phone", status="disconnected")
    command(svc, instance, "open")
    return {"BZ_LIVE_KEY": live_key, "BZ_LIVE_INSTANCE": instance.instance_id}


def watch_pairing(instance_id: str, locale: str, stop: threading.Event) -> threading.Thread:
    """Draws every new QR of the instance in the terminal until it is connected."""

    def run() -> None:
        from bzapper.bootstrap import services
        from bzapper.engines.whatsmeow.terminal import render_qr

        shown: Any = None
        while not stop.wait(1.0):
            view = services().instances.view(instance_id)
            if view is None:
                return
            if view.status == "connected":
                print(i18n.translate("cli.dev.phone_connected", locale, phone=view.phone or "?"), flush=True)
                return
            if view.qr and view.qr != shown:
                print(i18n.translate("cli.dev.scan_qr", locale), flush=True)
                render_qr(view.qr)
                shown = view.qr

    thread = threading.Thread(target=run, name="qr-watch", daemon=True)
    thread.start()
    return thread
