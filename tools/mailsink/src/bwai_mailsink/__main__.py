"""Run the mail sink alone: `python -m bwai_mailsink [--smtp-port 8025] [--web-port 8026]`."""

from __future__ import annotations

import argparse
import asyncio

import uvicorn

from bwai_mailsink.server import MailSink
from bwai_mailsink.web import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bwai_mailsink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address both servers bind to")
    parser.add_argument("--smtp-port", type=int, default=8025, help="SMTP port")
    parser.add_argument("--web-port", type=int, default=8026, help="HTTP port of the page and API")
    parser.add_argument("--max-messages", type=int, default=500, help="messages kept in memory")
    arguments = parser.parse_args()
    asyncio.run(_serve(arguments))


async def _serve(arguments: argparse.Namespace) -> None:
    sink = MailSink(arguments.host, arguments.smtp_port, max_messages=arguments.max_messages)
    await sink.start()
    config = uvicorn.Config(create_app(sink), host=arguments.host, port=arguments.web_port)
    try:
        await uvicorn.Server(config).serve()
    finally:
        await sink.stop()


if __name__ == "__main__":
    main()
