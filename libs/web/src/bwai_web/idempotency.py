"""Idempotency keys for mutating endpoints (Stripe semantics, IETF Idempotency-Key header).

The same key with the same request replays the first response (`Idempotent-Replayed: true`).
The same key with a different request is a 422, and the same key while the first request still
runs is a 409. Keys are scoped (usually by tenant id) and kept for at least `ttl_hours`.

Usage: `claim` before doing the work (on the pool, so the claim is visible to concurrent
requests at once); `complete` inside the transaction that commits the work, so the stored
response and the effect commit together; `release` when the work failed in a way the client may
retry with the same key.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

import asyncpg
import orjson
import structlog
from bwai_core.clock import Clock
from bwai_core.db import MigrationSource
from bwai_core.errors import Conflict, InvalidRequest, ServiceError
from bwai_core.jsonutil import loads_decimal
from fastapi import Depends, Header
from starlette.responses import Response

log = structlog.get_logger()

IDEMPOTENCY_MIGRATIONS = MigrationSource("idempotency", "bwai_web")
REPLAYED_HEADER = "Idempotent-Replayed"
# Visible ASCII only (0x21-0x7E), 1 to 255 characters.
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
# A claim re-reads a row that vanished between its two statements (released or purged) this
# many times before giving up.
_CLAIM_ATTEMPTS = 3


class IdempotencyKeyReused(ServiceError):
    status = 422
    code = "idempotency-key-reused"
    title = "Idempotency key reused"


class IdempotencyRequestInFlight(Conflict):
    code = "idempotency-request-in-flight"
    title = "Request with this idempotency key is in flight"
    headers = {"Retry-After": "1"}  # noqa: RUF012 - read-only class constant


class IdempotencyKeyInvalid(InvalidRequest):
    code = "idempotency-key-invalid"
    title = "Invalid Idempotency-Key header"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response given for a key, replayed to later identical requests."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def to_response(self) -> Response:
        """Build the replayed HTTP response, marked with `Idempotent-Replayed: true`."""
        headers = {**self.headers, REPLAYED_HEADER: "true"}
        return Response(content=self.body, status_code=self.status, headers=headers)


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of a claim: do the work (`replay` is None) or replay a stored response."""

    replay: StoredResponse | None


# Inserts a new key. On conflict it takes the row over only when the row has expired, or when it
# is in flight with the same request but its holder's lock ran out because the holder crashed.
# The conflict path locks the row, so PostgreSQL decides concurrent claims of one key in turn.
_CLAIM_SQL = """
INSERT INTO idempotency_keys AS k
    (scope, key, request_hash, state, locked_until, created_at, expires_at)
VALUES ($1, $2, $3, 'in_flight', $4, $5, $6)
ON CONFLICT (scope, key) DO UPDATE SET
    request_hash = EXCLUDED.request_hash,
    state = 'in_flight',
    response_status = NULL,
    response_body = NULL,
    response_headers = NULL,
    locked_until = EXCLUDED.locked_until,
    created_at = EXCLUDED.created_at,
    expires_at = EXCLUDED.expires_at
WHERE k.expires_at <= EXCLUDED.created_at
   OR (k.state = 'in_flight'
       AND k.locked_until <= EXCLUDED.created_at
       AND k.request_hash = EXCLUDED.request_hash)
RETURNING 1
"""

_CLAIM_PARAMETERS = 6
_PARAMETER = re.compile(r"\$(\d+)")

# A separate statement, so that it reads the row committed by the concurrent winner.
_READ_SQL = """
SELECT request_hash, state, response_status, response_body, response_headers
FROM idempotency_keys
WHERE scope = $1 AND key = $2
"""


async def claim(
    pool_or_conn: asyncpg.Pool | asyncpg.Connection,
    *,
    scope: str,
    key: str,
    fingerprint: bytes,
    clock: Clock,
    ttl_hours: int = 24,
    lock_seconds: int = 60,
) -> Claim:
    """Claim `key` in `scope` for the request whose fingerprint is `fingerprint`.

    Returns Claim(replay=None) when the caller should do the work, or Claim(replay=...) holding
    the stored response of the completed first request. Raises IdempotencyKeyReused (422) when
    the key was used for a different request, IdempotencyRequestInFlight (409) while the first
    request still has the key locked.
    """
    now = clock.now()
    locked_until = now + timedelta(seconds=lock_seconds)
    expires_at = now + timedelta(hours=ttl_hours)
    for _ in range(_CLAIM_ATTEMPTS):
        won = await pool_or_conn.fetchval(
            _CLAIM_SQL, scope, key, fingerprint, locked_until, now, expires_at
        )
        if won:
            return Claim(replay=None)
        row = await pool_or_conn.fetchrow(_READ_SQL, scope, key)
        if row is not None:
            return _existing_claim(row, fingerprint, scope=scope, key=key)
    raise IdempotencyRequestInFlight("idempotency key is being claimed and released; retry")


async def claim_and_read(
    conn: asyncpg.Pool | asyncpg.Connection,
    *,
    scope: str,
    key: str,
    fingerprint: bytes,
    clock: Clock,
    read_sql: str,
    read_args: Sequence[Any],
    ttl_hours: int = 24,
    lock_seconds: int = 60,
) -> tuple[Claim, asyncpg.Record | None]:
    """Claim like `claim` and, in the same statement, run the query `read_sql`.

    Saves the round trip of a request that reads before its work. `read_sql` is one SELECT
    with its own parameters $1, $2, ... bound to `read_args`, and no other `$` in its text.
    Returns the claim and, when the claim is won, the first row read, or None when the query
    found no row. A replay comes with None. Raises as `claim` does.
    """
    now = clock.now()
    locked_until = now + timedelta(seconds=lock_seconds)
    expires_at = now + timedelta(hours=ttl_hours)
    statement = _claim_and_read_sql(read_sql)
    for _ in range(_CLAIM_ATTEMPTS):
        row = await conn.fetchrow(
            statement, scope, key, fingerprint, locked_until, now, expires_at, *read_args
        )
        assert row is not None  # the outer SELECT always returns one row
        if row["claim_won"]:
            return Claim(replay=None), row if row["read_found"] else None
        existing = await conn.fetchrow(_READ_SQL, scope, key)
        if existing is not None:
            return _existing_claim(existing, fingerprint, scope=scope, key=key), None
    raise IdempotencyRequestInFlight("idempotency key is being claimed and released; retry")


@functools.lru_cache(maxsize=64)
def _claim_and_read_sql(read_sql: str) -> str:
    # One text per read, so asyncpg prepares it once per connection. The read sees the
    # snapshot the claim ran in, which is what a separate statement just before would see.
    read_sql = _PARAMETER.sub(lambda match: f"${int(match.group(1)) + _CLAIM_PARAMETERS}", read_sql)
    return f"""
WITH claimed AS ({_CLAIM_SQL})
SELECT EXISTS (SELECT 1 FROM claimed) AS claim_won, r.*
FROM (SELECT 1) AS one
LEFT JOIN (SELECT true AS read_found, q.* FROM ({read_sql}) AS q) AS r ON true
"""


_COMPLETE_SQL = """
UPDATE idempotency_keys
SET state = 'completed', response_status = ${status}, response_body = ${body},
    response_headers = ${headers}
WHERE scope = ${scope} AND key = ${key} AND state = 'in_flight' AND {only_if}
RETURNING 1
"""


async def complete(
    conn: asyncpg.Connection,
    *,
    scope: str,
    key: str,
    status: int,
    body: bytes,
    headers: dict[str, str],
) -> None:
    """Store the response of a claimed key; call it in the transaction that commits the work."""
    sql, args = complete_sql(
        scope=scope, key=key, status=status, body=body, headers=headers, first_parameter=1
    )
    if await conn.fetchval(sql, *args) is None:
        report_missed_completion(scope=scope, key=key)


def complete_sql(
    *,
    scope: str,
    key: str,
    status: int,
    body: bytes,
    headers: dict[str, str],
    first_parameter: int,
    only_if: str = "true",
) -> tuple[str, list[Any]]:
    """Return the UPDATE of `complete` for a WITH clause, and its arguments.

    Lets the work's own statement store the response, so effect and response commit together
    without an explicit transaction. The UPDATE returns one row when it stored the response,
    none when the key was no longer in flight (then call `report_missed_completion`). It uses
    the parameters `$first_parameter` to `$first_parameter + 4` and changes nothing unless the
    SQL condition `only_if` holds.
    """
    sql = _COMPLETE_SQL.format(
        scope=first_parameter,
        key=first_parameter + 1,
        status=first_parameter + 2,
        body=first_parameter + 3,
        headers=first_parameter + 4,
        only_if=only_if,
    )
    return sql, [scope, key, status, body, headers]


def report_missed_completion(*, scope: str, key: str) -> None:
    """Log a response that was not stored because its key was no longer in flight."""
    # The key was released or completed by a request that took over an expired lock.
    log.warning("idempotency.complete.missed", scope=scope, idempotency_key=key)


async def release(pool: asyncpg.Pool | asyncpg.Connection, *, scope: str, key: str) -> None:
    """Free an in-flight key after a failure, so that a retry with the same key does the work."""
    await pool.execute(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'in_flight'",
        scope,
        key,
    )


async def purge_expired(pool: asyncpg.Pool, *, clock: Clock, batch_size: int = 1000) -> int:
    """Delete up to `batch_size` expired keys; return how many were deleted."""
    result: str = await pool.execute(
        """
        DELETE FROM idempotency_keys
        WHERE (scope, key) IN (
            SELECT scope, key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2
        )
        """,
        clock.now(),
        batch_size,
    )
    return int(result.rsplit(" ", 1)[-1])


def fingerprint(method: str, path: str, body_bytes: bytes) -> bytes:
    """Return the SHA-256 of method, path and the body's canonical JSON (sorted keys).

    Key order and whitespace do not change the fingerprint; a body that is not JSON is hashed
    as its raw bytes.
    """
    digest = hashlib.sha256()
    digest.update(method.upper().encode())
    digest.update(b"\n")
    digest.update(path.encode())
    digest.update(b"\n")
    digest.update(_canonical_body(body_bytes))
    return digest.digest()


def parse_idempotency_key(value: str | None) -> str | None:
    """Return the key from an `Idempotency-Key` header value, or None when the header is absent.

    Accepts the bare form (`abc`) and the structured-field string form (`"abc"`). Raises
    IdempotencyKeyInvalid (400) unless the key is 1 to 255 visible ASCII characters.
    """
    if value is None:
        return None
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    if not _KEY_PATTERN.match(value):
        raise IdempotencyKeyInvalid("Idempotency-Key must be 1 to 255 visible ASCII characters")
    return value


async def _idempotency_key_header(
    idempotency_key: Annotated[str | None, Header()] = None,
) -> str | None:
    return parse_idempotency_key(idempotency_key)


IdempotencyKeyHeader = Annotated[str | None, Depends(_idempotency_key_header)]


def _existing_claim(row: asyncpg.Record, fingerprint: bytes, *, scope: str, key: str) -> Claim:
    if bytes(row["request_hash"]) != fingerprint:
        log.info("idempotency.key.reused", scope=scope, idempotency_key=key)
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used for a different request; use a new key"
        )
    if row["state"] != "completed":
        raise IdempotencyRequestInFlight(
            "a request with this Idempotency-Key is still being processed; retry later"
        )
    stored = StoredResponse(
        status=row["response_status"],
        body=bytes(row["response_body"]),
        headers=dict(row["response_headers"] or {}),
    )
    return Claim(replay=stored)


def _canonical_body(body: bytes) -> bytes:
    if not body.strip():
        return b""
    try:
        value = loads_decimal(body)
    except ValueError:
        return body
    return orjson.dumps(value, default=_decimal_text, option=orjson.OPT_SORT_KEYS)


def _decimal_text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot canonicalise {type(value).__name__}")
