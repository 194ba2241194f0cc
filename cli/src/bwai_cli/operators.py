"""`bwai users create-operator` and `bwai keys rotate`: identity administration from a shell.

Both work on identity's database directly, because they bootstrap or repair what the API
itself depends on (the first operator account, the token signing keys).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bwai_core.clock import SystemClock
from bwai_identity.operators import create_operator, rotate_keys
from bwai_messaging.schemas import SchemaRegistry

from bwai_cli.clients import identity_pool


async def create(
    email: str, password: str, role: str, database_url: str | None, data_dir: Path
) -> dict[str, Any]:
    async with identity_pool(database_url, data_dir) as pool:
        created = await create_operator(
            pool,
            email=email,
            password=password,
            role=role,  # type: ignore[arg-type]  # checked by the command's choices
            clock=SystemClock(),
            schemas=SchemaRegistry.default(),
        )
    return {"user_id": str(created.user_id), "email": created.email, "role": created.role}


async def rotate(database_url: str | None, data_dir: Path, force: bool) -> dict[str, Any]:
    async with identity_pool(database_url, data_dir) as pool:
        step = await rotate_keys(pool, SystemClock(), force=force)
    return {"stage": step.stage, "kid": step.kid, "wait_s": step.wait_s}
