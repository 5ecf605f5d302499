"""Request limits as plain ASGI middleware, on the raw body before it is parsed: its size
(counted as the bytes arrive, so a chunked body without Content-Length cannot slip past
it) and how deep its JSON nests (the parser, validation, error echoes and pickling for
the workers all recurse once per level, and break a few hundred levels down)."""

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


def too_deep(limit: int) -> HTTPException:
    return HTTPException(
        status_code=422,
        detail=[{"type": "limit_exceeded", "loc": ["body"],
                 "msg": f"JSON nested deeper than {limit} levels of arrays and objects "
                        "(convsolve's documents need about 6)"}],
    )


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SQUARE = bytes.maketrans(b"{}", b"[]")


def nested_deeper(body: bytes, limit: int) -> bool:
    """Whether the arrays and objects of a JSON text nest deeper than `limit`; brackets
    inside strings do not count."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the usual document: too few brackets to nest that deep
    # Strings out: escaped backslashes first, so that the quote in \\" still ends its string.
    parts = body.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')
    brackets = b"".join(parts[0::2]).translate(_SQUARE, _NOT_BRACKETS)
    depth = 0
    for b in brackets:  # a few ms for 256 KiB of brackets; stops at the limit
        depth += 1 if b == 0x5B else -1
        if depth > limit:
            return True
    return False


class BodyLimit:
    """Answers 413 past settings.max_body_bytes and 422 past settings.max_json_depth
    (read per request, so they can change)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, depth = self.settings.max_body_bytes, self.settings.max_json_depth
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await send_error(send, too_large(limit))
            return
        seen = 0
        chunks: list[bytes] = []

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            # FastAPI re-raises HTTPExceptions met while reading the body.
            if seen > limit:
                raise too_large(limit)
            if not message.get("more_body", False) and nested_deeper(b"".join(chunks), depth):
                raise too_deep(depth)
            return message

        await self.app(scope, counted, send)


async def send_error(send: Send, exc: HTTPException) -> None:
    """An error answer sent from a middleware, where FastAPI's handlers do not reach."""
    import json

    body = json.dumps({"detail": exc.detail}).encode()
    headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": exc.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
