"""SPEC §2 and §2.4: validation and normalisation of input events (relstream.events.parse_message).

Expected values are hand-derived from SPEC.md; epoch instants are built with the standard library's
datetime (not the code under test) or written as literals.
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest

from relstream.events import InvalidEvent, parse_message

NOW = datetime(2026, 11, 2, 12, 0, 0, tzinfo=timezone.utc)
# 2026-11-02T09:30:00Z: 20759 days after 1970-01-01 (56 years, 14 leap days: 56*365+14 = 20454 to
# 2026-01-01, + 305 days to Nov 2) = 20759 * 86400 + 9.5 * 3600 = 1793577600 + 34200 = 1793611800
T_0930 = 1793611800.0
assert T_0930 == datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc).timestamp()


def epoch(*args) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


ACTIVITY = {
    "schema": "relstream.activity.v1",
    "op": "upsert",
    "id": "email-7f3a",
    "version": 3,
    "source": "dynamics",
    "type": "email",
    "state": "completed",
    "occurred_at": "2026-11-02T09:30:00Z",
    "duration_minutes": None,
    "subject": "Pricing follow-up",
    "private": False,
    "tracked": True,
    "from": {"id": "u-anna", "side": "internal", "kind": "user", "name": "Anna de Vries",
             "email": "anna@ourco.example"},
    "to": [{"id": "c-bob", "side": "external", "kind": "contact", "name": "Bob Smit",
            "email": "bob@klant.example", "account_id": "a-klant"}],
    "cc": [],
    "bcc": [],
    "regarding": {"type": "opportunity", "id": "o-42", "account_id": "a-klant"},
    "in_reply_to": None,
    "conversation_id": "conv-19",
}

MEETING = {
    "schema": "relstream.activity.v1", "op": "upsert", "id": "mtg-1", "version": 0, "source": "exchange",
    "type": "meeting", "state": "completed", "occurred_at": "2026-11-01T14:00:00Z",
    "duration_minutes": 45,
    "from": {"id": "u-anna", "side": "internal", "kind": "user"},
    "to": [{"id": "c-bob", "side": "external", "kind": "contact"}],
}

INTERACTION = {"schema": "relstream.email_interaction.v1", "id": "ei-991", "email_id": "email-7f3a",
               "kind": "opened", "at": "2026-11-02T10:02:00Z"}

RECORD = {"schema": "relstream.record.v1", "op": "upsert", "type": "opportunity", "id": "o-42", "version": 5,
          "name": "Klant — 200 seats", "account_id": "a-klant", "status": "open",
          "estimated_value": 120000, "currency": "EUR", "industry": "manufacturing",
          "products": ["seats", "support"], "owner_id": "u-anna", "stakeholder_ids": ["c-bob"],
          "created_at": "2026-09-01T00:00:00Z", "closed_at": None}


def raw(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def with_(base: dict, **changes) -> dict:
    """A deep copy of `base` with top-level changes; a value of ... removes the field."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        key = {"from_": "from"}.get(key, key)
        if value is ...:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def parse_activity(obj, now=NOW):
    return parse_message(raw(obj), "activities", now)


def parse_record(obj, now=NOW):
    return parse_message(raw(obj), "records", now)


def invalid(data: bytes, stream: str = "activities", now=NOW) -> str:
    with pytest.raises(InvalidEvent) as info:
        parse_message(data, stream, now)
    reason = info.value.reason
    assert isinstance(reason, str) and reason.strip(), "the DLQ reason must be a human-readable text"
    return reason


# --------------------------------------------------------------------------------------------------
# valid events
# --------------------------------------------------------------------------------------------------

def test_spec_example_activity_is_accepted_and_normalised():
    event = parse_activity(ACTIVITY)
    assert event["id"] == "email-7f3a"
    assert event["op"] == "upsert"
    assert event["version"] == 3
    assert event["source"] == "dynamics"
    assert event["type"] == "email"
    assert event["state"] == "completed"
    assert event["t"] == T_0930  # 2026-11-02T09:30:00Z as UTC epoch seconds
    assert event["subject"] == "Pricing follow-up"
    assert event["private"] is False
    assert event["tracked"] is True
    assert event["sender"]["id"] == "u-anna"
    assert event["sender"]["side"] == "internal"
    assert event["sender"]["kind"] == "user"
    assert event["sender"]["name"] == "Anna de Vries"
    assert [p["id"] for p in event["to"]] == ["c-bob"]
    assert event["to"][0]["account_id"] == "a-klant"
    assert event["to"][0]["kind"] == "contact"
    assert event["cc"] == []
    assert event["regarding"] == {"type": "opportunity", "id": "o-42", "account_id": "a-klant"}
    assert event["in_reply_to"] is None
    assert event["conversation_id"] == "conv-19"


@pytest.mark.parametrize("stamp", [
    "2026-11-02T10:30:00+01:00",   # +01:00 → 09:30Z
    "2026-11-02t09:30:00Z",        # lower-case t
    "2026-11-02t10:30:00+01:00",   # the SPEC's own example form
    "2026-11-02T09:30:00z",        # lower-case z (RFC 3339 §5.6 NOTE: case-insensitive)
    "2026-11-02T04:00:00-05:30",   # 04:00 + 5:30 = 09:30Z
    "2026-11-02T09:30:00+00:00",
    "2026-11-02T09:30:00-00:00",
    "2026-11-03T00:30:00+15:00",   # 00:30 on the next day at +15 = 09:30Z on Nov 2
])
def test_timestamps_with_offsets_are_normalised_to_utc(stamp):
    assert parse_activity(with_(ACTIVITY, occurred_at=stamp))["t"] == T_0930


def test_fractional_seconds_are_kept():
    event = parse_activity(with_(ACTIVITY, occurred_at="2026-11-02T09:30:00.25Z"))
    assert event["t"] == T_0930 + 0.25


def test_fraction_longer_than_nanoseconds_is_still_rfc3339():
    # RFC 3339 time-secfrac = "." 1*DIGIT: any number of digits is valid; the instant is 09:30:00.123456...
    event = parse_activity(with_(ACTIVITY, occurred_at="2026-11-02T09:30:00.123456789012Z"))
    assert abs(event["t"] - (T_0930 + 0.123456789012)) < 1e-5


@pytest.mark.parametrize("source", [..., None])
def test_missing_or_null_source_is_empty_string(source):
    assert parse_activity(with_(ACTIVITY, source=source))["source"] == ""


@pytest.mark.parametrize("kind", [..., None])
def test_missing_or_null_party_kind_is_unknown(kind):
    obj = copy.deepcopy(ACTIVITY)
    if kind is ...:
        del obj["to"][0]["kind"]
        del obj["from"]["kind"]
    else:
        obj["to"][0]["kind"] = None
        obj["from"]["kind"] = None
    event = parse_activity(obj)
    assert event["to"][0]["kind"] == "unknown"
    assert event["sender"]["kind"] == "unknown"


def test_optional_fields_missing_take_their_defaults():
    minimal = {k: ACTIVITY[k] for k in ("schema", "op", "id", "version", "type", "state", "occurred_at")}
    minimal["from"] = {"id": "u-anna", "side": "internal"}
    event = parse_activity(minimal)
    assert event["source"] == ""
    assert event["subject"] is None
    assert event["private"] is False   # missing = false
    assert event["tracked"] is False   # missing = false
    assert event["to"] == [] and event["cc"] == []  # missing = empty
    assert event["regarding"] is None
    assert event["in_reply_to"] is None
    assert event["conversation_id"] is None
    assert event["sender"]["kind"] == "unknown"
    assert event["sender"]["name"] is None and event["sender"]["email"] is None


def test_null_party_lists_are_empty():
    event = parse_activity(with_(ACTIVITY, to=None, cc=None, bcc=None))
    assert event["to"] == [] and event["cc"] == []


def test_null_optional_strings_are_accepted():
    event = parse_activity(with_(ACTIVITY, subject=None, in_reply_to=None, conversation_id=None, regarding=None))
    assert event["subject"] is None and event["conversation_id"] is None and event["regarding"] is None


def test_in_reply_to_string_is_kept():
    assert parse_activity(with_(ACTIVITY, in_reply_to="email-0001"))["in_reply_to"] == "email-0001"


def test_bcc_is_accepted_and_not_exposed_as_a_participant():
    bcc = [{"id": "u-boss", "side": "internal", "kind": "user"}]
    event = parse_activity(with_(ACTIVITY, bcc=bcc))
    ids = {event["sender"]["id"], *(p["id"] for p in event["to"]), *(p["id"] for p in event["cc"])}
    assert "u-boss" not in ids


def test_unknown_extra_fields_are_accepted_and_ignored():
    obj = with_(ACTIVITY, extra_top={"nested": [1, 2, {"x": None}]}, priority=3)
    obj["from"]["title"] = "Account manager"
    obj["to"][0]["phone"] = "+31 20 000"
    obj["regarding"]["label"] = "big deal"
    event = parse_activity(obj)
    assert event["id"] == "email-7f3a" and event["t"] == T_0930


def test_huge_integer_in_an_extra_field_is_accepted():
    data = raw(ACTIVITY)[:-1] + b', "big": ' + str(2**70).encode() + b"}"
    assert parse_message(data, "activities", NOW)["id"] == "email-7f3a"


def test_version_zero_is_valid():
    assert parse_activity(with_(ACTIVITY, version=0))["version"] == 0


def test_large_64bit_version_is_valid():
    assert parse_activity(with_(ACTIVITY, version=2**62))["version"] == 2**62


@pytest.mark.parametrize("state", ["completed", "scheduled", "canceled"])
@pytest.mark.parametrize("kind", ["email", "meeting", "phone_call"])
def test_every_type_and_state_is_valid(kind, state):
    event = parse_activity(with_(ACTIVITY, type=kind, state=state))
    assert (event["type"], event["state"]) == (kind, state)


@pytest.mark.parametrize("side", ["internal", "external"])
@pytest.mark.parametrize("kind", ["user", "contact", "lead", "unknown"])
def test_every_party_side_and_kind_is_valid(side, kind):
    obj = copy.deepcopy(ACTIVITY)
    obj["cc"] = [{"id": "p-1", "side": side, "kind": kind}]
    party = parse_activity(obj)["cc"][0]
    assert (party["id"], party["side"], party["kind"]) == ("p-1", side, kind)


@pytest.mark.parametrize("rtype", ["contact", "account", "opportunity", "lead"])
def test_regarding_every_record_type(rtype):
    event = parse_activity(with_(ACTIVITY, regarding={"type": rtype, "id": "r-1"}))
    assert event["regarding"]["type"] == rtype and event["regarding"]["id"] == "r-1"
    assert event["regarding"].get("account_id") is None


# --- the 24 h clock-error rule (§2.1 occurred_at) -------------------------------------------------

def test_completed_exactly_24h_after_now_is_valid():
    # NOW = 2026-11-02T12:00Z; +24 h = 2026-11-03T12:00:00Z: not *more* than 24 h
    assert parse_activity(with_(ACTIVITY, occurred_at="2026-11-03T12:00:00Z"))["t"] == epoch(2026, 11, 3, 12)


def test_completed_more_than_24h_after_now_is_invalid():
    reason = invalid(raw(with_(ACTIVITY, occurred_at="2026-11-03T12:00:01Z")))
    assert "24" in reason


def test_completed_24h_plus_one_second_expressed_with_offset_is_invalid():
    # 2026-11-03T13:00:01+01:00 = 12:00:01Z = now + 24 h + 1 s
    invalid(raw(with_(ACTIVITY, occurred_at="2026-11-03T13:00:01+01:00")))


def test_completed_far_in_the_past_is_valid():
    assert parse_activity(with_(ACTIVITY, occurred_at="2019-01-01T00:00:00Z"))["t"] == epoch(2019, 1, 1)


@pytest.mark.parametrize("state", ["scheduled", "canceled"])
def test_non_completed_far_in_the_future_is_valid(state):
    event = parse_activity(with_(ACTIVITY, state=state, occurred_at="2027-06-01T09:00:00Z"))
    assert event["t"] == epoch(2027, 6, 1, 9)


def test_future_rule_uses_the_given_processing_time():
    # the same event is valid when processed a day later
    obj = with_(ACTIVITY, occurred_at="2026-11-04T12:00:00Z")
    invalid(raw(obj))
    assert parse_activity(obj, now=NOW + timedelta(days=1))["t"] == epoch(2026, 11, 4, 12)


# --- duration_minutes (§2.1) ----------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [(30, 30.0), (0, 0.0), (1440, 1440.0), (12.5, 12.5),
                                             (None, 0.0), (..., 0.0)])
@pytest.mark.parametrize("kind", ["meeting", "phone_call"])
def test_duration_valid_for_meetings_and_calls(kind, value, expected):
    assert parse_activity(with_(MEETING, type=kind, duration_minutes=value))["dur"] == expected


@pytest.mark.parametrize("value", [-1, 1441, "30", True, [30], {"m": 30}, -0.5, 1440.01])
@pytest.mark.parametrize("kind", ["meeting", "phone_call"])
def test_duration_invalid_for_meetings_and_calls(kind, value):
    reason = invalid(raw(with_(MEETING, type=kind, duration_minutes=value)))
    assert "duration_minutes" in reason


@pytest.mark.parametrize("value", [-1, 1441, "30", True, [30]])
def test_duration_is_ignored_not_validated_for_emails(value):
    event = parse_activity(with_(ACTIVITY, duration_minutes=value))
    assert event["type"] == "email"


# --- delete, interaction and record events --------------------------------------------------------

def test_activity_delete_minimal_form():
    obj = {"schema": "relstream.activity.v1", "op": "delete", "id": "email-7f3a", "source": "exchange",
           "version": 4}
    event = parse_activity(obj)
    assert (event["op"], event["id"], event["source"], event["version"]) == ("delete", "email-7f3a", "exchange", 4)


def test_activity_delete_without_source_is_empty_source():
    event = parse_activity({"schema": "relstream.activity.v1", "op": "delete", "id": "x", "version": 1})
    assert event["source"] == "" and event["op"] == "delete"


@pytest.mark.parametrize("missing", ["id", "version"])
def test_activity_delete_still_requires_id_and_version(missing):
    obj = {"schema": "relstream.activity.v1", "op": "delete", "id": "x", "version": 1}
    del obj[missing]
    assert missing in invalid(raw(obj))


def test_interaction_event_accepted_and_normalised():
    event = parse_message(raw(INTERACTION), "activities", NOW)
    assert event["id"] == "ei-991"
    assert event["email_id"] == "email-7f3a"
    assert event["at"] == epoch(2026, 11, 2, 10, 2)  # 10:02Z
    assert "opened" in event.values()


@pytest.mark.parametrize("kind", ["opened", "link_clicked", "attachment_viewed"])
def test_every_interaction_kind_is_valid(kind):
    event = parse_message(raw(with_(INTERACTION, kind=kind)), "activities", NOW)
    assert kind in event.values()


def test_interaction_with_offset_normalised():
    event = parse_message(raw(with_(INTERACTION, at="2026-11-02t11:02:00+01:00")), "activities", NOW)
    assert event["at"] == epoch(2026, 11, 2, 10, 2)


def test_record_event_accepted_and_normalised():
    event = parse_record(RECORD)
    assert (event["op"], event["type"], event["id"], event["version"]) == ("upsert", "opportunity", "o-42", 5)
    assert event["status"] == "open"
    assert event["estimated_value"] == 120000
    assert event["industry"] == "manufacturing"
    assert list(event["products"]) == ["seats", "support"]
    assert list(event["stakeholder_ids"]) == ["c-bob"]
    assert event["created_at"] == epoch(2026, 9, 1)
    assert event["closed_at"] is None
    assert event["name"] == "Klant — 200 seats"


def test_record_lists_missing_are_empty():
    event = parse_record(with_(RECORD, products=..., stakeholder_ids=...))
    assert list(event["products"]) == [] and list(event["stakeholder_ids"]) == []


def test_record_optional_fields_null():
    event = parse_record(with_(RECORD, name=None, account_id=None, estimated_value=None, currency=None,
                               industry=None, owner_id=None, created_at=None, closed_at=None))
    assert event["estimated_value"] is None and event["industry"] is None and event["closed_at"] is None


@pytest.mark.parametrize("rtype, status", [
    ("opportunity", "open"), ("opportunity", "won"), ("opportunity", "lost"),
    ("lead", "open"), ("lead", "qualified"), ("lead", "disqualified"),
    ("contact", "anything goes"), ("contact", None), ("account", "Active"), ("account", None),
])
def test_record_status_per_type(rtype, status):
    assert parse_record(with_(RECORD, type=rtype, status=status))["status"] == status


def test_contact_record_with_emails():
    event = parse_record(with_(RECORD, type="contact", id="c-bob", status=None, emails=["bob@klant.example"]))
    assert event["type"] == "contact" and event["id"] == "c-bob"


def test_record_delete_minimal_form():
    obj = {"schema": "relstream.record.v1", "op": "delete", "type": "contact", "id": "c-bob", "version": 9}
    event = parse_record(obj)
    assert (event["op"], event["type"], event["id"], event["version"]) == ("delete", "contact", "c-bob", 9)


def test_record_closed_at_with_offset():
    event = parse_record(with_(RECORD, status="won", closed_at="2026-10-01T02:00:00+02:00"))
    assert event["closed_at"] == epoch(2026, 10, 1)


def test_message_of_exactly_one_mebibyte_is_accepted():
    base = raw(with_(ACTIVITY, pad=""))
    filler = 1024 * 1024 - len(base)
    data = raw(with_(ACTIVITY, pad="x" * filler))
    assert len(data) == 1024 * 1024
    assert parse_message(data, "activities", NOW)["id"] == "email-7f3a"


# --------------------------------------------------------------------------------------------------
# invalid input (§2.4)
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"", b"not json", b"{", b'{"schema": "relstream.activity.v1",}', b"{'a': 1}",
    b'{"a": 1} {"b": 2}',
])
def test_not_json_is_invalid(data):
    invalid(data)


def test_none_value_is_invalid():
    invalid(None)


def test_non_utf8_bytes_are_invalid():
    data = raw(ACTIVITY).replace(b"Pricing", b"Pr\xffcing")
    invalid(data)


def test_latin1_encoded_text_is_invalid():
    data = json.dumps(with_(ACTIVITY, subject="Café"), ensure_ascii=False).encode("latin-1")
    invalid(data)


def test_byte_order_mark_is_invalid():
    invalid(b"\xef\xbb\xbf" + raw(ACTIVITY))


@pytest.mark.parametrize("data", [b"[]", b"[{}]", b"null", b"42", b"1.5", b'"text"', b"true"])
def test_json_that_is_not_an_object_is_invalid(data):
    invalid(data)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_nan_and_infinity_are_invalid(literal):
    invalid(raw(ACTIVITY)[:-1] + b', "score": ' + literal + b"}")


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity"])
def test_nan_duration_is_invalid(literal):
    data = raw(with_(MEETING, duration_minutes=None)).replace(b'"duration_minutes": null',
                                                              b'"duration_minutes": ' + literal)
    invalid(data)


def test_message_over_one_mebibyte_is_invalid():
    base = raw(with_(ACTIVITY, pad=""))
    data = raw(with_(ACTIVITY, pad="x" * (1024 * 1024 - len(base) + 1)))
    assert len(data) == 1024 * 1024 + 1
    reason = invalid(data)
    assert "MiB" in reason or "bytes" in reason


def test_deep_nesting_in_an_extra_field_is_invalid_not_a_crash():
    data = raw(ACTIVITY)[:-1] + b', "deep": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    assert len(data) < 1024 * 1024
    invalid(data)


@pytest.mark.parametrize("field", ["op", "version", "type", "state", "occurred_at"])
def test_deeply_nested_value_in_a_known_field_is_invalid_not_a_crash(field):
    # 1000 levels: valid JSON the decoder accepts; the event is still just "wrong type" (§2.4),
    # which must end as a DLQ reason, never as an exception that stops the worker.
    data = raw(with_(ACTIVITY, **{field: "@@"})).replace(b'"@@"', b"[" * 1000 + b"]" * 1000)
    assert b"[" * 1000 in data
    invalid(data)


@pytest.mark.parametrize("schema", [[], ["relstream.activity.v1"], {"v": 1}])
def test_schema_of_wrong_type_is_invalid_not_a_crash(schema):
    invalid(raw(with_(ACTIVITY, schema=schema)))


@pytest.mark.parametrize("schema", [..., None, "relstream.activity.v2", "relstream.Activity.v1", 1, ""])
def test_unknown_or_missing_schema_is_invalid(schema):
    assert "schema" in invalid(raw(with_(ACTIVITY, schema=schema)))


def test_record_schema_on_the_activities_topic_is_invalid():
    assert "schema" in invalid(raw(RECORD), "activities")


@pytest.mark.parametrize("obj", [ACTIVITY, INTERACTION])
def test_activity_schemas_on_the_records_topic_are_invalid(obj):
    assert "schema" in invalid(raw(obj), "records")


# --- activity: required fields, types, enums -------------------------------------------------------

@pytest.mark.parametrize("field", ["id", "version", "from", "occurred_at", "type", "state", "op"])
def test_activity_missing_required_field(field):
    assert field in invalid(raw(with_(ACTIVITY, **{field: ...})))


@pytest.mark.parametrize("field", ["id", "version", "from", "occurred_at", "type", "state", "op"])
def test_activity_required_field_null(field):
    assert field in invalid(raw(with_(ACTIVITY, **{field: None})))


@pytest.mark.parametrize("field, value", [
    ("id", ""), ("id", 5), ("id", ["email-7f3a"]),
    ("version", "1"), ("version", 1.5), ("version", True), ("version", False), ("version", -1),
    ("version", [1]), ("version", 2**64 - 1),
    ("private", "yes"), ("private", 1), ("private", "true"),
    ("tracked", "yes"), ("tracked", 0),
    ("subject", 5), ("subject", ["a"]), ("subject", True),
    ("source", 5), ("source", True),
    ("in_reply_to", 5), ("conversation_id", []), ("conversation_id", 19),
    ("to", {"id": "c-bob", "side": "external"}), ("to", "c-bob"), ("cc", "c-bob"), ("cc", 3),
    ("from", "u-anna"), ("from", ["u-anna"]), ("from", 1),
    ("regarding", "o-42"), ("regarding", ["opportunity", "o-42"]),
    ("occurred_at", 1793611800), ("occurred_at", True),
])
def test_activity_wrong_type(field, value):
    assert field in invalid(raw(with_(ACTIVITY, **{field: value})))


def test_version_2_pow_70_is_invalid():
    data = raw(with_(ACTIVITY, version=0)).replace(b'"version": 0', b'"version": ' + str(2**70).encode())
    assert "version" in invalid(data)


@pytest.mark.parametrize("field, value", [
    ("type", "fax"), ("type", "Email"), ("type", "task"), ("type", ""),
    ("state", "done"), ("state", "Completed"), ("state", "open"),
    ("op", "insert"), ("op", "DELETE"),
])
def test_activity_unknown_enum(field, value):
    reason = invalid(raw(with_(ACTIVITY, **{field: value})))
    assert field in reason


@pytest.mark.parametrize("where", ["from", "to", "cc"])
@pytest.mark.parametrize("change, mentioned", [
    ({"id": ...}, "id"), ({"id": ""}, "id"), ({"id": 7}, "id"), ({"id": None}, "id"),
    ({"side": ...}, "side"), ({"side": "inside"}, "side"), ({"side": None}, "side"), ({"side": "Internal"}, "side"),
    ({"kind": "robot"}, "kind"), ({"kind": 1}, "kind"),
    ({"name": 5}, "name"), ({"email": ["a@b"]}, "email"), ({"account_id": 5}, "account_id"),
])
def test_party_errors(where, change, mentioned):
    obj = copy.deepcopy(ACTIVITY)
    party = obj["from"] if where == "from" else None
    if where != "from":
        obj[where] = [{"id": "c-x", "side": "external", "kind": "contact"}]
        party = obj[where][0]
    for key, value in change.items():
        if value is ...:
            party.pop(key, None)
        else:
            party[key] = value
    reason = invalid(raw(obj))
    assert mentioned in reason
    assert where in reason


@pytest.mark.parametrize("item", ["c-bob", 5, None, ["c-bob"]])
def test_party_list_item_not_an_object(item):
    assert "to" in invalid(raw(with_(ACTIVITY, to=[item])))


@pytest.mark.parametrize("regarding, mentioned", [
    ({"type": "invoice", "id": "x"}, "type"),
    ({"id": "o-42"}, "type"),
    ({"type": "opportunity"}, "id"),
    ({"type": "opportunity", "id": ""}, "id"),
    ({"type": "opportunity", "id": 42}, "id"),
    ({"type": "opportunity", "id": "o-42", "account_id": 7}, "account_id"),
])
def test_regarding_errors(regarding, mentioned):
    reason = invalid(raw(with_(ACTIVITY, regarding=regarding)))
    assert mentioned in reason and "regarding" in reason


# --- timestamps ------------------------------------------------------------------------------------

@pytest.mark.parametrize("stamp", [
    "20261102T093000Z",            # basic format
    "2026-11-02T09:30:00",         # no offset
    "2026-11-02",                  # date only
    "2026-11-02T09:30Z",           # no seconds
    "2026-11-02T09:30:00+0100",    # basic-format offset
    "2026-11-02T09:30:00+01",      # hours-only offset
    "2026-13-02T09:30:00Z",        # month 13
    "2026-02-30T09:30:00Z",        # Feb 30
    "2026-11-02T25:30:00Z",        # hour 25
    "2026-11-02T09:61:00Z",        # minute 61
    "2026-11-02T09:30:00+24:00",   # offset out of range
    "2026-11-02X09:30:00Z",
    "  2026-11-02T09:30:00Z",
    "2026-11-02T09:30:00Z ",
    "Mon, 02 Nov 2026 09:30:00 GMT",
    "",
    "1900-01-01T00:00:00Z",        # out of range (far past)
    "1969-12-31T23:59:59Z",
])
def test_bad_or_out_of_range_occurred_at_is_invalid(stamp):
    assert "occurred_at" in invalid(raw(with_(ACTIVITY, occurred_at=stamp)))


@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59Z", "9999-01-01T00:00:00+01:00"])
def test_far_future_scheduled_timestamp_is_out_of_range(stamp):
    assert "occurred_at" in invalid(raw(with_(ACTIVITY, state="scheduled", occurred_at=stamp)))


# --- interactions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["id", "email_id", "kind", "at"])
def test_interaction_missing_required_field(field):
    assert field in invalid(raw(with_(INTERACTION, **{field: ...})))


@pytest.mark.parametrize("field, value", [
    ("kind", "forwarded"), ("kind", "Opened"), ("kind", 1),
    ("at", "20261102T100200Z"), ("at", "2026-11-02T10:02:00"), ("at", "1900-01-01T00:00:00Z"),
    ("at", 1793613720),
    ("id", ""), ("id", 5), ("email_id", ""), ("email_id", ["e"]),
])
def test_interaction_invalid_values(field, value):
    assert field in invalid(raw(with_(INTERACTION, **{field: value})))


# --- records ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["id", "version", "type", "op"])
def test_record_missing_required_field(field):
    assert field in invalid(raw(with_(RECORD, **{field: ...})), "records")


@pytest.mark.parametrize("field, value", [
    ("type", "invoice"), ("type", "Opportunity"),
    ("status", "pending"), ("status", "Open"), ("status", 1),
    ("name", 5), ("account_id", 5), ("currency", 978), ("industry", ["manufacturing"]), ("owner_id", 1),
    ("estimated_value", "120000"), ("estimated_value", True), ("estimated_value", [1]),
    ("products", "seats"), ("products", ["seats", 1]), ("products", [None]),
    ("stakeholder_ids", "c-bob"), ("stakeholder_ids", [7]),
    ("created_at", "2026-09-01"), ("created_at", "20260901T000000Z"), ("closed_at", "yesterday"),
    ("closed_at", "1900-01-01T00:00:00Z"),
    ("version", "5"), ("version", 5.5), ("version", True), ("version", -3),
    ("id", ""), ("id", 42),
    ("emails", "bob@klant.example"), ("emails", [1]),
])
def test_record_invalid_values(field, value):
    assert field in invalid(raw(with_(RECORD, **{field: value})), "records")


@pytest.mark.parametrize("status", ["won", "pending", "closed"])
def test_lead_status_enum(status):
    assert "status" in invalid(raw(with_(RECORD, type="lead", status=status)), "records")


@pytest.mark.parametrize("status", [5, True, ["open"]])
def test_contact_status_any_string_or_null_only(status):
    assert "status" in invalid(raw(with_(RECORD, type="contact", status=status)), "records")


def test_record_delete_with_unknown_type_is_invalid():
    obj = {"schema": "relstream.record.v1", "op": "delete", "type": "invoice", "id": "x", "version": 1}
    assert "type" in invalid(raw(obj), "records")
