"""The pipeline view's filter and paging: health status → score range (SPEC §4 thresholds) and an opaque cursor.

The cursor is an offset into the filtered, sorted health set, bound to the query it came from; a record whose
score changes between two pages may move across the page boundary (seen twice or skipped), which a live
pipeline view tolerates better than a snapshot would cost.
"""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum

import orjson

from relstream.api.errors import ApiError

# status -> (min, max) in Redis ZRANGEBYSCORE syntax: good >= 60, fair 40..59, poor < 40.
SCORE_RANGES = {"good": ("60", "+inf"), "fair": ("40", "(60"), "poor": ("-inf", "(40")}
ALL = ("-inf", "+inf")


class StatusFilter(StrEnum):
    good = "good"
    fair = "fair"
    poor = "poor"


class Sort(StrEnum):
    health = "health"  # lowest score first: the relationships needing attention
    health_desc = "-health"


def encode_cursor(offset: int, query: list[str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset, "q": query})).decode().rstrip("=")


def decode_cursor(cursor: str, query: list[str]) -> int:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = data["o"]
        valid = isinstance(offset, int) and offset >= 0 and data["q"] == query
    except (binascii.Error, ValueError, TypeError, KeyError):
        valid = False
    if not valid:
        raise ApiError(400, "bad_parameter", "cursor: not a cursor returned by this query (same status and sort)")
    return offset
