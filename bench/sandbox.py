"""The provider sandbox of a benchmark run, in a process of its own (started by bench.serve).

Reads its settings from BWAI_SANDBOX_* variables like `python -m bwai_sandbox`, but serves
without an access log, as the embedded platform does, so that both processes do the same work
per request as in `bwai dev`.
"""

from __future__ import annotations

import uvicorn
from bwai_sandbox.app import create_app
from bwai_sandbox.settings import SandboxSettings

if __name__ == "__main__":
    settings = SandboxSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
