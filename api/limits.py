"""Request-size limit as plain ASGI middleware: counts the bytes as they arrive, so a
chunked body without Content-Length cannot slip past it."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .settings import Settings


def too_large(limit: int) -> HTTPException:
    return HTTPException(
        status_code=413,
        detail=[{"type": "limit_exceeded", "loc": ["body"], "msg": f"request body is larger than {limit} bytes"}],
    )


class BodyLimit:
    """Answers 413 past settings.max_body_bytes (read per request, so it can change)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _send_413(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                # FastAPI re-raises HTTPExceptions met while reading the body.
                raise too_large(limit)
            return message

        await self.app(scope, counted, send)


async def _send_413(send: Send, limit: int) -> None:
    import json

    body = json.dumps({"detail": too_large(limit).detail}).encode()
    headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
