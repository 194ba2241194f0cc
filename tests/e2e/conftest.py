"""The embedded platform for end-to-end tests, on the test PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from bwai_cli.embedded import Platform, PlatformConfig
from bwai_core.clock import SystemClock
from bwai_identity.clients.service import create_client

from tests.conftest import FreshDatabase
from tests.e2e.distributed import DistributedStack, start_stack
from tests.e2e.flow import free_port


async def start_platform(
    data_dir: Path, pg_admin_dsn: str, amqp_url: str | None = None, **overrides: object
) -> Platform:
    run_id = uuid.uuid4().hex[:8]
    config = PlatformConfig(
        data_dir=data_dir,
        port=free_port(),
        sandbox_port=free_port(),
        mail_smtp_port=free_port(),
        mail_web_port=free_port(),
        database_admin_url=pg_admin_dsn,
        database_prefix=f"bwai_e2e_{run_id}_",
        amqp_url=amqp_url,
        amqp_exchange=f"test.{run_id}",
        queue_prefix=f"test.{run_id}.",
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    platform = Platform(config)
    await platform.start()
    return platform


async def drop_databases(pg_admin_dsn: str, prefix: str) -> None:
    conn = await asyncpg.connect(pg_admin_dsn)
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", prefix + "%"
        )
        for row in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await conn.close()


async def new_client(platform: Platform, tenant: str, role: str) -> tuple[str, str]:
    identity = next(host for host in platform.hosts if host.name == "identity")
    assert identity.ctx is not None
    created = await create_client(identity.ctx.pool, tenant, role, None, SystemClock())
    return created.client_id, created.client_secret


@pytest.fixture(scope="module")
async def embedded(
    tmp_path_factory: pytest.TempPathFactory, pg_admin_dsn: str
) -> AsyncIterator[Platform]:
    platform = await start_platform(tmp_path_factory.mktemp("embedded"), pg_admin_dsn)
    yield platform
    await platform.stop()
    await drop_databases(pg_admin_dsn, platform.config.database_prefix)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
async def distributed(
    request: pytest.FixtureRequest,
    fresh_database: FreshDatabase,
    amqp_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[DistributedStack]:
    """Every service in its own process on RabbitMQ, payments as two replicas."""
    stack = await start_stack(fresh_database, amqp_url, tmp_path_factory.mktemp("distributed"))
    failed_before = request.session.testsfailed
    yield stack
    stack.stop()
    await stack.delete_broker_objects()
    if request.session.testsfailed > failed_before:
        # The children's logs explain most distributed failures, and captured output of a
        # session teardown is not shown, so write them to the terminal.
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(stack.reports())
