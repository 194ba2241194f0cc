"""Child processes for the distributed tests: start, wait until ready, show logs, stop.

Each child writes stdout and stderr to its own file, so a chatty service can never block on a
full pipe, and the file is still there to read when the child has died.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

# Lines of each child's log shown when something fails.
LOG_TAIL_LINES = 60


@dataclass
class ChildProcess:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def logs(self, tail: int = LOG_TAIL_LINES) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-tail:])

    def report(self) -> str:
        """Return the exit state and the end of the log, for failure messages."""
        code = self.process.poll()
        state = "running" if code is None else f"exited with {code}"
        return f"--- {self.name} ({state}), log {self.log_path} ---\n{self.logs()}"

    def stop(self, timeout_s: float = 10.0) -> None:
        """Send SIGTERM, wait for a clean exit, and kill the child if it does not exit in time."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def spawn(name: str, args: list[str], env: dict[str, str], url: str, log_dir: Path) -> ChildProcess:
    """Start `python args...` with the test's environment plus `env`."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            [sys.executable, *args],
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C on the test run reaches pytest only
        )
    return ChildProcess(name, url, process, log_path)


async def wait_ready(
    http: httpx.AsyncClient, child: ChildProcess, path: str = "/readyz", timeout_s: float = 60.0
) -> None:
    """Poll `path` until it returns 200, and fail with the child's log on exit or timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        if child.process.poll() is not None:
            raise AssertionError(f"{child.name} exited before it was ready\n{child.report()}")
        try:
            response = await http.get(child.url + path, timeout=2)
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        if loop.time() > deadline:
            raise AssertionError(f"{child.name} not ready after {timeout_s} s\n{child.report()}")
        await asyncio.sleep(0.2)


def stop_all(children: list[ChildProcess]) -> None:
    """Stop every child: SIGTERM to all first, so they shut down side by side."""
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    for child in children:
        child.stop()
