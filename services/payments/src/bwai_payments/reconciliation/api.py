"""Operator endpoints for reconciliation runs, reports, CSV imports and resolutions."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date
from typing import Annotated, Any
from uuid import UUID

import structlog
from bwai_web.auth import Principal, require_roles
from bwai_web.service import ServiceContext
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from bwai_payments.reconciliation import report, repository, service
from bwai_payments.reconciliation.audit import OperatorAction
from bwai_payments.reconciliation.csv_import import parse_csv
from bwai_payments.reconciliation.errors import ImportInvalid, RunNotFound
from bwai_payments.reconciliation.models import (
    OUTCOMES,
    ImportResult,
    Provider,
    ProviderRecord,
    RecordOut,
    ResolveRequest,
    RunList,
    RunOut,
    RunReport,
    RunRequest,
)

log = structlog.get_logger()

router = APIRouter(prefix="/v1/reconciliation", tags=["reconciliation"])
Operator = Annotated[Principal, Depends(require_roles("operator"))]

IMPORTS_PATH = "/v1/reconciliation/imports"
# Route body limits for create_service_app: a day's CSV export is far above the default limit.
BODY_LIMITS = {IMPORTS_PATH: 256 * 1024 * 1024}
# Mismatches listed on the HTML page; the CSV report has every record.
HTML_MISMATCH_LIMIT = 1000
# Background runs started over the API, kept so they are not garbage-collected mid-run.
TASKS_KEY = "payments.reconciliation_tasks"


@router.post("/runs", response_model=RunOut, status_code=202)
async def request_run(
    request: Request,
    body: RunRequest,
    operator: Operator,
    wait: Annotated[bool, Query(description="answer when the run has finished")] = False,
) -> Any:
    """Start a run of the provider's day (the next version when the day was run before).

    Answers 202 with the running run, whose `progress` grows while it fetches and compares;
    with `wait=true` answers 201 with the completed run.
    """
    ctx = _ctx(request)
    deps = service.deps_from_context(ctx)
    action = _action(request, operator, "reconciliation.run.requested", "reconciliation_run")
    run = await service.start_run(
        deps,
        body.provider,
        body.day,
        source="api",
        trigger="operator",
        requested_by=operator.subject,
        action=action,
    )
    if wait:
        completed = await service.finish_run(deps, run, None)
        return _json(RunOut.from_row(completed), 201)
    task = asyncio.create_task(_finish_in_background(deps, run))
    tasks: set[asyncio.Task[None]] = ctx.extras.setdefault(TASKS_KEY, set())
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return _json(RunOut.from_row(run), 202, location=f"/v1/reconciliation/runs/{run['id']}")


@router.get("/runs", response_model=RunList)
async def list_runs(
    request: Request,
    _: Operator,
    provider: Provider | None = None,
    day_from: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RunList:
    rows = await repository.list_runs(
        _ctx(request).pool, provider=provider, day_from=day_from, limit=limit
    )
    return RunList(items=[RunOut.from_row(row) for row in rows])


@router.get("/runs/{run_id}", response_model=RunReport)
async def get_run(
    request: Request,
    run_id: UUID,
    _: Operator,
    outcome: Annotated[str | None, Query(pattern="^(" + "|".join(OUTCOMES) + ")$")] = None,
    mismatches_only: bool = False,
    after: Annotated[int, Query(ge=0, description="cursor: the last record id seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RunReport:
    """Return the run with one page of its records; `next_cursor` pages on."""
    pool = _ctx(request).pool
    run = await _run(pool, run_id)
    rows = await repository.records_page(
        pool,
        run_id,
        outcome=outcome,
        mismatches_only=mismatches_only,
        after_id=after,
        limit=limit,
    )
    next_cursor = rows[-1]["id"] if len(rows) == limit else None
    records = [RecordOut.from_row(row) for row in rows]
    return RunReport(run=run, records=records, next_cursor=next_cursor)


@router.get("/runs/{run_id}/report.csv")
async def run_report_csv(request: Request, run_id: UUID, _: Operator) -> StreamingResponse:
    pool = _ctx(request).pool
    run = await _run(pool, run_id)

    async def lines() -> AsyncIterator[str]:
        yield report.csv_header()
        async for batch in repository.stream_records(pool, run_id):
            yield report.csv_rows(batch)

    filename = f"reconciliation-{run.provider}-{run.day}-v{run.version}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/runs/{run_id}/report.html", response_class=HTMLResponse)
async def run_report_html(request: Request, run_id: UUID, _: Operator) -> HTMLResponse:
    pool = _ctx(request).pool
    run = await _run(pool, run_id)
    mismatches = await repository.records_page(
        pool,
        run_id,
        outcome=None,
        mismatches_only=True,
        after_id=0,
        limit=HTML_MISMATCH_LIMIT + 1,
    )
    return HTMLResponse(report.html_page(run, mismatches, HTML_MISMATCH_LIMIT))


@router.post(
    "/imports",
    response_model=ImportResult,
    status_code=201,
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_csv(request: Request, operator: Operator) -> ImportResult:
    """Reconcile an uploaded CSV export: one run per (provider, UTC day) found in the file."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "text/csv":
        raise ImportInvalid("send the export with Content-Type: text/csv")
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportInvalid(f"the file is not UTF-8 text (byte {exc.start})") from exc
    groups = _by_provider_and_day(parse_csv(text))
    if not groups:
        raise ImportInvalid("the file has a header but no rows")

    deps = service.deps_from_context(_ctx(request))
    runs = []
    for (provider, day), records in sorted(groups.items()):
        action = _action(request, operator, "reconciliation.import.uploaded", "reconciliation_run")
        run = await service.start_run(
            deps,
            provider,
            day,
            source="csv",
            trigger="import",
            requested_by=operator.subject,
            action=action,
        )
        runs.append(RunOut.from_row(await service.finish_run(deps, run, records)))
    return ImportResult(runs=runs)


@router.post("/records/{record_id}/resolve", response_model=RecordOut)
async def resolve_record(
    request: Request, record_id: int, body: ResolveRequest, operator: Operator
) -> RecordOut:
    """Mark a mismatch resolved with a note; 409 when it matched or is already resolved."""
    deps = service.deps_from_context(_ctx(request))
    action = _action(request, operator, "reconciliation.record.resolved", "reconciliation_record")
    row = await service.resolve_record(deps, record_id, note=body.note, action=action)
    return RecordOut.from_row(row)


async def _finish_in_background(deps: service.ReconciliationDeps, run: Any) -> None:
    try:
        await service.finish_run(deps, run, None)
    except Exception:  # noqa: BLE001 - finish_run stored the failure on the run and logged it
        return


def _by_provider_and_day(
    records: list[ProviderRecord],
) -> dict[tuple[str, date], list[ProviderRecord]]:
    groups: dict[tuple[str, date], list[ProviderRecord]] = defaultdict(list)
    for record in records:
        day = record.updated_at.astimezone(UTC).date()
        groups[(record.provider, day)].append(record)
    return groups


async def _run(pool: Any, run_id: UUID) -> RunOut:
    row = await repository.get_run(pool, run_id)
    if row is None:
        raise RunNotFound(f"reconciliation run {run_id} not found")
    return RunOut.from_row(row)


def _action(request: Request, operator: Principal, action: str, target: str) -> OperatorAction:
    client = request.client
    return OperatorAction(
        actor=operator.subject,
        action=action,
        target_type=target,
        target_id="",
        request={
            "client_address": client.host if client else None,
            "user_agent": request.headers.get("user-agent"),
            "correlation_id": request.headers.get("x-correlation-id"),
            "idempotency_key": request.headers.get("idempotency-key"),
        },
    )


def _json(run: RunOut, status: int, location: str | None = None) -> Response:
    headers = {"Location": location} if location else None
    return JSONResponse(run.model_dump(mode="json"), status_code=status, headers=headers)


def _ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx
