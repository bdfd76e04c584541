"""Every error leaves as `{"code", "message"}` with a stable code; never a stack trace.

Codes: 400 `unknown_type`, `unknown_widget`, `bad_parameter`; 401 `unauthorized`; 403 `forbidden`;
404 `not_found`; 405 `method_not_allowed`; 503 `unavailable`; 500 `internal` (a bug: logged server-side).
FastAPI's 422 validation errors are folded into 400 so clients see one shape.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException

from relstream.api.responses import OrjsonResponse

log = logging.getLogger(__name__)

# A validation error on one of these parameters has its own code; any other parameter is `bad_parameter`.
_PARAMETER_CODES = {"type": "unknown_type", "widget": "unknown_widget"}
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


class Error(BaseModel):
    code: str
    message: str


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> OrjsonResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return OrjsonResponse({"code": code, "message": message}, status_code=status, headers=headers)


def _describe(error: dict) -> str:
    where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
    text = f"{where}: {error.get('msg', 'invalid')}"
    if "input" in error and error["input"] is not None:
        text += f" (got {str(error['input'])[:80]!r})"
    return text


async def _validation(_: Request, exc: RequestValidationError) -> OrjsonResponse:
    errors = list(exc.errors())
    names = {str(e["loc"][-1]) for e in errors if e.get("loc") and e["loc"][0] == "path"}
    code = next((c for name, c in _PARAMETER_CODES.items() if name in names), "bad_parameter")
    return error_response(400, code, "; ".join(_describe(e) for e in errors))


async def _api_error(_: Request, exc: ApiError) -> OrjsonResponse:
    return error_response(exc.status, exc.code, exc.message)


async def _http(_: Request, exc: HTTPException) -> OrjsonResponse:
    return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}"), str(exc.detail))


async def _redis_down(_: Request, exc: Exception) -> OrjsonResponse:
    log.warning("redis unavailable: %s", exc)
    return error_response(503, "unavailable", "the KPI store (Redis) is unavailable; retry shortly")


async def _unexpected(_: Request, exc: Exception) -> OrjsonResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal", "internal error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RedisConnectionError, _redis_down)
    app.add_exception_handler(RedisTimeoutError, _redis_down)
    app.add_exception_handler(Exception, _unexpected)


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """The `responses=` entry documenting these error statuses in OpenAPI (JSON even on the event stream)."""
    return {
        status: {"description": _DESCRIPTIONS[status], "content": {"application/json": {"schema": _ERROR_REF}}}
        for status in statuses
    }


_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_DESCRIPTIONS = {
    400: "Unknown record type or widget, or a bad parameter",
    401: "Missing or invalid bearer token",
    403: "The token lacks the required scope",
    404: "No such record (or widget for this record)",
    503: "Redis is unreachable",
}


def finish_openapi(schema: dict) -> dict:
    """Register the Error model and drop FastAPI's generated 422: validation errors are served as 400."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    components["Error"] = Error.model_json_schema()
    return schema
