"""The web side of the mail sink: a page for people and a JSON API for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from bwai_mailsink.server import MailSink
from bwai_mailsink.store import ReceivedMessage

_TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")

# Mail HTML is untrusted: the page loads nothing from outside, runs no script, and the HTML part is
# shown in a sandboxed iframe (a srcdoc iframe inherits this policy, so remote images stay blocked).
_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'"


def create_app(sink: MailSink) -> FastAPI:
    """Return the web app over `sink`'s store; the caller starts and stops the sink itself."""
    app = FastAPI(title="Mail sink", docs_url=None, redoc_url=None)
    store = sink.store

    @app.get("/", response_class=HTMLResponse)
    async def index(request: Request) -> Response:
        context = {"messages": store.list(), "smtp": f"{sink.host}:{sink.smtp_port}"}
        return _page(request, "index.html", context)

    @app.get("/messages")
    async def list_messages(to: str | None = None) -> list[dict[str, Any]]:
        return [message.to_json() for message in store.list(to=to)]

    @app.delete("/messages", status_code=204)
    async def delete_messages() -> Response:
        store.clear()
        return Response(status_code=204)

    # Declared before the page route, whose path parameter would otherwise match "<id>.json".
    @app.get("/messages/{message_id}.json")
    async def message_json(message_id: str) -> dict[str, Any]:
        return _find(sink, message_id).to_json()

    @app.get("/messages/{message_id}", response_class=HTMLResponse)
    async def message_page(request: Request, message_id: str) -> Response:
        return _page(request, "message.html", {"message": _find(sink, message_id)})

    return app


def _find(sink: MailSink, message_id: str) -> ReceivedMessage:
    message = sink.store.get(message_id)
    if message is None:
        raise HTTPException(404, f"Message {message_id} not found; it may have been deleted")
    return message


def _page(request: Request, template: str, context: dict[str, Any]) -> Response:
    response = _TEMPLATES.TemplateResponse(request, template, context)
    response.headers["Content-Security-Policy"] = _PAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
