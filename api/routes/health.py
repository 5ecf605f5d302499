from __future__ import annotations

from fastapi import APIRouter

import solver

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok", "version": solver.__version__}
