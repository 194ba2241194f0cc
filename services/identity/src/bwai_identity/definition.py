"""Identity as the runtime hosts it: settings, tables, HTTP app and start-up work."""

from __future__ import annotations

from bwai_core.db import MigrationSource
from bwai_web.service import ServiceContext, ServiceDefinition
from bwai_web.stepup import STEP_UP_MIGRATIONS

from bwai_identity.app import create_app
from bwai_identity.keys.service import ensure_active_key
from bwai_identity.mail.sender import start_mailer, stop_mailer
from bwai_identity.settings import IdentitySettings

IDENTITY_MIGRATIONS = MigrationSource("identity", "bwai_identity")


async def on_start(ctx: ServiceContext) -> None:
    """Make sure a signing key is active before the first token request; set up SMTP."""
    await ensure_active_key(ctx.pool, ctx.clock)
    # A test or embedding runtime may put its own sender in ctx.extras first.
    await start_mailer(ctx)


SERVICE = ServiceDefinition(
    name="identity",
    settings_class=IdentitySettings,
    migrations=[IDENTITY_MIGRATIONS, STEP_UP_MIGRATIONS],
    create_app=create_app,
    public_prefixes=(
        "/v1/oauth",
        "/.well-known",
        "/v1/clients",
        "/v1/auth",
        "/v1/tenants",
        "/v1/users",
        "/v1/invitations",
    ),
    on_start=on_start,
    on_stop=stop_mailer,
)
