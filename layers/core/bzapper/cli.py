"""The `bzapper` command: run the local stack, the worker, and operator tasks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="bzapper: WhatsApp messaging API.")
accounts = typer.Typer(no_args_is_help=True, help="Manage accounts.")
app.add_typer(accounts, name="accounts")
wallet = typer.Typer(no_args_is_help=True, help="Operate on wallets (every change is a ledger entry).")
app.add_typer(wallet, name="wallet")

StateDir = Annotated[
    Path, typer.Option("--state-dir", envvar="BZ_STATE_DIR", help="Where the local stack keeps its files.")
]


@app.command()
def dev(
    port: Annotated[int, typer.Option("--port", envvar="BZ_PORT", help="API port.")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    state_dir: StateDir = Path(".bzapper"),
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="sandbox (default), or whatsmeow: also a live instance on a real phone, paired from a QR here.",
        ),
    ] = "sandbox",
) -> None:
    """Run the whole system locally: moto, the API, the pollers, the session worker, the sandbox network."""
    from bzapper.local.dev import run_dev

    if engine not in ("sandbox", "whatsmeow"):
        raise typer.BadParameter("sandbox or whatsmeow", param_hint="--engine")
    run_dev(host, port, state_dir, engine)


@app.command()
def worker() -> None:
    """Run a session worker (what the Fargate service runs)."""
    from bzapper.worker.__main__ import main

    main()


@accounts.command("create")
def accounts_create(
    name: Annotated[str, typer.Option(help="Account name.")] = "Test account",
    locale: Annotated[str, typer.Option(help="pt-BR, en or es.")] = "en",
    credits: Annotated[int, typer.Option(min=0, help="Test credits to start with.")] = 1000,
    state_dir: StateDir = Path(".bzapper"),
) -> None:
    """Create an account with a test key and a connected sandbox instance on the running local stack."""
    from bzapper import i18n

    normalized = i18n.normalize_locale(locale)
    if normalized is None:
        raise typer.BadParameter(f"{locale!r}: use one of {', '.join(i18n.SUPPORTED_LOCALES)}", param_hint="--locale")
    _use_local_stack(state_dir)
    from bzapper.services.accounts import create_test_account
    from bzapper.services.container import services

    account = create_test_account(services(), name=name, locale=normalized, credits=credits)
    typer.echo(i18n.translate("cli.account.created", normalized, account_id=account["account_id"]), err=True)
    typer.echo(json.dumps(account))


@wallet.command("credit")
def wallet_credit(
    account_id: Annotated[str, typer.Argument(help="The account (acct_…).")],
    amount: Annotated[int, typer.Argument(help="Centavos; negative to debit.")],
    reason: Annotated[str, typer.Option(help="Why: recorded in the ledger entry.")] = "operator",
    mode: Annotated[str, typer.Option(help="test or live wallet.")] = "test",
    state_dir: StateDir = Path(".bzapper"),
) -> None:
    """Credit (or debit) an account's wallet with a ledger entry."""
    from bzapper import i18n

    if mode not in ("test", "live"):
        raise typer.BadParameter("use test or live", param_hint="--mode")
    if not reason.strip():
        raise typer.BadParameter("a reason is required", param_hint="--reason")
    _use_local_stack(state_dir)
    from bzapper.services.accounts import credit_wallet
    from bzapper.services.container import services

    try:
        balance = credit_wallet(services(), account_id, mode, amount, reason)
    except LookupError:
        typer.echo(i18n.translate("error.not_found", "en"), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        i18n.translate("cli.wallet.credited", "en", wallet=f"{account_id}:{mode}", amount=amount, balance=balance),
        err=True,
    )
    typer.echo(json.dumps({"account_id": account_id, "mode": mode, "balance": balance}))


@app.command()
def openapi(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")] = None,
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
    if "AWS_ENDPOINT_URL" in os.environ:
        return
    if not env_file.is_file():
        raise typer.BadParameter(f"{env_file} not found: is `bzapper dev` running?", param_hint="--state-dir")
    from bzapper.local.dev import read_dev_env

    for name, value in read_dev_env(env_file).items():
        if name.startswith(("AWS_", "BZ_SANDBOX")):
            os.environ.setdefault(name, value)
    os.environ.setdefault("BZ_STAGE", "local")


def main() -> None:
    app()
