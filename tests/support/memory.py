"""Building blocks of the service unit tests over the in-memory fakes (bzapper.adapters.memory): an account
with a key, credits and a number, and the worker's reports that move a message along."""

from __future__ import annotations

from dataclasses import dataclass

from bzapper.adapters.memory import MemoryFakes
from bzapper.domain.keys import Mode
from bzapper.domain.model import Principal, StatusReport, wallet_id
from bzapper.domain.sending import SendDraft
from bzapper.services.sending import SendResult, send_message
from bzapper.services.statuses import apply_report

PHONE = "+5511988887777"
"""A recipient (a Brazilian mobile, as the API's examples use)."""
PHONE_JID = "5511988887777@s.whatsapp.net"
OTHER_PHONE = "+5511977776666"
LID = "123456789012345@lid"


@dataclass(frozen=True)
class Tenant:
    """An account as a test drives it: its principal (the key's mode), one number, and its wallet."""

    principal: Principal
    instance_id: str
    api_key: str

    @property
    def account_id(self) -> str:
        return self.principal.account_id

    @property
    def wallet(self) -> str:
        return wallet_id(self.principal.account_id, self.principal.mode)


def open_account(
    fakes: MemoryFakes,
    *,
    mode: Mode = "test",
    credits: int = 1_000,
    plan: str | None = None,
    status: str = "connected",
    locale: str = "en",
    name: str = "Acme",
) -> Tenant:
    account_id = fakes.accounts.create_account(name, locale)
    if plan:
        fakes.accounts.update(account_id, plan=plan)
    key = fakes.accounts.create_key(account_id, mode)
    principal = fakes.accounts.principal_for(key)
    assert principal is not None
    if credits:
        fakes.wallets.credit(wallet_id(account_id, mode), credits, "test_credits")
    engine = "whatsmeow" if mode == "live" else "sandbox"
    instance = fakes.instances.create(account_id, livemode=mode == "live", engine=engine, name="Main", status=status)
    return Tenant(principal, instance.instance_id, key)


def send_text(fakes: MemoryFakes, tenant: Tenant, body: str = "hello", to: str = PHONE, **draft: object) -> SendResult:
    return send_message(
        fakes.services,
        tenant.principal,
        SendDraft(type="text", to=to, instance_id=tenant.instance_id, content={"body": body}, **draft),  # type: ignore[arg-type]
    )


def report(
    fakes: MemoryFakes, message_id: str, status: str, *, at: int | None = None, error: str | None = None
) -> None:
    """A worker's report about one of our messages, applied as the statuses consumer applies it."""
    view = fakes.messages.get(message_id)
    assert view is not None
    apply_report(
        fakes.services,
        StatusReport(
            instance_id=view.instance_id,
            wa_message_id=view.wa_message_id or "",
            status=status,
            at=fakes.clock() if at is None else at,
            message_id=message_id,
            error_code=error,
        ),
    )
