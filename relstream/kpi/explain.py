"""The activities behind a record's numbers, newest first, so every figure can be explained."""
from __future__ import annotations

import heapq

from relstream.model import Activity
from relstream.timeutil import format_timestamp

MAX_LISTED = 200


def activity_list(activities: list[Activity]) -> list[dict]:
    latest = heapq.nlargest(MAX_LISTED, activities, key=lambda a: (a.at, a.id))
    return [
        {"id": a.id, "type": a.type, "initiator": "us" if a.by_us else "them",
         "occurred_at": format_timestamp(a.at), "state": a.state, "subject": a.shown_subject,
         "private": a.private}
        for a in latest
    ]
