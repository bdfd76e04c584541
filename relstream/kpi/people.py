"""Who talks to whom: most contacted (them), most contacted by (us), who knows whom (strength)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from relstream.kpi.context import DAY, day_start
from relstream.model import Activity, THEM, US
from relstream.timeutil import format_timestamp

HALF_LIFE_DAYS = 90.0
UNIT_BITS = 60


@dataclass(slots=True)
class Tally:
    id: str
    count: int = 0
    by_type: dict = field(default_factory=lambda: {"email": 0, "meeting": 0, "phone_call": 0})
    last_at: float = float("-inf")
    strength: float = 0.0
    name: str | None = None
    name_key: tuple = ()  # (at, activity id) of the activity the name came from
    units: int = 0  # sum of `decay_units` of the person's activities


def decay_units(at: float, day: float) -> int:
    """2^((at - day) / half-life) in units of 2^-60: integers add and subtract exactly, so a strength kept
    up to date activity by activity (`aggregate`) equals one summed from scratch, whatever the order."""
    return int(math.ldexp(2.0 ** ((at - day) / (HALF_LIFE_DAYS * DAY)), UNIT_BITS))


def strength_at(units: int, as_of: float) -> float:
    """Σ 0.5^((as_of - at) / half-life) from the units, which are relative to the start of as_of's day."""
    return units / (1 << UNIT_BITS) * 0.5 ** ((as_of - day_start(as_of)) / (HALF_LIFE_DAYS * DAY))


def count_person(t: Tally, activity: Activity, name: str | None, units: int) -> None:
    """One more activity of the person: every figure of its tally."""
    at = activity.at
    t.count += 1
    t.by_type[activity.type] += 1
    if at > t.last_at:
        t.last_at = at
    t.units += units
    if name is not None and (at, activity.id) > t.name_key:
        t.name, t.name_key = name, (at, activity.id)


def tally(window: list[Activity], as_of: float) -> dict[str, list[Tally]]:
    """Per-person tallies of both sides in one pass (three widgets read them)."""
    tallies: dict[str, dict[str, Tally]] = {US: {}, THEM: {}}
    day = day_start(as_of)
    for activity in window:
        units = decay_units(activity.at, day)
        for person in activity.people:
            side = tallies.get(person.side)
            if side is None:
                continue
            t = side.get(person.id)
            if t is None:
                t = side[person.id] = Tally(person.id)
            count_person(t, activity, person.name, units)
    for people in tallies.values():
        for t in people.values():
            t.strength = strength_at(t.units, as_of)
    return {side: list(people.values()) for side, people in tallies.items()}


def _contact_card(t: Tally) -> dict:
    return {"id": t.id, "name": t.name, "count": t.count, "by_type": t.by_type, "last_interaction_at": format_timestamp(t.last_at)}


def top_contacted(tallies: list[Tally]) -> list[dict]:
    """Top 3 by count desc, last interaction desc, id asc."""
    ranked = sorted(tallies, key=lambda t: t.id)
    ranked.sort(key=lambda t: (t.count, t.last_at), reverse=True)
    return [_contact_card(t) for t in ranked[:3]]


def strongest(tallies: list[Tally]) -> list[dict]:
    """Top 5 internal people by recency-decayed strength (half-life 90 days), ties by id."""
    ranked = sorted(tallies, key=lambda t: (-t.strength, t.id))
    return [
        {"id": t.id, "name": t.name, "strength": round(t.strength, 2), "count": t.count,
         "last_interaction_at": format_timestamp(t.last_at)}
        for t in ranked[:5]
    ]


def most_contacted(window: list[Activity], as_of: float, side: str = THEM) -> list[dict]:
    return top_contacted(tally(window, as_of)[side])


def most_contacted_by(window: list[Activity], as_of: float) -> list[dict]:
    return most_contacted(window, as_of, side=US)


def who_knows_whom(window: list[Activity], as_of: float) -> list[dict]:
    return strongest(tally(window, as_of)[US])
