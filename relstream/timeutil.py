"""RFC 3339 timestamps in, RFC 3339 UTC strings out (SPEC §2, §5)."""
from __future__ import annotations

import re
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone

# Extended format only, explicit offset required (Z/z or ±hh:mm); 'T' may be lower case (SPEC §2).
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_timestamp(text: object) -> datetime | None:
    """The instant in UTC, or None when `text` is not an RFC 3339 date-time with an offset."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    match = _RFC3339.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
        if second == "60":  # leap second: clamp, Python has no :60
            second = "59"
            micro = 999999
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro)
        if offset in ("Z", "z"):
            tz = timezone.utc
        else:
            sign = 1 if offset[0] == "+" else -1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                return None
            tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
        return value.replace(tzinfo=tz).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def to_epoch(moment: datetime) -> float:
    return (moment - EPOCH).total_seconds()


def from_epoch(seconds: float) -> datetime:
    return EPOCH + timedelta(seconds=seconds)


def format_timestamp(moment: datetime | float) -> str:
    """RFC 3339 UTC, second precision unless the instant has a fraction."""
    if not isinstance(moment, datetime):
        return _format_epoch(moment)
    moment = moment.astimezone(timezone.utc)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1 << 16)
def _format_epoch(seconds: float) -> str:
    """Memoised: documents format the same activity instants at every evaluation."""
    return format_timestamp(from_epoch(seconds))


def utc_day(seconds: float) -> date:
    return from_epoch(seconds).date()
