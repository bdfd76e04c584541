"""Relationship health: recency, activity, reciprocity and responsiveness in one 0-100 score."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Mapping

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
    since = clock.as_of - ACTIVITY_WINDOW_DAYS * DAY
    recent = Counter(a.type for a in done if a.at > since)
    start = clock.window_start
    window = [a for a in done if a.at >= start]  # in_window: `done` is completed and not after as_of
    ours = sum(1 for a in window if a.by_us)
    ours_sent = emails_from(window, us=True)
    answered = sum(1 for e in ours_sent if e.first_answer_at is not None and e.first_answer_at <= clock.as_of)
    return health_score(clock, len(done), max(a.at for a in done), recent, ours, len(window) - ours,
                        len(ours_sent), answered)


def health_score(clock: Clock, completed: int, last_at: float, recent: Mapping[str, int], ours: int, theirs: int,
                 sent: int, answered: int) -> int | None:
    """The score from its parts at `clock.as_of`: completed activities ever, the last one's time, completed
    activities per type in the last 30 days, window activities per side, our window e-mails and how many
    of them were answered."""
    if completed < MIN_ACTIVITIES:
        return None
    frequency = clock.params.frequency_days
    recency = min(1.0, max(0.0, 1.0 - ((clock.as_of - last_at) / DAY) / (4 * frequency)))
    weights = clock.params.weights
    weighted = sum(weights[kind] * recent.get(kind, 0) for kind in weights)  # per type: the same in any order
    activity = min(1.0, weighted / (ACTIVITY_WINDOW_DAYS / frequency))
    reciprocity = min(1.0, 2 * theirs / (ours + theirs)) if ours + theirs else 0.0
    responsiveness = answered / sent if sent else 0.5  # P: their response rate, exact (rounding is for output)
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
    earlier = clock.shifted(-TREND_LOOKBACK)
    upcoming = [a for a in activities if a.state == "scheduled" and a.at >= clock.as_of]
    return health_of(_score(done, clock), _score([a for a in done if a.at <= earlier.as_of], earlier),
                     max(done, key=lambda a: (a.at, a.id), default=None),
                     min(upcoming, key=lambda a: (a.at, a.id), default=None))


def health_of(score: int | None, earlier_score: int | None, last: Activity | None, upcoming: Activity | None) -> dict:
    return {
        "score": score,
        "status": status_of(score),
        "trend": trend_of(score, earlier_score),
        "last_interaction": _moment(last),
        "next_interaction": _moment(upcoming),
    }
