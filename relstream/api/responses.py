"""JSON responses serialised with orjson (FastAPI's ORJSONResponse is deprecated; this is the whole of it)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
