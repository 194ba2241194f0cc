"""`bwai run SERVICE`: one service in its own process, on RabbitMQ and its own database."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import structlog
from bwai_core.clock import SystemClock
from bwai_core.logging import configure_logging
from bwai_messaging.rabbit_bus import RabbitBus
from bwai_messaging.schemas import SchemaRegistry
from bwai_telemetry import configure_telemetry

from bwai_cli import registry
from bwai_cli.dispatch import PrefixDispatcher
from bwai_cli.host import ServiceHost
from bwai_cli.servers import make_server

log = structlog.get_logger()


async def run_service(name: str) -> None:
    """Start service `name` from BWAI_* variables and serve until SIGINT or SIGTERM."""
    definition = registry.get(name)
    settings = definition.settings_class()
    configure_logging(name, settings.log_level, settings.log_json)
    configure_telemetry(name)
    if not settings.amqp_url:
        raise SystemExit(
            "BWAI_AMQP_URL is not set: a service in its own process reaches the others only "
            "through RabbitMQ (use `bwai dev` to run every service in one process instead)"
        )

    bus = RabbitBus(
        settings.amqp_url, exchange=settings.amqp_exchange, quorum=settings.amqp_quorum_queues
    )
    await bus.connect()
    host = ServiceHost(definition, settings, bus, SystemClock(), SchemaRegistry.default())
    app = await host.start()

    async def ready() -> dict[str, Any]:
        checks = await host.readiness()
        return {"ready": all(checks.values()), "services": {name: checks}}

    server = make_server(
        PrefixDispatcher([("", app)], ready), settings.http_host, settings.http_port
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    serving = asyncio.create_task(server.serve())
    log.info("service.listening", service=name, host=settings.http_host, port=settings.http_port)
    await asyncio.wait(
        [serving, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
    )

    server.should_exit = True
    await serving
    await host.stop()
    await bus.close()
