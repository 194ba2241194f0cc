"""A small in-process stand-in for Vault's KV version 2 HTTP API, for the Vault backend tests.

It serves `GET /v1/<mount>/data/<path>[?version=N]` with the X-Vault-Token header checked, keeps
every version of a secret, and returns 403 for a wrong token and 404 for a missing secret or
version, with Vault's `{"errors": [...]}` bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class _Version:
    data: dict[str, str]
    created_time: str


@dataclass
class FakeVault:
    token: str
    mount: str = "secret"
    secrets: dict[str, list[_Version]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def put(self, path: str, data: dict[str, str]) -> int:
        """Write a new version of the secret at `path`; return its version number."""
        versions = self.secrets.setdefault(path, [])
        # Vault prints nanoseconds; the client must cope with more than six fraction digits.
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"
        versions.append(_Version(dict(data), created))
        return len(versions)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/{mount}/data/{path:path}")
        async def read(mount: str, path: str, request: Request) -> JSONResponse:
            self.requests.append(path)
            if request.headers.get("x-vault-token") != self.token:
                return JSONResponse({"errors": ["permission denied"]}, status_code=403)
            versions = self.secrets.get(path) if mount == self.mount else None
            number = int(request.query_params.get("version") or len(versions or []))
            if not versions or not 1 <= number <= len(versions):
                return JSONResponse({"errors": []}, status_code=404)
            version = versions[number - 1]
            metadata = {
                "created_time": version.created_time,
                "deletion_time": "",
                "destroyed": False,
                "version": number,
            }
            return JSONResponse({"data": {"data": version.data, "metadata": metadata}})

        return app


@contextlib.asynccontextmanager
async def serve_fake_vault(vault: FakeVault) -> AsyncIterator[str]:
    """Serve `vault` on a free 127.0.0.1 port; yield its address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(vault.app(), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            # uvicorn exposes only a `started` flag, no event to wait on.
            while not server.started:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()
