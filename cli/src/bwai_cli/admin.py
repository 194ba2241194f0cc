"""Operator routes every hosted service gets: inspect and replay its dead-lettered events."""

from __future__ import annotations

import base64
from typing import Any

import structlog
from bwai_core.errors import NotFound
from bwai_messaging.bus import Bus, DeadLetter
from bwai_web.auth import CurrentPrincipal, require_roles
from fastapi import APIRouter, Depends, Request

log = structlog.get_logger()


class DeadLetterNotFound(NotFound):
    code = "dead-letter-not-found"
    title = "Dead letter not found"


def admin_router(service: str, queues: list[str]) -> APIRouter:
    """Build `/v1/admin/<service>/dead-letters` routes over the service's own queues."""
    router = APIRouter(
        prefix=f"/v1/admin/{service}",
        tags=["admin"],
        dependencies=[Depends(require_roles("operator"))],
    )

    @router.get("/dead-letters")
    async def list_dead_letters(request: Request) -> dict[str, Any]:
        bus = request.app.state.ctx.bus
        items = [_summary(letter) for queue in queues for letter in await bus.dead_letters(queue)]
        return {"service": service, "items": items}

    @router.get("/dead-letters/{message_id}")
    async def show_dead_letter(message_id: str, request: Request) -> dict[str, Any]:
        letter = await _find(request, queues, message_id)
        return {**_summary(letter), "body": _body_text(letter.body)}

    @router.post("/dead-letters/{message_id}/replay")
    async def replay_dead_letter(
        message_id: str, request: Request, principal: CurrentPrincipal
    ) -> dict[str, Any]:
        letter = await _find(request, queues, message_id)
        replayed = await request.app.state.ctx.bus.replay_dead_letter(letter.queue, message_id)
        if not replayed:
            raise DeadLetterNotFound(f"dead letter {message_id} was replayed or removed meanwhile")
        log.info(
            "dead_letter.replayed",
            message_id=message_id,
            queue=letter.queue,
            operator=principal.subject,
        )
        return {"message_id": message_id, "queue": letter.queue, "replayed": True}

    return router


async def _find(request: Request, queues: list[str], message_id: str) -> DeadLetter:
    bus: Bus = request.app.state.ctx.bus
    for queue in queues:
        for letter in await bus.dead_letters(queue):
            if letter.message_id == message_id:
                return letter
    raise DeadLetterNotFound(f"no dead letter with id {message_id}")


def _summary(letter: DeadLetter) -> dict[str, Any]:
    return {
        "message_id": letter.message_id,
        "queue": letter.queue,
        "reason": letter.reason,
        "attempts": letter.attempts,
        "dead_lettered_at": letter.dead_lettered_at,
    }


def _body_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(body).decode()
