"""The `make dev` path: the platform on its embedded PostgreSQL, data kept across restarts."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.conftest import new_client, start_platform
from tests.e2e.flow import create_order, token_for

# The `make dev` databases: the bundled server under data_dir and the default names, because
# start_platform otherwise picks a new name prefix per start, which would hide the old data.
EMBEDDED_PREFIX = "bwai_"


async def test_embedded_postgres_keeps_orders(tmp_path: Path, http: httpx.AsyncClient) -> None:
    """An order created before a restart on the same data folder reads back after it."""
    first = await start_platform(
        tmp_path, "", database_admin_url=None, database_prefix=EMBEDDED_PREFIX
    )
    try:
        ready = await http.get(f"{first.api_url}/readyz")
        client = await new_client(first, "embedded-shop", "tenant")
        auth = await token_for(http, first.api_url, *client)
        order = await create_order(http, first.api_url, auth)
    finally:
        await first.stop()

    second = await start_platform(
        tmp_path, "", database_admin_url=None, database_prefix=EMBEDDED_PREFIX
    )
    try:
        # The client created before the restart still authenticates: identity's data persisted.
        auth = await token_for(http, second.api_url, *client)
        response = await http.get(f"{second.api_url}/v1/orders/{order['id']}", headers=auth)
    finally:
        await second.stop()

    assert ready.status_code == 200
    assert (tmp_path / "pg").is_dir()
    assert response.status_code == 200
    assert response.json()["id"] == order["id"]
    assert response.json()["amount"] == order["amount"]
