"""Documents as JSON or YAML, as the README promises: plain ASGI middleware that turns a
YAML body into the JSON the routes read, and says so when a body comes in a type
convsolve does not read (curl's default form encoding, text/plain), instead of a
validation error about a string where an object was expected.

It runs inside BodyLimit, so the YAML text was counted against the size limit as it
arrived; the JSON it makes is checked for nesting like any JSON body.  Aliases (*name)
are refused: they would let a small document stand for an exponentially large one."""

from __future__ import annotations

import json
from typing import Any

import yaml
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .limits import nested_deeper, send_error, too_deep
from .settings import Settings

JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class _NoAliases(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases (a billion laughs in a few hundred bytes)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.MarkedYAMLError(None, None, "aliases (*name) are not accepted; write the value out", mark)
        return super().compose_node(parent, index)


def _media_type(scope: Scope) -> str | None:
    """The body's media type without parameters (charset), lower case; None when absent."""
    value = dict(scope["headers"]).get(b"content-type")
    if value is None:
        return None
    return value.decode("latin-1").split(";")[0].strip().lower()


def _error(status: int, kind: str, loc: list[str], msg: str) -> HTTPException:
    return HTTPException(status_code=status, detail=[{"type": kind, "loc": loc, "msg": msg}])


def yaml_to_json(text: bytes, depth: int) -> bytes:
    """The YAML document as JSON text, or an HTTPException saying what is wrong with it."""
    try:
        document = yaml.load(text.decode("utf-8"), Loader=_NoAliases)  # noqa: S506 - a safe loader
    except UnicodeDecodeError:
        raise _error(422, "yaml_invalid", ["body"], "the body is not YAML text in UTF-8") from None
    except yaml.YAMLError as exc:
        raise _error(422, "yaml_invalid", ["body"], f"the body is not valid YAML: {exc}") from None
    except RecursionError:  # PyYAML recurses once per nesting level
        raise too_deep(depth) from None
    try:
        out = json.dumps(document, default=str, allow_nan=True).encode()
    except (ValueError, RecursionError):
        raise too_deep(depth) from None
    if nested_deeper(out, depth):
        raise too_deep(depth)
    return out


class Documents:
    """POST bodies: JSON passes as it is; YAML becomes JSON; no content type or another
    one is answered 415, with the types that work (FastAPI would read such a body as a
    string and answer that a dictionary was expected)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        media = _media_type(scope)
        if media is not None and (media in JSON_TYPES or media.endswith("+json")):
            await self.app(scope, receive, send)
            return
        try:
            if media not in YAML_TYPES:
                sent_as = "with no content type" if media is None else f"as '{media}'"
                raise _error(415, "unsupported_media_type", ["header", "content-type"],
                             f"the body is sent {sent_as}; convsolve reads documents sent as application/json "
                             "or application/yaml (curl: -H 'content-type: application/json')")
            body = yaml_to_json(await _read(receive), self.settings.max_json_depth)
        except HTTPException as exc:
            await send_error(send, exc)
            return
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()  # a disconnect, if the client goes
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app({**scope, "headers": headers}, replay, send)


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _error(422, "body_missing", ["body"], "the client went away before sending the body")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)

