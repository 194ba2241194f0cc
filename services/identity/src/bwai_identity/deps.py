"""What identity's service functions share: pool, clock, contracts, settings and the mailer."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from bwai_core.clock import Clock
from bwai_messaging.schemas import SchemaRegistry
from bwai_web.service import ServiceContext

from bwai_identity.mail.sender import Mailer, context_mailer
from bwai_identity.settings import IdentitySettings, identity_settings


@dataclass(frozen=True, slots=True)
class Deps:
    pool: asyncpg.Pool
    clock: Clock
    schemas: SchemaRegistry
    settings: IdentitySettings
    mailer: Mailer

    def link(self, path: str) -> str:
        """Return the public URL of `path`, for links in emails."""
        return self.settings.public_base_url.rstrip("/") + path


def deps_from(ctx: ServiceContext) -> Deps:
    return Deps(ctx.pool, ctx.clock, ctx.schemas, identity_settings(ctx), context_mailer(ctx))
