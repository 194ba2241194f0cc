"""`make bench`: payment initiation and webhook-to-ledger figures, embedded and on RabbitMQ.

Each mode starts the platform and the sandbox in a child process (bench.serve), so that the load
generator and the server run on separate cores, then measures:

1. the no-op ceiling: `GET /healthz` with 32 requests in flight, on the same server;
2. payment initiation at a steady 200 requests/s (p50/p95/p99, errors), latency counted from
   each request's scheduled start;
3. the maximum sustained initiations per second (closed loop, 32 in flight), and its share of
   the no-op ceiling;
4. webhook-to-ledger: the sandbox pays checkouts and delivers signed IPNs; for each ledger
   posting, its `created_at` minus the `received_at` of the first delivery of the same provider
   event (joined on provider and provider event id).

Environment: BWAI_BENCH_DATABASE_URL and BWAI_BENCH_AMQP_URL choose the servers (default: the
local ones). BWAI_BENCH_SECONDS sets the length of the timed phases (default 15), and
BWAI_BENCH_MODES the modes (default "embedded,rabbitmq").
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.load import Result, closed_loop, steady_rate

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
RATE = 200.0
SECONDS = float(os.environ.get("BWAI_BENCH_SECONDS", "15"))
MODES = os.environ.get("BWAI_BENCH_MODES", "embedded,rabbitmq").split(",")
MAX_CONCURRENCY = 32
NOOP_SECONDS = 5.0
WARM_UP = 100
# Orders kept for the closed loop; it stops early when they run out.
MAX_PHASE_ORDERS = 4000
WEBHOOK_PAYMENTS = 200
# Payments per second; each sends 5 IPNs, so 10/s is 50 webhook deliveries per second.
WEBHOOK_RATE = float(os.environ.get("BWAI_BENCH_WEBHOOK_RATE", "10"))
LEDGER_WAIT_S = 30.0


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{platform.node()}: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
        f"{platform.platform()}, load average {load}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Bench:
    """The client side of one mode: a tenant's token, its orders and the payments started."""

    def __init__(self, info: dict[str, Any], http: aiohttp.ClientSession) -> None:
        self.info = info
        self.http = http
        self.api = info["api_url"]
        self.auth: dict[str, str] = {}
        self.orders: list[str] = []
        self.payments: list[dict[str, Any]] = []

    async def login(self) -> None:
        pair = f"{self.info['client_id']}:{self.info['client_secret']}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        form = {"grant_type": "client_credentials"}
        url = f"{self.api}/v1/oauth/token"
        async with self.http.post(url, data=form, headers=headers) as response:
            body = await response.json()
        self.auth = {"Authorization": f"Bearer {body['access_token']}"}

    async def noop(self, _: int) -> bool:
        async with self.http.get(f"{self.api}/healthz") as response:
            await response.read()
            return response.status == 200

    async def create_order(self, _: int) -> bool:
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
        body = {"amount": "49.99", "currency": "USD", "description": "bench"}
        url = f"{self.api}/v1/orders"
        async with self.http.post(url, json=body, headers=headers) as response:
            if response.status != 201:
                await response.read()
                return False
            self.orders.append((await response.json())["id"])
            return True

    async def initiate(self, i: int) -> bool:
        headers = {**self.auth, "Idempotency-Key": uuid.uuid4().hex}
        body = {"provider": "nowpayments", "pay_currency": "btc"}
        url = f"{self.api}/v1/orders/{self.orders[i]}/payments"
        async with self.http.post(url, json=body, headers=headers) as response:
            if response.status != 201:
                print(f"initiation answered {response.status}: {await response.text()}")
                return False
            self.payments.append(await response.json())
            return True

    async def pay(self, payment: dict[str, Any]) -> bool:
        checkout_id = payment["checkout_url"].rstrip("/").rsplit("/", 1)[-1]
        url = f"{self.info['sandbox_url']}/sandbox/v1/checkouts/nowpayments/{checkout_id}/pay"
        async with self.http.post(url, json={"outcome": "full"}) as response:
            await response.read()
            return response.status in (200, 202)


async def create_orders(bench: Bench, count: int) -> Result:
    """Create `count` orders with 16 in flight; the figures are those of order creation."""
    result = await closed_loop(bench.create_order, 16, duration_s=3600, limit=count)
    if len(bench.orders) < count:
        raise RuntimeError(f"only {len(bench.orders)} of {count} orders were created")
    return result


async def webhook_to_ledger(info: dict[str, Any], bench: Bench) -> Result:
    """Pay checkouts through the sandbox and compare delivery and posting times per event."""
    await _wait_for_empty_outbox(info["payments_database_url"])
    chosen = bench.payments[:WEBHOOK_PAYMENTS]
    paying = await steady_rate(
        lambda i: bench.pay(chosen[i]), rate=WEBHOOK_RATE, duration_s=len(chosen) / WEBHOOK_RATE
    )
    ids = [uuid.UUID(payment["id"]) for payment in chosen]
    posted = await _wait_for_postings(info["payments_database_url"], ids, len(paying.latencies_ms))
    keys = [(row["provider"], row["provider_event_id"]) for row in posted]
    webhooks = await asyncpg.connect(info["webhooks_database_url"])
    try:
        rows = await webhooks.fetch(
            "SELECT provider, provider_event_id, received_at FROM provider_events "
            "WHERE (provider, provider_event_id) IN "
            "(SELECT * FROM unnest($1::text[], $2::text[]))",
            [key[0] for key in keys],
            [key[1] for key in keys],
        )
    finally:
        await webhooks.close()
    received = {(row["provider"], row["provider_event_id"]): row["received_at"] for row in rows}
    result = Result(elapsed_s=1.0)
    result.errors = len(paying.latencies_ms) - len(posted) + paying.errors
    for row in posted:
        at = received.get((row["provider"], row["provider_event_id"]))
        if at is None:
            result.errors += 1
            continue
        result.latencies_ms.append((row["created_at"] - at).total_seconds() * 1000)
    return result


async def _wait_for_empty_outbox(dsn: str) -> None:
    # Events of the earlier phases still waiting to be relayed share the bus and the event loop
    # with the webhook path, so the webhook phase starts once they are gone.
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + LEDGER_WAIT_S
        while time.monotonic() < deadline:
            if not await conn.fetchval("SELECT count(*) FROM outbox"):
                return
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def _wait_for_postings(dsn: str, payment_ids: list[uuid.UUID], expected: int) -> list[Any]:
    """Return the postings of these payments once all `expected` are in, or at the deadline."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + LEDGER_WAIT_S
        while True:
            rows = await conn.fetch(
                "SELECT t.provider, t.provider_event_id, t.created_at "
                "FROM transactions t JOIN payments p ON p.id = t.payment_id "
                "WHERE p.id = ANY($1::uuid[])",
                payment_ids,
            )
            if len(rows) >= expected or time.monotonic() > deadline:
                return list(rows)
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def run_mode(mode: str, database_url: str, amqp_url: str | None) -> list[str]:
    data_dir = tempfile.mkdtemp(prefix="bwai-bench-")
    arguments = [
        "-m", "bench.serve", "--port", str(free_port()), "--sandbox-port", str(free_port()),
        "--mail-port", str(free_port()), "--data-dir", data_dir, "--database-url", database_url,
    ]  # fmt: skip
    if amqp_url:
        arguments += ["--amqp-url", amqp_url]
    child = await asyncio.create_subprocess_exec(
        sys.executable, *arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        line = await child.stdout.readline()
        if not line:
            raise RuntimeError(f"bench.serve exited with {await child.wait()} before it was ready")
        info = json.loads(line)
        connector = aiohttp.TCPConnector(limit=256)
        async with aiohttp.ClientSession(connector=connector) as http:
            return await measure(mode, info, http, child.pid)
    finally:
        await _stop(child)
        shutil.rmtree(data_dir, ignore_errors=True)


async def _stop(child: asyncio.subprocess.Process) -> None:
    # Closing stdin asks the server to stop and drop its databases; it gets a minute for that.
    if child.stdin:
        child.stdin.close()
    try:
        await asyncio.wait_for(child.wait(), timeout=60)
    except TimeoutError:
        child.kill()
        await child.wait()


def cpu_seconds(pid: int) -> float:
    """Return the user and system CPU time that process `pid` has used, in seconds."""
    # Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the command's ")".
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_request(pid: int, started_cpu: float, result: Result) -> str:
    """Return the server process's CPU time per request of a phase, in milliseconds."""
    used = cpu_seconds(pid) - started_cpu
    return f"server CPU {used * 1000 / max(1, result.count):.2f}ms/request"


async def measure(
    mode: str, info: dict[str, Any], http: aiohttp.ClientSession, server_pid: int
) -> list[str]:
    bench = Bench(info, http)
    await bench.login()
    await closed_loop(bench.noop, 8, 1.0)  # warm up connections
    noop = await closed_loop(bench.noop, MAX_CONCURRENCY, NOOP_SECONDS)

    steady_count = int(RATE * SECONDS)
    orders = await create_orders(bench, WARM_UP + steady_count + MAX_PHASE_ORDERS)
    # Warm-up: connections, prepared statements, caches.
    await steady_rate(bench.initiate, rate=50, duration_s=WARM_UP / 50)
    offset = WARM_UP
    started_cpu = cpu_seconds(server_pid)
    steady = await steady_rate(lambda i: bench.initiate(offset + i), rate=RATE, duration_s=SECONDS)
    steady_cpu = cpu_per_request(server_pid, started_cpu, steady)
    started_cpu = cpu_seconds(server_pid)
    offset += steady_count
    maximum = await closed_loop(
        lambda i: bench.initiate(offset + i),
        MAX_CONCURRENCY,
        min(SECONDS, 8.0),
        limit=MAX_PHASE_ORDERS,
    )
    maximum_cpu = cpu_per_request(server_pid, started_cpu, maximum)
    ledger = await webhook_to_ledger(info, bench)

    share = maximum.throughput / noop.throughput * 100 if noop.throughput else 0
    return [
        f"[{mode}] no-op GET /healthz, {MAX_CONCURRENCY} in flight: {noop.summary()}",
        f"[{mode}] order creation, 16 in flight: {orders.summary()}",
        f"[{mode}] initiation at {RATE:.0f}/s for {SECONDS:.0f}s: {steady.summary()} {steady_cpu}",
        f"[{mode}] initiation, max sustained ({MAX_CONCURRENCY} in flight): {maximum.summary()} "
        f"= {share:.0f}% of the no-op rate (target >= 25%), {maximum_cpu}",
        f"[{mode}] webhook-to-ledger (delivery received -> posting written), "
        f"{WEBHOOK_RATE:.0f} payments/s: {ledger.summary(throughput=False)}",
    ]


async def server_versions(database_url: str, amqp_url: str) -> str:
    conn = await asyncpg.connect(database_url)
    try:
        postgres = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    import aio_pika

    try:
        connection = await aio_pika.connect(amqp_url)
    except (OSError, aio_pika.exceptions.AMQPError):
        return f"PostgreSQL {postgres}, RabbitMQ unreachable"
    async with connection:
        transport = connection.transport
        properties = transport.connection.server_properties if transport is not None else {}
        rabbit = properties.get("version", b"?")
    rabbit_text = rabbit.decode() if isinstance(rabbit, bytes) else str(rabbit)
    return f"PostgreSQL {postgres}, RabbitMQ {rabbit_text}"


async def main() -> None:
    database_url = os.environ.get("BWAI_BENCH_DATABASE_URL", DEFAULT_PG)
    amqp_url = os.environ.get("BWAI_BENCH_AMQP_URL", DEFAULT_AMQP)
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}", flush=True)
    print(f"machine: {machine()}", flush=True)
    print(f"servers: {await server_versions(database_url, amqp_url)}", flush=True)
    print(
        "targets: initiation p50 <= 5 ms, p95 <= 15 ms at 200/s; max >= 25% of no-op; "
        "webhook-to-ledger p95 <= 20 ms on RabbitMQ",
        flush=True,
    )
    for mode in MODES:
        lines = await run_mode(mode, database_url, amqp_url if mode == "rabbitmq" else None)
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
