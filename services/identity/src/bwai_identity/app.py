"""Identity's HTTP app: token endpoint, JWKS and client administration."""

from __future__ import annotations

from bwai_web.app import create_service_app
from bwai_web.service import ServiceContext
from fastapi import FastAPI

from bwai_identity.clients.api import router as clients_router
from bwai_identity.keys.api import router as keys_router
from bwai_identity.tokens.api import router as tokens_router


def create_app(ctx: ServiceContext) -> FastAPI:
    return create_service_app(
        ctx, title="Build With AI identity", routers=[tokens_router, keys_router, clients_router]
    )
