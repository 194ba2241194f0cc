"""NOWPayments payouts in the sandbox: JWT, create, 2FA verify (ten attempts), status IPNs."""

from __future__ import annotations

from typing import Any

import httpx
import pyotp
from bwai_core import jsonutil
from bwai_providers.nowpayments import verify_ipn
from bwai_sandbox.settings import DEV_PAYOUT_TOTP_SECRET
from sandbox_helpers import NOWPAYMENTS_SECRET, NP_HEADERS, Receiver, sandbox_settings

CODE = pyotp.TOTP(DEV_PAYOUT_TOTP_SECRET)


async def bearer(client: httpx.AsyncClient) -> dict[str, str]:
    settings = sandbox_settings()
    response = await client.post(
        "/nowpayments/v1/auth",
        json={"email": settings.nowpayments_email, "password": settings.nowpayments_password},
    )
    assert response.status_code == 200, response.text
    return {**NP_HEADERS, "Authorization": f"Bearer {response.json()['token']}"}


async def create_payout(
    client: httpx.AsyncClient, receiver: Receiver, amount: Any = "0.0005"
) -> httpx.Response:
    body = {
        "ipn_callback_url": f"{receiver.url}/payouts",
        "withdrawals": [
            {
                "address": "bc1qcustomer",
                "currency": "btc",
                "amount": amount,
                "unique_external_id": "refund-1",
            }
        ],
    }
    return await client.post("/nowpayments/v1/payout", json=body, headers=await bearer(client))


async def test_payout_needs_bearer_token(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post(
        "/nowpayments/v1/payout", json={"withdrawals": []}, headers=NP_HEADERS
    )

    assert response.status_code == 401
    assert response.json()["code"] == "AUTH_REQUIRED"


async def test_payout_is_created_waiting_for_code(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    response = await create_payout(sandbox, receiver)

    assert response.status_code == 200, response.text
    batch = response.json()
    withdrawal = batch["withdrawals"][0]
    assert withdrawal["status"] == "CREATING"
    assert withdrawal["batch_withdrawal_id"] == batch["id"]
    assert withdrawal["amount"] == "0.0005"
    assert withdrawal["unique_external_id"] == "refund-1"
    assert receiver.received == []


async def test_payout_amount_over_six_decimals_is_rejected(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    response = await create_payout(sandbox, receiver, amount="0.0000001")

    assert response.status_code == 400
    assert "6 decimals" in response.json()["message"]


async def test_verified_payout_sends_signed_ipns(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    batch_id = (await create_payout(sandbox, receiver)).json()["id"]
    headers = await bearer(sandbox)

    verified = await sandbox.post(
        f"/nowpayments/v1/payout/{batch_id}/verify",
        json={"verification_code": CODE.now()},
        headers=headers,
    )
    finished = await sandbox.post(
        f"/sandbox/v1/payouts/{batch_id}/finish", json={"status": "FINISHED"}
    )
    ipns = await receiver.wait_for(2, "/payouts")
    status = await sandbox.get(f"/nowpayments/v1/payout/{batch_id}", headers=NP_HEADERS)

    assert verified.status_code == 200, verified.text
    assert finished.status_code == 200, finished.text
    payloads = []
    for ipn in ipns:
        checked = verify_ipn(ipn.body, ipn.headers["x-nowpayments-sig"], [NOWPAYMENTS_SECRET])
        payloads.append(checked.payload)
    assert [p["status"] for p in payloads] == ["PROCESSING", "FINISHED"]
    assert payloads[1]["batch_withdrawal_id"] == batch_id
    assert payloads[1]["hash"]
    assert status.json()[0]["status"] == "FINISHED"


async def test_verify_allows_ten_attempts(sandbox: httpx.AsyncClient, receiver: Receiver) -> None:
    batch_id = (await create_payout(sandbox, receiver)).json()["id"]
    headers = await bearer(sandbox)
    wrong = str((int(CODE.now()) + 500_000) % 1_000_000).zfill(6)

    codes = []
    for _ in range(10):
        response = await sandbox.post(
            f"/nowpayments/v1/payout/{batch_id}/verify",
            json={"verification_code": wrong},
            headers=headers,
        )
        codes.append(response.json()["code"])
    right_too_late = await sandbox.post(
        f"/nowpayments/v1/payout/{batch_id}/verify",
        json={"verification_code": CODE.now()},
        headers=headers,
    )

    assert codes == ["INVALID_VERIFICATION_CODE"] * 10
    assert right_too_late.status_code == 400
    assert right_too_late.json()["code"] == "VERIFICATION_ATTEMPTS_EXCEEDED"
    shown = await sandbox.get(f"/sandbox/v1/payouts/{batch_id}")
    assert jsonutil.loads(shown.content)["verified"] is False


async def test_unverified_payout_cannot_finish(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    batch_id = (await create_payout(sandbox, receiver)).json()["id"]

    finished = await sandbox.post(
        f"/sandbox/v1/payouts/{batch_id}/finish", json={"status": "FINISHED"}
    )
    rejected = await sandbox.post(
        f"/sandbox/v1/payouts/{batch_id}/finish", json={"status": "REJECTED", "error": "expired"}
    )

    assert finished.status_code == 400
    assert rejected.status_code == 200
    assert rejected.json()["withdrawals"][0]["status"] == "REJECTED"
