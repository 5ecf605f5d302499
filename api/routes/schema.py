from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from solver.contract import DocumentKind, json_schema

router = APIRouter(prefix="/v1", tags=["schema"])


@router.get("/schema/{kind}")
async def schema(kind: DocumentKind) -> dict[str, Any]:
    """The JSON Schema of one kind of document: point an editor at it (a YAML file's
    `# yaml-language-server: $schema=http://HOST/v1/schema/solve` line) to check and
    complete documents as you write them."""
    return json_schema(kind)
