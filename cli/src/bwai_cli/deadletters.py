"""`bwai dlq`: dead letters of a running service, through its operator API."""

from __future__ import annotations

import json

import httpx
import typer

from bwai_cli.apiclient import ApiError, check, fetch_token, require_credentials


async def _get_headers(
    http: httpx.AsyncClient, api_url: str, cid: str | None, secret: str | None
) -> dict[str, str]:
    client_id, client_secret = require_credentials(cid, secret)
    token = await fetch_token(http, api_url, client_id, client_secret)
    return {"Authorization": f"Bearer {token}"}


async def list_letters(api_url: str, service: str, cid: str | None, secret: str | None) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            headers = await _get_headers(http, api_url, cid, secret)
            body = check(
                await http.get(f"{api_url}/v1/admin/{service}/dead-letters", headers=headers)
            )
        except ApiError as error:
            raise SystemExit(str(error)) from None
    items = body["items"]
    if not items:
        typer.echo(f"No dead letters in {service}.")
        return
    for item in items:
        typer.echo(
            f"{item['message_id']}  queue={item['queue']}  attempts={item['attempts']}  "
            f"at={item['dead_lettered_at']}  reason={item['reason']}"
        )


async def show_letter(
    api_url: str, service: str, message_id: str, cid: str | None, secret: str | None
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            headers = await _get_headers(http, api_url, cid, secret)
            url = f"{api_url}/v1/admin/{service}/dead-letters/{message_id}"
            body = check(await http.get(url, headers=headers))
        except ApiError as error:
            raise SystemExit(str(error)) from None
    typer.echo(json.dumps(body, indent=2))


async def replay_letter(
    api_url: str, service: str, message_id: str, cid: str | None, secret: str | None
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            headers = await _get_headers(http, api_url, cid, secret)
            url = f"{api_url}/v1/admin/{service}/dead-letters/{message_id}/replay"
            check(await http.post(url, headers=headers))
        except ApiError as error:
            raise SystemExit(str(error)) from None
    typer.echo(f"Replayed {message_id} into {service}.")
