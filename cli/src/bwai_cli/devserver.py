"""`bwai dev`: start the embedded platform, say what runs where, stop cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import structlog
from bwai_core.logging import configure_logging

from bwai_cli.embedded import Platform, PlatformConfig

log = structlog.get_logger()


async def run_dev(*, host: str, port: int, sandbox_port: int, data_dir: Path) -> None:
    log_json = os.environ.get("BWAI_LOG_JSON", "false").lower() in ("1", "true", "yes")
    configure_logging("platform", os.environ.get("BWAI_LOG_LEVEL", "INFO"), json=log_json)
    platform = Platform(
        PlatformConfig(data_dir=data_dir, host=host, port=port, sandbox_port=sandbox_port)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    print("Starting Build With AI (embedded PostgreSQL, in-process bus) ...", flush=True)
    try:
        await platform.start()
    except BaseException:
        await platform.stop()
        raise
    _print_banner(platform, data_dir)

    stopped = asyncio.create_task(platform.wait_stopped())
    await asyncio.wait(
        [stopped, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    print("\nStopping ...", flush=True)
    await platform.stop()
    print("Stopped. Data is kept in", data_dir, flush=True)


def _print_banner(platform: Platform, data_dir: Path) -> None:
    services = ", ".join(host.name for host in platform.hosts)
    lines = [
        "",
        "Build With AI is running.",
        f"  API             {platform.api_url}   (services: {services})",
        f"  health          {platform.api_url}/healthz   {platform.api_url}/readyz",
        f"  JWKS            {platform.api_url}/.well-known/jwks.json",
        f"  webhooks        {platform.api_url}/v1/webhooks/nowpayments",
        f"                  {platform.api_url}/v1/webhooks/coinbase-commerce",
        f"  provider sandbox {platform.sandbox_url}   (checkout pages, control API)",
        f"  mail sink       {platform.mail_url}   (mail the platform sent; SMTP on port "
        f"{platform.config.mail_smtp_port})",
        f"  data            {data_dir}   (embedded PostgreSQL, dev secrets)",
        "",
        "Next: create an API client and walk a payment through the sandbox:",
        "  .venv/bin/bwai clients create --tenant acme --role tenant",
        "  .venv/bin/bwai demo",
        "Press Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)
