"""Load generation: an open-loop steady rate and a closed-loop maximum, with latency figures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

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

    def summary(self) -> str:
        return (
            f"n={self.count} ok={len(self.latencies_ms)} errors={self.errors} "
            f"p50={self.percentile(50):.2f}ms p95={self.percentile(95):.2f}ms "
            f"p99={self.percentile(99):.2f}ms throughput={self.throughput:.0f}/s"
        )


async def steady_rate(request: Request, rate: float, duration_s: float) -> Result:
    """Send `rate` requests per second on a fixed schedule, whatever the server's latency.

    Latency counts from each request's scheduled start, so a server that falls behind shows
    it in the figures (no coordinated omission).
    """
    result = Result()
    total = int(rate * duration_s)
    start = time.perf_counter()

    async def one(i: int, scheduled: float) -> None:
        ok = await request(i)
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


async def closed_loop(request: Request, concurrency: int, duration_s: float, start_index: int = 0) -> Result:
    """Keep `concurrency` requests in flight for `duration_s`; measures maximum throughput."""
    result = Result()
    counter = iter(range(start_index, 10**9))
    start = time.perf_counter()
    deadline = start + duration_s

    async def worker() -> None:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            if await request(next(counter)):
                result.latencies_ms.append((time.perf_counter() - sent) * 1000)
            else:
                result.errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - start
    return result
