from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from solver.contract import DOCUMENTS, DocumentKind, json_schema

from ..errors import ErrorResponse

router = APIRouter(prefix="/v1", tags=["schema"])


@router.get("/schema/{kind}", responses={422: {
    "model": ErrorResponse, "description": f"Not a kind of document ({', '.join(DOCUMENTS)})"}})
async def schema(kind: DocumentKind) -> dict[str, Any]:
    """The JSON Schema of one kind of document: point an editor at it (a YAML file's
    `# yaml-language-server: $schema=http://HOST/v1/schema/solve` line) to check and
    complete documents as you write them."""
    return json_schema(kind)
