"""Reading a webhook request's raw bytes before anything parses them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import Request
from starlette.exceptions import HTTPException

from bwai_webhooks_ingest.deliveries.models import IncomingDelivery, ProviderWebhooks

# Request headers kept with each delivery; everything else is dropped.
KEPT_HEADERS = (
    "content-type",
    "content-length",
    "user-agent",
    "x-forwarded-for",
    "x-real-ip",
    "x-request-id",
)


class BodyTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"body of at least {size} bytes is over the limit")
        self.size = size


async def read_delivery(
    request: Request,
    webhooks: ProviderWebhooks,
    *,
    delivery_id: UUID,
    received_at: datetime,
    max_body_bytes: int,
) -> IncomingDelivery:
    """Capture the request's raw body, signature, kept headers and client address."""
    try:
        body: bytes | None = await read_limited_body(request, max_body_bytes)
        size = len(body or b"")
    except BodyTooLarge as exc:
        body, size = None, exc.size

    kept = (*KEPT_HEADERS, webhooks.signature_header)
    return IncomingDelivery(
        id=delivery_id,
        provider=webhooks.provider,
        received_at=received_at,
        remote_addr=request.client.host if request.client else None,
        headers={name: request.headers[name] for name in kept if name in request.headers},
        signature=request.headers.get(webhooks.signature_header),
        body=body,
        body_size=size,
    )


async def read_limited_body(request: Request, max_bytes: int) -> bytes:
    """Return the body, or raise BodyTooLarge as soon as it passes `max_bytes`.

    The declared Content-Length is checked first, then the bytes as they stream, so an
    oversized body is never held in memory whole.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(int(declared))

    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge(size)
            chunks.append(chunk)
    except HTTPException as exc:
        # The app-wide body limit raises its own 413 while the body streams.
        if exc.status_code == 413:
            raise BodyTooLarge(size) from exc
        raise
    return b"".join(chunks)
