"""Reconciliation runs: read a provider's records of one UTC day, compare, store, report.

A run is one (provider, UTC day) version. A rerun adds the next version and keeps the earlier
ones; the latest completed version is the day's current result, and resolutions of unchanged
mismatches carry over to it. Runs of the same day are serialised by an advisory lock.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import structlog
from bwai_core.clock import Clock, SystemClock
from bwai_core.db import transaction
from bwai_messaging.outbox import enqueue
from bwai_messaging.schemas import SchemaRegistry
from bwai_telemetry.metrics import record_reconciliation_run
from bwai_web.service import ServiceContext

from bwai_payments.reconciliation import events, fetch, matching, repository
from bwai_payments.reconciliation.audit import AUDIT_HOOK_KEY, AuditHook, OperatorAction
from bwai_payments.reconciliation.errors import (
    DayNotReconcilable,
    RecordNotFound,
    RecordNotResolvable,
)
from bwai_payments.reconciliation.models import DayWindow, ProviderRecord
from bwai_payments.reconciliation.settings import ReconciliationSettings
from bwai_payments.settings import PaymentsSettings

log = structlog.get_logger()

# Records copied per COPY batch; the run's progress is stored after each batch.
COPY_BATCH = 100_000


@dataclass
class ReconciliationDeps:
    pool: asyncpg.Pool
    clock: Clock
    schemas: SchemaRegistry
    payments_settings: PaymentsSettings
    settings: ReconciliationSettings
    http: httpx.AsyncClient | None = None
    audit: AuditHook | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def deps_from_context(ctx: ServiceContext) -> ReconciliationDeps:
    settings = ctx.settings
    assert isinstance(settings, PaymentsSettings)
    return ReconciliationDeps(
        pool=ctx.pool,
        clock=ctx.clock,
        schemas=ctx.schemas,
        payments_settings=settings,
        settings=ctx.extras.get(SETTINGS_KEY) or settings,
        http=ctx.http,
        audit=ctx.extras.get(AUDIT_HOOK_KEY),
    )


SETTINGS_KEY = "payments.reconciliation_settings"


async def run_reconciliation(
    ctx_or_pool: ServiceContext | asyncpg.Pool,
    provider: str,
    day: date,
    *,
    records: Sequence[ProviderRecord] | None = None,
    trigger: str = "cli",
    requested_by: str | None = None,
    clock: Clock | None = None,
    schemas: SchemaRegistry | None = None,
    http: httpx.AsyncClient | None = None,
    settings: ReconciliationSettings | None = None,
) -> asyncpg.Record:
    """Reconcile one provider's UTC day and return the completed run row.

    Without `records` the provider's list API is read (through `http`, or a client opened for
    the call); with them (a CSV import, a benchmark) they are compared as given. Publishes
    payments.reconciliation.completed, and payments.reconciliation.alert_raised on a new
    breach, in the transaction that stores the result. On failure the run is stored as failed
    and the error is raised again.
    """
    deps = _deps(ctx_or_pool, clock, schemas, http, settings)
    run = await start_run(
        deps,
        provider,
        day,
        source="api" if records is None else "csv",
        trigger=trigger,
        requested_by=requested_by,
    )
    return await finish_run(deps, run, records)


async def start_run(
    deps: ReconciliationDeps,
    provider: str,
    day: date,
    *,
    source: str,
    trigger: str,
    requested_by: str | None,
    action: OperatorAction | None = None,
) -> asyncpg.Record:
    """Store a new running version of the day's run and return it."""
    if DayWindow(day).start >= deps.clock.now():
        raise DayNotReconcilable(f"{day} has not started yet in UTC; pick a past or current day")
    async with transaction(deps.pool) as conn:
        await repository.lock_day(conn, provider, day)
        run = await repository.insert_run(
            conn,
            provider=provider,
            day=day,
            source=source,
            trigger=trigger,
            requested_by=requested_by,
            now=deps.clock.now(),
        )
        if action is not None:
            await _audit(deps, conn, action, target_id=str(run["id"]))
    log.info(
        "reconciliation.run.started",
        run_id=str(run["id"]),
        provider=provider,
        day=day.isoformat(),
        version=run["version"],
        trigger=trigger,
    )
    return run


async def finish_run(
    deps: ReconciliationDeps, run: asyncpg.Record, records: Sequence[ProviderRecord] | None
) -> asyncpg.Record:
    """Fetch (unless given), compare and complete a started run; mark it failed on error."""
    try:
        foreign = 0
        if records is None:
            fetched = await _fetch(deps, run)
            records, foreign = fetched.records, fetched.foreign
        return await _compare(deps, run, records, foreign)
    except BaseException as exc:
        await repository.fail_run(deps.pool, run["id"], _describe(exc), deps.clock.now())
        log.error("reconciliation.run.failed", run_id=str(run["id"]), exc_info=exc)
        raise


async def _fetch(deps: ReconciliationDeps, run: asyncpg.Record) -> fetch.Fetched:
    window = DayWindow(run["day"])

    async def progress(count: int) -> None:
        await _progress(deps, run["id"], count)

    client = deps.http
    owned = client is None
    if client is None:
        client = httpx.AsyncClient()
    try:
        if run["provider"] == "nowpayments":
            return await fetch.fetch_nowpayments(
                client,
                _nowpayments_access(deps),
                window,
                lookback_days=deps.settings.reconciliation_lookback_days,
                progress=progress,
            )
        return await fetch.fetch_coinbase(
            client,
            _coinbase_access(deps),
            window,
            lookback_days=deps.settings.reconciliation_lookback_days,
            progress=progress,
        )
    finally:
        if owned:
            await client.aclose()


async def _compare(
    deps: ReconciliationDeps,
    run: asyncpg.Record,
    records: Sequence[ProviderRecord],
    foreign: int,
) -> asyncpg.Record:
    provider, day = run["provider"], run["day"]
    _check_records(records, provider, DayWindow(day))
    async with transaction(deps.pool) as conn:
        await repository.lock_day(conn, provider, day)
        previous = await repository.previous_completed_run(conn, provider, day, run["version"])
        await matching.create_staging(conn)
        await _copy(deps, conn, run["id"], records)
        counts = await matching.match(conn, run["id"], provider, DayWindow(day), previous)
        completed = await repository.complete_run(
            conn,
            run["id"],
            counts=counts,
            provider_records=len(records),
            foreign_records=foreign,
            now=deps.clock.now(),
        )
        await enqueue(
            conn, events.reconciliation_completed(completed, deps.clock), schemas=deps.schemas
        )
        await evaluate_alert(conn, deps)
    record_reconciliation_run(provider, completed["mismatch_rate"], deps.clock.now().timestamp())
    log.info(
        "reconciliation.run.completed",
        run_id=str(run["id"]),
        provider=provider,
        day=day.isoformat(),
        version=run["version"],
        total=completed["total"],
        matched=completed["matched"],
        mismatch_rate=str(completed["mismatch_rate"]),
    )
    return completed


async def _copy(
    deps: ReconciliationDeps,
    conn: asyncpg.Connection,
    run_id: UUID,
    records: Sequence[ProviderRecord],
) -> None:
    copied = 0
    rows = (record.as_copy_row() for record in records)
    while batch := list(itertools.islice(rows, COPY_BATCH)):
        await matching.copy_rows(conn, batch)
        copied += len(batch)
        if len(records) > COPY_BATCH:
            await _progress(deps, run_id, copied)


async def _progress(deps: ReconciliationDeps, run_id: UUID, count: int) -> None:
    # Through the pool, so the progress is visible while the run's transaction is open.
    await repository.set_progress(deps.pool, run_id, count)
    log.info("reconciliation.run.progress", run_id=str(run_id), records=count)


def _check_records(records: Sequence[ProviderRecord], provider: str, window: DayWindow) -> None:
    # The matching query relies on one staged record per provider payment.
    seen: set[str] = set()
    for record in records:
        if record.provider != provider or not window.contains(record.updated_at):
            raise DayNotReconcilable(
                f"record {record.provider}:{record.provider_payment_id} does not belong to "
                f"{provider} on {window.day}"
            )
        if record.provider_payment_id in seen:
            raise DayNotReconcilable(
                f"record {provider}:{record.provider_payment_id} is listed twice. "
                "Pass one record per provider payment."
            )
        seen.add(record.provider_payment_id)


async def evaluate_alert(conn: asyncpg.Connection, deps: ReconciliationDeps) -> None:
    """Raise one alert when the last 24 hours' mismatch rate first exceeds the threshold.

    The rate covers the current run of each (provider, day) whose day overlaps the 24 hours
    before now. An open alert is cleared once the rate is back at or under the threshold, so
    the next breach raises a new one.
    """
    end = deps.clock.now()
    start = end - timedelta(hours=24)
    total, mismatched, run_ids = await repository.window_totals(conn, start, end)
    threshold = deps.settings.reconciliation_alert_threshold
    rate = _rate(mismatched, total)
    current = await repository.open_alert(conn)
    if rate <= threshold:
        if current is not None:
            await repository.clear_alert(conn, current["id"], end)
            log.info("reconciliation.alert.cleared", alert_id=str(current["id"]), rate=str(rate))
        return
    if current is not None:
        return
    alert_id = await repository.insert_alert(
        conn, rate=rate, threshold=threshold, start=start, end=end, now=end
    )
    if alert_id is None:
        return
    event = events.alert_raised(
        alert_id,
        rate=rate,
        threshold=threshold,
        window=(start, end),
        totals=(total, mismatched),
        run_ids=run_ids,
        clock=deps.clock,
    )
    await enqueue(conn, event, schemas=deps.schemas)
    log.warning("reconciliation.alert.raised", alert_id=str(alert_id), rate=str(rate), total=total)


def _rate(mismatched: int, total: int) -> Decimal:
    if total == 0:
        return Decimal(0)
    with localcontext() as context:
        context.prec = 18
        return Decimal(mismatched) / Decimal(total)


async def resolve_record(
    deps: ReconciliationDeps, record_id: int, *, note: str, action: OperatorAction
) -> asyncpg.Record:
    """Mark a mismatch resolved with the operator's note, audited in the same transaction."""
    async with transaction(deps.pool) as conn:
        record = await repository.lock_record(conn, record_id)
        if record is None:
            raise RecordNotFound(f"reconciliation record {record_id} not found")
        if record["outcome"] == "matched":
            raise RecordNotResolvable(f"record {record_id} matched; only mismatches are resolved")
        if record["resolved_at"] is not None:
            raise RecordNotResolvable(f"record {record_id} is already resolved")
        resolved = await repository.resolve_record(
            conn, record_id, note=note, actor=action.actor, now=deps.clock.now()
        )
        before = {"resolved_at": None}
        after = {"resolved_at": resolved["resolved_at"].isoformat(), "note": note}
        await _audit(deps, conn, _with(action, before, after), target_id=str(record_id))
    log.info("reconciliation.record.resolved", record_id=record_id, actor=action.actor)
    return resolved


async def _audit(
    deps: ReconciliationDeps, conn: asyncpg.Connection, action: OperatorAction, target_id: str
) -> None:
    action = OperatorAction(
        actor=action.actor,
        action=action.action,
        target_type=action.target_type,
        target_id=target_id,
        before=action.before,
        after=action.after,
        request=action.request,
    )
    if deps.audit is not None:
        await deps.audit(conn, action)
    log.info("operator.action", action=action.action, actor=action.actor, target=target_id)


def _with(action: OperatorAction, before: dict[str, Any], after: dict[str, Any]) -> OperatorAction:
    return OperatorAction(
        action.actor,
        action.action,
        action.target_type,
        action.target_id,
        before,
        after,
        action.request,
    )


def _deps(
    ctx_or_pool: ServiceContext | asyncpg.Pool,
    clock: Clock | None,
    schemas: SchemaRegistry | None,
    http: httpx.AsyncClient | None,
    settings: ReconciliationSettings | None,
) -> ReconciliationDeps:
    if isinstance(ctx_or_pool, ServiceContext):
        deps = deps_from_context(ctx_or_pool)
    else:
        payments_settings = PaymentsSettings()
        deps = ReconciliationDeps(
            pool=ctx_or_pool,
            clock=SystemClock(),
            schemas=SchemaRegistry.default(),
            payments_settings=payments_settings,
            settings=payments_settings,
        )
    deps.clock = clock or deps.clock
    deps.schemas = schemas or deps.schemas
    deps.http = http or deps.http
    deps.settings = settings or deps.settings
    return deps


def _nowpayments_access(deps: ReconciliationDeps) -> fetch.ProviderAccess:
    payments = deps.payments_settings
    return fetch.ProviderAccess(
        base_url=payments.nowpayments_api_url,
        api_key=payments.nowpayments_api_key,
        timeout_s=payments.provider_timeout_s,
        email=deps.settings.nowpayments_email,
        password=deps.settings.nowpayments_password,
    )


def _coinbase_access(deps: ReconciliationDeps) -> fetch.ProviderAccess:
    payments = deps.payments_settings
    return fetch.ProviderAccess(
        base_url=payments.coinbase_commerce_api_url,
        api_key=payments.coinbase_commerce_api_key,
        timeout_s=payments.provider_timeout_s,
    )


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
