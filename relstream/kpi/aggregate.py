"""A record's widgets kept current activity by activity: a change costs its activity, a document its output.

`build_widgets` reads a record's whole history at every evaluation (2–5 ms for an account with 900
activities, by machine), and under steady load nearly every record changes every second. A `RecordAggregate` keeps
what the widgets are made of — counts per type and side, exact sums, per-person tallies, sorted instants
and reply delays — for one UTC day (every window is whole days) and renders the widgets from them through
the same output functions as `build_widgets`, so both agree to the bit (tests/test_property_aggregate.py).

An activity counts once its contribution stops moving with the clock: when it, its replies and its opens
are all past. Until then (a clock behind the data, e.g. a frozen test clock) the record is evaluated by
`build_widgets`. A new UTC day, or a clock going backwards, rebuilds the aggregate from its activities.
"""
from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from fractions import Fraction
from typing import Any

from relstream.kpi.context import DAY, Clock, day_start
from relstream.kpi.document import build_widgets, assemble_widgets
from relstream.kpi.health import ACTIVITY_WINDOW_DAYS, TREND_LOOKBACK, health_of, health_score
from relstream.kpi.interactions import DAILY_SERIES_DAYS, TYPES, count_day, daily_rows, time_spent_of
from relstream.kpi.people import Tally, count_person, decay_units, strength_at
from relstream.kpi.response import engagement_figures, engagement_of, is_tracked, response_time_of
from relstream.model import THEM, US, Activity, Person, RecordInfo, WonDeal

NEVER = float("inf")


def settles_at(activity: Activity) -> float:
    """From this instant on, the activity's contribution no longer depends on the clock."""
    return max((activity.at, *(r.at for r in activity.replies), *(i.at for i in activity.interactions)))


def place(ordered: list, item: Any, step: int) -> None:
    """Insert (step 1) or remove (step -1) `item` in a sorted list."""
    if step > 0:
        insort(ordered, item)
    else:
        del ordered[bisect_left(ordered, item)]


def between(ordered: list[float], low: float, high: float, low_inclusive: bool = True) -> int:
    """How many instants of a sorted list lie in [low, high] (or (low, high])."""
    first = bisect_left(ordered, low) if low_inclusive else bisect_right(ordered, low)
    return max(0, bisect_right(ordered, high) - first)


LIST_VERSIONS = itertools.count(1)  # unique across aggregates: a new aggregate never repeats an old version


class RecordAggregate:
    def __init__(self, listed: int) -> None:
        self.activities: dict[str, Activity] = {}
        self.listed: list[tuple[float, str]] = []  # every live activity by (at, id): the newest are listed
        self.list_size = listed
        self.list_version = next(LIST_VERSIONS)  # changes whenever the newest `listed` activities do
        self.scheduled: list[tuple[float, str]] = []  # the next interaction is the first not before as_of
        self._reset(None)

    def _reset(self, clock: Clock | None) -> None:
        """Empty parts for `clock`'s day; every completed activity waits to be counted again."""
        self.day: float | None = None if clock is None else clock.today_start  # None: built at the next render
        self.window_start = NEVER if clock is None else clock.window_start
        self.series_start = NEVER if clock is None else clock.days_back_start(DAILY_SERIES_DAYS)
        self.as_of = -NEVER
        # every settled completed activity (health reads all of history)
        self.done: list[tuple[float, str]] = []
        self.done_by_type: dict[str, list[float]] = {kind: [] for kind in TYPES}
        self.done_by_side: dict[bool, list[float]] = {True: [], False: []}
        self.our_emails: list[tuple[float, float]] = []  # (at, first answer or NEVER)
        self.days: dict[int, list[int]] = {}  # the 60-day series
        # the settled completed activities of the window
        self.kinds: Counter = Counter()
        self.minutes = [Fraction(0), Fraction(0)]  # ours, theirs: exact, so removal leaves no residue
        self.delays: dict[bool, list[float]] = {True: [], False: []}  # first-response delays by sender side
        self.tracked = 0
        self.engaged: Counter = Counter()
        self.total_opens = 0
        self.last_opens: list[float] = []  # each tracked e-mail's last open
        self.people: dict[str, dict[str, Tally]] = {US: {}, THEM: {}}
        self.members: dict[tuple[str, str], set[str]] = {}  # (side, person) -> its window activities
        # completed activity id -> when it settles (counted from then)
        self.waiting: dict[str, float] = {a.id: settles_at(a) for a in self.activities.values() if a.state == "completed"}

    # -- changes ---------------------------------------------------------------------------------
    def put(self, activity: Activity) -> None:
        """A new activity, or a new revision of one (its previous facts are taken out first)."""
        self.drop(activity.id)
        self.activities[activity.id] = activity
        key = (activity.at, activity.id)
        insort(self.listed, key)
        self._touch_list(key)
        if activity.state == "scheduled":
            insort(self.scheduled, (activity.at, activity.id))
        elif activity.state == "completed":
            self.waiting[activity.id] = settles_at(activity)

    def drop(self, activity_id: str) -> None:
        activity = self.activities.pop(activity_id, None)
        if activity is None:
            return
        self._touch_list((activity.at, activity.id))
        place(self.listed, (activity.at, activity.id), -1)
        if activity.state == "scheduled":
            place(self.scheduled, (activity.at, activity.id), -1)
        elif activity.state == "completed" and self.waiting.pop(activity_id, None) is None:
            self._count(activity, -1)

    def __len__(self) -> int:
        return len(self.activities)

    def _touch_list(self, key: tuple[float, str]) -> None:
        """A new or leaving activity among the newest `list_size` (in `listed`) changes the list."""
        if len(self.listed) <= self.list_size or key >= self.listed[-self.list_size]:
            self.list_version = next(LIST_VERSIONS)

    def latest(self) -> list[Activity]:
        """The newest `list_size` activities, newest first (ties by id)."""
        return [self.activities[activity_id] for _, activity_id in reversed(self.listed[-self.list_size:])]

    def _count(self, a: Activity, step: int) -> None:
        """Add (step 1) or take out (step -1) a settled completed activity's part of every figure."""
        at = a.at
        place(self.done, (at, a.id), step)
        place(self.done_by_type[a.type], at, step)
        place(self.done_by_side[a.by_us], at, step)
        if a.type == "email" and a.by_us:
            place(self.our_emails, (at, NEVER if a.first_answer_at is None else a.first_answer_at), step)
        if at >= self.series_start:
            count_day(self.days, a, self.series_start, step)
        if at < self.window_start:
            return
        self.kinds[(a.type, a.by_us)] += step
        self.minutes[0] += step * Fraction(a.minutes_us)
        self.minutes[1] += step * Fraction(a.minutes_them)
        if a.type == "email" and a.first_answer_at is not None:
            place(self.delays[a.by_us], (a.first_answer_at - at) / 3600.0, step)
        if is_tracked(a):
            kinds, opens = engagement_of(a, NEVER)
            self.tracked += step
            self.engaged.update({kind: step for kind in kinds})
            self.total_opens += step * len(opens)
            if opens:
                place(self.last_opens, max(opens), step)
        units = decay_units(at, self.day)
        for person in a.people:
            if person.side in self.people:
                self._count_person(person, a, units, step)

    def _count_person(self, person: Person, a: Activity, units: int, step: int) -> None:
        side, key = self.people[person.side], (person.side, person.id)
        members = self.members.setdefault(key, set())
        t = side.get(person.id)
        if step > 0:
            if t is None:
                t = side[person.id] = Tally(person.id)
            count_person(t, a, person.name, units)
            members.add(a.id)
            return
        members.discard(a.id)
        if not members:
            del side[person.id], self.members[key]
        elif a.at == t.last_at or (a.at, a.id) == t.name_key:  # its newest went: count the others again
            t = side[person.id] = Tally(person.id)
            for other in (self.activities[member] for member in members):
                named = next(p.name for p in other.people if p.id == person.id and p.side == person.side)
                count_person(t, other, named, decay_units(other.at, self.day))
        else:
            t.count -= 1
            t.by_type[a.type] -= 1
            t.units -= units

    # -- rendering -------------------------------------------------------------------------------
    def widgets(self, record_type: str, clock: Clock, record: RecordInfo | None = None,
                won_deals: list[WonDeal] = ()) -> dict:
        """Exactly `build_widgets(record_type, <the live activities>, clock, record, won_deals)`."""
        as_of = clock.as_of
        if day_start(as_of) != self.day or as_of < self.as_of:
            self._reset(clock)
        self.as_of = as_of
        for activity_id, settles in list(self.waiting.items()):
            if settles <= as_of:
                del self.waiting[activity_id]
                self._count(self.activities[activity_id], 1)
        if self.waiting:  # its figures still move with the clock
            return build_widgets(record_type, list(self.activities.values()), clock, record, won_deals)
        for side in self.people.values():
            for t in side.values():
                t.strength = strength_at(t.units, as_of)
        return assemble_widgets(
            record_type, record, won_deals, kinds=self.kinds,
            people={side: list(tallies.values()) for side, tallies in self.people.items()},
            rows=daily_rows(self.days, self.series_start),
            engagement=engagement_figures(self.tracked, self.engaged, self.total_opens,
                                          self.last_opens[-1] if self.last_opens else None),
            spent=time_spent_of(float(self.minutes[0]), float(self.minutes[1])),
            responses=response_time_of(self.delays[False], self.kinds[("email", False)],
                                       self.delays[True], self.kinds[("email", True)]),
            health=self._health(clock),
        )

    def _health(self, clock: Clock) -> dict:
        earlier = clock.shifted(-TREND_LOOKBACK)
        last = self.activities[self.done[-1][1]] if self.done else None
        i = bisect_left(self.scheduled, (clock.as_of,))
        upcoming = self.activities[self.scheduled[i][1]] if i < len(self.scheduled) else None
        return health_of(self._score(clock), self._score(earlier), last, upcoming)

    def _score(self, clock: Clock) -> int | None:
        """`health._score` at `clock.as_of` (now or 14 days ago) from the sorted instants."""
        as_of, start = clock.as_of, clock.window_start
        completed = bisect_right(self.done, as_of, key=lambda instant_id: instant_id[0])
        if completed == 0:
            return None
        since = as_of - ACTIVITY_WINDOW_DAYS * DAY
        recent = {kind: between(ats, since, as_of, low_inclusive=False) for kind, ats in self.done_by_type.items()}
        ours = between(self.done_by_side[True], start, as_of)
        theirs = between(self.done_by_side[False], start, as_of)
        first, last = bisect_left(self.our_emails, (start,)), bisect_right(self.our_emails, (as_of, NEVER))
        sent = self.our_emails[first:last]
        answered = sum(1 for _, answer in sent if answer <= as_of)
        return health_score(clock, completed, self.done[completed - 1][0], recent, ours, theirs, len(sent), answered)
