"""`/v1/records/...`: KPI documents, single widgets, the pipeline view and the activity drill-down."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from relstream.api.auth import Principal, reader
from relstream.api.errors import ApiError, error_responses
from relstream.api.models import ActivityPage, KpiDocument, PipelinePage, RecordType, Widget
from relstream.api.paging import ALL, SCORE_RANGES, Sort, StatusFilter, decode_cursor, encode_cursor
from relstream.api.privacy import redact_activity, redact_document
from relstream.api.responses import OrjsonResponse
from relstream.api.store import Store


async def known_query_only(request: Request) -> None:
    """Dependency: a query parameter the OpenAPI does not declare is a 400, so `?stauts=poor` is not silently
    served unfiltered."""
    operation = request.app.openapi()["paths"][request.scope["route"].path]["get"]
    declared = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"}
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        raise ApiError(400, "bad_parameter", f"unknown query parameter(s): {', '.join(unknown)[:200]}")


router = APIRouter(
    prefix="/v1/records",
    tags=["records"],
    dependencies=[Depends(reader), Depends(known_query_only)],  # every route: a `read` token, known parameters
    responses=error_responses(400, 401, 403, 503),
)

RecordId = Annotated[str, Path(min_length=1, max_length=256, description="the record's id (Dataverse row id)")]
Limit = Annotated[int, Query(ge=1, le=200)]


def get_store(request: Request) -> Store:
    return request.app.state.store


async def record_document(
    type: RecordType,
    id: RecordId,
    principal: Annotated[Principal, Depends(reader)],
    store: Annotated[Store, Depends(get_store)],
) -> dict[str, Any]:
    """Dependency: the record's document with subjects redacted for this principal, or 404."""
    document = await store.document(type.value, id)
    if document is None:
        raise ApiError(404, "not_found", f"no KPIs for {type.value} {id!r}")
    return redact_document(document, principal)


Document = Annotated[dict[str, Any], Depends(record_document)]


@router.get("/{type}", response_model=PipelinePage, summary="Records of a type by relationship health")
async def pipeline(
    type: RecordType,
    store: Annotated[Store, Depends(get_store)],
    status: StatusFilter | None = None,
    sort: Sort = Sort.health,
    limit: Limit = 50,
    cursor: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,200}$", description="`next_cursor` of the previous page")
    ] = None,
) -> OrjsonResponse:
    query = [status.value if status else "", sort.value]
    offset = decode_cursor(cursor, query) if cursor else 0
    low, high = SCORE_RANGES[status.value] if status else ALL
    total, members = await store.health_range(type.value, low, high, sort is Sort.health_desc, offset, limit)
    documents = await store.documents(type.value, [id_ for id_, _ in members])
    items = [
        {
            "id": id_,
            "name": doc["entity"].get("name"),
            "score": round(score),
            "status": doc["widgets"]["relationship_health"]["status"],
            "trend": doc["widgets"]["relationship_health"]["trend"],
            "as_of": doc["as_of"],
        }
        for (id_, score), doc in zip(members, documents, strict=True)
        if doc is not None  # removed between the two reads: the record is gone
    ]
    following = offset + len(members)
    return OrjsonResponse(
        {
            "type": type.value,
            "total": total,
            "items": items,
            "next_cursor": encode_cursor(following, query) if following < total else None,
        }
    )


@router.get("/{type}/{id}/kpis", response_model=KpiDocument, responses=error_responses(404), summary="KPI document")
async def kpis(type: RecordType, id: RecordId, document: Document) -> OrjsonResponse:
    return OrjsonResponse(document)


@router.get(
    "/{type}/{id}/kpis/{widget}",
    response_model=KpiDocument,
    responses=error_responses(404),
    summary="One widget, in the document's envelope",
)
async def widget(type: RecordType, id: RecordId, widget: Widget, document: Document) -> OrjsonResponse:
    if widget.value not in document["widgets"]:
        raise ApiError(404, "not_found", f"widget {widget.value} does not apply to {type.value} {id!r}")
    document["widgets"] = {widget.value: document["widgets"][widget.value]}
    return OrjsonResponse(document)


@router.get(
    "/{type}/{id}/activities",
    response_model=ActivityPage,
    responses=error_responses(404),
    summary="Latest attributed activities (drill-down)",
)
async def activities(
    type: RecordType,
    id: RecordId,
    principal: Annotated[Principal, Depends(reader)],
    store: Annotated[Store, Depends(get_store)],
    limit: Limit = 50,
) -> OrjsonResponse:
    items = await store.activities(type.value, id, limit)
    if items is None:
        raise ApiError(404, "not_found", f"no KPIs for {type.value} {id!r}")
    return OrjsonResponse(
        {
            "entity": {"type": type.value, "id": id},
            "items": [redact_activity(item, principal) for item in items],
        }
    )
