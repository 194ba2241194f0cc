"""`make bench`: payment initiation and webhook-to-ledger figures, embedded and on RabbitMQ.

Each mode starts the platform in a child process (bench.serve) so the load generator and the
server run on separate cores, then measures:

1. the no-op ceiling: `GET /healthz` with 32 requests in flight;
2. payment initiation at a steady 200 requests/s (p50/p95/p99, errors), latency counted from
   each request's scheduled start;
3. maximum sustained initiations per second (closed loop), and its share of the no-op ceiling;
4. webhook-to-ledger: the sandbox pays checkouts and delivers signed webhooks; for each ledger
   posting, its commit time minus the time webhooks-ingest received the delivery.

BWAI_BENCH_DATABASE_URL / BWAI_BENCH_AMQP_URL choose the servers (defaults: the local ones);
BWAI_BENCH_SECONDS scales the phases.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.load import Result, closed_loop, steady_rate

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
RATE = 200.0
SECONDS = float(os.environ.get("BWAI_BENCH_SECONDS", "15"))
MAX_CONCURRENCY = 32
WEBHOOK_PAYMENTS = 200


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.platform()}"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Bench:
    def __init__(self, info: dict[str, Any], http: aiohttp.ClientSession) -> None:
        self.info = info
        self.http = http
        self.api = info["api_url"]
        self.auth: dict[str, str] = {}
        self.orders: list[str] = []
        self.payments: list[dict[str, Any]] = []

    async def login(self) -> None:
        form = {"grant_type": "client_credentials"}
        basic = aiohttp.BasicAuth(self.info["client_id"], self.info["client_secret"])
        async with self.http.post(f"{self.api}/v1/oauth/token", data=form, auth=basic) as response:
            body = await response.json()
        self.auth = {"Authorization": f"Bearer {body['access_token']}"}

    async def noop(self, _: int) -> bool:
        async with self.http.get(f"{self.api}/healthz") as response:
            await response.read()
            return response.status == 200

    async def create_orders(self, count: int) -> None:
        async def one(_: int) -> bool:
            headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
            body = {"amount": "49.99", "currency": "USD", "description": "bench"}
            async with self.http.post(f"{self.api}/v1/orders", json=body, headers=headers) as response:
                if response.status != 201:
                    return False
                self.orders.append((await response.json())["id"])
                return True

        queue = iter(range(count))

        async def worker() -> None:
            for i in queue:
                await one(i)

        await asyncio.gather(*(worker() for _ in range(16)))

    async def initiate(self, i: int) -> bool:
        order_id = self.orders[i]
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
        body = {"provider": "nowpayments", "pay_currency": "btc"}
        url = f"{self.api}/v1/orders/{order_id}/payments"
        async with self.http.post(url, json=body, headers=headers) as response:
            if response.status != 201:
                await response.read()
                return False
            self.payments.append(await response.json())
            return True

    async def pay(self, payment: dict[str, Any]) -> bool:
        checkout_id = payment["checkout_url"].rstrip("/").rsplit("/", 1)[-1]
        url = f"{self.info['sandbox_url']}/sandbox/v1/checkouts/nowpayments/{checkout_id}/pay"
        async with self.http.post(url, json={"outcome": "full"}) as response:
            await response.read()
            return response.status in (200, 202)


async def webhook_to_ledger(info: dict[str, Any], bench: Bench) -> Result:
    """Pay checkouts through the sandbox and compare delivery and ledger times per event."""
    chosen = bench.payments[:WEBHOOK_PAYMENTS]
    await steady_rate(lambda i: bench.pay(chosen[i]), rate=20, duration_s=len(chosen) / 20)
    await asyncio.sleep(3)  # let the last deliveries and postings settle before reading times

    webhooks = await asyncpg.connect(info["webhooks_database_url"])
    payments = await asyncpg.connect(info["payments_database_url"])
    try:
        received = {
            row["provider_event_id"]: row["received_at"]
            for row in await webhooks.fetch(
                "SELECT provider_event_id, min(received_at) AS received_at FROM webhook_deliveries "
                "WHERE outcome = 'accepted' GROUP BY provider_event_id"
            )
        }
        posted = await payments.fetch("SELECT provider_event_id, created_at FROM transactions")
    finally:
        await webhooks.close()
        await payments.close()
    result = Result(elapsed_s=1.0)
    for row in posted:
        at = received.get(row["provider_event_id"])
        if at is None:
            result.errors += 1
            continue
        result.latencies_ms.append((row["created_at"] - at).total_seconds() * 1000)
    return result


async def run_mode(mode: str, database_url: str, amqp_url: str | None) -> list[str]:
    data_dir = tempfile.mkdtemp(prefix="bwai-bench-")
    command = [
        sys.executable, "-m", "bench.serve", "--port", str(free_port()),
        "--sandbox-port", str(free_port()), "--data-dir", data_dir, "--database-url", database_url,
    ]
    if amqp_url:
        command += ["--amqp-url", amqp_url]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        info = json.loads(child.stdout.readline())
        connector = aiohttp.TCPConnector(limit=256)
        async with aiohttp.ClientSession(connector=connector) as http:
            return await measure(mode, info, http)
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


async def measure(mode: str, info: dict[str, Any], http: aiohttp.ClientSession) -> list[str]:
    bench = Bench(info, http)
    await bench.login()
    await closed_loop(bench.noop, 8, 1.0)  # warm up connections
    noop = await closed_loop(bench.noop, MAX_CONCURRENCY, 5.0)

    steady_count = int(RATE * SECONDS)
    await bench.create_orders(steady_count + 20000)
    await steady_rate(bench.initiate, rate=50, duration_s=1.0)  # warm-up: prepared statements
    offset = 50
    steady = await steady_rate(lambda i: bench.initiate(offset + i), rate=RATE, duration_s=SECONDS)
    offset += steady_count
    maximum = await closed_loop(lambda i: bench.initiate(offset + i), MAX_CONCURRENCY, min(SECONDS, 8.0))
    ledger = await webhook_to_ledger(info, bench)

    share = maximum.throughput / noop.throughput * 100 if noop.throughput else 0
    return [
        f"[{mode}] no-op GET /healthz, {MAX_CONCURRENCY} in flight: {noop.summary()}",
        f"[{mode}] initiation at {RATE:.0f}/s for {SECONDS:.0f}s: {steady.summary()}",
        f"[{mode}] initiation, max sustained ({MAX_CONCURRENCY} in flight): {maximum.summary()} "
        f"= {share:.0f}% of the no-op rate (target >= 25%)",
        f"[{mode}] webhook-to-ledger (delivery received -> posting committed): {ledger.summary()}",
    ]


async def main() -> None:
    database_url = os.environ.get("BWAI_BENCH_DATABASE_URL", DEFAULT_PG)
    amqp_url = os.environ.get("BWAI_BENCH_AMQP_URL", DEFAULT_AMQP)
    print(f"machine: {machine()}", flush=True)
    print("targets: initiation p50 <= 5 ms, p95 <= 15 ms at 200/s; max >= 25% of no-op; "
          "webhook-to-ledger p95 <= 20 ms on RabbitMQ", flush=True)
    lines = await run_mode("embedded", database_url, None)
    print("\n".join(lines), flush=True)
    lines = await run_mode("rabbitmq", database_url, amqp_url)
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
