"""The payments FastAPI app."""

from __future__ import annotations

from bwai_web.app import create_service_app
from bwai_web.service import ServiceContext
from fastapi import FastAPI

from bwai_payments.audit.api import router as audit_router
from bwai_payments.audit.service import reconciliation_audit_hook
from bwai_payments.disputes.api import router as disputes_router
from bwai_payments.ledger.api import router as ledger_router
from bwai_payments.orders.api import router as orders_router
from bwai_payments.payments.api import router as payments_router
from bwai_payments.reconciliation.api import BODY_LIMITS as RECONCILIATION_BODY_LIMITS
from bwai_payments.reconciliation.api import router as reconciliation_router
from bwai_payments.reconciliation.audit import AUDIT_HOOK_KEY
from bwai_payments.refunds.api import router as refunds_router


def create_app(ctx: ServiceContext) -> FastAPI:
    # Reconciliation's operator actions are audited in their own transactions through this hook.
    ctx.extras.setdefault(AUDIT_HOOK_KEY, reconciliation_audit_hook(ctx.clock))
    # The ledger and payment routers come first: their /v1/orders/{id}/... paths are longer.
    return create_service_app(
        ctx,
        title="payments",
        routers=[
            ledger_router,
            payments_router,
            orders_router,
            reconciliation_router,
            refunds_router,
            disputes_router,
            audit_router,
        ],
        body_limits=RECONCILIATION_BODY_LIMITS,
    )
