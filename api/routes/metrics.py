from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus metrics: requests by route and status, latencies, solve statuses."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
