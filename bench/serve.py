"""The platform under benchmark, in its own process so that load and server do not share a core.

The provider sandbox runs in a third process (bench.sandbox): on a real deployment the
providers' side is someone else's machine, so the platform's process should not pay for it.
Prints one JSON line with the URLs and credentials the load generator needs, then serves until
stdin closes or SIGTERM arrives, and finally drops the databases and broker objects it created.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
from bwai_cli.embedded import Platform, PlatformConfig
from bwai_core.clock import SystemClock
from bwai_core.logging import configure_logging
from bwai_identity.clients.service import create_client
from bwai_messaging.bus import RetryPolicy
from bwai_sandbox.settings import SandboxSettings

SANDBOX_START_TIMEOUT_S = 30.0


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
        sandbox_in_process=False,
    )
    platform = Platform(config)
    sandbox = await _start_sandbox(platform.sandbox_settings())
    try:
        await platform.start()
        print(json.dumps(await _run_info(platform)), flush=True)
        await _wait_for_stop()
    finally:
        await platform.stop()
        await _stop_sandbox(sandbox)
        await _clean_up(platform, args.database_url)


async def _start_sandbox(settings: SandboxSettings) -> asyncio.subprocess.Process:
    """Start bench.sandbox with the platform's secrets and wait until it accepts connections."""
    environment = dict(os.environ)
    for name, value in settings.model_dump(exclude_unset=True).items():
        environment[f"BWAI_SANDBOX_{name.upper()}"] = str(value)
    # Its output goes to stderr: stdout carries this process's JSON line to the load generator.
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.sandbox",
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=sys.stderr.fileno(),
    )
    deadline = time.monotonic() + SANDBOX_START_TIMEOUT_S
    while True:
        try:
            _, writer = await asyncio.open_connection(settings.host, settings.port)
        except OSError:
            if child.returncode is not None or time.monotonic() > deadline:
                await _stop_sandbox(child)
                raise RuntimeError("the sandbox did not start; see its output above") from None
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return child


async def _stop_sandbox(child: asyncio.subprocess.Process) -> None:
    if child.returncode is None:
        child.terminate()
    try:
        await asyncio.wait_for(child.wait(), timeout=10)
    except TimeoutError:
        child.kill()
        await child.wait()


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
    queues: list[str] = []
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
