"""Load generation: an open-loop steady rate and a closed-loop maximum, with latency figures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

Request = Callable[[int], Awaitable[bool]]


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies_ms) + self.errors

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def summary(self, *, throughput: bool = True) -> str:
        text = (
            f"n={self.count} ok={len(self.latencies_ms)} errors={self.errors} "
            f"p50={self.percentile(50):.2f}ms p95={self.percentile(95):.2f}ms "
            f"p99={self.percentile(99):.2f}ms"
        )
        return f"{text} throughput={self.throughput:.0f}/s" if throughput else text


async def steady_rate(request: Request, rate: float, duration_s: float) -> Result:
    """Send `rate` requests per second on a fixed schedule, whatever the server's latency.

    Latency counts from each request's scheduled start, so a server that falls behind shows
    it in the figures (no coordinated omission).
    """
    result = Result()
    total = int(rate * duration_s)
    start = time.perf_counter()

    async def one(i: int, scheduled: float) -> None:
        ok = await _attempt(request, i)
        if ok:
            result.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
        else:
            result.errors += 1

    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    result.elapsed_s = time.perf_counter() - start
    return result


async def closed_loop(
    request: Request, concurrency: int, duration_s: float, *, limit: int = 10**9
) -> Result:
    """Keep `concurrency` requests in flight for `duration_s` or until `limit` were sent.

    Measures the maximum throughput; each request gets the next index from 0.
    """
    result = Result()
    counter = iter(range(limit))
    start = time.perf_counter()
    deadline = start + duration_s

    async def worker() -> None:
        for index in counter:
            if time.perf_counter() >= deadline:
                return
            sent = time.perf_counter()
            if await _attempt(request, index):
                result.latencies_ms.append((time.perf_counter() - sent) * 1000)
            else:
                result.errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - start
    return result


async def _attempt(request: Request, index: int) -> bool:
    # A request that fails in transport counts as an error, like a non-success answer.
    try:
        return await request(index)
    except (OSError, TimeoutError, aiohttp.ClientError) as error:
        print(f"request {index} failed: {error!r}")
        return False
