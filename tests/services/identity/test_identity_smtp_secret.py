"""Identity reads its SMTP password through the secret store and follows a rotation."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import httpx
from bwai_core.clock import SystemClock
from bwai_identity.mail.sender import MAILER_EXTRA, WATCHER_EXTRA, start_mailer, stop_mailer
from bwai_identity.settings import IdentitySettings
from bwai_web.service import ServiceContext


def _context(secrets_dir: Path, http: httpx.AsyncClient) -> ServiceContext:
    settings = IdentitySettings(
        environment="test", secrets_backend="file", secrets_dir=str(secrets_dir)
    )
    unused = cast(Any, None)
    return ServiceContext(
        name="identity",
        settings=settings,
        pool=unused,
        bus=unused,
        clock=SystemClock(),
        schemas=unused,
        token_verifier=unused,
        http=http,
    )


async def test_smtp_password_follows_file_rotation(tmp_path: Path) -> None:
    (tmp_path / "smtp_password").write_text("first-password\n")
    async with httpx.AsyncClient() as http:
        ctx = _context(tmp_path, http)
        await start_mailer(ctx)
        sender = ctx.extras[MAILER_EXTRA]
        before = sender._password()

        (tmp_path / "smtp_password").write_text("second-password\n")
        changed = await ctx.extras[WATCHER_EXTRA].check()
        after = sender._password()
        await stop_mailer(ctx)

    assert before == "first-password"
    assert changed is True
    assert after == "second-password"
