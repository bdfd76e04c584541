"""Microsoft Graph v1.0 messages and calendar-view events → SPEC §2 activity events. Pure: addresses
are turned into parties by the `resolve` function the sync passes in.

Shapes: `message` (`from`/`sender`, `toRecipients`, `ccRecipients`, `bccRecipients` as
`{"emailAddress": {"name", "address"}}`, `sentDateTime`, `internetMessageId`, `conversationId`,
`internetMessageHeaders` [{name, value}], `isDraft`, `lastModifiedDateTime`); `event` (`iCalUId`,
`organizer`, `attendees` [{type: required|optional|resource, emailAddress}], `start`/`end` as
`{dateTime, timeZone}`, `isCancelled`, `sensitivity`, `lastModifiedDateTime`); removals as
`{"id", "@removed": {"reason"}}`.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relstream.connectors.identity import email_activity_id, normalize_address
from relstream.connectors.mapping import (
    ACTIVITY_SCHEMA,
    MalformedRow,
    epoch_millis,
    first_instant,
    instant,
    minutes,
)
from relstream.timeutil import format_timestamp

SOURCE = "exchange"
MESSAGE_FIELDS = ("subject,from,sender,toRecipients,ccRecipients,bccRecipients,sentDateTime,receivedDateTime,"
                  "internetMessageId,conversationId,internetMessageHeaders,isDraft,lastModifiedDateTime")
Resolve = Callable[[str, "str | None"], dict]
_LOCAL_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?$")


def is_removed(row: dict) -> bool:
    return "@removed" in row


def _party(recipient: object, resolve: Resolve) -> dict | None:
    address_field = recipient.get("emailAddress") if isinstance(recipient, dict) else None
    if not isinstance(address_field, dict):
        return None
    address = normalize_address(address_field.get("address"))
    return resolve(address, address_field.get("name")) if address else None


def _parties(recipients: object, resolve: Resolve) -> list[dict]:
    if not isinstance(recipients, list):
        return []
    return [p for p in (_party(r, resolve) for r in recipients) if p]


def _version(row: dict) -> int:
    """Milliseconds of `lastModifiedDateTime`: orders one item's copies, also across restarts."""
    modified = instant(row.get("lastModifiedDateTime"), "lastModifiedDateTime")
    if modified is None:
        raise MalformedRow("no lastModifiedDateTime")
    return epoch_millis(modified)


def _header(row: dict, name: str) -> str | None:
    for header in row.get("internetMessageHeaders") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == name.lower():
            return header.get("value")
    return None


def message_event(row: dict, resolve: Resolve) -> dict | None:
    """A sent or received message as a completed e-mail; None for drafts (not an interaction yet)."""
    if row.get("isDraft"):
        return None
    activity_id = email_activity_id(row.get("internetMessageId"))
    if activity_id is None:
        raise MalformedRow("no internetMessageId")
    sender = _party(row.get("from") or row.get("sender"), resolve)
    if sender is None:
        raise MalformedRow("no sender address")
    return {
        "schema": ACTIVITY_SCHEMA, "op": "upsert", "id": activity_id, "version": _version(row),
        "source": SOURCE, "type": "email", "state": "completed",
        "occurred_at": format_timestamp(first_instant(row, "sentDateTime", "receivedDateTime")),
        "duration_minutes": None, "subject": row.get("subject"), "private": False, "tracked": False,
        "from": sender,
        "to": _parties(row.get("toRecipients"), resolve),
        "cc": _parties(row.get("ccRecipients"), resolve),
        "bcc": _parties(row.get("bccRecipients"), resolve),
        "regarding": None,
        "in_reply_to": email_activity_id(_header(row, "In-Reply-To")),
        "conversation_id": row.get("conversationId"),
    }


def graph_time(value: object, field: str) -> datetime:
    """`{"dateTime": "2026-11-02T09:30:00.0000000", "timeZone": "UTC"}` → an aware UTC datetime."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise MalformedRow(f"{field} is not a dateTimeTimeZone")
    match = _LOCAL_TIME.match(value["dateTime"])
    if not match:
        raise MalformedRow(f"{field}: {value['dateTime']!r} is not an ISO 8601 local date-time")
    local = datetime.fromisoformat(match.group(1) + (match.group(2) or "")[:7])
    zone_name = value.get("timeZone") or "UTC"
    try:
        zone = timezone.utc if zone_name in ("UTC", "Etc/UTC") else ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MalformedRow(f"{field}: unknown time zone {zone_name!r}") from None
    return local.replace(tzinfo=zone).astimezone(timezone.utc)


def meeting_event(row: dict, resolve: Resolve, now: datetime) -> dict:
    """A calendar-view event; completed once it has started (the sync re-publishes scheduled ones then)."""
    uid = row.get("iCalUId")
    if not isinstance(uid, str) or not uid:
        raise MalformedRow("no iCalUId")
    organizer = _party(row.get("organizer"), resolve)
    if organizer is None:
        raise MalformedRow("no organizer address")
    start, end = graph_time(row.get("start"), "start"), graph_time(row.get("end"), "end")
    attendees = [a for a in row.get("attendees") or [] if isinstance(a, dict)]
    state = "canceled" if row.get("isCancelled") else ("completed" if start <= now else "scheduled")
    return {
        "schema": ACTIVITY_SCHEMA, "op": "upsert", "id": uid, "version": _version(row),
        "source": SOURCE, "type": "meeting", "state": state, "occurred_at": format_timestamp(start),
        "duration_minutes": minutes((end - start).total_seconds() / 60), "subject": row.get("subject"),
        "private": row.get("sensitivity") == "private", "tracked": False, "from": organizer,
        "to": _parties([a for a in attendees if a.get("type") == "required"], resolve),
        "cc": _parties([a for a in attendees if a.get("type") == "optional"], resolve),
        "bcc": [], "regarding": None, "in_reply_to": None, "conversation_id": None,
    }
