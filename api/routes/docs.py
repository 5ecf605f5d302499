"""/docs and /redoc from the service's own copies of Swagger UI and ReDoc (api/static),
not a CDN: they work without internet."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parents[1] / "static"
#: Where the assets are served; the app mounts `assets` there.
PREFIX = "/static"
assets = StaticFiles(directory=STATIC)
router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="convsolve - Swagger UI",
        swagger_js_url=f"{PREFIX}/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/swagger-ui/favicon-32x32.png")


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json", title="convsolve - ReDoc",
        redoc_js_url=f"{PREFIX}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{PREFIX}/swagger-ui/favicon-32x32.png", with_google_fonts=False)
