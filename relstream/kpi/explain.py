"""The activities behind a record's numbers (the newest MAX_LISTED, `RecordAggregate.latest`), so every figure
can be explained."""
from __future__ import annotations

from relstream.model import Activity
from relstream.timeutil import format_timestamp

MAX_LISTED = 200


def activity_row(a: Activity) -> dict:
    return {"id": a.id, "type": a.type, "initiator": "us" if a.by_us else "them",
            "occurred_at": format_timestamp(a.at), "state": a.state, "subject": a.shown_subject,
            "private": a.private}

