"""Run a mutating request at most once per Idempotency-Key.

The key is claimed in its own statement before any work, so concurrent requests with one key
see the claim at once. The work then commits its effect, its outbox rows and the stored response
in one transaction (`Completion.complete`). On any failure the key is released so that the
client can retry with the same key.

`run_once_prepared` also runs a read (`prepare`) on the connection that made the claim, before
giving it back: every connection returned to the pool costs a reset round trip, so a request
that reads before its work saves one that way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from bwai_core import jsonutil
from bwai_core.clock import Clock
from bwai_core.errors import InvalidRequest
from bwai_web import idempotency
from starlette.responses import Response


Prepared = TypeVar("Prepared")


class IdempotencyKeyMissing(InvalidRequest):
    code = "idempotency-key-missing"
    title = "Idempotency-Key header missing"


@dataclass(frozen=True, slots=True)
class Completion:
    """Stores the response for the claimed key inside the work's final transaction."""

    scope: str
    key: str

    async def complete(
        self, conn: asyncpg.Connection, status: int, body: Any, headers: dict[str, str]
    ) -> Response:
        content = jsonutil.dumps(body)
        all_headers = {"Content-Type": "application/json", **headers}
        await idempotency.complete(
            conn, scope=self.scope, key=self.key, status=status, body=content, headers=all_headers
        )
        return Response(content=content, status_code=status, headers=all_headers)


def require_key(key: str | None) -> str:
    if key is None:
        raise IdempotencyKeyMissing("send an Idempotency-Key header (1 to 255 visible characters)")
    return key


async def run_once(
    pool: asyncpg.Pool,
    clock: Clock,
    *,
    scope: str,
    key: str,
    fingerprint: bytes,
    work: Callable[[Completion], Awaitable[Response]],
) -> Response:
    """Claim `key`, then run `work` once, or replay the response stored for the key."""
    claim = await idempotency.claim(
        pool, scope=scope, key=key, fingerprint=fingerprint, clock=clock
    )
    if claim.replay is not None:
        return claim.replay.to_response()
    try:
        return await work(Completion(scope, key))
    except Exception:
        await idempotency.release(pool, scope=scope, key=key)
        raise


async def run_once_prepared(
    pool: asyncpg.Pool,
    clock: Clock,
    *,
    scope: str,
    key: str,
    fingerprint: bytes,
    prepare: Callable[[asyncpg.Connection], Awaitable[Prepared]],
    work: Callable[[Prepared, Completion], Awaitable[Response]],
) -> Response:
    """Claim `key` and run `prepare` on one connection, then `work` with what it returned.

    A replay skips both. A failure of either releases the key, as in `run_once`. The
    connection goes back to the pool before `work` starts, so a request never holds two.
    """
    async with pool.acquire() as conn:
        claim = await idempotency.claim(
            conn, scope=scope, key=key, fingerprint=fingerprint, clock=clock
        )
        if claim.replay is not None:
            return claim.replay.to_response()
        try:
            prepared = await prepare(conn)
        except Exception:
            await idempotency.release(conn, scope=scope, key=key)
            raise
    try:
        return await work(prepared, Completion(scope, key))
    except Exception:
        await idempotency.release(pool, scope=scope, key=key)
        raise
