"""The `bwai` command: run the platform or one service, manage API clients and dead letters."""

from __future__ import annotations

import asyncio
import json
import os
import warnings
from pathlib import Path
from typing import Annotated

import typer
from bwai_core.logging import configure_logging

from bwai_cli import acceptance, deadletters, demo, operators, reconcile
from bwai_cli import clients as clients_cmd
from bwai_cli.events import events_app

app = typer.Typer(help="Build With AI platform command line.", no_args_is_help=True)
clients_app = typer.Typer(help="API clients (server-to-server credentials).", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead-lettered events: list, show, replay.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(dlq_app, name="dlq")
app.add_typer(events_app, name="events")
users_app = typer.Typer(help="Platform user accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="Token signing keys.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")

DataDir = Annotated[
    Path,
    typer.Option(envvar="BWAI_DATA_DIR", help="Folder for the embedded database and dev secrets."),
]
ApiUrl = Annotated[str, typer.Option(envvar="BWAI_API_URL", help="Base URL of the platform API.")]
ClientId = Annotated[str | None, typer.Option(envvar="BWAI_CLIENT_ID", help="API client id.")]
ClientSecret = Annotated[
    str | None, typer.Option(envvar="BWAI_CLIENT_SECRET", help="API client secret.")
]


@app.callback()
def _configure() -> None:
    """Keep stdout for results: log warnings and errors only, as JSON on stderr."""
    # pgserver's platformdirs warns about XDG_RUNTIME_DIR on machines without a login session.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    configure_logging("bwai", os.environ.get("BWAI_LOG_LEVEL", "WARNING"), json=True)


def _run(coro: object) -> None:
    try:
        import uvloop

        uvloop.run(coro)  # type: ignore[arg-type]
    except ImportError:
        asyncio.run(coro)  # type: ignore[arg-type]


@app.command()
def dev(
    port: Annotated[
        int, typer.Option(envvar="BWAI_HTTP_PORT", help="Port of the public API.")
    ] = 8000,
    sandbox_port: Annotated[
        int, typer.Option(envvar="BWAI_SANDBOX_PORT", help="Port of the provider sandbox.")
    ] = 8090,
    data_dir: DataDir = Path(".data"),
    host: Annotated[
        str, typer.Option(envvar="BWAI_HTTP_HOST", help="Address to listen on.")
    ] = "127.0.0.1",
) -> None:
    """Run every service in one process on an embedded PostgreSQL and an in-process bus."""
    from bwai_cli.devserver import run_dev

    _run(run_dev(host=host, port=port, sandbox_port=sandbox_port, data_dir=data_dir.absolute()))


@app.command()
def run(
    service: Annotated[str, typer.Argument(help="identity, payments or webhooks-ingest")],
) -> None:
    """Run one service in its own process (BWAI_DATABASE_URL, BWAI_AMQP_URL, BWAI_HTTP_PORT)."""
    from bwai_cli.standalone import run_service

    _run(run_service(service))


@app.command()
def sandbox(
    port: Annotated[
        int, typer.Option(envvar="BWAI_SANDBOX_PORT", help="Port to listen on.")
    ] = 8090,
) -> None:
    """Run the provider sandbox alone (settings from BWAI_SANDBOX_* variables)."""
    from bwai_sandbox.app import run as run_sandbox
    from bwai_sandbox.settings import SandboxSettings

    run_sandbox(SandboxSettings(port=port))


@clients_app.command("create")
def clients_create(
    tenant: Annotated[str, typer.Option(help="Tenant slug; created when it does not exist yet.")],
    role: Annotated[str, typer.Option(help="tenant (acts for its tenant) or operator (staff).")],
    name: Annotated[str | None, typer.Option(help="A label for the client.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="BWAI_IDENTITY_DATABASE_URL", help="Identity's database; default: embedded."
        ),
    ] = None,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Create an API client and print its id and secret (the secret is shown only once)."""
    result = asyncio.run(clients_cmd.create(tenant, role, name, database_url, data_dir.absolute()))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"client_id:     {result['client_id']}")
    typer.echo(f"client_secret: {result['client_secret']}")
    typer.echo(f"tenant:        {result['tenant']} ({result['tenant_id']})")
    typer.echo(f"role:          {result['role']}")
    typer.echo("Keep the secret now: it cannot be shown again.")


IdentityDatabase = Annotated[
    str | None,
    typer.Option(
        envvar="BWAI_IDENTITY_DATABASE_URL", help="Identity's database; default: embedded."
    ),
]


@users_app.command("create-operator")
def users_create_operator(
    email: Annotated[str, typer.Option(help="The operator's email address (counts as verified).")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="BWAI_OPERATOR_PASSWORD",
            help="The account's password; asked for when not given (or BWAI_OPERATOR_PASSWORD).",
        ),
    ],
    role: Annotated[
        str, typer.Option(help="admin (also manages staff and keys) or operator.")
    ] = "admin",
    database_url: IdentityDatabase = None,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Create a platform staff account; its first login enrols TOTP."""
    if role not in ("operator", "admin"):
        raise typer.BadParameter("role must be operator or admin", param_hint="--role")
    created = asyncio.run(
        operators.create(email, password, role, database_url, data_dir.absolute())
    )
    typer.echo(f"Created {created['role']} {created['email']} ({created['user_id']}).")
    typer.echo("Log in with POST /v1/auth/login; the first login asks you to enrol TOTP.")


@keys_app.command("rotate")
def keys_rotate(
    force: Annotated[bool, typer.Option(help="Take the next step without waiting.")] = False,
    database_url: IdentityDatabase = None,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Take the next step of a staged key rotation: publish, then activate, then retire."""
    step = asyncio.run(operators.rotate(database_url, data_dir.absolute(), force))
    typer.echo(f"{step['stage']}: key {step['kid']}")
    if step["wait_s"]:
        typer.echo(f"Run again in {step['wait_s']} s, once verifiers have refreshed their JWKS.")


@dlq_app.command("list")
def dlq_list(
    service: Annotated[str, typer.Option(help="Service whose queues to read.")] = "payments",
    api_url: ApiUrl = "http://127.0.0.1:8000",
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
) -> None:
    """List dead-lettered events of a service, with the reason each was dead-lettered."""
    asyncio.run(deadletters.list_letters(api_url, service, client_id, client_secret))


@dlq_app.command("show")
def dlq_show(
    message_id: str,
    service: Annotated[str, typer.Option(help="Service whose queues to read.")] = "payments",
    api_url: ApiUrl = "http://127.0.0.1:8000",
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
) -> None:
    """Show one dead-lettered event with its body."""
    asyncio.run(deadletters.show_letter(api_url, service, message_id, client_id, client_secret))


@dlq_app.command("replay")
def dlq_replay(
    message_id: str,
    service: Annotated[str, typer.Option(help="Service whose queues to read.")] = "payments",
    api_url: ApiUrl = "http://127.0.0.1:8000",
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
) -> None:
    """Put a dead-lettered event back on its queue for another attempt."""
    asyncio.run(deadletters.replay_letter(api_url, service, message_id, client_id, client_secret))


@app.command("reconcile")
def reconcile_cmd(
    provider: Annotated[str, typer.Option(help="nowpayments or coinbase_commerce")],
    day: Annotated[str, typer.Option(help="The UTC day to reconcile, YYYY-MM-DD.")],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
) -> None:
    """Reconcile one provider's UTC day now (operator credentials) and print the counts."""
    raise typer.Exit(asyncio.run(reconcile.run(api_url, provider, day, client_id, client_secret)))


@app.command("acceptance")
def acceptance_cmd(
    api_url: ApiUrl = "http://127.0.0.1:8000",
    sandbox_url: Annotated[
        str, typer.Option(envvar="BWAI_SANDBOX_URL", help="Base URL of the provider sandbox.")
    ] = "http://127.0.0.1:8090",
    provider: Annotated[str, typer.Option(help="nowpayments or coinbase_commerce")] = "nowpayments",
    data_dir: DataDir = Path(".data"),
) -> None:
    """Run the payments acceptance checklist against a running platform, step by step.

    Operator credentials come from BWAI_OPERATOR_EMAIL, BWAI_OPERATOR_PASSWORD and
    BWAI_OPERATOR_TOTP_SECRET; without them an operator is created in the embedded database.
    """
    code = asyncio.run(
        acceptance.run(api_url, sandbox_url, provider=provider, data_dir=data_dir.absolute())
    )
    raise typer.Exit(code)


@app.command("demo")
def demo_cmd(
    api_url: ApiUrl = "http://127.0.0.1:8000",
    sandbox_url: Annotated[
        str, typer.Option(envvar="BWAI_SANDBOX_URL", help="Base URL of the provider sandbox.")
    ] = "http://127.0.0.1:8090",
    provider: Annotated[str, typer.Option(help="nowpayments or coinbase_commerce")] = "nowpayments",
    client_id: ClientId = None,
    client_secret: ClientSecret = None,
    data_dir: DataDir = Path(".data"),
) -> None:
    """Walk one payment through the running platform and print the order and its ledger."""
    code = asyncio.run(
        demo.run(api_url, sandbox_url, provider, client_id, client_secret, data_dir.absolute())
    )
    raise typer.Exit(code)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
