"""The evaluation instant and the settings every widget shares, plus the spec's rounding rules."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Iterable, Mapping

from relstream.model import Activity

DAY = 86400.0
DEFAULT_WEIGHTS = {"email": 1.0, "meeting": 1.0, "phone_call": 1.0}


@dataclass(frozen=True)
class Params:
    window_days: int = 365
    frequency_days: float = 7.0
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))


@dataclass(frozen=True)
class Clock:
    """`as_of` and the day boundaries derived from it: every window is whole UTC days."""

    as_of: float
    params: Params = field(default_factory=Params)

    @property
    def today_start(self) -> float:
        return day_start(self.as_of)

    def days_back_start(self, days: int) -> float:
        """Start of the day `days - 1` days before today: the first instant of a `days`-day window."""
        return self.today_start - (days - 1) * DAY

    @property
    def window_start(self) -> float:
        return self.days_back_start(self.params.window_days)

    def at(self, as_of: float) -> "Clock":
        return replace(self, as_of=as_of)

    def shifted(self, delta: timedelta) -> "Clock":
        return self.at(self.as_of + delta.total_seconds())


def day_start(as_of: float) -> float:
    """Start of the UTC day of `as_of` (POSIX days are 86,400 s: no calendar needed)."""
    return as_of - as_of % DAY


def completed_until(activities: Iterable[Activity], as_of: float) -> list[Activity]:
    return [a for a in activities if a.state == "completed" and a.at <= as_of]


def in_window(activities: Iterable[Activity], clock: Clock) -> list[Activity]:
    """Completed activities on the window's days, up to as_of (the default scope of a KPI)."""
    start = clock.window_start
    return [a for a in activities if a.state == "completed" and start <= a.at <= clock.as_of]


def ratio(numerator: int, denominator: int) -> float | None:
    """A ratio of integers, rounded half-even on its exact value (23/40 -> 0.58); None when undefined.

    Integer arithmetic (what `round(Fraction(n, d), 2)` does, without its cost: documents hold dozens)."""
    if denominator == 0:
        return None
    hundredths, remainder = divmod(100 * numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and hundredths % 2):
        hundredths += 1
    return hundredths / 100


def round2(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def hours(minutes: float) -> float:
    return round(minutes / 60.0, 2)
