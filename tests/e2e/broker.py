"""Removal of the exchange and queues a test run declared, so the broker does not fill up."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import aio_pika
from bwai_messaging.bus import RetryPolicy


async def delete_broker_objects(amqp_url: str, exchange: str, queues: Iterable[str]) -> None:
    """Delete each queue with its DLQ and retry queues, then the exchange."""
    levels = RetryPolicy().retry_levels
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for queue in queues:
            side = [f"{queue}.dlq", *(f"{queue}.retry.{level}" for level in range(1, levels + 1))]
            for name in (queue, *side):
                await channel.queue_delete(name)
        await channel.exchange_delete(exchange)


def queues_in_log(log_path: Path) -> set[str]:
    """Return the queues a service reported in its JSON `service.started` log line."""
    queues: set[str] = set()
    for line in log_path.read_text(errors="replace").splitlines():
        if '"service.started"' not in line:
            continue
        record = json.loads(line)
        queues.update(record.get("queues", []))
    return queues
