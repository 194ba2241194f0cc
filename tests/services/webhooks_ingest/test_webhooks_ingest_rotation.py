"""Secret rotation while webhooks keep arriving: the file backend, no restart, a grace period.

The service reads its NOWPayments IPN secret from a secrets directory. The sender posts a steady
stream of signed IPNs, and the secret file is replaced mid-stream. From then on the sender signs
with the new secret, but some deliveries signed with the old one are still in flight.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import structlog.testing
from bwai_core.clock import FrozenClock
from bwai_providers.nowpayments import sign_ipn
from webhooks_fixtures import ClientFactory, vector

NOWPAYMENTS_URL = "/v1/webhooks/nowpayments"
SECRET_NAME = "nowpayments_ipn_secret"
# Made-up secrets for this test only.
OLD_SECRET = "rotation-test-secret-before"
NEW_SECRET = "rotation-test-secret-after"
GRACE = timedelta(hours=1)
FINISHED_IPN = json.loads(vector("DERIVED-nowpayments-ipn-finished")["body"])


def _ipn_body(sequence: int) -> bytes:
    # A distinct payment id per delivery, so each is a new provider event and is accepted.
    return json.dumps({**FINISHED_IPN, "payment_id": 9_000_000 + sequence}).encode()


def _rotate(secrets_dir: Path, value: str) -> None:
    # Write then rename, as a secret volume update does, so no reader sees a half-written file.
    staged = secrets_dir / ".staged"
    staged.write_text(value + "\n")
    os.replace(staged, secrets_dir / SECRET_NAME)


async def _send(client: httpx.AsyncClient, sequence: int, secret: str) -> httpx.Response:
    body = _ipn_body(sequence)
    headers = {"content-type": "application/json", "x-nowpayments-sig": sign_ipn(body, secret)}
    return await client.post(NOWPAYMENTS_URL, content=body, headers=headers)


async def _send_batches(
    client: httpx.AsyncClient, signed: list[tuple[int, str]], batch_size: int
) -> list[httpx.Response]:
    responses: list[httpx.Response] = []
    for start in range(0, len(signed), batch_size):
        batch = signed[start : start + batch_size]
        responses += await asyncio.gather(*(_send(client, seq, secret) for seq, secret in batch))
    return responses


async def _slots_by_payment(pool: asyncpg.Pool) -> dict[int, tuple[str, str | None]]:
    rows = await pool.fetch("SELECT body, outcome, secret_slot FROM webhook_deliveries")
    return {
        json.loads(row["body"])["payment_id"]: (row["outcome"], row["secret_slot"]) for row in rows
    }


async def test_rotation_mid_stream_rejects_nothing(
    make_client: ClientFactory, pool: asyncpg.Pool, clock: FrozenClock, tmp_path: Path
) -> None:
    _rotate(tmp_path, OLD_SECRET)
    client = await make_client(
        secrets_backend="file",
        secrets_dir=tmp_path,
        # Zero: every delivery reads the file's state, so the test needs no waiting.
        secrets_cache_ttl_seconds=0,
        webhook_secret_grace_seconds=GRACE.total_seconds(),
    )
    before = [(seq, OLD_SECRET) for seq in range(20)]
    # After the rotation the sender uses the new secret; every third delivery was signed
    # before the rotation and is still in flight.
    after = [(seq, OLD_SECRET if seq % 3 == 0 else NEW_SECRET) for seq in range(20, 50)]

    with structlog.testing.capture_logs() as logs:
        responses = await _send_batches(client, before, batch_size=5)
        _rotate(tmp_path, NEW_SECRET)
        responses += await _send_batches(client, after, batch_size=6)

    assert [r.status_code for r in responses] == [200] * 50
    slots = await _slots_by_payment(pool)
    assert len(slots) == 50
    for seq, secret in before + after:
        expected_slot = "previous" if seq >= 20 and secret == OLD_SECRET else "current"
        assert slots[9_000_000 + seq] == ("accepted", expected_slot), seq
    accepted = [e for e in logs if e["event"] == "webhook.delivery.accepted"]
    previous_logged = [e for e in accepted if e["secret"] == "previous"]
    assert len(previous_logged) == 10
    assert {e["secret_source"] for e in previous_logged} == {"rotation"}
    rotated = [e for e in logs if e["event"] == "secret.rotated"]
    assert [e["secret_name"] for e in rotated] == [SECRET_NAME]
    rendered = repr(logs)
    assert OLD_SECRET not in rendered
    assert NEW_SECRET not in rendered


async def test_old_secret_rejected_after_grace(
    make_client: ClientFactory, pool: asyncpg.Pool, clock: FrozenClock, tmp_path: Path
) -> None:
    _rotate(tmp_path, OLD_SECRET)
    client = await make_client(
        secrets_backend="file",
        secrets_dir=tmp_path,
        secrets_cache_ttl_seconds=0,
        webhook_secret_grace_seconds=GRACE.total_seconds(),
    )
    first = await _send(client, 1, OLD_SECRET)
    _rotate(tmp_path, NEW_SECRET)
    in_grace = await _send(client, 2, OLD_SECRET)

    clock.advance(GRACE)
    expired = await _send(client, 3, OLD_SECRET)
    new = await _send(client, 4, NEW_SECRET)

    assert first.status_code == 200
    assert in_grace.status_code == 200
    assert expired.status_code == 401
    assert expired.json()["type"].endswith("/signature-invalid")
    assert new.status_code == 200
    slots = await _slots_by_payment(pool)
    assert slots[9_000_002] == ("accepted", "previous")
    assert slots[9_000_003] == ("rejected", None)
    assert slots[9_000_004] == ("accepted", "current")


async def test_explicit_previous_file_accepted(
    make_client: ClientFactory, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """A replica that never saw the old value accepts it through <name>_previous."""
    _rotate(tmp_path, NEW_SECRET)
    (tmp_path / f"{SECRET_NAME}_previous").write_text(OLD_SECRET)
    client = await make_client(
        secrets_backend="file", secrets_dir=tmp_path, secrets_cache_ttl_seconds=0
    )

    with structlog.testing.capture_logs() as logs:
        response = await _send(client, 1, OLD_SECRET)

    assert response.status_code == 200
    assert (await _slots_by_payment(pool))[9_000_001] == ("accepted", "previous")
    [accepted] = [e for e in logs if e["event"] == "webhook.delivery.accepted"]
    assert accepted["secret_source"] == "explicit"


async def test_secret_file_missing_rejected_503(
    make_client: ClientFactory, pool: asyncpg.Pool, tmp_path: Path
) -> None:
    client = await make_client(
        secrets_backend="file", secrets_dir=tmp_path, secrets_cache_ttl_seconds=0
    )

    response = await _send(client, 1, OLD_SECRET)

    assert response.status_code == 503
    assert response.json()["type"].endswith("/webhook-secret-unset")
    assert (await _slots_by_payment(pool))[9_000_001] == ("rejected", None)


async def test_vault_unreachable_rejected_503(
    make_client: ClientFactory, pool: asyncpg.Pool
) -> None:
    # A port that was just free: nothing listens there, so every Vault request fails.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = await make_client(
        secrets_backend="vault",
        vault_addr=f"http://127.0.0.1:{port}",
        vault_token="fake-token-for-tests",
        vault_timeout_seconds=2,
    )

    with structlog.testing.capture_logs() as logs:
        response = await _send(client, 1, OLD_SECRET)

    assert response.status_code == 503
    assert response.json()["type"].endswith("/webhook-secret-unavailable")
    assert (await _slots_by_payment(pool))[9_000_001] == ("rejected", None)
    [error] = [e for e in logs if e["event"] == "webhook.secret.unavailable"]
    assert error["secret_name"] == SECRET_NAME
