"""The contract between a service and the runtime that hosts it: name, tables, app, consumers.

Each service package exposes one `SERVICE: ServiceDefinition`. The `bwai` launcher (embedded, all
services in one process) and `bwai run SERVICE` (one process per service) are the only code that
reads these definitions, so services never import each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bwai_core.clock import Clock
from bwai_core.db import MigrationSource
from bwai_core.settings import ServiceSettings

if TYPE_CHECKING:
    import asyncpg
    import httpx
    from bwai_messaging.bus import Bus
    from bwai_messaging.consumer import EventHandler
    from bwai_messaging.schemas import SchemaRegistry
    from fastapi import FastAPI

    from bwai_web.auth import TokenVerifier


@dataclass
class ServiceContext:
    """Everything a running service shares between its HTTP app and its consumers."""

    name: str
    settings: ServiceSettings
    pool: asyncpg.Pool
    bus: Bus
    clock: Clock
    schemas: SchemaRegistry
    token_verifier: TokenVerifier
    # One pooled HTTP client per service for calls to other services and providers.
    http: httpx.AsyncClient
    # Free slots for service-specific objects built in `on_start` (adapters, caches).
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsumerSpec:
    """One durable queue of a service: the event types it binds and a handler per type."""

    queue: str
    handlers: Mapping[str, EventHandler]
    prefetch: int = 64


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    settings_class: type[ServiceSettings]
    # Applied in order after the messaging tables (outbox, inbox).
    migrations: Sequence[MigrationSource]
    create_app: Callable[[ServiceContext], FastAPI]
    consumers: Callable[[ServiceContext], Sequence[ConsumerSpec]] = lambda ctx: ()
    # Path prefixes this service serves on the shared embedded port, e.g. ("/v1/orders",).
    public_prefixes: Sequence[str] = ()
    on_start: Callable[[ServiceContext], Awaitable[None]] | None = None
    on_stop: Callable[[ServiceContext], Awaitable[None]] | None = None
