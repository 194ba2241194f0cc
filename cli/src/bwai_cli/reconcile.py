"""`bwai reconcile`: an operator's on-demand reconciliation run, through the payments API."""

from __future__ import annotations

import httpx
import typer

from bwai_cli.apiclient import ApiError, check, fetch_token, require_credentials

# Bounds only how long the command waits: a day of records can take minutes to fetch and
# match, and the run goes on server-side if the command gives up.
RUN_TIMEOUT_S = 600.0


async def run(
    api_url: str, provider: str, day: str, client_id: str | None, secret: str | None
) -> int:
    """Run reconciliation for `provider` on UTC `day`; print its counts; 0 when it completed."""
    cid, csecret = require_credentials(client_id, secret)
    async with httpx.AsyncClient(timeout=RUN_TIMEOUT_S) as http:
        try:
            token = await fetch_token(http, api_url, cid, csecret)
            typer.echo(f"Reconciling {provider} for {day} (UTC) ...")
            result = check(
                await http.post(
                    f"{api_url}/v1/reconciliation/runs",
                    params={"wait": "true"},
                    json={"provider": provider, "day": day},
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
        except ApiError as error:
            raise SystemExit(str(error)) from None
    typer.echo(f"run {result['id']} (version {result['version']}): {result['status']}")
    for outcome, count in result["counts"].items():
        typer.echo(f"  {outcome:<20} {count}")
    typer.echo(f"  mismatch rate        {result['mismatch_rate']}")
    report = f"{api_url}/v1/reconciliation/runs/{result['id']}/report.html"
    typer.echo(f"Report (with an operator's bearer token): {report}")
    return 0 if result["status"] == "completed" else 1
