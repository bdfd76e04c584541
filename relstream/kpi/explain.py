"""The activities behind a record's numbers, newest first, so every figure can be explained."""
from __future__ import annotations

import heapq
from typing import Callable

from relstream.model import Activity
from relstream.timeutil import format_timestamp

MAX_LISTED = 200


def activity_row(a: Activity) -> dict:
    return {"id": a.id, "type": a.type, "initiator": "us" if a.by_us else "them",
            "occurred_at": format_timestamp(a.at), "state": a.state, "subject": a.shown_subject,
            "private": a.private}


def activity_list(activities: list[Activity], row: Callable[[Activity], dict] = activity_row) -> list[dict]:
    """The latest MAX_LISTED; `row` renders one (the projector passes a memoised `activity_row`)."""
    return [row(a) for a in heapq.nlargest(MAX_LISTED, activities, key=lambda a: (a.at, a.id))]
