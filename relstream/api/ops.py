"""Probes for orchestrators: liveness never touches Redis, readiness does."""

from __future__ import annotations

from fastapi import APIRouter, Request

from relstream.api.errors import error_responses
from relstream.api.models import Status
from relstream.api.responses import OrjsonResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Status, summary="Liveness: the process serves requests")
async def healthz() -> OrjsonResponse:
    return OrjsonResponse({"status": "ok"})


@router.get("/readyz", response_model=Status, responses=error_responses(503), summary="Readiness: Redis answers")
async def readyz(request: Request) -> OrjsonResponse:
    await request.app.state.store.ping()  # a Redis error becomes the 503 of errors.py
    return OrjsonResponse({"status": "ready"})
