"""The `bwai` command against a running embedded platform, as an operator would type it."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence

from bwai_cli.embedded import Platform
from bwai_core.clock import SystemClock
from bwai_messaging.envelope import new_event

from tests.e2e.conftest import new_client


async def bwai(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run `bwai ARGS` in a child process and return its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bwai_cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _urls(platform: Platform) -> Sequence[str]:
    return ("--api-url", platform.api_url)


async def test_clients_create_prints_json(embedded: Platform) -> None:
    identity = next(host for host in embedded.hosts if host.name == "identity")

    code, out, err = await bwai(
        "clients",
        "create",
        "--tenant",
        "cli-shop",
        "--role",
        "tenant",
        "--json",
        "--database-url",
        identity.settings.database_url,
    )

    assert code == 0, err
    created = json.loads(out)
    assert created["tenant"] == "cli-shop"
    assert created["role"] == "tenant"
    assert len(created["client_secret"]) >= 32


async def test_clients_create_rejects_unknown_role(embedded: Platform) -> None:
    identity = next(host for host in embedded.hosts if host.name == "identity")

    code, out, err = await bwai(
        "clients",
        "create",
        "--tenant",
        "cli-shop",
        "--role",
        "superuser",
        "--database-url",
        identity.settings.database_url,
    )

    assert code != 0
    assert "role" in (out + err).lower()


async def test_demo_walks_a_payment_to_the_ledger(embedded: Platform) -> None:
    client_id, secret = await new_client(embedded, "demo-shop", "tenant")

    code, out, err = await bwai(
        "demo",
        *_urls(embedded),
        "--sandbox-url",
        embedded.sandbox_url,
        "--client-id",
        client_id,
        "--client-secret",
        secret,
    )

    assert code == 0, out + err
    assert "Order status: paid" in out
    assert '"kind": "payment_received"' in out


async def test_dlq_lists_shows_and_replays(embedded: Platform) -> None:
    """An invalid event on the payments queue is dead-lettered and visible to operators."""
    client_id, secret = await new_client(embedded, "platform", "operator")
    creds = ("--client-id", client_id, "--client-secret", secret)
    assert embedded.bus is not None
    broken = new_event(
        "webhooks.provider_event.received",
        {"provider": "nowpayments"},
        source="/tests/cli",
        clock=SystemClock(),
    )
    await embedded.bus.publish(broken)

    listed = await _wait_listed(embedded, broken.id, creds)
    code_show, shown, err_show = await bwai("dlq", "show", broken.id, *_urls(embedded), *creds)
    code_replay, replayed, err_replay = await bwai(
        "dlq", "replay", broken.id, *_urls(embedded), *creds
    )

    assert "invalid event" in listed
    assert code_show == 0, err_show
    assert json.loads(shown)["message_id"] == broken.id
    assert code_replay == 0, err_replay
    assert f"Replayed {broken.id}" in replayed


async def test_dlq_without_credentials_says_how_to_get_them(embedded: Platform) -> None:
    code, _, err = await bwai("dlq", "list", *_urls(embedded), env={"PATH": "/usr/bin:/bin"})

    assert code != 0
    assert "BWAI_CLIENT_ID" in err


async def _wait_listed(platform: Platform, message_id: str, creds: Sequence[str]) -> str:
    for _ in range(50):
        code, out, err = await bwai("dlq", "list", *_urls(platform), *creds)
        assert code == 0, err
        if message_id in out:
            return out
        await asyncio.sleep(0.1)
    raise AssertionError(f"dead letter {message_id} never listed")


async def test_reconcile_prints_the_run(embedded: Platform) -> None:
    """An operator reconciles today's NOWPayments records from the command line."""
    client_id, secret = await new_client(embedded, "platform", "operator")
    today = SystemClock().now().date().isoformat()

    code, out, err = await bwai(
        "reconcile",
        "--provider",
        "nowpayments",
        "--day",
        today,
        *_urls(embedded),
        "--client-id",
        client_id,
        "--client-secret",
        secret,
    )

    assert code == 0, out + err
    assert ": completed" in out
    assert "mismatch rate" in out
