"""静态资源 — the stylesheet and plotly.js from the installed plotly package (never a CDN)."""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache

from fastapi import APIRouter, Request, Response

from api.web.views import STATIC, STATIC_TYPES, static_asset

router = APIRouter(include_in_schema=False)
LONG = "public, max-age=31536000, immutable"  # URLs carry a version: a new file is a new URL


@lru_cache(maxsize=1)
def _plotly() -> tuple[bytes, bytes, str]:
    import plotly.offline

    raw = plotly.offline.get_plotlyjs().encode("utf-8")
    return raw, gzip.compress(raw, 6, mtime=0), hashlib.sha256(raw).hexdigest()[:16]


def plotly_version() -> str:
    import plotly

    return plotly.__version__


def _send(request: Request, raw: bytes, packed: bytes | None, etag: str, media: str, cache: str) -> Response:
    headers = {"Cache-Control": cache, "ETag": f'"{etag}"', "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    if packed is not None and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type=media, headers={**headers, "Content-Encoding": "gzip"})
    return Response(raw, media_type=media, headers=headers)


@router.get("/static/plotly.min.js")
def plotly_js(request: Request) -> Response:
    raw, packed, etag = _plotly()
    return _send(request, raw, packed, etag, STATIC_TYPES[".js"], LONG)


@router.get("/static/{name}")
def static_file(name: str, request: Request) -> Response:
    found = static_asset(name)
    if found is None:
        return Response("未找到", status_code=404, media_type="text/plain; charset=utf-8")
    raw, etag = found
    cache = LONG if request.query_params.get("v") == etag else "public, max-age=300"
    return _send(request, raw, None, etag, STATIC_TYPES[STATIC.joinpath(name).suffix], cache)
