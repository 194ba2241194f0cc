"""The Coinbase Commerce API subset, mounted at `/coinbase` to match
`https://api.commerce.coinbase.com`: `POST /charges`, `GET /charges/{code_or_id}`,
`GET /charges`.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request

from bwai_sandbox.coinbase import errors
from bwai_sandbox.coinbase import service as coinbase_service
from bwai_sandbox.coinbase.models import API_VERSION, Charge
from bwai_sandbox.coinbase.payloads import charge_data
from bwai_sandbox.dependencies import SandboxDep, read_json
from bwai_sandbox.models import Provider
from bwai_sandbox.responses import DecimalStringResponse

router = APIRouter(prefix="/coinbase", default_response_class=DecimalStringResponse)

_MISSING_VERSION_WARNING = (
    f"Missing X-CC-Version header; serving latest API version ({API_VERSION})"
)


async def require_api_key(request: Request, sandbox: SandboxDep) -> None:
    supplied = request.headers.get("x-cc-api-key")
    if not supplied:
        raise errors.authentication_error("X-CC-Api-Key header is missing")
    if not hmac.compare_digest(supplied.encode(), sandbox.settings.coinbase_api_key.encode()):
        raise errors.authentication_error("X-CC-Api-Key is not a valid API key")


ApiKey = Depends(require_api_key)


@router.post("/charges", status_code=201, dependencies=[ApiKey])
async def create_charge(request: Request, sandbox: SandboxDep) -> dict[str, Any]:
    """Create a charge whose `hosted_url` is the sandbox checkout page.

    Sends charge:created to the account's webhook URL, as Coinbase does.
    """
    fault = sandbox.take_create_fault(Provider.COINBASE)
    body = await _json_object(request)
    async with sandbox.state.lock:
        charge = coinbase_service.create_charge(sandbox.state.coinbase, body, sandbox.clock)
        sandbox.announce_charge(charge)
    await sandbox.finish_create(Provider.COINBASE, fault)
    return _with_warnings(request, {"data": charge_data(charge, sandbox.settings.base_url)})


@router.get("/charges/{code_or_id}", dependencies=[ApiKey])
async def get_charge(request: Request, sandbox: SandboxDep, code_or_id: str) -> dict[str, Any]:
    charge = sandbox.state.coinbase.find(code_or_id)
    if charge is None:
        raise errors.not_found(f"charge {code_or_id} not found")
    return _with_warnings(request, {"data": charge_data(charge, sandbox.settings.base_url)})


@router.get("/charges", dependencies=[ApiKey])
async def list_charges(
    request: Request,
    sandbox: SandboxDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    order: Literal["asc", "desc"] = "desc",
    starting_after: str | None = None,
    ending_before: str | None = None,
) -> dict[str, Any]:
    """List charges a page at a time, newest first unless `order=asc`.

    `starting_after` and `ending_before` take a charge id from the previous page, as in
    Coinbase's cursor pagination; `next_uri` and `previous_uri` carry them ready to use.
    """
    charges = list(sandbox.state.coinbase.charges.values())
    if order == "desc":
        charges.reverse()
    page, has_before, has_after = _page(charges, limit, starting_after, ending_before)

    base_url = sandbox.settings.base_url
    pagination = {
        "order": order,
        "starting_after": starting_after,
        "ending_before": ending_before,
        "total": len(charges),
        "yielded": len(page),
        "limit": limit,
        "previous_uri": _page_uri(base_url, limit, order, "ending_before", page, has_before),
        "next_uri": _page_uri(base_url, limit, order, "starting_after", page, has_after),
    }
    data = [charge_data(c, base_url) for c in page]
    return _with_warnings(request, {"pagination": pagination, "data": data})


def _page(
    charges: list[Charge], limit: int, starting_after: str | None, ending_before: str | None
) -> tuple[list[Charge], bool, bool]:
    """Return the page and whether charges exist before and after it."""
    ids = [c.id for c in charges]
    start, end = 0, len(charges)
    if starting_after is not None:
        start = _cursor_index(ids, starting_after, "starting_after") + 1
    if ending_before is not None:
        end = _cursor_index(ids, ending_before, "ending_before")
    if ending_before is not None and starting_after is None:
        # Walking backwards: the page is the `limit` charges right before the cursor.
        start = max(start, end - limit)
    end = min(end, start + limit)
    return charges[start:end], start > 0, end < len(charges)


def _cursor_index(ids: list[str], cursor: str, name: str) -> int:
    if cursor not in ids:
        raise errors.invalid_request(f"{name} {cursor!r} is not the id of a listed charge")
    return ids.index(cursor)


def _page_uri(
    base_url: str, limit: int, order: str, cursor: str, page: list[Charge], more: bool
) -> str | None:
    if not more or not page:
        return None
    anchor = page[0].id if cursor == "ending_before" else page[-1].id
    query = urlencode({"limit": limit, "order": order, cursor: anchor})
    return f"{base_url}/coinbase/charges?{query}"


def _with_warnings(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    if "x-cc-version" not in request.headers:
        body["warnings"] = [_MISSING_VERSION_WARNING]
    return body


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await read_json(request)
    except ValueError:
        raise errors.invalid_request("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.invalid_request("request body must be a JSON object")
    return body
