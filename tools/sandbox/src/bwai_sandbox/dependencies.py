"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated, Any

from bwai_core import jsonutil
from fastapi import Depends, Request

from bwai_sandbox.sandbox import Sandbox


# Dependencies are coroutines: FastAPI runs a plain function in a worker thread, which cost more
# than the work itself on every request.
async def get_sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


SandboxDep = Annotated[Sandbox, Depends(get_sandbox)]


async def read_json(request: Request) -> Any:
    """Parse the body with every non-integer number as Decimal; raise ValueError if not JSON."""
    raw = await request.body()
    return jsonutil.loads_decimal(raw)
