"""Relationship health: recency, activity, reciprocity and responsiveness in one 0-100 score."""
from __future__ import annotations

from datetime import timedelta

from relstream.kpi.context import DAY, Clock, completed_until
from relstream.kpi.response import emails_from
from relstream.model import Activity
from relstream.timeutil import format_timestamp

MIN_ACTIVITIES = 3
TREND_LOOKBACK = timedelta(days=14)
TREND_THRESHOLD = 5
ACTIVITY_WINDOW_DAYS = 30


def score_at(activities: list[Activity], clock: Clock) -> int | None:
    """The health score evaluated at `clock.as_of`; None with fewer than 3 completed activities ever."""
    return _score(completed_until(activities, clock.as_of), clock)


def _score(done: list[Activity], clock: Clock) -> int | None:
    """`score_at` from the activities completed by `clock.as_of` (the caller has them already)."""
    if len(done) < MIN_ACTIVITIES:
        return None
    as_of, frequency = clock.as_of, clock.params.frequency_days
    last = max(a.at for a in done)
    recency = min(1.0, max(0.0, 1.0 - ((as_of - last) / DAY) / (4 * frequency)))
    since = as_of - ACTIVITY_WINDOW_DAYS * DAY
    weights = clock.params.weights
    weighted = sum(weights[a.type] for a in done if a.at > since)
    activity = min(1.0, weighted / (ACTIVITY_WINDOW_DAYS / frequency))
    start = clock.window_start
    window = [a for a in done if a.at >= start]  # in_window: `done` is completed and not after as_of
    ours = sum(1 for a in window if a.by_us)
    theirs = len(window) - ours
    reciprocity = min(1.0, 2 * theirs / (ours + theirs)) if window else 0.0
    ours_sent = emails_from(window, us=True)  # P: their response rate, exact (rounding is for output only)
    answered = sum(1 for e in ours_sent if e.first_answer_at is not None and e.first_answer_at <= as_of)
    responsiveness = answered / len(ours_sent) if ours_sent else 0.5
    return round(100 * (0.3 * recency + 0.3 * activity + 0.2 * reciprocity + 0.2 * responsiveness))


def status_of(score: int | None) -> str:
    if score is None:
        return "not_enough_info"
    return "good" if score >= 60 else "fair" if score >= 40 else "poor"


def trend_of(now: int | None, then: int | None) -> str:
    if now is None or then is None:
        return "not_enough_info"
    change = now - then
    return "improving" if change >= TREND_THRESHOLD else "declining" if change <= -TREND_THRESHOLD else "steady"


def _moment(activity: Activity | None) -> dict | None:
    if activity is None:
        return None
    return {"at": format_timestamp(activity.at), "type": activity.type, "subject": activity.shown_subject}


def relationship_health(activities: list[Activity], clock: Clock) -> dict:
    done = completed_until(activities, clock.as_of)
    score = _score(done, clock)
    earlier = clock.shifted(-TREND_LOOKBACK)
    earlier_score = _score([a for a in done if a.at <= earlier.as_of], earlier)
    upcoming = [a for a in activities if a.state == "scheduled" and a.at >= clock.as_of]
    return {
        "score": score,
        "status": status_of(score),
        "trend": trend_of(score, earlier_score),
        "last_interaction": _moment(max(done, key=lambda a: (a.at, a.id), default=None)),
        "next_interaction": _moment(min(upcoming, key=lambda a: (a.at, a.id), default=None)),
    }
