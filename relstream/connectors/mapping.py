"""Pieces every row mapping uses: the rejection exception, timestamps, durations, event envelopes."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from relstream.timeutil import format_timestamp, parse_timestamp

ACTIVITY_SCHEMA = "relstream.activity.v1"
INTERACTION_SCHEMA = "relstream.email_interaction.v1"
RECORD_SCHEMA = "relstream.record.v1"
MAX_DURATION_MINUTES = 1440
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class MalformedRow(Exception):
    """A row that cannot become a valid event; it goes to the connector dead letter, the sync goes on."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def instant(value: object, field: str) -> datetime | None:
    """An API date-time (RFC 3339, or a date-only value as midnight UTC); None when absent."""
    if value is None:
        return None
    if isinstance(value, str) and _DATE_ONLY.match(value):
        value += "T00:00:00Z"
    moment = parse_timestamp(value)
    if moment is None:
        raise MalformedRow(f"{field}: {value!r} is not an RFC 3339 date-time")
    return moment


def timestamp(value: object, field: str) -> str | None:
    moment = instant(value, field)
    return None if moment is None else format_timestamp(moment)


def first_instant(row: dict, *fields: str) -> datetime:
    for field in fields:
        moment = instant(row.get(field), field)
        if moment is not None:
            return moment
    raise MalformedRow(f"no time: none of {', '.join(fields)} is set")


def minutes(value: object) -> float | None:
    """A duration clamped to SPEC's 0..1440 minutes (a multi-day event counts as one full day)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedRow(f"duration {value!r} is not a number")
    return float(min(max(value, 0), MAX_DURATION_MINUTES))


def epoch_millis(moment: datetime) -> int:
    return int(moment.astimezone(timezone.utc).timestamp() * 1000)


def activity_delete(activity_id: str, source: str, version: int) -> dict:
    return {"schema": ACTIVITY_SCHEMA, "op": "delete", "id": activity_id, "source": source, "version": version}


def record_delete(record_type: str, record_id: str, version: int) -> dict:
    return {"schema": RECORD_SCHEMA, "op": "delete", "type": record_type, "id": record_id, "version": version}
