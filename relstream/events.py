"""Input validation (SPEC §2): raw Kafka bytes in, one normalised event dict out, or an InvalidEvent.

The normalised forms are plain dicts (they travel between stages as orjson) with timestamps as epoch
seconds, `source` as a string ("" when missing) and only the fields the KPIs use. Nothing here does I/O.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any, Callable

import orjson

from relstream.timeutil import parse_timestamp, to_epoch

MAX_MESSAGE_BYTES = 1024 * 1024
ACTIVITY_SCHEMA = "relstream.activity.v1"
INTERACTION_SCHEMA = "relstream.email_interaction.v1"
RECORD_SCHEMA = "relstream.record.v1"
ACTIVITY_TYPES = ("email", "meeting", "phone_call")
ACTIVITY_STATES = ("completed", "scheduled", "canceled")
RECORD_TYPES = ("contact", "account", "opportunity", "lead")
PARTY_KINDS = ("user", "contact", "lead", "unknown")
SIDES = ("internal", "external")
INTERACTION_KINDS = ("opened", "link_clicked", "attachment_viewed")
RECORD_STATUSES = {"opportunity": ("open", "won", "lost"), "lead": ("open", "qualified", "disqualified")}
MAX_VERSION = 2**63 - 1
# Timestamps outside these bounds are clock or encoding errors, not CRM history (SPEC §2.4 "out-of-range").
EARLIEST = parse_timestamp("1970-01-01T00:00:00Z")
LATEST = parse_timestamp("2199-12-31T23:59:59Z")
COMPLETED_FUTURE_TOLERANCE = timedelta(hours=24)


class InvalidEvent(Exception):
    """A message that must go to the dead-letter topic; `reason` is written for an operator."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def code(self) -> str:
        """A short, bounded category of the reason (metric label): `field:occurred_at`, `not_json`, ..."""
        named = _NAMED_PART.match(self.reason)
        if named:
            return "field:" + _INDEX.sub("", named.group(1) or named.group(2))
        return next((code for prefix, code in _REASON_CODES if self.reason.startswith(prefix)), "other")


_INDEX = re.compile(r"\[\d+\]")
_NAMED_PART = re.compile(r"^(?:field|party) '([^']{1,40})'|^(regarding):")
_REASON_CODES = (
    ("message of", "too_large"), ("not valid UTF-8 JSON", "not_json"), ("JSON nested", "too_deep"),
    ("message must be a JSON object", "not_object"), ("unknown schema", "unknown_schema"),
    ("completed activity dated", "completed_in_future"), ("empty message", "empty"),
)


def _string(obj: dict, name: str, *, required: bool = False) -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise InvalidEvent(f"field '{name}' is required")
        return None
    if not isinstance(value, str):
        raise InvalidEvent(f"field '{name}' must be a string, got {type(value).__name__}")
    if required and not value:
        raise InvalidEvent(f"field '{name}' must not be empty")
    return value


def _boolean(obj: dict, name: str) -> bool:
    value = obj.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidEvent(f"field '{name}' must be true or false, got {type(value).__name__}")
    return value


def _enum(obj: dict, name: str, allowed: tuple[str, ...]) -> str:
    value = obj.get(name)
    if value not in allowed or not isinstance(value, str):
        raise InvalidEvent(f"field '{name}' must be one of {', '.join(allowed)}; got {_show(value)}")
    return value


def _version(obj: dict) -> int:
    value = obj.get("version")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEvent(f"field 'version' must be an integer >= 0; got {_show(value)}")
    if not 0 <= value <= MAX_VERSION:
        raise InvalidEvent(f"field 'version' out of range 0..2^63-1: {value}")
    return value


def _timestamp(obj: dict, name: str, *, required: bool = False) -> float | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise InvalidEvent(f"field '{name}' is required")
        return None
    moment = parse_timestamp(value)
    if moment is None:
        raise InvalidEvent(
            f"field '{name}' is not an RFC 3339 date-time with offset (e.g. 2026-11-02T09:30:00Z): {_show(value)}"
        )
    if not EARLIEST <= moment <= LATEST:
        raise InvalidEvent(f"field '{name}' out of range 1970..2199: {value}")
    return to_epoch(moment)


def _number(obj: dict, name: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidEvent(f"field '{name}' must be a number; got {_show(value)}")
    return float(value)


def _string_list(obj: dict, name: str) -> list[str]:
    value = obj.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidEvent(f"field '{name}' must be a list of strings")
    return value


def _show(value: Any) -> str:
    """A short, safe rendering of a bad value for the reason text (containers may be nested deeply)."""
    if isinstance(value, (list, dict)):
        return f"a JSON {'array' if isinstance(value, list) else 'object'}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _party(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidEvent(f"party '{where}' must be an object")
    try:
        return {
            "id": _string(value, "id", required=True),
            "side": _enum(value, "side", SIDES),
            "kind": "unknown" if value.get("kind") is None else _enum(value, "kind", PARTY_KINDS),
            "name": _string(value, "name"),
            "email": _string(value, "email"),
            "account_id": _string(value, "account_id"),
        }
    except InvalidEvent as exc:
        raise InvalidEvent(f"party '{where}': {exc.reason}") from None


def _parties(obj: dict, name: str) -> list[dict]:
    value = obj.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidEvent(f"field '{name}' must be a list of parties")
    return [_party(item, f"{name}[{index}]") for index, item in enumerate(value)]


def _regarding(obj: dict) -> dict | None:
    value = obj.get("regarding")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidEvent("field 'regarding' must be an object {type, id, account_id?}")
    try:
        return {
            "type": _enum(value, "type", RECORD_TYPES),
            "id": _string(value, "id", required=True),
            "account_id": _string(value, "account_id"),
        }
    except InvalidEvent as exc:
        raise InvalidEvent(f"regarding: {exc.reason}") from None


def _activity(obj: dict, now: datetime) -> dict:
    op = _enum(obj, "op", ("upsert", "delete"))
    event = {
        "kind": "activity",
        "op": op,
        "id": _string(obj, "id", required=True),
        "version": _version(obj),
        "source": _string(obj, "source") or "",
    }
    if op == "delete":
        return event
    kind = _enum(obj, "type", ACTIVITY_TYPES)
    state = _enum(obj, "state", ACTIVITY_STATES)
    occurred = _timestamp(obj, "occurred_at", required=True)
    if state == "completed" and occurred > to_epoch(now + COMPLETED_FUTURE_TOLERANCE):
        raise InvalidEvent(
            f"completed activity dated {obj['occurred_at']}, more than 24 h after processing time "
            f"{now.isoformat()} (sender clock error?)"
        )
    duration = 0.0
    if kind != "email":
        duration = _number(obj, "duration_minutes") or 0.0
        if not 0 <= duration <= 1440:
            raise InvalidEvent(f"field 'duration_minutes' must be between 0 and 1440; got {duration:g}")
    if "from" not in obj or obj["from"] is None:
        raise InvalidEvent("field 'from' is required (exactly one party)")
    event.update(
        type=kind,
        state=state,
        t=occurred,
        dur=duration,
        subject=_string(obj, "subject"),
        private=_boolean(obj, "private"),
        tracked=_boolean(obj, "tracked"),
        sender=_party(obj["from"], "from"),
        to=_parties(obj, "to"),
        cc=_parties(obj, "cc"),
        regarding=_regarding(obj),
        in_reply_to=_string(obj, "in_reply_to"),
        conversation_id=_string(obj, "conversation_id"),
    )
    _parties(obj, "bcc")  # validated for type, never used (privacy, SPEC §2.1)
    return event


def _interaction(obj: dict, now: datetime) -> dict:
    return {
        "kind": "interaction",
        "id": _string(obj, "id", required=True),
        "email_id": _string(obj, "email_id", required=True),
        "type": _enum(obj, "kind", INTERACTION_KINDS),
        "at": _timestamp(obj, "at", required=True),
    }


def _record(obj: dict, now: datetime) -> dict:
    op = _enum(obj, "op", ("upsert", "delete"))
    record_type = _enum(obj, "type", RECORD_TYPES)
    event = {"kind": "record", "op": op, "type": record_type, "id": _string(obj, "id", required=True),
             "version": _version(obj)}
    if op == "delete":
        return event
    status = obj.get("status")
    if record_type in RECORD_STATUSES:
        status = _enum(obj, "status", RECORD_STATUSES[record_type])
    else:
        status = _string(obj, "status")
    event.update(
        name=_string(obj, "name"),
        account_id=_string(obj, "account_id"),
        status=status,
        estimated_value=_number(obj, "estimated_value"),
        currency=_string(obj, "currency"),
        industry=_string(obj, "industry"),
        products=_string_list(obj, "products"),
        owner_id=_string(obj, "owner_id"),
        stakeholder_ids=_string_list(obj, "stakeholder_ids"),
        emails=_string_list(obj, "emails"),
        created_at=_timestamp(obj, "created_at"),
        closed_at=_timestamp(obj, "closed_at"),
    )
    return event


_PARSERS: dict[str, dict[str, Callable[[dict, datetime], dict]]] = {
    "activities": {ACTIVITY_SCHEMA: _activity, INTERACTION_SCHEMA: _interaction},
    "records": {RECORD_SCHEMA: _record},
}


def parse_message(raw: bytes | None, stream: str, now: datetime) -> dict:
    """Validate one message of input stream `activities` or `records`; raise InvalidEvent with the reason."""
    if raw is None:
        raise InvalidEvent("empty message (null value)")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidEvent(f"message of {len(raw)} bytes exceeds the 1 MiB limit")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"not valid UTF-8 JSON: {exc}") from None
    except RecursionError:
        raise InvalidEvent("JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise InvalidEvent(f"message must be a JSON object, got {type(obj).__name__}")
    schema = obj.get("schema")
    parsers = _PARSERS[stream]
    if not isinstance(schema, str) or schema not in parsers:
        raise InvalidEvent(
            f"unknown schema {_show(schema)} on the {stream} topic; expected {' or '.join(parsers)}"
        )
    return parsers[schema](obj, now)
