"""Shared test fixtures: real PostgreSQL databases, the RabbitMQ URL, a frozen clock.

PostgreSQL: BWAI_TEST_DATABASE_URL names an admin connection (CI sets it); otherwise the local
server on 127.0.0.1:5432 is used. Each test that needs a database gets a fresh one, dropped at
the end of the session.

RabbitMQ: BWAI_TEST_AMQP_URL, else amqp://guest:guest@127.0.0.1:5672/ when it answers. Tests
marked `rabbitmq` are skipped with the reason when no broker can be reached; CI always has one.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from bwai_core.clock import FrozenClock

FIXTURES = Path(__file__).parent / "fixtures"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"

FreshDatabase = Callable[[str], Awaitable[str]]


def _answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    dsn = os.environ.get("BWAI_TEST_DATABASE_URL", DEFAULT_PG)
    if not _answers(dsn, 5432):
        pytest.fail(f"PostgreSQL at {dsn} does not answer; set BWAI_TEST_DATABASE_URL")
    return dsn


@pytest.fixture(scope="session")
async def fresh_database(pg_admin_dsn: str) -> AsyncIterator[FreshDatabase]:
    """Return a factory that creates an empty database and gives its DSN."""
    created: list[str] = []

    async def create(label: str) -> str:
        name = f"bwai_t_{label.replace('-', '_')}_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(pg_admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        created.append(name)
        return _with_database(pg_admin_dsn, name)

    yield create

    conn = await asyncpg.connect(pg_admin_dsn)
    try:
        for name in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def amqp_url() -> str:
    url = os.environ.get("BWAI_TEST_AMQP_URL", DEFAULT_AMQP)
    if not _answers(url, 5672):
        reason = f"RabbitMQ at {url} does not answer; set BWAI_TEST_AMQP_URL to run this test"
        if os.environ.get("BWAI_REQUIRE_RABBITMQ") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
