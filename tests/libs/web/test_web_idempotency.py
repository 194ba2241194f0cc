"""Idempotency keys on real PostgreSQL: claim, complete, release, replay and races."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest
from bwai_core.clock import FrozenClock
from bwai_core.db import transaction
from bwai_core.ids import new_id_str
from bwai_web.idempotency import (
    Claim,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    IdempotencyRequestInFlight,
    claim,
    complete,
    fingerprint,
    parse_idempotency_key,
    purge_expired,
    release,
)

FIRST = fingerprint("POST", "/v1/orders", b'{"amount": "49.99", "currency": "USD"}')
OTHER = fingerprint("POST", "/v1/orders", b'{"amount": "50.00", "currency": "USD"}')


def _scope() -> str:
    return f"tenant-{new_id_str()}"


async def _row_count(pool: asyncpg.Pool, scope: str) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM idempotency_keys WHERE scope = $1", scope
    )
    return count


async def _complete(pool: asyncpg.Pool, scope: str, key: str) -> None:
    async with transaction(pool) as conn:
        await complete(
            conn,
            scope=scope,
            key=key,
            status=201,
            body=b'{"id": "order-1"}',
            headers={"content-type": "application/json", "location": "/v1/orders/order-1"},
        )


async def test_first_claim_does_the_work(web_pool: asyncpg.Pool, clock: FrozenClock) -> None:
    result = await claim(web_pool, scope=_scope(), key="k1", fingerprint=FIRST, clock=clock)

    assert result == Claim(replay=None)


async def test_completed_key_replays_response(web_pool: asyncpg.Pool, clock: FrozenClock) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)
    await _complete(web_pool, scope, "k1")

    result = await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)

    assert result.replay is not None
    assert result.replay.status == 201
    assert result.replay.body == b'{"id": "order-1"}'
    assert result.replay.headers["location"] == "/v1/orders/order-1"
    response = result.replay.to_response()
    assert response.headers["idempotent-replayed"] == "true"
    assert response.status_code == 201


async def test_same_key_other_request_is_rejected(
    web_pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)
    await _complete(web_pool, scope, "k1")

    with pytest.raises(IdempotencyKeyReused) as raised:
        await claim(web_pool, scope=scope, key="k1", fingerprint=OTHER, clock=clock)

    assert raised.value.status == 422
    assert raised.value.code == "idempotency-key-reused"
    stored = await web_pool.fetchval(
        "SELECT request_hash FROM idempotency_keys WHERE scope = $1 AND key = 'k1'", scope
    )
    assert bytes(stored) == FIRST


async def test_in_flight_key_other_request_is_422(
    web_pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)

    with pytest.raises(IdempotencyKeyReused):
        await claim(web_pool, scope=scope, key="k1", fingerprint=OTHER, clock=clock)


async def test_in_flight_key_is_409(web_pool: asyncpg.Pool, clock: FrozenClock) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)

    with pytest.raises(IdempotencyRequestInFlight) as raised:
        await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)

    assert raised.value.status == 409
    assert raised.value.code == "idempotency-request-in-flight"


async def test_keys_are_scoped(web_pool: asyncpg.Pool, clock: FrozenClock) -> None:
    await claim(web_pool, scope=_scope(), key="shared", fingerprint=FIRST, clock=clock)

    result = await claim(web_pool, scope=_scope(), key="shared", fingerprint=OTHER, clock=clock)

    assert result.replay is None


async def test_released_key_can_be_claimed_again(
    web_pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)

    await release(web_pool, scope=scope, key="k1")
    result = await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)

    assert result.replay is None


async def test_release_keeps_completed_response(web_pool: asyncpg.Pool, clock: FrozenClock) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)
    await _complete(web_pool, scope, "k1")

    await release(web_pool, scope=scope, key="k1")

    result = await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)
    assert result.replay is not None


async def test_complete_rolled_back_leaves_key_in_flight(
    web_pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)

    async def fail_after_complete() -> None:
        async with transaction(web_pool) as conn:
            await complete(conn, scope=scope, key="k1", status=201, body=b"{}", headers={})
            raise RuntimeError("the work failed after complete")

    with pytest.raises(RuntimeError):
        await fail_after_complete()

    state = await web_pool.fetchval(
        "SELECT state FROM idempotency_keys WHERE scope = $1 AND key = 'k1'", scope
    )
    assert state == "in_flight"


async def test_expired_lock_lets_same_request_retry(
    web_pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock, lock_seconds=60)

    clock.advance(timedelta(seconds=61))
    result = await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)

    assert result.replay is None


async def test_expired_lock_still_rejects_other_request(
    web_pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock, lock_seconds=60)

    clock.advance(timedelta(seconds=61))

    with pytest.raises(IdempotencyKeyReused):
        await claim(web_pool, scope=scope, key="k1", fingerprint=OTHER, clock=clock)


async def test_key_is_kept_for_24_hours(web_pool: asyncpg.Pool, clock: FrozenClock) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)
    await _complete(web_pool, scope, "k1")

    clock.advance(timedelta(hours=23, minutes=59))
    result = await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)

    assert result.replay is not None


async def test_expired_key_may_be_reused(web_pool: asyncpg.Pool, clock: FrozenClock) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="k1", fingerprint=FIRST, clock=clock)
    await _complete(web_pool, scope, "k1")

    clock.advance(timedelta(hours=24, seconds=1))
    result = await claim(web_pool, scope=scope, key="k1", fingerprint=OTHER, clock=clock)

    assert result.replay is None


async def test_purge_deletes_only_expired_keys(web_pool: asyncpg.Pool, clock: FrozenClock) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="old", fingerprint=FIRST, clock=clock)
    clock.advance(timedelta(hours=12))
    await claim(web_pool, scope=scope, key="new", fingerprint=FIRST, clock=clock)

    clock.advance(timedelta(hours=12, seconds=1))
    await purge_expired(web_pool, clock=clock)

    keys = await web_pool.fetch("SELECT key FROM idempotency_keys WHERE scope = $1", scope)
    assert [row["key"] for row in keys] == ["new"]


async def test_concurrent_identical_claims_have_one_winner(
    web_pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    scope = _scope()

    async def attempt() -> str:
        try:
            result = await claim(web_pool, scope=scope, key="race", fingerprint=FIRST, clock=clock)
        except IdempotencyRequestInFlight:
            return "in_flight"
        return "claimed" if result.replay is None else "replayed"

    outcomes = await asyncio.gather(*(attempt() for _ in range(100)))

    assert outcomes.count("claimed") == 1
    assert outcomes.count("in_flight") == 99
    assert await _row_count(web_pool, scope) == 1


async def test_concurrent_claims_after_completion_all_replay(
    web_pool: asyncpg.Pool, clock: FrozenClock
) -> None:
    scope = _scope()
    await claim(web_pool, scope=scope, key="race", fingerprint=FIRST, clock=clock)
    await _complete(web_pool, scope, "race")

    results = await asyncio.gather(
        *(
            claim(web_pool, scope=scope, key="race", fingerprint=FIRST, clock=clock)
            for _ in range(50)
        )
    )

    assert all(result.replay is not None for result in results)


def test_fingerprint_ignores_key_order_and_spacing() -> None:
    compact = fingerprint("POST", "/v1/orders", b'{"a":1,"b":{"c":"2.50","d":[1,2]}}')
    spaced = fingerprint("post", "/v1/orders", b'{ "b": {"d": [1, 2], "c": "2.50"}, "a": 1 }')

    assert compact == spaced


def test_fingerprint_depends_on_path_and_body() -> None:
    body = b'{"amount": "1"}'

    assert fingerprint("POST", "/v1/orders", body) != fingerprint("POST", "/v1/refunds", body)
    assert fingerprint("POST", "/v1/orders", body) != fingerprint("POST", "/v1/orders", b"{}")


def test_fingerprint_keeps_decimal_digits() -> None:
    small = fingerprint("POST", "/p", b'{"amount": 0.00000059}')
    other = fingerprint("POST", "/p", b'{"amount": 0.00000058}')

    assert small != other


def test_fingerprint_hashes_non_json_bodies() -> None:
    assert fingerprint("POST", "/p", b"a=1") != fingerprint("POST", "/p", b"a=2")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"quoted-key"', "quoted-key"),
        ("k" * 255, "k" * 255),
    ],
)
def test_idempotency_key_header_accepted(header: str | None, expected: str | None) -> None:
    assert parse_idempotency_key(header) == expected


@pytest.mark.parametrize("header", ["", "k" * 256, "has space", "tab\tkey", "ünïcode", '""'])
def test_idempotency_key_header_rejected(header: str) -> None:
    with pytest.raises(IdempotencyKeyInvalid) as raised:
        parse_idempotency_key(header)

    assert raised.value.status == 400
