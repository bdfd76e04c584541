"""How much we talk, who initiates, how long it takes: counts, ratios, daily series, time spent."""
from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from relstream.kpi.context import DAY, Clock, completed_until, hours, ratio
from relstream.model import Activity
from relstream.timeutil import from_epoch

TYPES = ("email", "meeting", "phone_call")
DAILY_SERIES_DAYS = 60
# relationship_activities column per (type, initiated by us?)
DAILY_COLUMNS = {
    ("email", True): "email_sent", ("email", False): "email_received",
    ("meeting", True): "meeting_sent", ("meeting", False): "meeting_received",
    ("phone_call", True): "call_made", ("phone_call", False): "call_received",
}
COLUMN_NAMES = tuple(DAILY_COLUMNS.values())
COLUMN_INDEX = {key: COLUMN_NAMES.index(name) for key, name in DAILY_COLUMNS.items()}
NO_ACTIVITY = dict.fromkeys(COLUMN_NAMES, 0)


def customer_interactions(window: list[Activity]) -> dict:
    counts = {kind: {"by_us": 0, "by_them": 0} for kind in TYPES}
    for activity in window:
        counts[activity.type]["by_us" if activity.by_us else "by_them"] += 1
    return counts


def email_ratio(window: list[Activity]) -> dict:
    ours = sum(1 for a in window if a.type == "email" and a.by_us)
    theirs = sum(1 for a in window if a.type == "email" and not a.by_us)
    return {"by_them": ratio(theirs, ours), "by_us": ratio(ours, theirs)}


def relationship_activities(activities: list[Activity], clock: Clock) -> list[dict]:
    """60 daily rows, oldest first; its own 60-day window."""
    start = clock.days_back_start(DAILY_SERIES_DAYS)
    counts: dict[int, list[int]] = {}  # only the days with activities (most of the 60 have none)
    for activity in completed_until(activities, clock.as_of):
        if activity.at >= start:
            day = counts.setdefault(int((activity.at - start) // DAY), [0] * len(COLUMN_NAMES))
            day[COLUMN_INDEX[(activity.type, activity.by_us)]] += 1
    rows = list(_empty_rows(start))
    for i, day in counts.items():
        rows[i] = {"day": rows[i]["day"], **dict(zip(COLUMN_NAMES, day))}
    return rows


@lru_cache(maxsize=8)
def _empty_rows(start: float) -> tuple[dict, ...]:
    """The 60 rows without activity, built once per day and shared by every document (documents are
    serialised, never modified): most days of most records have no activity."""
    first_day = from_epoch(start).date()
    return tuple({"day": (first_day + timedelta(days=i)).isoformat(), **NO_ACTIVITY} for i in range(DAILY_SERIES_DAYS))


def time_spent(window: list[Activity]) -> dict:
    ours = sum(a.minutes_us for a in window)
    theirs = sum(a.minutes_them for a in window)
    return {"by_us": ours, "by_them": theirs, "by_us_hours": hours(ours), "by_them_hours": hours(theirs)}
