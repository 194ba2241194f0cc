"""The platform under benchmark, in its own process so that load and server do not share a core.

Prints one JSON line with the URLs and credentials the load generator needs, then serves until
stdin closes or SIGTERM arrives, and finally drops the databases and broker objects it created.

Nothing in the platform consumes some event types yet (payments.order.created,
payments.payment.initiated, identity events). Published with `mandatory`, each of them would fail,
be logged and be retried by the outbox for ever, which is load that a deployment with consumers
does not have. A sink therefore takes every event: on RabbitMQ a queue that keeps nothing
(`x-max-length` 0, so the broker confirms and drops), in-process a handler that does nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
from bwai_cli.embedded import Platform, PlatformConfig
from bwai_core.clock import SystemClock
from bwai_core.logging import configure_logging
from bwai_identity.clients.service import create_client
from bwai_messaging.bus import Delivery, RetryPolicy

SINK_QUEUE = "bench-sink"


async def main(args: argparse.Namespace) -> None:
    configure_logging("bench", os.environ.get("BWAI_BENCH_LOG_LEVEL", "ERROR"), json=True)
    run_id = uuid.uuid4().hex[:8]
    config = PlatformConfig(
        data_dir=Path(args.data_dir),
        port=args.port,
        sandbox_port=args.sandbox_port,
        mail_smtp_port=0,
        mail_web_port=args.mail_port,
        database_admin_url=args.database_url,
        database_prefix=f"bwai_bench_{run_id}_",
        amqp_url=args.amqp_url,
        amqp_exchange=f"bench.{run_id}",
        queue_prefix=f"bench.{run_id}.",
    )
    platform = Platform(config)
    try:
        await platform.start()
        await _add_sink(platform)
        print(json.dumps(await _run_info(platform)), flush=True)
        await _wait_for_stop()
    finally:
        await platform.stop()
        await _clean_up(platform, args.database_url)


async def _add_sink(platform: Platform) -> None:
    config = platform.config
    if config.amqp_url is None:
        assert platform.bus is not None
        await platform.bus.subscribe(SINK_QUEUE, ["#"], _discard, prefetch=1)
        return
    connection = await aio_pika.connect(config.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            config.amqp_exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(
            config.queue_prefix + SINK_QUEUE, auto_delete=False, arguments={"x-max-length": 0}
        )
        await queue.bind(exchange, routing_key="#")


async def _discard(_: Delivery) -> None:
    return None


async def _run_info(platform: Platform) -> dict[str, Any]:
    identity = next(host for host in platform.hosts if host.name == "identity")
    payments = next(host for host in platform.hosts if host.name == "payments")
    webhooks = next(host for host in platform.hosts if host.name == "webhooks-ingest")
    assert identity.ctx is not None
    assert platform.secrets is not None
    client = await create_client(
        identity.ctx.pool,
        tenant="bench",
        role="tenant",
        name="bench",
        clock=SystemClock(),
        schemas=identity.ctx.schemas,
    )
    return {
        "api_url": platform.api_url,
        "sandbox_url": platform.sandbox_url,
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "payments_database_url": payments.settings.database_url,
        "webhooks_database_url": webhooks.settings.database_url,
    }


async def _wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.readline() else None)
    await stop.wait()


async def _clean_up(platform: Platform, admin_url: str) -> None:
    """Drop the run's databases and, on RabbitMQ, its queues and exchange."""
    config = platform.config
    admin = await asyncpg.connect(admin_url)
    try:
        for host in platform.hosts:
            name = config.database_prefix + host.name.replace("-", "_")
            with contextlib.suppress(asyncpg.PostgresError):
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    if config.amqp_url is None:
        return
    levels = RetryPolicy().retry_levels
    queues = [config.queue_prefix + SINK_QUEUE]
    for host in platform.hosts:
        for queue in host.queues:
            queues += [queue, f"{queue}.dlq", *(f"{queue}.retry.{n}" for n in range(1, levels + 1))]
    connection = await aio_pika.connect(config.amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in queues:
            with contextlib.suppress(aio_pika.exceptions.AMQPError):
                await channel.queue_delete(name)
        with contextlib.suppress(aio_pika.exceptions.AMQPError):
            await channel.exchange_delete(config.amqp_exchange)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sandbox-port", type=int, required=True)
    parser.add_argument("--mail-port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--amqp-url")
    import uvloop

    uvloop.run(main(parser.parse_args()))
