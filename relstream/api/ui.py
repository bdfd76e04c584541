"""The dashboard: one HTML shell for every `/ui/...` page (the browser script routes by path) and its assets.

No build step and no CDN: the assets, including the vendored Chart.js, ship inside the package.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from relstream.api.models import RecordType

STATIC = Path(__file__).parent / "static"
_SHELL = (STATIC / "page.html").read_text(encoding="utf-8")
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _shell(request: Request) -> HTMLResponse:
    """The shell, with asset URLs under the app's root path (the API may sit behind a path prefix)."""
    root = request.scope.get("root_path", "").rstrip("/")
    return HTMLResponse(_SHELL.replace("%ROOT%", root), headers=_HEADERS)


@router.get("/")
@router.get("/ui")
async def home(request: Request) -> RedirectResponse:
    return RedirectResponse(request.scope.get("root_path", "").rstrip("/") + "/ui/")


@router.get("/ui/")
async def types_page(request: Request) -> HTMLResponse:
    return _shell(request)


@router.get("/ui/{type}")
async def pipeline_page(request: Request, type: RecordType) -> HTMLResponse:
    return _shell(request)


@router.get("/ui/{type}/{id}")
async def record_page(request: Request, type: RecordType, id: str) -> HTMLResponse:
    return _shell(request)


assets = StaticFiles(directory=STATIC)
