"""Webhooks sent by the sandbox: signed as the providers sign, in the requested order."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from bwai_providers.coinbase import verify_webhook
from bwai_providers.nowpayments import canonical_json, verify_ipn
from sandbox_helpers import (
    COINBASE_SECRET,
    NOWPAYMENTS_SECRET,
    Receiver,
    create_charge,
    create_invoice,
)

FULL_SEQUENCE = ["waiting", "confirming", "confirmed", "sending", "finished"]


async def pay(
    client: httpx.AsyncClient, provider: str, checkout_id: str, **body: Any
) -> dict[str, Any]:
    response = await client.post(f"/sandbox/v1/checkouts/{provider}/{checkout_id}/pay", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def statuses(received: list[Any]) -> list[str]:
    return [json.loads(r.body)["payment_status"] for r in received]


async def test_nowpayments_full_payment_ipns_verify(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)

    result = await pay(sandbox, "nowpayments", invoice_id, outcome="full")
    received = await receiver.wait_for(5, "/nowpayments")

    assert result["status"] == "finished"
    assert statuses(received) == FULL_SEQUENCE
    for webhook in received:
        verified = verify_ipn(
            webhook.body, webhook.headers["x-nowpayments-sig"], [NOWPAYMENTS_SECRET]
        )
        assert verified.payload["invoice_id"] == int(invoice_id)
        assert webhook.headers["content-type"] == "application/json"
    finished = verify_ipn(
        received[-1].body, received[-1].headers["x-nowpayments-sig"], [NOWPAYMENTS_SECRET]
    ).payload
    assert finished["actually_paid"] == finished["pay_amount"]
    assert finished["order_id"] == "ORD-1"
    assert b'"price_amount":3999.5,' in received[-1].body


async def test_nowpayments_ipn_body_is_sorted_javascript_json(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    # 0.13 USD at the sandbox rate of 65000 USD per BTC is 0.000002 BTC, which Python's
    # float formatting prints as 2e-06; its 0.5% service fee is 1e-8, which JavaScript
    # prints in exponent form without padding.
    invoice_id = await create_invoice(sandbox, receiver, price_amount="0.13")

    await pay(sandbox, "nowpayments", invoice_id, outcome="full")
    received = await receiver.wait_for(5, "/nowpayments")

    body = received[-1].body
    payload = verify_ipn(body, received[-1].headers["x-nowpayments-sig"], [NOWPAYMENTS_SECRET])
    assert b'"pay_amount":0.000002,' in body
    assert b'"price_amount":0.13,' in body
    assert b'"serviceFee":1e-8' in body
    assert re.search(rb"e-0\d", body) is None
    assert body == canonical_json(payload.payload).encode()


async def test_nowpayments_partial_payment_ends_partially_paid(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver, pay_currency="btc")

    result = await pay(sandbox, "nowpayments", invoice_id, outcome="partial", amount="0.05")
    received = await receiver.wait_for(3, "/nowpayments")

    last = json.loads(received[-1].body, parse_float=str)
    assert result["status"] == "partially_paid"
    assert statuses(received) == ["waiting", "confirming", "partially_paid"]
    assert last["actually_paid"] == "0.05"
    assert last["pay_amount"] == "0.06153077"


async def test_nowpayments_duplicates_and_reverse(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)

    result = await pay(
        sandbox,
        "nowpayments",
        invoice_id,
        outcome="expire",
        delivery={"duplicates": 1, "reverse": True},
    )
    received = await receiver.wait_for(4, "/nowpayments")

    assert [d["event"] for d in result["deliveries"]] == ["expired"] * 2 + ["waiting"] * 2
    assert statuses(received) == ["expired", "expired", "waiting", "waiting"]
    assert received[0].body == received[1].body


async def test_nowpayments_shuffle_with_seed_repeats_order(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    first = await create_invoice(sandbox, receiver, order_id="ORD-S1")
    second = await create_invoice(sandbox, receiver, order_id="ORD-S2")
    options = {"shuffle": True, "seed": 7}

    one = await pay(sandbox, "nowpayments", first, outcome="full", delivery=options)
    two = await pay(sandbox, "nowpayments", second, outcome="full", delivery=options)
    received = await receiver.wait_for(10, "/nowpayments")

    planned = [d["event"] for d in one["deliveries"]]
    assert planned == [d["event"] for d in two["deliveries"]]
    assert sorted(planned) == sorted(FULL_SEQUENCE)
    assert planned != FULL_SEQUENCE
    first_received = [json.loads(r.body) for r in received]
    order_one = [p["payment_status"] for p in first_received if p["order_id"] == "ORD-S1"]
    assert order_one == planned


async def test_nowpayments_documented_key_order_still_verifies(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)

    await pay(
        sandbox,
        "nowpayments",
        invoice_id,
        outcome="expire",
        delivery={"nowpayments_key_order": "documented"},
    )
    received = await receiver.wait_for(2, "/nowpayments")

    body = received[0].body
    assert body.startswith(b'{"payment_id":')
    verify_ipn(body, received[0].headers["x-nowpayments-sig"], [NOWPAYMENTS_SECRET])


async def test_nowpayments_repeated_deposit_has_parent(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)
    first = await pay(sandbox, "nowpayments", invoice_id, outcome="full")
    await receiver.wait_for(5, "/nowpayments")

    response = await sandbox.post(
        f"/sandbox/v1/checkouts/nowpayments/{invoice_id}/deposit", json={"amount": "0.01"}
    )
    received = await receiver.wait_for(7, "/nowpayments")

    deposit = json.loads(received[-1].body)
    assert response.status_code == 200
    assert response.json()["status"] == "partially_paid"
    assert deposit["parent_payment_id"] == int(first["payment_id"])
    assert deposit["payment_id"] != int(first["payment_id"])
    assert deposit["order_id"] == "ORD-1"


async def test_nowpayments_second_payment_on_paid_invoice_conflicts(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)
    await pay(sandbox, "nowpayments", invoice_id, outcome="full")

    response = await sandbox.post(
        f"/sandbox/v1/checkouts/nowpayments/{invoice_id}/pay", json={"outcome": "full"}
    )

    assert response.status_code == 409


async def test_coinbase_full_payment_events_verify(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    charge = await create_charge(sandbox)

    result = await pay(sandbox, "coinbase", charge["code"], outcome="full")
    received = await receiver.wait_for(3, "/coinbase")

    events = []
    for webhook in received:
        signature = webhook.headers["x-cc-webhook-signature"]
        events.append(verify_webhook(webhook.body, signature, [COINBASE_SECRET]).payload)
    assert result["status"] == "COMPLETED"
    assert [e["event"]["type"] for e in events] == [
        "charge:created",
        "charge:pending",
        "charge:confirmed",
    ]
    confirmed = events[-1]["event"]["data"]
    assert [t["status"] for t in confirmed["timeline"]] == ["NEW", "PENDING", "COMPLETED"]
    assert confirmed["metadata"] == {"order_id": "ORD-2"}
    assert confirmed["payments"][0]["value"]["crypto"] == {
        "amount": "0.00153846",
        "currency": "BTC",
    }
    assert events[-1]["attempt_number"] == 1


async def test_coinbase_overpayment_fails_with_overpaid_context(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    charge = await create_charge(sandbox)

    await pay(sandbox, "coinbase", charge["code"], outcome="over", pay_currency="usdc")
    received = await receiver.wait_for(3, "/coinbase")

    last = json.loads(received[-1].body)["event"]
    assert last["type"] == "charge:failed"
    assert last["data"]["timeline"][-1]["status"] == "UNRESOLVED"
    assert last["data"]["timeline"][-1]["context"] == "OVERPAID"
    assert last["data"]["timeline"][-1]["payment"]["value"] == {
        "amount": "110.000000",
        "currency": "USDC",
    }


async def test_coinbase_underpayment_fails_with_underpaid_context(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    charge = await create_charge(sandbox)

    await pay(sandbox, "coinbase", charge["code"], outcome="partial", amount="0.001")
    received = await receiver.wait_for(2, "/coinbase")

    last = json.loads(received[-1].body)["event"]
    assert last["type"] == "charge:failed"
    assert last["data"]["timeline"][-1]["context"] == "UNDERPAID"
    assert last["data"]["payments"][0]["value"]["crypto"]["amount"] == "0.00100000"


async def test_coinbase_late_payment_sends_delayed(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    charge = await create_charge(sandbox)

    await pay(sandbox, "coinbase", charge["code"], outcome="late")
    received = await receiver.wait_for(3, "/coinbase")

    events = [json.loads(r.body)["event"] for r in received[1:]]
    assert [e["type"] for e in events] == ["charge:failed", "charge:delayed"]
    timeline = events[-1]["data"]["timeline"]
    assert [t["status"] for t in timeline] == ["NEW", "EXPIRED", "UNRESOLVED"]
    assert timeline[-1]["context"] == "DELAYED"


async def test_failed_delivery_retried_until_accepted(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)
    receiver.statuses = [500]

    result = await pay(sandbox, "nowpayments", invoice_id, outcome="expire")
    received = await receiver.wait_for(3, "/nowpayments")

    first_id = result["deliveries"][0]["id"]
    delivery = (await sandbox.get(f"/sandbox/v1/deliveries/{first_id}")).json()
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    assert delivery["state"] == "delivered"
    assert received[0].body == received[2].body


async def test_resend_delivers_same_body_again(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    invoice_id = await create_invoice(sandbox, receiver)
    result = await pay(sandbox, "nowpayments", invoice_id, outcome="expire")
    await receiver.wait_for(2, "/nowpayments")

    delivery_id = result["deliveries"][1]["id"]
    response = await sandbox.post(f"/sandbox/v1/deliveries/{delivery_id}/resend")
    received = await receiver.wait_for(3, "/nowpayments")

    assert response.status_code == 202
    assert received[2].body == received[1].body
    listing = await sandbox.get("/sandbox/v1/deliveries", params={"checkout_id": invoice_id})
    resent = next(d for d in listing.json()["data"] if d["id"] == delivery_id)
    assert len(resent["attempts"]) == 2
