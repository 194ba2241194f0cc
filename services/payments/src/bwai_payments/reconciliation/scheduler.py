"""The daily scheduler: after the configured UTC time, reconcile the previous UTC day.

Every replica runs the loop. A (provider, day) is run by the replica that inserts its row in
reconciliation_schedule, so several replicas run each day once. A replica that dies mid-run
leaves a claim that another replica takes over once it is older than the claim timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from datetime import date, datetime, time, timedelta

import structlog
from bwai_web.service import ServiceContext

from bwai_payments.reconciliation import repository, service
from bwai_payments.reconciliation.models import PROVIDERS

log = structlog.get_logger()

SCHEDULER_KEY = "payments.reconciliation_scheduler"


def due_day(now: datetime, at: time) -> date | None:
    """Return the day to reconcile at `now`: yesterday once today's run time has passed."""
    run_at = datetime.combine(now.date(), at, tzinfo=now.tzinfo)
    if now < run_at:
        return None
    return now.date() - timedelta(days=1)


async def run_due_days(deps: service.ReconciliationDeps, replica: str) -> list[str]:
    """Run every configured provider's due day that no replica has claimed; return the claims."""
    now = deps.clock.now()
    day = due_day(now, deps.settings.reconciliation_time)
    if day is None:
        return []
    stale = now - timedelta(seconds=deps.settings.reconciliation_claim_timeout_seconds)
    ran = []
    for provider in configured_providers(deps):
        claimed = await repository.claim_scheduled_day(
            deps.pool, provider, day, replica=replica, now=now, stale_before=stale
        )
        if not claimed:
            continue
        ran.append(f"{provider}:{day}")
        try:
            run = await service.start_run(
                deps, provider, day, source="api", trigger="schedule", requested_by=None
            )
            await service.finish_run(deps, run, None)
        except Exception:  # noqa: BLE001 - the run stored and logged the failure
            await repository.release_scheduled_day(deps.pool, provider, day)
            continue
        await repository.complete_scheduled_day(deps.pool, provider, day, deps.clock.now())
    return ran


def configured_providers(deps: service.ReconciliationDeps) -> list[str]:
    """Return the providers whose credentials are set; the others cannot be listed."""
    payments = deps.payments_settings
    found: list[str] = []
    for provider in PROVIDERS:
        if (
            provider == "nowpayments"
            and payments.nowpayments_api_key
            and (deps.settings.nowpayments_email and deps.settings.nowpayments_password)
        ):
            found.append(provider)
        if provider == "coinbase_commerce" and payments.coinbase_commerce_api_key:
            found.append(provider)
    return found


class Scheduler:
    """The background loop of one replica; `start` and `stop` are idempotent."""

    def __init__(self, deps: service.ReconciliationDeps) -> None:
        self._deps = deps
        self._task: asyncio.Task[None] | None = None
        self._replica = f"{socket.gethostname()}:{os.getpid()}"

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="reconciliation-scheduler")
            log.info("reconciliation.scheduler.started", replica=self._replica)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        log.info("reconciliation.scheduler.stopped", replica=self._replica)

    async def _loop(self) -> None:
        while True:
            try:
                await run_due_days(self._deps, self._replica)
            except Exception as exc:  # the loop must survive a database outage
                log.error("reconciliation.scheduler.tick_failed", exc_info=exc)
            await asyncio.sleep(self._deps.settings.reconciliation_poll_seconds)


async def start_scheduler(ctx: ServiceContext) -> None:
    """Start this replica's scheduler unless BWAI_RECONCILIATION_ENABLED is false."""
    deps = service.deps_from_context(ctx)
    if not deps.settings.reconciliation_enabled:
        log.info("reconciliation.scheduler.disabled")
        return
    scheduler = Scheduler(deps)
    ctx.extras[SCHEDULER_KEY] = scheduler
    scheduler.start()


async def stop_scheduler(ctx: ServiceContext) -> None:
    scheduler = ctx.extras.pop(SCHEDULER_KEY, None)
    if isinstance(scheduler, Scheduler):
        await scheduler.stop()
