"""Webhooks-ingest's HTTP app: the provider webhook endpoints."""

from __future__ import annotations

from bwai_web.app import create_service_app
from bwai_web.service import ServiceContext
from fastapi import FastAPI

from bwai_webhooks_ingest.deliveries.api import router as deliveries_router
from bwai_webhooks_ingest.payouts.api import router as payouts_router


def create_app(ctx: ServiceContext) -> FastAPI:
    return create_service_app(
        ctx, title="Build With AI webhooks ingest", routers=[payouts_router, deliveries_router]
    )
