"""How much we talk, who initiates, how long it takes: counts, ratios, daily series, time spent."""
from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from functools import lru_cache
from typing import Mapping

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


KindCounts = Mapping[tuple[str, bool], int]  # activities per (type, initiated by us?)


def count_kinds(window: list[Activity]) -> Counter:
    return Counter((a.type, a.by_us) for a in window)


def interactions_of(counts: KindCounts) -> dict:
    return {kind: {"by_us": counts.get((kind, True), 0), "by_them": counts.get((kind, False), 0)} for kind in TYPES}


def email_ratio_of(counts: KindCounts) -> dict:
    ours, theirs = counts.get(("email", True), 0), counts.get(("email", False), 0)
    return {"by_them": ratio(theirs, ours), "by_us": ratio(ours, theirs)}


def customer_interactions(window: list[Activity]) -> dict:
    return interactions_of(count_kinds(window))


def email_ratio(window: list[Activity]) -> dict:
    return email_ratio_of(count_kinds(window))


def count_day(days: dict[int, list[int]], activity: Activity, start: float, step: int = 1) -> None:
    """Add `step` to the activity's column on its day of the series starting at `start`."""
    day = days.setdefault(int((activity.at - start) // DAY), [0] * len(COLUMN_NAMES))
    day[COLUMN_INDEX[(activity.type, activity.by_us)]] += step


def relationship_activities(activities: list[Activity], clock: Clock) -> list[dict]:
    """60 daily rows, oldest first; its own 60-day window."""
    start = clock.days_back_start(DAILY_SERIES_DAYS)
    days: dict[int, list[int]] = {}  # only the days with activities (most of the 60 have none)
    for activity in completed_until(activities, clock.as_of):
        if activity.at >= start:
            count_day(days, activity, start)
    return daily_rows(days, start)


def daily_rows(days: dict[int, list[int]], start: float) -> list[dict]:
    rows = list(_empty_rows(start))
    for i, day in days.items():
        rows[i] = {"day": rows[i]["day"], **dict(zip(COLUMN_NAMES, day))}
    return rows


@lru_cache(maxsize=8)
def _empty_rows(start: float) -> tuple[dict, ...]:
    """The 60 rows without activity, built once per day and shared by every document (documents are
    serialised, never modified): most days of most records have no activity."""
    first_day = from_epoch(start).date()
    return tuple({"day": (first_day + timedelta(days=i)).isoformat(), **NO_ACTIVITY} for i in range(DAILY_SERIES_DAYS))


def time_spent(window: list[Activity]) -> dict:
    """Sums exactly rounded (`fsum`): the same in any order, as the aggregate's exact sums."""
    return time_spent_of(math.fsum(a.minutes_us for a in window), math.fsum(a.minutes_them for a in window))


def time_spent_of(ours: float, theirs: float) -> dict:
    return {"by_us": ours, "by_them": theirs, "by_us_hours": hours(ours), "by_them_hours": hours(theirs)}
