"""``create_app``: the dashboard's FastAPI application (API, WebSocket, pages, assets)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import redis
from fastapi import FastAPI
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from seraphim.dashboard import pages
from seraphim.dashboard.api import auth
from seraphim.dashboard.api import control
from seraphim.dashboard.api import live
from seraphim.dashboard.api import nodes
from seraphim.dashboard.api import records
from seraphim.dashboard.live import LiveFeed
from seraphim.dashboard.services import DashboardSettings
from seraphim.dashboard.services import Services
from seraphim.journal.settings import JournalError
from seraphim.state.settings import RedisUnavailable

STATIC = Path(__file__).parent / "static"
# Security headers on every answer: no framing, no sniffing, scripts and styles from here only.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def _plotly_js() -> Path:
    """plotly.js as bundled with the plotly package (offline, no CDN)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_app(settings: DashboardSettings) -> FastAPI:
    services = Services(settings)
    feed = LiveFeed(services.redis, settings.live_poll_secs)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        feed.start()
        try:
            yield
        finally:
            feed.stop()
            services.close()

    app = FastAPI(
        title="Seraphim dashboard",
        summary="Live nodes (health, strategies, orders, risk, control) and research records.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load their assets from CDNs
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.feed = feed

    @app.get("/api/health", tags=["health"])
    def health() -> dict:
        """Public: the dashboard is up (and whether its live feed reaches Redis)."""
        return {"status": "ok", "live_feed": feed.error or "ok"}

    for router in (auth.router, nodes.router, control.router, records.router, live.router):
        app.include_router(router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/static-vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(_plotly_js(), media_type="text/javascript")

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        # One readable line per problem instead of pydantic's nested structures.
        problems = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}"
            for e in error.errors()
        ]
        return JSONResponse({"detail": "; ".join(problems)}, status_code=422)

    @app.exception_handler(RedisUnavailable)
    async def redis_unavailable(_request: Request, error: RedisUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503)

    @app.exception_handler(redis.RedisError)
    async def redis_down(_request: Request, error: redis.RedisError) -> JSONResponse:
        detail = f"Redis at {services.redis.url} unavailable: {error}"
        return JSONResponse({"detail": detail}, status_code=503)

    @app.exception_handler(JournalError)
    async def journal_down(_request: Request, error: JournalError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=503)

    @app.exception_handler(psycopg.OperationalError)
    async def journal_lost(_request: Request, error: psycopg.OperationalError) -> JSONResponse:
        detail = f"journal unavailable: {str(error).strip().splitlines()[0]}"
        return JSONResponse({"detail": detail}, status_code=503)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
