"""The platform under benchmark, in its own process so that load and server do not share a core.

Prints one JSON line with the URLs and credentials the load generator needs, then serves until
stdin closes or SIGTERM arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import uuid
from pathlib import Path

from bwai_cli.embedded import Platform, PlatformConfig
from bwai_core.clock import SystemClock
from bwai_core.logging import configure_logging
from bwai_identity.clients.service import create_client


async def main(args: argparse.Namespace) -> None:
    configure_logging("bench", "WARNING", json=True)
    run_id = uuid.uuid4().hex[:8]
    platform = Platform(
        PlatformConfig(
            data_dir=Path(args.data_dir),
            port=args.port,
            sandbox_port=args.sandbox_port,
            database_admin_url=args.database_url,
            database_prefix=f"bwai_bench_{run_id}_",
            amqp_url=args.amqp_url,
            amqp_exchange=f"bench.{run_id}",
            queue_prefix=f"bench.{run_id}.",
        )
    )
    await platform.start()
    identity = next(host for host in platform.hosts if host.name == "identity")
    payments = next(host for host in platform.hosts if host.name == "payments")
    assert identity.ctx is not None and payments.ctx is not None
    client = await create_client(
        identity.ctx.pool, tenant="bench", role="tenant", name="bench", clock=SystemClock(), schemas=identity.ctx.schemas
    )
    assert platform.secrets is not None
    print(
        json.dumps(
            {
                "api_url": platform.api_url,
                "sandbox_url": platform.sandbox_url,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "ipn_secret": platform.secrets.nowpayments_ipn_secret,
                "payments_database_url": payments.settings.database_url,
                "webhooks_database_url": next(
                    host.settings.database_url for host in platform.hosts if host.name == "webhooks-ingest"
                ),
            }
        ),
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.readline() else None)
    await stop.wait()
    await platform.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sandbox-port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--amqp-url")
    import uvloop

    uvloop.run(main(parser.parse_args()))
