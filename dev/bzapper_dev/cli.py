"""The `bzapper` command: run the local stack, the worker, and operator tasks.

Every text it shows comes from the catalog (bzapper.i18n), in the terminal's language (LC_ALL,
LC_MESSAGES, LANG): help included, errors included. Only the framework's own words ("Usage", "Options")
stay in English.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from bzapper import i18n
from bzapper.config import reset_settings, settings
from bzapper.domain.clock import iso


def _t(key: str, **params: object) -> str:
    return i18n.translate(key, i18n.terminal_locale(settings().local.locale_variables), **params)


def _fail(key: str, **params: object) -> NoReturn:
    """A usage error in the user's language (click's "Invalid value for …" frame is English only)."""
    typer.echo(_t(key, **params), err=True)
    raise typer.Exit(2)


app = typer.Typer(no_args_is_help=True, add_completion=False, help=_t("cli.help.app"))
accounts = typer.Typer(no_args_is_help=True, help=_t("cli.help.accounts"))
app.add_typer(accounts, name="accounts")
wallet = typer.Typer(no_args_is_help=True, help=_t("cli.help.wallet"))
app.add_typer(wallet, name="wallet")

StateDir = Annotated[Path, typer.Option("--state-dir", envvar="BZ_STATE_DIR", help=_t("cli.help.state_dir"))]


@app.command(help=_t("cli.help.dev"))
def dev(
    port: Annotated[int, typer.Option("--port", envvar="BZ_PORT", help=_t("cli.help.port"))] = 8000,
    host: Annotated[str, typer.Option("--host", help=_t("cli.help.host"))] = "127.0.0.1",
    state_dir: StateDir = Path(".bzapper"),
    engine: Annotated[str, typer.Option("--engine", help=_t("cli.help.engine"))] = "sandbox",
) -> None:
    """Run the whole system locally: moto, the API, the pollers, the session worker, the sandbox network."""
    from bzapper_dev.local.dev import run_dev

    if engine not in ("sandbox", "whatsmeow"):
        _fail("cli.error.engine")
    run_dev(host, port, state_dir, engine)


@app.command(help=_t("cli.help.worker"))
def worker() -> None:
    """Run a session worker (what the Fargate service runs)."""
    from bzapper.worker.__main__ import main

    main()


@accounts.command("create", help=_t("cli.help.accounts_create"))
def accounts_create(
    name: Annotated[str, typer.Option(help=_t("cli.help.name"))] = "Test account",
    locale: Annotated[str, typer.Option(help=_t("cli.help.locale"))] = "en",
    credits: Annotated[int, typer.Option(min=0, help=_t("cli.help.credits"))] = 1000,
    state_dir: StateDir = Path(".bzapper"),
) -> None:
    """Create an account with a test key and a connected sandbox instance on the running local stack."""
    normalized = i18n.normalize_locale(locale)
    if normalized is None:
        _fail("cli.error.locale", value=locale, choices=", ".join(i18n.SUPPORTED_LOCALES))
    _use_local_stack(state_dir)
    from bzapper.bootstrap import services
    from bzapper.services.accounts import create_test_account

    account = create_test_account(services(), name=name, locale=normalized, credits=credits)
    typer.echo(i18n.translate("cli.account.created", normalized, account_id=account["account_id"]), err=True)
    typer.echo(json.dumps(account))


def _account_json(account: Any) -> dict[str, Any]:
    return {
        "account_id": account.account_id,
        "name": account.name,
        "locale": account.locale,
        "plan": account.plan,
        "status": account.status,
        "owner_email": account.owner_email,
        "created": iso(account.created_at),
    }


@accounts.command("list", help=_t("cli.help.accounts_list"))
def accounts_list(
    limit: Annotated[int, typer.Option(min=1, max=1000, help=_t("cli.help.limit"))] = 100,
    state_dir: StateDir = Path(".bzapper"),
) -> None:
    """Every account (an operator's scan: never a request path), one JSON object per line."""
    _use_local_stack(state_dir)
    from bzapper.bootstrap import services

    found, cursor = services().accounts.list_accounts(limit, None)
    while True:
        for account in found:
            typer.echo(json.dumps(_account_json(account)))
        if cursor is None or len(found) == 0:
            return
        found, cursor = services().accounts.list_accounts(limit, cursor)


@accounts.command("show", help=_t("cli.help.accounts_show"))
def accounts_show(
    account_id: Annotated[str, typer.Argument(help=_t("cli.help.account_id"))],
    state_dir: StateDir = Path(".bzapper"),
) -> None:
    """An account, its wallets' balances and its numbers."""
    _use_local_stack(state_dir)
    from bzapper.bootstrap import services
    from bzapper.domain.model import wallet_id

    svc = services()
    account = svc.accounts.get(account_id)
    if account is None:
        typer.echo(_t("error.not_found"), err=True)
        raise typer.Exit(1)
    shown = _account_json(account)
    shown["balances"] = {mode: svc.wallets.balance(wallet_id(account_id, mode)) for mode in ("test", "live")}
    shown["instances"] = [
        {"instance_id": view.instance_id, "livemode": view.livemode, "engine": view.engine, "status": view.status}
        for livemode in (False, True)
        for view in svc.instances.of_account(account_id, livemode)
    ]
    typer.echo(json.dumps(shown))


def _set_suspended(account_id: str, suspended: bool, state_dir: Path) -> None:
    _use_local_stack(state_dir)
    from bzapper.bootstrap import services
    from bzapper.services.accounts import set_suspended

    try:
        account = set_suspended(services(), account_id, suspended)
    except LookupError:
        typer.echo(_t("error.not_found"), err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(_account_json(account)))


@accounts.command("suspend", help=_t("cli.help.accounts_suspend"))
def accounts_suspend(
    account_id: Annotated[str, typer.Argument(help=_t("cli.help.account_id"))],
    state_dir: StateDir = Path(".bzapper"),
) -> None:
    """Its keys and sessions get 403 account_restricted within seconds; its queued sends are held, not lost."""
    _set_suspended(account_id, True, state_dir)


@accounts.command("unsuspend", help=_t("cli.help.accounts_unsuspend"))
def accounts_unsuspend(
    account_id: Annotated[str, typer.Argument(help=_t("cli.help.account_id"))],
    state_dir: StateDir = Path(".bzapper"),
) -> None:
    """Active again: its keys work, and its held sends go out."""
    _set_suspended(account_id, False, state_dir)


@wallet.command("credit", help=_t("cli.help.wallet_credit"))
def wallet_credit(
    account_id: Annotated[str, typer.Argument(help=_t("cli.help.account_id"))],
    amount: Annotated[int, typer.Argument(help=_t("cli.help.amount"))],
    reason: Annotated[str, typer.Option(help=_t("cli.help.reason"))] = "operator",
    mode: Annotated[str, typer.Option(help=_t("cli.help.mode"))] = "test",
    state_dir: StateDir = Path(".bzapper"),
) -> None:
    """Credit (or debit) an account's wallet with a ledger entry."""
    if mode not in ("test", "live"):
        _fail("cli.error.mode")
    if not reason.strip():
        _fail("cli.error.reason")
    _use_local_stack(state_dir)
    from bzapper.bootstrap import services
    from bzapper.services.accounts import credit_wallet

    try:
        balance = credit_wallet(services(), account_id, mode, amount, reason)
    except LookupError:
        typer.echo(_t("error.not_found"), err=True)
        raise typer.Exit(1) from None
    typer.echo(_t("cli.wallet.credited", wallet=f"{account_id}:{mode}", amount=amount, balance=balance), err=True)
    typer.echo(json.dumps({"account_id": account_id, "mode": mode, "balance": balance}))


@app.command(help=_t("cli.help.openapi"))
def openapi(
    output: Annotated[Path | None, typer.Option("--output", "-o", help=_t("cli.help.output"))] = None,
) -> None:
    """Print the OpenAPI document generated from the function apps."""
    from bzapper.api.contract import openapi_yaml

    text = openapi_yaml()
    if output:
        output.write_text(text)
    else:
        typer.echo(text, nl=False)


def _use_local_stack(state_dir: Path) -> None:
    """Point the AWS clients at the running local stack, unless the environment already says where."""
    env_file = state_dir / "dev.env"
    if settings().aws_endpoint_url:
        return
    if not env_file.is_file():
        _fail("cli.error.no_stack", path=env_file)
    from bzapper_dev.local.dev import read_dev_env

    # Into this process's environment: botocore reads AWS_ENDPOINT_URL and the credentials there itself.
    for name, value in read_dev_env(env_file).items():
        if name.startswith(("AWS_", "BZ_SANDBOX", "BZ_COGNITO")):
            os.environ.setdefault(name, value)
    os.environ.setdefault("BZ_STAGE", "local")
    reset_settings()  # read once already (for the help texts' language): read them again


def main() -> None:
    app()
