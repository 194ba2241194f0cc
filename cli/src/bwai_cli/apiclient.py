"""A small client of the platform API for the command line: tokens and problem messages."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """A request to the platform failed; the message is ready to print."""


async def fetch_token(http: httpx.AsyncClient, api_url: str, client_id: str, secret: str) -> str:
    response = await http.post(
        f"{api_url}/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    if response.status_code != 200:
        raise ApiError(f"token request failed ({response.status_code}): {response.text}")
    token: str = response.json()["access_token"]
    return token


def check(response: httpx.Response) -> Any:
    """Return the JSON body of a 2xx response, or raise ApiError with the problem's detail."""
    if response.is_success:
        return response.json()
    try:
        problem = response.json()
        detail = problem.get("detail") or problem.get("title") or response.text
    except ValueError:
        detail = response.text
    request = response.request
    raise ApiError(f"{request.method} {request.url.path} failed ({response.status_code}): {detail}")


def require_credentials(client_id: str | None, secret: str | None) -> tuple[str, str]:
    if not client_id or not secret:
        raise SystemExit(
            "missing API credentials: set BWAI_CLIENT_ID and BWAI_CLIENT_SECRET (or pass "
            "--client-id/--client-secret); "
            "`bwai clients create --tenant platform --role operator` makes them"
        )
    return client_id, secret
