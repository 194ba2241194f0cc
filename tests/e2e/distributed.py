"""The platform as separate processes on RabbitMQ and PostgreSQL, as `bwai run` deploys it.

One process each for identity, webhooks-ingest and the provider sandbox, and `replicas`
processes of payments on one database and one queue. Exchange and queue names carry a run id,
so runs on a shared broker never see each other's messages.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.e2e.broker import delete_broker_objects, queues_in_log
from tests.e2e.flow import free_port
from tests.e2e.processes import ChildProcess, spawn, stop_all, wait_ready

FreshDatabase = Callable[[str], Awaitable[str]]

# Test credentials shared by the sandbox and the services, never real ones.
NOWPAYMENTS_API_KEY = "e2e-nowpayments-api-key"
NOWPAYMENTS_IPN_SECRET = "e2e-nowpayments-ipn-secret"
COINBASE_API_KEY = "e2e-coinbase-api-key"
COINBASE_WEBHOOK_SECRET = "e2e-coinbase-webhook-secret"


@dataclass
class DistributedStack:
    sandbox: ChildProcess
    identity: ChildProcess
    webhooks: ChildProcess
    payments: list[ChildProcess]
    identity_database: str
    webhooks_database: str
    payments_database: str
    amqp_url: str
    exchange: str
    children: list[ChildProcess] = field(default_factory=list)

    @property
    def sandbox_url(self) -> str:
        return self.sandbox.url

    def reports(self) -> str:
        return "\n".join(child.report() for child in self.children)

    def stop(self) -> None:
        stop_all(self.children)

    async def delete_broker_objects(self) -> None:
        """Delete the exchange and every queue the services reported. Call it after `stop`."""
        queues = set().union(*(queues_in_log(child.log_path) for child in self.children))
        await delete_broker_objects(self.amqp_url, self.exchange, queues)


async def start_stack(
    fresh_database: FreshDatabase, amqp_url: str, log_dir: Path, replicas: int = 2
) -> DistributedStack:
    """Start every process, wait until each is ready, and stop them all if one is not."""
    run_id = uuid.uuid4().hex[:8]
    exchange = f"e2e.{run_id}"
    ports = {name: free_port() for name in ("sandbox", "identity", "webhooks-ingest")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    common = {
        "BWAI_ENVIRONMENT": "test",
        "BWAI_HTTP_HOST": "127.0.0.1",
        "BWAI_AMQP_URL": amqp_url,
        "BWAI_AMQP_EXCHANGE": exchange,
        "BWAI_AMQP_QUEUE_PREFIX": f"e2e.{run_id}.",
        # Quorum queues, as in production; a single-node broker supports them.
        "BWAI_AMQP_QUORUM_QUEUES": "true",
        "BWAI_IDENTITY_URL": urls["identity"],
        "BWAI_DATABASE_POOL_MIN": "1",
        "BWAI_DATABASE_POOL_MAX": "5",
    }
    identity_db = await fresh_database("identity")
    webhooks_db = await fresh_database("webhooks-ingest")
    payments_db = await fresh_database("payments")

    sandbox = spawn(
        "sandbox",
        ["-m", "bwai_cli.main", "sandbox"],
        _sandbox_env(ports["sandbox"], urls),
        urls["sandbox"],
        log_dir,
    )
    children = [sandbox]
    try:
        identity = _run_service("identity", ports["identity"], identity_db, common, {}, log_dir)
        children.append(identity)
        webhooks_env = {
            "BWAI_NOWPAYMENTS_IPN_SECRET": NOWPAYMENTS_IPN_SECRET,
            "BWAI_COINBASE_COMMERCE_WEBHOOK_SECRET": COINBASE_WEBHOOK_SECRET,
        }
        webhooks = _run_service(
            "webhooks-ingest", ports["webhooks-ingest"], webhooks_db, common, webhooks_env, log_dir
        )
        children.append(webhooks)
        payments = [
            _run_service(
                f"payments-{index}",
                free_port(),
                payments_db,
                common,
                _payments_env(urls),
                log_dir,
                service="payments",
            )
            for index in range(1, replicas + 1)
        ]
        children += payments

        async with httpx.AsyncClient() as http:
            await asyncio.gather(
                wait_ready(http, sandbox, path="/healthz"),
                *(wait_ready(http, child) for child in children[1:]),
            )
    except BaseException:
        stop_all(children)
        raise
    databases = (identity_db, webhooks_db, payments_db)
    stack = DistributedStack(sandbox, identity, webhooks, payments, *databases, amqp_url, exchange)
    stack.children = children
    return stack


async def create_client_with_cli(database_url: str, tenant: str, role: str) -> tuple[str, str]:
    """Create an API client with `bwai clients create --json`, as an operator would."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bwai_cli.main",
        "clients",
        "create",
        "--tenant",
        tenant,
        "--role",
        role,
        "--json",
        "--database-url",
        database_url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode(errors="replace")
    created = json.loads(stdout)
    return created["client_id"], created["client_secret"]


def _run_service(
    name: str,
    port: int,
    database_url: str,
    common: dict[str, str],
    extra: dict[str, str],
    log_dir: Path,
    service: str | None = None,
) -> ChildProcess:
    env = {**common, **extra, "BWAI_HTTP_PORT": str(port), "BWAI_DATABASE_URL": database_url}
    args = ["-m", "bwai_cli.main", "run", service or name]
    return spawn(name, args, env, f"http://127.0.0.1:{port}", log_dir)


def _payments_env(urls: dict[str, str]) -> dict[str, str]:
    return {
        "BWAI_NOWPAYMENTS_API_URL": f"{urls['sandbox']}/nowpayments/v1",
        "BWAI_NOWPAYMENTS_API_KEY": NOWPAYMENTS_API_KEY,
        "BWAI_COINBASE_COMMERCE_API_URL": f"{urls['sandbox']}/coinbase",
        "BWAI_COINBASE_COMMERCE_API_KEY": COINBASE_API_KEY,
        # NOWPayments posts IPNs to the callback URL the invoice carries: webhooks-ingest.
        "BWAI_PUBLIC_BASE_URL": urls["webhooks-ingest"],
    }


def _sandbox_env(port: int, urls: dict[str, str]) -> dict[str, str]:
    return {
        "BWAI_SANDBOX_HOST": "127.0.0.1",
        "BWAI_SANDBOX_PORT": str(port),
        "BWAI_SANDBOX_PUBLIC_URL": urls["sandbox"],
        "BWAI_SANDBOX_NOWPAYMENTS_API_KEY": NOWPAYMENTS_API_KEY,
        "BWAI_SANDBOX_NOWPAYMENTS_IPN_SECRET": NOWPAYMENTS_IPN_SECRET,
        "BWAI_SANDBOX_COINBASE_API_KEY": COINBASE_API_KEY,
        "BWAI_SANDBOX_COINBASE_WEBHOOK_SECRET": COINBASE_WEBHOOK_SECRET,
        "BWAI_SANDBOX_COINBASE_WEBHOOK_URL": (
            f"{urls['webhooks-ingest']}/v1/webhooks/coinbase-commerce"
        ),
    }
