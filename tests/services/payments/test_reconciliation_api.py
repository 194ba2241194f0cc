"""Reconciliation over HTTP: CSV imports, the three report formats, resolutions, roles."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import httpx
from bwai_web.service import ServiceContext
from reconciliation_seed import Side, seed_internal

TokenFactory = Callable[..., str]

HEADER = (
    "provider,provider_payment_id,status,pay_currency,actually_paid,outcome_amount,"
    "outcome_currency,updated_at\n"
)
GOOD = HEADER + (
    "nowpayments,7001,finished,btc,0.001,0.00098,btc,2026-01-14T10:00:00Z\n"
    "nowpayments,7002,finished,btc,0.005,0.0049,btc,2026-01-14T11:00:00Z\n"
)


def _operator(make_token: TokenFactory) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(role='operator')}"}


async def _import(api: httpx.AsyncClient, headers: dict[str, str], body: str) -> httpx.Response:
    return await api.post(
        "/v1/reconciliation/imports",
        content=body.encode(),
        headers={**headers, "Content-Type": "text/csv"},
    )


async def test_csv_import_reconciles_day(
    api: httpx.AsyncClient, ctx: ServiceContext, make_token: TokenFactory
) -> None:
    await seed_internal(ctx.pool, Side("7001"))

    response = await _import(api, _operator(make_token), GOOD)

    assert response.status_code == 201
    run = response.json()["runs"][0]
    assert run["source"] == "csv"
    assert run["day"] == "2026-01-14"
    assert run["counts"]["matched"] == 1
    assert run["counts"]["missing_internally"] == 1
    assert run["mismatch_rate"] == "0.5"


async def test_csv_import_names_malformed_line(
    api: httpx.AsyncClient, ctx: ServiceContext, make_token: TokenFactory
) -> None:
    body = GOOD + "nowpayments,7003,finished,btc,1e-3,,,2026-01-14T12:00:00Z\n"

    response = await _import(api, _operator(make_token), body)

    assert response.status_code == 422
    problem = response.json()
    assert problem["line"] == 4
    assert problem["column"] == "actually_paid"
    assert "line 4" in problem["detail"]
    assert await ctx.pool.fetchval("SELECT count(*) FROM reconciliation_runs") == 0


async def test_csv_import_rejects_bad_header(
    api: httpx.AsyncClient, make_token: TokenFactory
) -> None:
    response = await _import(api, _operator(make_token), "provider,amount\nnowpayments,1\n")

    assert response.status_code == 422
    assert response.json()["line"] == 1


async def test_reports_in_three_formats(
    api: httpx.AsyncClient, ctx: ServiceContext, make_token: TokenFactory
) -> None:
    headers = _operator(make_token)
    await seed_internal(ctx.pool, Side("7001"))
    run_id = (await _import(api, headers, GOOD)).json()["runs"][0]["id"]

    report = await api.get(f"/v1/reconciliation/runs/{run_id}", headers=headers)
    as_csv = await api.get(f"/v1/reconciliation/runs/{run_id}/report.csv", headers=headers)
    as_html = await api.get(f"/v1/reconciliation/runs/{run_id}/report.html", headers=headers)

    assert report.status_code == 200
    outcomes = {r["provider_payment_id"]: r["outcome"] for r in report.json()["records"]}
    assert outcomes == {"7001": "matched", "7002": "missing_internally"}
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert [(r["provider_payment_id"], r["outcome"]) for r in rows] == [
        ("7001", "matched"),
        ("7002", "missing_internally"),
    ]
    assert rows[1]["provider_actually_paid"] == "0.005"
    assert as_html.headers["content-type"].startswith("text/html")
    assert "missing_internally" in as_html.text
    assert "7002" in as_html.text


async def test_resolve_mismatch_once(
    api: httpx.AsyncClient, ctx: ServiceContext, make_token: TokenFactory
) -> None:
    headers = _operator(make_token)
    await seed_internal(ctx.pool, Side("7001"))
    run_id = (await _import(api, headers, GOOD)).json()["runs"][0]["id"]
    records = (await api.get(f"/v1/reconciliation/runs/{run_id}", headers=headers)).json()
    ids = {r["provider_payment_id"]: r["id"] for r in records["records"]}

    resolved = await api.post(
        f"/v1/reconciliation/records/{ids['7002']}/resolve",
        json={"note": "test deposit by finance"},
        headers=headers,
    )
    again = await api.post(
        f"/v1/reconciliation/records/{ids['7002']}/resolve", json={"note": "x"}, headers=headers
    )
    matched = await api.post(
        f"/v1/reconciliation/records/{ids['7001']}/resolve", json={"note": "x"}, headers=headers
    )

    assert resolved.status_code == 200
    assert resolved.json()["resolution_note"] == "test deposit by finance"
    assert resolved.json()["resolved_by"] == "client-ops"
    assert again.status_code == 409
    assert matched.status_code == 409


async def test_tenant_cannot_read_runs(api: httpx.AsyncClient, make_token: TokenFactory) -> None:
    headers = {"Authorization": f"Bearer {make_token(tenant='acme')}"}

    response = await api.get("/v1/reconciliation/runs", headers=headers)

    assert response.status_code == 403


async def test_run_list_shows_runs(api: httpx.AsyncClient, make_token: TokenFactory) -> None:
    headers = _operator(make_token)
    await _import(api, headers, GOOD)

    response = await api.get("/v1/reconciliation/runs", headers=headers)

    assert [run["version"] for run in response.json()["items"]] == [1]
