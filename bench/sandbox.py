"""The provider sandbox of a benchmark run, in a process of its own (started by bench.serve).

Reads its settings from BWAI_SANDBOX_* variables like `python -m bwai_sandbox`, but serves
without an access log and logs at BWAI_BENCH_LOG_LEVEL, as the embedded platform does.
"""

from __future__ import annotations

import os

import uvicorn
from bwai_core.logging import configure_logging
from bwai_sandbox.app import create_app
from bwai_sandbox.settings import SandboxSettings

if __name__ == "__main__":
    # The same log level as the platform under test, which logged for the sandbox before.
    configure_logging("sandbox", os.environ.get("BWAI_BENCH_LOG_LEVEL", "ERROR"), json=True)
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
