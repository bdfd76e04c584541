"""Live refresh for the dashboard: a server-sent event each time a record's document changes.

The worker replaces a document atomically, so polling its key once a second and comparing `computed_at`
is all a reader needs; no pub/sub contract with the worker. Clients with headers (the dashboard uses
fetch) authenticate like any other request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from relstream.api.auth import Principal, reader
from relstream.api.errors import error_responses
from relstream.api.models import RecordType
from relstream.api.privacy import redact_document
from relstream.api.records import Document, RecordId, get_store, known_query_only
from relstream.api.store import Store

router = APIRouter(prefix="/v1/records", tags=["live"], dependencies=[Depends(reader), Depends(known_query_only)])


@router.get(
    "/{type}/{id}/kpis/stream",
    response_class=EventSourceResponse,
    responses=error_responses(400, 401, 403, 404, 503),
    summary="Server-sent events: `kpis` with the whole document on every change, `deleted` when it is removed",
)
async def stream(
    request: Request,
    type: RecordType,
    id: RecordId,
    document: Document,  # resolved before the stream starts: a 404 is a plain JSON error
    principal: Annotated[Principal, Depends(reader)],
    store: Annotated[Store, Depends(get_store)],
) -> AsyncIterator[ServerSentEvent]:
    interval = request.app.state.api_config.stream_interval_s
    seen = document["computed_at"]
    yield ServerSentEvent(event="kpis", id=seen, raw_data=orjson.dumps(document).decode())
    while True:
        await asyncio.sleep(interval)
        try:
            current = await store.document(type.value, id)
        except (RedisConnectionError, RedisTimeoutError):
            yield ServerSentEvent(event="unavailable", raw_data='{"code":"unavailable"}')
            continue
        if current is None:
            yield ServerSentEvent(event="deleted", raw_data="{}")
            return
        if current["computed_at"] != seen:
            seen = current["computed_at"]
            yield ServerSentEvent(
                event="kpis", id=seen, raw_data=orjson.dumps(redact_document(current, principal)).decode()
            )
