"""SPEC §2.1 (multi-source merge), §3 (attribution rules 1-4) and §4 time_spent (per-activity minutes).

Events are written in the normalised form of relstream.events (the dicts parse_message returns);
one end-to-end test goes through parse_message. Expected values are worked out by hand from SPEC.md.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from relstream.activity import attribution_keys, build_facts, effective_copy, external_party_ids, reply_info
from relstream.events import parse_message
from relstream.model import Activity
from relstream.timeutil import parse_timestamp, to_epoch

NOW = datetime(2026, 11, 2, 12, tzinfo=timezone.utc)


def ts(text: str) -> float:
    return to_epoch(parse_timestamp(text))


T = ts("2026-11-02T09:30:00Z")


def party(pid, side="external", kind=None, name=None, account_id=None, email=None):
    if kind is None:
        kind = "user" if side == "internal" else "contact"
    return {"id": pid, "side": side, "kind": kind, "name": name, "email": email, "account_id": account_id}


def us(pid, name=None):
    return party(pid, "internal", "user", name)


def them(pid, kind="contact", account_id=None, name=None):
    return party(pid, "external", kind, name, account_id)


def event(**kw):
    base = {
        "kind": "activity", "op": "upsert", "id": "a-1", "version": 1, "source": "dynamics",
        "type": "email", "state": "completed", "t": T, "dur": 0.0,
        "subject": None, "private": False, "tracked": False,
        "sender": us("u-anna"), "to": [], "cc": [], "regarding": None,
        "in_reply_to": None, "conversation_id": None,
    }
    base.update(kw)
    return base


# --------------------------------------------------------------------------------------------------
# effective copy (§2.1 "one activity, several sources")
# --------------------------------------------------------------------------------------------------

def copy_from(source, **kw):
    return event(source=source, subject=f"subject from {source or 'none'}", **kw)


def test_dynamics_wins_over_exchange_whatever_the_dict_order():
    merged = effective_copy({"exchange": copy_from("exchange", t=T + 60), "dynamics": copy_from("dynamics")})
    assert merged["source"] == "dynamics" and merged["t"] == T and merged["subject"] == "subject from dynamics"


def test_exchange_wins_over_other_sources():
    merged = effective_copy({"aaa": copy_from("aaa"), "zzz": copy_from("zzz"), "exchange": copy_from("exchange")})
    assert merged["subject"] == "subject from exchange"


def test_other_sources_in_code_point_order():
    # code points: "Zulu" (Z = 0x5A) < "alpha" (a = 0x61) < "beta"
    merged = effective_copy({"beta": copy_from("beta"), "alpha": copy_from("alpha"), "Zulu": copy_from("Zulu")})
    assert merged["subject"] == "subject from Zulu"


def test_named_other_source_wins_over_missing_source():
    merged = effective_copy({"": copy_from(""), "~tilde": copy_from("~tilde")})
    assert merged["subject"] == "subject from ~tilde"


def test_missing_source_alone_is_effective():
    assert effective_copy({"": copy_from("")})["subject"] == "subject from none"


def test_deleted_copy_does_not_count():
    merged = effective_copy({"dynamics": None, "exchange": copy_from("exchange")})
    assert merged["subject"] == "subject from exchange"


@pytest.mark.parametrize("copies", [{}, {"dynamics": None}, {"dynamics": None, "exchange": None, "": None}])
def test_no_live_copy_means_no_activity(copies):
    assert effective_copy(copies) is None


@pytest.mark.parametrize("name", ["subject", "in_reply_to", "conversation_id"])
def test_null_string_fields_filled_from_the_next_copy(name):
    merged = effective_copy({
        "dynamics": event(source="dynamics", **{name: None}),
        "exchange": event(source="exchange", **{name: "from-exchange"}),
        "other": event(source="other", **{name: "from-other"}),
    })
    assert merged[name] == "from-exchange"


def test_fill_skips_copies_that_are_also_null():
    merged = effective_copy({
        "dynamics": event(source="dynamics", in_reply_to=None),
        "exchange": event(source="exchange", in_reply_to=None),
        "zeta": event(source="zeta", in_reply_to="m-zeta"),
        "": event(source="", in_reply_to="m-none"),
    })
    assert merged["in_reply_to"] == "m-zeta"


def test_fill_from_missing_source_copy_last():
    merged = effective_copy({"exchange": event(source="exchange", conversation_id=None),
                             "": event(source="", conversation_id="conv-x")})
    assert merged["conversation_id"] == "conv-x"


def test_regarding_filled_from_next_copy():
    regarding = {"type": "opportunity", "id": "o-42", "account_id": "a-klant"}
    merged = effective_copy({"dynamics": event(regarding=None), "exchange": event(source="exchange", regarding=regarding)})
    assert merged["regarding"] == regarding


def test_non_null_field_of_effective_copy_is_not_overridden():
    merged = effective_copy({"dynamics": event(subject="D", regarding={"type": "lead", "id": "l-1", "account_id": None}),
                             "exchange": event(source="exchange", subject="E",
                                               regarding={"type": "opportunity", "id": "o-1", "account_id": None})})
    assert merged["subject"] == "D" and merged["regarding"]["id"] == "l-1"


def test_deleted_copy_does_not_fill():
    merged = effective_copy({"dynamics": event(subject=None), "exchange": None})
    assert merged["subject"] is None


@pytest.mark.parametrize("flag", ["tracked", "private"])
@pytest.mark.parametrize("first, second, expected", [
    (False, False, False), (True, False, True), (False, True, True), (True, True, True),
])
def test_tracked_and_private_are_ored(flag, first, second, expected):
    merged = effective_copy({"dynamics": event(**{flag: first}), "zz": event(source="zz", **{flag: second})})
    assert merged[flag] is expected


def test_tracked_from_deleted_copy_does_not_count():
    merged = effective_copy({"dynamics": event(tracked=False), "exchange": None})
    assert merged["tracked"] is False


def test_everything_else_comes_from_the_effective_copy_alone():
    ours = event(type="meeting", state="scheduled", t=T, dur=30.0, sender=us("u-anna"),
                 to=[them("c-bob")], cc=[])
    theirs = event(source="exchange", type="email", state="completed", t=T + 3600, dur=90.0,
                   sender=us("u-carl"), to=[them("c-dan")], cc=[us("u-eve")])
    merged = effective_copy({"exchange": theirs, "dynamics": ours})
    assert merged["type"] == "meeting"
    assert merged["state"] == "scheduled"
    assert merged["t"] == T
    assert merged["dur"] == 30.0
    assert merged["sender"]["id"] == "u-anna"
    assert [p["id"] for p in merged["to"]] == ["c-bob"]
    assert merged["cc"] == []


def test_effective_copy_of_exchange_when_dynamics_deleted_takes_its_parties():
    merged = effective_copy({"dynamics": None, "exchange": event(source="exchange", to=[them("c-x")])})
    assert [p["id"] for p in merged["to"]] == ["c-x"]


# --------------------------------------------------------------------------------------------------
# attribution (§3 rules 1-4)
# --------------------------------------------------------------------------------------------------

def test_spec_example_attribution():
    e = event(to=[them("c-bob", account_id="a-klant")],
              regarding={"type": "opportunity", "id": "o-42", "account_id": "a-klant"})
    # rule 1 contact:c-bob, rule 2 account:a-klant, rule 4 opportunity:o-42 (+ account:a-klant once)
    assert attribution_keys(e) == {"contact:c-bob", "account:a-klant", "opportunity:o-42"}


def test_contacts_in_from_to_and_cc_are_attributed_with_their_accounts():
    e = event(sender=them("c-1", account_id="a-1"), to=[us("u-1"), them("c-2", account_id="a-2")],
              cc=[them("c-3")])
    assert attribution_keys(e) == {"contact:c-1", "account:a-1", "contact:c-2", "account:a-2", "contact:c-3"}


def test_external_leads_are_attributed_but_not_their_account():
    # rule 2 applies to contact parties only ("the account_id of every such contact party")
    e = event(to=[them("l-1", kind="lead", account_id="a-9")], cc=[them("l-2", kind="lead")])
    assert attribution_keys(e) == {"lead:l-1", "lead:l-2"}


def test_external_unknown_and_user_kinds_are_not_attributed():
    e = event(to=[them("email:x@y.example", kind="unknown"), them("c-weird", kind="user")])
    assert attribution_keys(e) == set()


def test_internal_parties_are_never_attributed_even_with_contact_kind():
    e = event(sender=party("c-internal", "internal", "contact", account_id="a-1"),
              to=[party("l-internal", "internal", "lead")])
    assert attribution_keys(e) == set()


def test_bcc_is_never_attributed():
    e = event(to=[them("c-1")])
    e["bcc"] = [them("c-secret", account_id="a-secret"), them("l-secret", kind="lead")]
    assert attribution_keys(e) == {"contact:c-1"}
    assert external_party_ids(e) == {"c-1"}


def test_bcc_via_parse_message_is_never_attributed():
    obj = {"schema": "relstream.activity.v1", "op": "upsert", "id": "e-1", "version": 1, "type": "email",
           "state": "completed", "occurred_at": "2026-11-02T09:30:00Z",
           "from": {"id": "u-1", "side": "internal", "kind": "user"},
           "to": [{"id": "c-1", "side": "external", "kind": "contact", "account_id": "a-1"}],
           "bcc": [{"id": "c-2", "side": "external", "kind": "contact", "account_id": "a-2"},
                   {"id": "l-3", "side": "external", "kind": "lead"}]}
    e = parse_message(json.dumps(obj).encode(), "activities", NOW)
    assert attribution_keys(e) == {"contact:c-1", "account:a-1"}
    assert external_party_ids(e) == {"c-1"}


@pytest.mark.parametrize("rtype", ["contact", "account", "opportunity", "lead"])
def test_regarding_any_record_type(rtype):
    e = event(regarding={"type": rtype, "id": "r-1", "account_id": None})
    assert attribution_keys(e) == {f"{rtype}:r-1"}


def test_regarding_account_id_adds_that_account():
    e = event(regarding={"type": "contact", "id": "c-7", "account_id": "a-7"})
    assert attribution_keys(e) == {"contact:c-7", "account:a-7"}


def test_regarding_alone_attributes_an_internal_only_activity():
    e = event(sender=us("u-1"), to=[us("u-2")], regarding={"type": "lead", "id": "l-5", "account_id": None})
    assert attribution_keys(e) == {"lead:l-5"}


def test_each_record_once():
    # c-1 listed in to and cc; a-1 reached by rule 2 twice and by rule 4
    e = event(to=[them("c-1", account_id="a-1"), them("c-2", account_id="a-1")], cc=[them("c-1", account_id="a-1")],
              regarding={"type": "account", "id": "a-1", "account_id": "a-1"})
    assert attribution_keys(e) == {"contact:c-1", "contact:c-2", "account:a-1"}


@pytest.mark.parametrize("state", ["completed", "scheduled"])
def test_completed_and_scheduled_are_attributed(state):
    assert attribution_keys(event(state=state, to=[them("c-1")])) == {"contact:c-1"}


def test_canceled_is_attributed_nowhere():
    e = event(state="canceled", to=[them("c-1", account_id="a-1"), them("l-1", kind="lead")],
              regarding={"type": "opportunity", "id": "o-1", "account_id": "a-2"})
    assert attribution_keys(e) == set()
    assert external_party_ids(e) == set()


def test_external_party_ids_are_distinct_external_persons():
    e = event(sender=them("c-1"), to=[us("u-1"), them("email:x@y.example", kind="unknown"), them("c-1")],
              cc=[them("l-1", kind="lead")])
    assert external_party_ids(e) == {"c-1", "email:x@y.example", "l-1"}


def test_contact_without_account_id_gives_no_account():
    assert attribution_keys(event(to=[them("c-1", account_id=None)])) == {"contact:c-1"}


# --------------------------------------------------------------------------------------------------
# facts: participants and time spent (§4 time_spent)
# --------------------------------------------------------------------------------------------------

def minutes(e):
    facts = build_facts(e, [], [])
    return facts.minutes_us, facts.minutes_them


def test_email_from_us_with_internal_and_external_readers():
    e = event(sender=us("u-1"), to=[them("c-1"), us("u-2")], cc=[us("u-3"), them("c-2")])
    # us: 5 writing + 2.5 × 2 internal readers (u-2, u-3) = 10; them: 2.5 once (c-1, c-2 present)
    assert minutes(e) == (10.0, 2.5)


def test_email_from_them_to_two_of_us():
    e = event(sender=them("c-1"), to=[us("u-1"), us("u-2")])
    # them: 5 writing; us: 2.5 × 2 = 5; no external reader other than the sender
    assert minutes(e) == (5.0, 5.0)


def test_email_from_them_to_another_external_and_cc_us():
    e = event(sender=them("c-1"), to=[them("c-2")], cc=[us("u-1")])
    # them: 5 + 2.5 (c-2 reads) = 7.5; us: 2.5
    assert minutes(e) == (2.5, 7.5)


def test_email_reading_by_them_counts_once_for_many_readers():
    e = event(sender=us("u-1"), to=[them("c-1"), them("c-2"), them("c-3")], cc=[them("c-4")])
    assert minutes(e) == (5.0, 2.5)  # 5 writing; 2.5 once for them


def test_email_sender_listed_as_recipient_is_not_a_reader():
    e = event(sender=us("u-1"), to=[us("u-1")], cc=[us("u-1")])
    assert minutes(e) == (5.0, 0.0)


def test_external_sender_copying_itself_is_not_a_reader():
    e = event(sender=them("c-1"), to=[them("c-1")])
    assert minutes(e) == (0.0, 5.0)


def test_email_same_internal_reader_twice_counts_once():
    e = event(sender=us("u-1"), to=[us("u-2"), us("u-2")], cc=[us("u-2")])
    assert minutes(e) == (7.5, 0.0)  # 5 + 2.5 × 1 distinct reader


def test_email_bcc_is_ignored_for_time_spent():
    e = event(sender=us("u-1"), to=[them("c-1")])
    e["bcc"] = [us("u-2"), us("u-3"), them("c-9")]
    assert minutes(e) == (5.0, 2.5)


def test_email_with_no_recipients():
    assert minutes(event(sender=us("u-1"))) == (5.0, 0.0)


def test_email_duration_is_ignored():
    e = event(sender=us("u-1"), to=[them("c-1")], dur=600.0)
    assert minutes(e) == (5.0, 2.5)


def test_meeting_duration_times_internal_persons_and_once_for_them():
    e = event(type="meeting", dur=60.0, sender=us("u-1"), to=[us("u-2"), them("c-1")], cc=[them("c-2")])
    # us: 60 × 2 internal (u-1 organizer, u-2) = 120; them: 60 once
    assert minutes(e) == (120.0, 60.0)


def test_meeting_organised_by_them():
    e = event(type="meeting", dur=45.0, sender=them("c-1"), to=[us("u-1")], cc=[them("c-2"), us("u-2")])
    # us: 45 × 2 = 90; them: 45
    assert minutes(e) == (90.0, 45.0)


def test_internal_only_meeting():
    e = event(type="meeting", dur=30.0, sender=us("u-1"), to=[us("u-2")])
    assert minutes(e) == (60.0, 0.0)


def test_meeting_same_person_listed_twice_is_one_person():
    e = event(type="meeting", dur=30.0, sender=us("u-1"), to=[us("u-1"), us("u-2")], cc=[us("u-2"), them("c-1")])
    # internal persons: u-1, u-2 → 60; them 30
    assert minutes(e) == (60.0, 30.0)


def test_meeting_bcc_ignored():
    e = event(type="meeting", dur=20.0, sender=us("u-1"), to=[them("c-1")])
    e["bcc"] = [us("u-2"), us("u-3")]
    assert minutes(e) == (20.0, 20.0)


def test_phone_call():
    e = event(type="phone_call", dur=10.0, sender=them("l-1", kind="lead"), to=[us("u-1")])
    assert minutes(e) == (10.0, 10.0)


def test_phone_call_fractional_duration():
    e = event(type="phone_call", dur=7.5, sender=us("u-1"), to=[us("u-2"), them("c-1")])
    assert minutes(e) == (15.0, 7.5)


@pytest.mark.parametrize("duration", [None, ...])
def test_null_or_missing_duration_is_zero_time_spent(duration):
    obj = {"schema": "relstream.activity.v1", "op": "upsert", "id": "m-1", "version": 1, "type": "meeting",
           "state": "completed", "occurred_at": "2026-11-02T09:30:00Z",
           "from": {"id": "u-1", "side": "internal"},
           "to": [{"id": "c-1", "side": "external", "kind": "contact"}]}
    if duration is None:
        obj["duration_minutes"] = None
    e = parse_message(json.dumps(obj).encode(), "activities", NOW)
    assert minutes(e) == (0.0, 0.0)


def test_facts_people_are_distinct_and_exclude_bcc():
    e = event(sender=us("u-1", "Anna"), to=[them("c-1", name="Bob"), us("u-1")], cc=[them("c-1"), us("u-2")])
    e["bcc"] = [us("u-9")]
    facts = build_facts(e, [], [])
    assert sorted(p.id for p in facts.people) == ["c-1", "u-1", "u-2"]
    sides = {p.id: p.side for p in facts.people}
    assert sides == {"u-1": "internal", "c-1": "external", "u-2": "internal"}


def test_facts_copy_the_activity_fields():
    e = event(id="e-9", type="email", state="scheduled", t=T, subject="Hi", private=True, tracked=True,
              in_reply_to="e-1", sender=them("c-1"), to=[us("u-1")])
    facts = build_facts(e, [("opened", T + 20), ("link_clicked", T + 10)], [(T + 50, "internal", "r-1")])
    assert (facts.id, facts.type, facts.state, facts.at) == ("e-9", "email", "scheduled", T)
    assert facts.initiator_side == "external" and not facts.by_us
    assert (facts.subject, facts.private, facts.tracked, facts.in_reply_to) == ("Hi", True, True, "e-1")
    assert facts.shown_subject is None  # private: never shown
    assert [(i.kind, i.at) for i in facts.interactions] == [("link_clicked", T + 10), ("opened", T + 20)]
    assert [(r.at, r.side, r.id) for r in facts.replies] == [(T + 50, "internal", "r-1")]


def test_reply_info_of_a_completed_reply():
    e = event(in_reply_to="e-0", sender=them("c-1"), t=T)
    assert reply_info(e) == (T, "external")


@pytest.mark.parametrize("change", [
    {"in_reply_to": None}, {"state": "scheduled"}, {"state": "canceled"}, {"type": "meeting"},
])
def test_reply_info_only_for_completed_emails_answering_something(change):
    e = event(in_reply_to="e-0")
    e.update(change)
    assert reply_info(e) is None


def test_reply_info_of_nothing():
    assert reply_info(None) is None


def test_facts_round_trip_as_text_and_read_the_older_dict_form():
    e = event(id="e-9", type="email", t=T, subject="Hi", tracked=True, sender=us("u-1"), to=[them("c-1")])
    facts = build_facts(e, [("opened", T + 20)], [(T + 50, "external", "r-1"), (T - 10, "external", "r-0")])
    text = facts.to_wire()
    assert isinstance(text, str)
    assert Activity.from_wire(text) == facts
    assert Activity.from_wire(json.loads(text)) == facts  # changelogs written before facts became text
    # derived once per revision: the earliest answer from the other side that is not before the e-mail
    assert facts.by_us and Activity.from_wire(text).first_answer_at == T + 50


def test_first_answer_ignores_own_side_and_earlier_replies():
    e = event(id="e-1", type="email", t=T, sender=them("c-1"), to=[us("u-1")])
    facts = build_facts(e, [], [(T - 5, "internal", "r-0"), (T + 9, "external", "r-1"), (T + 30, "internal", "r-2")])
    assert facts.first_answer_at == T + 30
    assert build_facts(e, [], [(T + 9, "external", "r-1")]).first_answer_at is None
