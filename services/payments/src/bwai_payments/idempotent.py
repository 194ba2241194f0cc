"""Run a mutating request at most once per Idempotency-Key.

The key is claimed in its own statement before any work, so concurrent requests with one key
see the claim at once. The work then commits its effect, its outbox rows and the stored response
in one transaction (`Completion.complete`) or in one statement (`Completion.sql`). On any
failure the key is released so that the client can retry with the same key.

`run_once_after_read` also reads what the work needs in the claim's own statement: each
statement is a round trip to PostgreSQL, the largest cost of a short request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from bwai_core import jsonutil
from bwai_core.clock import Clock
from bwai_core.errors import InvalidRequest
from bwai_web import idempotency
from starlette.responses import Response


class IdempotencyKeyMissing(InvalidRequest):
    code = "idempotency-key-missing"
    title = "Idempotency-Key header missing"


# Runs in the work's final transaction with the response status and body (the operator audit).
CompletionHook = Callable[[asyncpg.Connection, int, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class FinalResponse:
    """A JSON response, serialised once, to store for the key and to send."""

    status: int
    body: Any
    content: bytes
    headers: dict[str, str]

    def to_response(self) -> Response:
        return Response(content=self.content, status_code=self.status, headers=self.headers)


@dataclass(frozen=True, slots=True)
class Completion:
    """Stores the response for the claimed key inside the work's final transaction.

    `complete` runs on the transaction's connection. A work that writes its effect in one
    statement uses `prepare` and `sql` instead, and needs a transaction around that statement
    only when `on_complete` is set, because the hook writes in the same transaction.
    """

    scope: str
    key: str
    on_complete: CompletionHook | None = None

    async def complete(
        self, conn: asyncpg.Connection, status: int, body: Any, headers: dict[str, str]
    ) -> Response:
        if self.on_complete is not None:
            await self.on_complete(conn, status, body)
        response = self.prepare(status, body, headers)
        await idempotency.complete(
            conn,
            scope=self.scope,
            key=self.key,
            status=status,
            body=response.content,
            headers=response.headers,
        )
        return response.to_response()

    def prepare(self, status: int, body: Any, headers: dict[str, str]) -> FinalResponse:
        all_headers = {"Content-Type": "application/json", **headers}
        return FinalResponse(status, body, jsonutil.dumps(body), all_headers)

    def sql(
        self, response: FinalResponse, *, first_parameter: int, only_if: str
    ) -> tuple[str, list[Any]]:
        """Return the UPDATE that stores `response`, for the work's own statement, and its
        arguments (see `bwai_web.idempotency.complete_sql`)."""
        return idempotency.complete_sql(
            scope=self.scope,
            key=self.key,
            status=response.status,
            body=response.content,
            headers=response.headers,
            first_parameter=first_parameter,
            only_if=only_if,
        )

    def report_missed(self) -> None:
        idempotency.report_missed_completion(scope=self.scope, key=self.key)


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
    on_complete: CompletionHook | None = None,
) -> Response:
    """Claim `key`, then run `work` once, or replay the response stored for the key."""
    claim = await idempotency.claim(
        pool, scope=scope, key=key, fingerprint=fingerprint, clock=clock
    )
    if claim.replay is not None:
        return claim.replay.to_response()
    try:
        return await work(Completion(scope, key, on_complete))
    except Exception:
        await idempotency.release(pool, scope=scope, key=key)
        raise


async def run_once_after_read(
    pool: asyncpg.Pool,
    clock: Clock,
    *,
    scope: str,
    key: str,
    fingerprint: bytes,
    read_sql: str,
    read_args: Sequence[Any],
    work: Callable[[asyncpg.Record | None, Completion], Awaitable[Response]],
    on_complete: CompletionHook | None = None,
) -> Response:
    """Claim `key` and run the query `read_sql` in one statement, then `work` with its row.

    The row is None when the query found none. A replay skips the work; a failure of the work
    releases the key, as in `run_once`.
    """
    claim, row = await idempotency.claim_and_read(
        pool,
        scope=scope,
        key=key,
        fingerprint=fingerprint,
        clock=clock,
        read_sql=read_sql,
        read_args=read_args,
    )
    if claim.replay is not None:
        return claim.replay.to_response()
    try:
        return await work(row, Completion(scope, key, on_complete))
    except Exception:
        await idempotency.release(pool, scope=scope, key=key)
        raise
