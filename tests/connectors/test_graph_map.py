"""Microsoft Graph messages and events → SPEC §2 events (pure mapping, no I/O)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from relstream.connectors import graph_map as gm
from relstream.connectors.identity import AddressIndex, InternalDomains, email_activity_id
from relstream.connectors.mapping import MalformedRow
from tests.connectors.scenario import A_KLANT, ANNA, C_BOB, address, event, message

DOMAINS = InternalDomains(("ourco.example",))
NOW = datetime(2026, 11, 4, tzinfo=timezone.utc)


@pytest.fixture
def resolve():
    index = AddressIndex()
    index.apply({"schema": "relstream.record.v1", "op": "upsert", "type": "contact", "id": C_BOB, "version": 1,
                 "name": "Bob Smit", "account_id": A_KLANT, "emails": ["bob@klant.example"]})
    return lambda addr, name: index.resolve(addr, name, DOMAINS)


ANNA_PARTY = {"id": ANNA, "side": "internal", "kind": "user", "name": "Anna de Vries", "email": ANNA,
              "account_id": None}
BOB_PARTY = {"id": C_BOB, "side": "external", "kind": "contact", "name": "Bob Smit", "email": "bob@klant.example",
             "account_id": A_KLANT}


def test_message_becomes_an_email_with_the_id_dataverse_derives(resolve):
    row = {**message("AAMk-1", "<REPLY-2@klant.example>", "RE: Pricing", "2026-11-02T11:00:00Z",
                     address("B. Smit", "Bob@Klant.example"), [address("Anna de Vries", ANNA)],
                     [address("Stranger", "x@elsewhere.example")],
                     headers=[{"name": "Received", "value": "from mx"},
                              {"name": "in-reply-to", "value": " <Pricing-1@ourco.example>"}]),
           "bccRecipients": [address(None, "ben@ourco.example")], "lastModifiedDateTime": "2026-11-02T11:00:01.5Z"}
    assert gm.message_event(row, resolve) == {
        "schema": "relstream.activity.v1", "op": "upsert", "id": email_activity_id("<reply-2@klant.example>"),
        "version": 1793617201500, "source": "exchange", "type": "email", "state": "completed",
        "occurred_at": "2026-11-02T11:00:00Z", "duration_minutes": None, "subject": "RE: Pricing",
        "private": False, "tracked": False, "from": BOB_PARTY, "to": [ANNA_PARTY],
        "cc": [{"id": "email:x@elsewhere.example", "side": "external", "kind": "unknown", "name": "Stranger",
                "email": "x@elsewhere.example", "account_id": None}],
        "bcc": [{"id": "ben@ourco.example", "side": "internal", "kind": "user", "name": None,
                 "email": "ben@ourco.example", "account_id": None}],
        "regarding": None, "in_reply_to": email_activity_id("<pricing-1@ourco.example>"),
        "conversation_id": "AAQkAGI2-conv-pricing",
    }


def test_drafts_are_not_interactions_and_broken_messages_are_rejected(resolve):
    base = {**message("AAMk-1", "<m@x>", "S", "2026-11-02T11:00:00Z", address("A", ANNA), []),
            "lastModifiedDateTime": "2026-11-02T11:00:00Z"}
    assert gm.message_event({**base, "isDraft": True}, resolve) is None
    for changes, reason in [({"internetMessageId": None}, "no internetMessageId"),
                            ({"from": None, "sender": {"emailAddress": {"name": "x"}}}, "no sender address"),
                            ({"lastModifiedDateTime": None}, "no lastModifiedDateTime"),
                            ({"sentDateTime": None, "receivedDateTime": None},
                             "no time: none of sentDateTime, receivedDateTime is set")]:
        with pytest.raises(MalformedRow) as caught:
            gm.message_event({**base, **changes}, resolve)
        assert caught.value.reason == reason


def meeting(**changes) -> dict:
    row = {**event("AAMk-ev", "UID-1", "Review", "2026-11-05T09:00:00.0000000", "2026-11-05T10:15:00.0000000",
                   [("required", "Bob Smit", "bob@klant.example"), ("optional", "Ben", "ben@ourco.example"),
                    ("resource", "Room 1", "room1@ourco.example")]),
           "lastModifiedDateTime": "2026-11-01T00:00:00Z"}
    return {**row, **changes}


def test_future_meeting_is_scheduled_with_required_and_optional_attendees(resolve):
    assert gm.meeting_event(meeting(), resolve, NOW) == {
        "schema": "relstream.activity.v1", "op": "upsert", "id": "UID-1", "version": 1793491200000,
        "source": "exchange", "type": "meeting", "state": "scheduled", "occurred_at": "2026-11-05T09:00:00Z",
        "duration_minutes": 75.0, "subject": "Review", "private": False, "tracked": False, "from": ANNA_PARTY,
        "to": [BOB_PARTY], "cc": [{"id": "ben@ourco.example", "side": "internal", "kind": "user", "name": "Ben",
                                   "email": "ben@ourco.example", "account_id": None}],
        "bcc": [], "regarding": None, "in_reply_to": None, "conversation_id": None,
    }


def test_meeting_state_privacy_time_zones_and_long_events(resolve):
    assert gm.meeting_event(meeting(), resolve, datetime(2026, 11, 5, 9, tzinfo=timezone.utc))["state"] == "completed"
    assert gm.meeting_event(meeting(isCancelled=True), resolve, NOW)["state"] == "canceled"
    assert gm.meeting_event(meeting(sensitivity="private"), resolve, NOW)["private"] is True
    local = {"start": {"dateTime": "2026-11-05T10:00:00.0000000", "timeZone": "Europe/Amsterdam"},
             "end": {"dateTime": "2026-11-08T10:00:00", "timeZone": "Europe/Amsterdam"}}
    amsterdam = gm.meeting_event(meeting(**local), resolve, NOW)
    assert (amsterdam["occurred_at"], amsterdam["duration_minutes"]) == ("2026-11-05T09:00:00Z", 1440.0)
    for changes, reason in [({"iCalUId": None}, "no iCalUId"),
                            ({"start": {"dateTime": "2026-11-05T10:00:00", "timeZone": "W. Europe Standard Time"}},
                             "start: unknown time zone 'W. Europe Standard Time'"),
                            ({"end": {"dateTime": "soon", "timeZone": "UTC"}},
                             "end: 'soon' is not an ISO 8601 local date-time")]:
        with pytest.raises(MalformedRow) as caught:
            gm.meeting_event(meeting(**changes), resolve, NOW)
        assert caught.value.reason == reason


def test_removed_items():
    assert gm.is_removed({"id": "AAMk-1", "@removed": {"reason": "deleted"}})
    assert not gm.is_removed(meeting())
