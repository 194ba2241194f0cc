"""Brute-force throttling: failed attempts per key lock the key for a doubling time.

Keys exist whether or not an account does (the account key is a hash of the email as typed),
so a locked response looks the same for every address and never tells which accounts exist.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import structlog

from bwai_identity.errors import TooManyAttempts
from bwai_identity.throttle import repository

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    # Failures allowed before the first lock; the lock after failure n is 2**(n - free) s.
    free_failures: int
    max_lock_s: int
    # A failure older than this restarts the count.
    window_s: int


def account_key(email: str) -> str:
    return "account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def address_key(address: str | None) -> str:
    return f"address:{address or 'unknown'}"


def totp_key(user_id: str) -> str:
    return f"totp:{user_id}"


async def ensure_not_locked(
    pool: asyncpg.Pool | asyncpg.Connection, keys: Sequence[str], *, now: datetime
) -> None:
    """Raise TooManyAttempts (429, Retry-After) while any of `keys` is locked."""
    locked_until = await repository.latest_lock(pool, keys)
    if locked_until is None or locked_until <= now:
        return
    retry_after = max(1, math.ceil((locked_until - now).total_seconds()))
    raise TooManyAttempts(
        f"too many failed attempts: try again in {retry_after} seconds",
        retry_after_s=retry_after,
    )


async def record_failure(
    pool: asyncpg.Pool | asyncpg.Connection, key: str, policy: ThrottlePolicy, *, now: datetime
) -> None:
    """Count one failure for `key` and lock it once the free failures are used up."""
    window_start = now - timedelta(seconds=policy.window_s)
    failures = await repository.count_failure(pool, key, now=now, window_start=window_start)
    if failures < policy.free_failures:
        return
    lock_s = min(2 ** min(failures - policy.free_failures, 30), policy.max_lock_s)
    await repository.set_lock(pool, key, now + timedelta(seconds=lock_s))
    log.info(
        "identity.throttle.locked",
        key_kind=key.split(":", 1)[0],
        failures=failures,
        lock_seconds=lock_s,
    )


async def clear(pool: asyncpg.Pool | asyncpg.Connection, key: str) -> None:
    """Forget the failures of `key` after a success."""
    await repository.delete(pool, key)


def resend_key(email: str) -> str:
    return "resend:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


async def rate_limit(
    pool: asyncpg.Pool | asyncpg.Connection, key: str, *, interval_s: int, now: datetime
) -> None:
    """Allow one call per `interval_s` for `key`; raise TooManyAttempts for the others."""
    await ensure_not_locked(pool, [key], now=now)
    await repository.lock_until(pool, key, now + timedelta(seconds=interval_s))
