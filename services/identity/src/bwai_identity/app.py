"""Identity's HTTP app: sign-up and sign-in, tokens, TOTP, members, JWKS and API clients."""

from __future__ import annotations

from bwai_web.app import create_service_app
from bwai_web.service import ServiceContext
from fastapi import FastAPI

from bwai_identity.clients.api import router as clients_router
from bwai_identity.keys.api import router as keys_router
from bwai_identity.members.api import router as members_router
from bwai_identity.sessions.api import router as sessions_router
from bwai_identity.tokens.api import router as tokens_router
from bwai_identity.totp.api import router as totp_router
from bwai_identity.users.api import router as users_router


def create_app(ctx: ServiceContext) -> FastAPI:
    routers = [
        tokens_router,
        keys_router,
        clients_router,
        users_router,
        sessions_router,
        totp_router,
        members_router,
    ]
    return create_service_app(ctx, title="Build With AI identity", routers=routers)
