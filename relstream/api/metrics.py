"""Prometheus request metrics by route template (not raw path, which would explode label cardinality)."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestMetrics:
    """ASGI middleware; one registry per app so several apps (tests) never collide on metric names."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        labels = ("method", "route", "status")
        self.requests = Counter("relstream_api_requests", "HTTP requests served", labels, registry=registry)
        self.latency = Histogram(
            "relstream_api_request_duration_seconds", "Time to the response's first byte", labels, registry=registry
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        responded = False

        def record(status: int) -> None:
            labels = (scope["method"], _route(scope), str(status))
            self.requests.labels(*labels).inc()
            self.latency.labels(*labels).observe(time.perf_counter() - started)

        async def observe(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.start":
                responded = True
                record(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observe)
        except Exception:
            if not responded:  # the outer error middleware answers 500
                record(500)
            raise


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def metrics_endpoint(registry: CollectorRegistry):
    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
