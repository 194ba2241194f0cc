"""Hosting of one service: its pool, migrations, outbox relay, consumers and HTTP app.

The same host runs a service alone (`bwai run SERVICE`, RabbitMQ) and beside the others in the
embedded platform (`bwai dev`, in-process bus), so both modes start services the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import structlog
from bwai_core.clock import Clock
from bwai_core.db import apply_migrations, create_pool
from bwai_core.settings import ServiceSettings
from bwai_messaging import MESSAGING_MIGRATIONS
from bwai_messaging.bus import Bus
from bwai_messaging.consumer import EventConsumer
from bwai_messaging.outbox import OutboxRelay
from bwai_messaging.schemas import SchemaRegistry
from bwai_web.auth import JWKSCache, TokenVerifier, http_jwks_fetcher
from bwai_web.http_client import create_http_client
from bwai_web.service import ServiceContext, ServiceDefinition
from fastapi import FastAPI

from bwai_cli.admin import admin_router

log = structlog.get_logger()


@dataclass
class ServiceHost:
    """One running service; `start` brings it up in dependency order, `stop` reverses it."""

    definition: ServiceDefinition
    settings: ServiceSettings
    bus: Bus
    clock: Clock
    schemas: SchemaRegistry
    ctx: ServiceContext | None = None
    app: FastAPI | None = None
    relay: OutboxRelay | None = None
    queues: list[str] = field(default_factory=list)
    # Objects handed to the service before its own start-up code runs (see ServiceContext.extras).
    extras: dict[str, Any] = field(default_factory=dict)
    _pool: asyncpg.Pool | None = None
    _http: httpx.AsyncClient | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    async def start(self) -> FastAPI:
        """Open the pool, migrate, build the app, then start the relay and the consumers.

        Run it in its own task (the embedded platform does) so that the service name bound
        here reaches only the relay and consumer tasks started from it.
        """
        structlog.contextvars.bind_contextvars(service=self.name)
        settings = self.settings
        self._pool = await create_pool(
            settings.database_url,
            min_size=settings.database_pool_min,
            max_size=settings.database_pool_max,
        )
        await apply_migrations(self._pool, [MESSAGING_MIGRATIONS, *self.definition.migrations])
        self._http = create_http_client()
        self.ctx = ServiceContext(
            name=self.name,
            settings=settings,
            pool=self._pool,
            bus=self.bus,
            clock=self.clock,
            schemas=self.schemas,
            token_verifier=self._token_verifier(self._http),
            http=self._http,
            extras=dict(self.extras),
        )
        if self.definition.on_start is not None:
            await self.definition.on_start(self.ctx)
        self.app = self.definition.create_app(self.ctx)
        self.app.include_router(admin_router(self.name, self.queues))

        self.relay = OutboxRelay(self._pool, self.bus, service=self.name)
        await self.relay.start()
        for spec in self.definition.consumers(self.ctx):
            queue = settings.amqp_queue_prefix + spec.queue
            consumer = EventConsumer(
                self.name, self._pool, self.schemas, spec.handlers, queue=queue
            )
            await self.bus.subscribe(queue, list(spec.handlers), consumer, prefetch=spec.prefetch)
            self.queues.append(queue)
        log.info("service.started", service=self.name, queues=self.queues)
        return self.app

    async def stop(self) -> None:
        if self.relay is not None:
            await self.relay.stop()
        if self.ctx is not None and self.definition.on_stop is not None:
            await self.definition.on_stop(self.ctx)
        if self._http is not None:
            await self._http.aclose()
        if self._pool is not None:
            await self._pool.close()
        log.info("service.stopped", service=self.name)

    async def readiness(self) -> dict[str, bool]:
        """Report the database, the bus and the consumers of this service."""
        database = False
        if self._pool is not None:
            try:
                async with self._pool.acquire(timeout=2) as conn:
                    database = await conn.fetchval("SELECT 1") == 1
            except (OSError, asyncpg.PostgresError, TimeoutError):
                database = False
        expected = len(self.definition.consumers(self.ctx)) if self.ctx is not None else 0
        return {
            "database": database,
            "bus": self.bus.is_ready(),
            "consumers": self.ctx is not None and len(self.queues) == expected,
        }

    def _token_verifier(self, http: httpx.AsyncClient) -> TokenVerifier:
        url = self.settings.identity_url.rstrip("/") + "/.well-known/jwks.json"
        jwks = JWKSCache(http_jwks_fetcher(http, url))
        return TokenVerifier(
            jwks, issuer=self.settings.jwt_issuer, audience=self.settings.jwt_audience
        )
