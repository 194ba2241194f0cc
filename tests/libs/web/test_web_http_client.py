"""The pooled outbound client talks to a local server through the aiohttp transport."""

from __future__ import annotations

from aiohttp import web
from bwai_web.http_client import create_http_client
from httpx_aiohttp import AiohttpTransport


async def test_client_reuses_connection_to_local_server() -> None:
    peers: list[object] = []

    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({"path": request.path})

    app = web.Application()
    app.router.add_get("/ping", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = create_http_client(timeout_s=5.0)
    try:
        first = await client.get(f"http://127.0.0.1:{port}/ping")
        second = await client.get(f"http://127.0.0.1:{port}/ping")
    finally:
        await client.aclose()
        await runner.cleanup()

    assert isinstance(client._transport, AiohttpTransport)
    assert first.json() == {"path": "/ping"}
    assert second.status_code == 200
    assert peers[0] == peers[1]
