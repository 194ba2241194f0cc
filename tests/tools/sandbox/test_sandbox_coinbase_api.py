"""The Coinbase Commerce API subset: charges created, read back and listed."""

from __future__ import annotations

import httpx
from sandbox_helpers import CB_HEADERS, create_charge


async def test_charge_create_returns_hosted_url_and_metadata(sandbox: httpx.AsyncClient) -> None:
    charge = await create_charge(sandbox, metadata={"order_id": "ORD-2", "tenant": "t1"})

    assert charge["resource"] == "charge"
    assert len(charge["code"]) == 8
    assert charge["hosted_url"] == f"http://127.0.0.1:8090/checkout/coinbase/{charge['code']}"
    assert charge["metadata"] == {"order_id": "ORD-2", "tenant": "t1"}
    assert charge["pricing"]["local"] == {"amount": "100.00", "currency": "USD"}
    assert charge["timeline"][0]["status"] == "NEW"
    assert charge["payments"] == []


async def test_charge_create_without_api_key_rejected(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.post("/coinbase/charges", json={"name": "x"})

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    listing = await sandbox.get("/coinbase/charges", headers=CB_HEADERS)
    assert listing.json()["data"] == []


async def test_charge_create_missing_local_price_rejected(sandbox: httpx.AsyncClient) -> None:
    body = {"name": "x", "pricing_type": "fixed_price"}

    response = await sandbox.post("/coinbase/charges", json=body, headers=CB_HEADERS)

    assert response.status_code == 400
    assert response.json() == {
        "error": {"type": "param_required", "message": "local_price is required"}
    }


async def test_charge_read_by_code_and_id(sandbox: httpx.AsyncClient) -> None:
    charge = await create_charge(sandbox)

    by_code = await sandbox.get(f"/coinbase/charges/{charge['code']}", headers=CB_HEADERS)
    by_id = await sandbox.get(f"/coinbase/charges/{charge['id']}", headers=CB_HEADERS)

    assert by_code.json()["data"]["id"] == charge["id"]
    assert by_id.json()["data"]["code"] == charge["code"]


async def test_charge_unknown_code_not_found(sandbox: httpx.AsyncClient) -> None:
    response = await sandbox.get("/coinbase/charges/NOPE1234", headers=CB_HEADERS)

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"


async def test_charge_list_newest_first_with_pagination(sandbox: httpx.AsyncClient) -> None:
    created = [await create_charge(sandbox, name=f"Order {n}") for n in range(3)]

    first = await sandbox.get("/coinbase/charges", params={"limit": 2}, headers=CB_HEADERS)
    next_uri = first.json()["pagination"]["next_uri"]
    second = await sandbox.get(next_uri.replace("http://127.0.0.1:8090", ""), headers=CB_HEADERS)

    newest_first = [c["id"] for c in reversed(created)]
    assert [c["id"] for c in first.json()["data"]] == newest_first[:2]
    assert first.json()["pagination"]["total"] == 3
    assert first.json()["pagination"]["yielded"] == 2
    assert [c["id"] for c in second.json()["data"]] == newest_first[2:]
    assert second.json()["pagination"]["next_uri"] is None
    assert second.json()["pagination"]["previous_uri"] is not None


async def test_charge_without_version_header_warns(sandbox: httpx.AsyncClient) -> None:
    charge = await create_charge(sandbox)

    response = await sandbox.get(
        f"/coinbase/charges/{charge['code']}", headers={"X-CC-Api-Key": CB_HEADERS["X-CC-Api-Key"]}
    )

    assert response.json()["warnings"] == [
        "Missing X-CC-Version header; serving latest API version (2018-03-22)"
    ]
