"""`create_app`: wires settings, the Redis store, auth, errors, metrics, routes and the dashboard together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from prometheus_client import CollectorRegistry

from relstream.api import errors, live, ops, records, ui
from relstream.api.config import ApiConfig
from relstream.api.metrics import RequestMetrics, metrics_endpoint
from relstream.api.responses import OrjsonResponse
from relstream.api.store import Store, connect
from relstream.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, config: ApiConfig | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    config = config or ApiConfig.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = connect(settings)
        app.state.store = Store(redis, settings)
        try:
            yield
        finally:
            await redis.aclose()

    app = FastAPI(
        title="relstream",
        version="1",
        summary="Relationship-analytics KPIs per CRM record, computed in real time (SPEC §4–§5).",
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
    )
    app.state.api_config = config
    if config.auth and not config.tokens:
        log.warning("auth is on but RELSTREAM_API_TOKENS is empty: every /v1 request will get 401")
    if not config.auth:
        log.warning("RELSTREAM_API_AUTH=off: anyone who reaches this port can read KPIs")

    errors.install(app)
    app.include_router(ops.router)
    app.include_router(live.router)  # before records: `/kpis/stream` must win over `/kpis/{widget}`
    app.include_router(records.router)
    app.mount("/ui/assets", ui.assets, name="assets")  # before the page routes: `/ui/{type}/{id}` would match
    app.include_router(ui.router)
    registry = CollectorRegistry()
    app.add_route("/metrics", metrics_endpoint(registry), include_in_schema=False)
    app.add_middleware(RequestMetrics, registry=registry)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET"],
            allow_headers=["Authorization"],
        )

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            app.openapi_schema = errors.finish_openapi(schema)
        return app.openapi_schema

    app.openapi = openapi
    return app
