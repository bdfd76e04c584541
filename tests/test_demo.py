"""`relstream demo-data`: the synthetic organisation is deterministic, valid per SPEC §2 and §7, and has every
feature the engine must handle; one integration test publishes it to the real Kafka and reads it back."""
from __future__ import annotations

import argparse
import asyncio
import re
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from tests.harness import track_prefix
from relstream.demo import (
    Message,
    SyntheticOrganisation,
    add_arguments,
    generate_activity_events,
    generate_organisation,
)

END = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
ACCOUNTS, DAYS, RATE = 10, 90, 0.5

# ----- SPEC §2 field rules, written out here on purpose: the generator must not grade its own work -----
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ACTIVITY_TYPES = {"email", "meeting", "phone_call"}
STATES = {"completed", "scheduled", "canceled"}
SIDES = {"internal", "external"}
KINDS = {"user", "contact", "lead", "unknown", None}
RECORD_TYPES = {"contact", "account", "opportunity", "lead"}
INTERACTION_KINDS = {"opened", "link_clicked", "attachment_viewed"}
STATUSES = {"opportunity": {"open", "won", "lost"}, "lead": {"open", "qualified", "disqualified"}}


def instant(text: str) -> datetime:
    assert isinstance(text, str) and RFC3339.match(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def is_optional_str(value: object) -> bool:
    return value is None or isinstance(value, str)


def is_version(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_party(party: dict) -> None:
    assert isinstance(party["id"], str) and party["id"], party
    assert party["side"] in SIDES and party.get("kind") in KINDS, party
    assert all(is_optional_str(party.get(name)) for name in ("name", "email", "account_id")), party
    if party["kind"] == "user":  # SPEC §7: internal users are their SMTP address in lower case
        assert party["side"] == "internal" and party["id"] == party["email"] == party["email"].lower()
        assert "@" in party["id"]
    else:
        assert party["side"] == "external" and GUID.match(party["id"]), party


def check_activity_upsert(value: dict) -> None:
    assert value["type"] in ACTIVITY_TYPES and value["state"] in STATES
    instant(value["occurred_at"])
    if value["type"] != "email":
        duration = value.get("duration_minutes")
        assert duration is None or (isinstance(duration, (int, float)) and 0 <= duration <= 1440)
    for name in ("subject", "source", "in_reply_to", "conversation_id"):
        assert is_optional_str(value.get(name)), name
    assert all(isinstance(value.get(name, False), bool) for name in ("private", "tracked"))
    check_party(value["from"])
    for name in ("to", "cc", "bcc"):
        assert value.get(name) is None or isinstance(value[name], list)
        for party in value.get(name) or []:
            check_party(party)
    regarding = value.get("regarding")
    if regarding is not None:
        assert regarding["type"] in RECORD_TYPES and isinstance(regarding["id"], str)
        assert is_optional_str(regarding.get("account_id"))


def check_activity(value: dict) -> None:
    assert value["schema"] == "relstream.activity.v1" and value["op"] in ("upsert", "delete")
    assert isinstance(value["id"], str) and value["id"] and is_version(value["version"])
    assert is_optional_str(value.get("source"))
    if value["op"] == "upsert":
        check_activity_upsert(value)


def check_interaction(value: dict) -> None:
    assert value["schema"] == "relstream.email_interaction.v1"
    assert isinstance(value["id"], str) and isinstance(value["email_id"], str)
    assert value["kind"] in INTERACTION_KINDS
    instant(value["at"])


def check_record(value: dict) -> None:
    assert value["schema"] == "relstream.record.v1" and value["op"] == "upsert"
    assert value["type"] in RECORD_TYPES and GUID.match(value["id"]) and is_version(value["version"])
    for name in ("name", "account_id", "currency", "industry", "owner_id"):
        assert is_optional_str(value.get(name)), name
    assert value.get("estimated_value") is None or isinstance(value["estimated_value"], (int, float))
    for name in ("products", "stakeholder_ids", "emails"):
        assert all(isinstance(item, str) for item in value.get(name) or []), name
    for name in ("created_at", "closed_at"):
        if value.get(name) is not None:
            instant(value[name])
    if value["type"] in STATUSES:
        assert value["status"] in STATUSES[value["type"]]
    else:
        assert is_optional_str(value.get("status"))


def check_message(message: Message) -> dict:
    assert len(message.value) < 1024 * 1024
    value = orjson.loads(message.value)
    if message.topic == "records":
        check_record(value)
        assert message.key == value["id"]
    elif value["schema"] == "relstream.email_interaction.v1":
        check_interaction(value)
        assert message.key == value["email_id"]
    else:
        assert message.topic == "activities"
        check_activity(value)
        assert message.key == value["id"]
    return value


# ----- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def messages() -> list[Message]:
    return generate_organisation(seed=11, accounts=ACCOUNTS, days=DAYS, end=END, activities_per_account_day=RATE)


@pytest.fixture(scope="module")
def values(messages) -> list[dict]:
    return [orjson.loads(message.value) for message in messages]


def activity_upserts(values: list[dict]) -> list[dict]:
    return [v for v in values if v["schema"] == "relstream.activity.v1" and v["op"] == "upsert"]


def records(values: list[dict], record_type: str) -> list[dict]:
    return [v for v in values if v["schema"] == "relstream.record.v1" and v["type"] == record_type]


# ----- determinism and validity -----------------------------------------------------------------------
def test_same_seed_same_bytes_other_seed_other_bytes(messages):
    again = generate_organisation(seed=11, accounts=ACCOUNTS, days=DAYS, end=END, activities_per_account_day=RATE)
    other = generate_organisation(seed=12, accounts=ACCOUNTS, days=DAYS, end=END, activities_per_account_day=RATE)
    assert again == messages
    assert other != messages


def test_every_message_satisfies_the_spec_field_rules(messages):
    for message in messages:
        check_message(message)


def test_record_ids_are_dataverse_guids_and_contacts_resolve_by_email(values):
    contacts = records(values, "contact")
    accounts = {record["id"] for record in records(values, "account")}
    assert contacts and all(record["account_id"] in accounts and record["emails"] for record in contacts)
    assert all(uuid.UUID(record["id"]) for record in contacts)
    known = {record["id"]: record["emails"] for record in contacts + records(values, "lead")}
    for activity in activity_upserts(values):
        for party in [activity["from"], *activity["to"], *activity["cc"]]:
            if party["side"] == "external":
                assert party["email"] in known[party["id"]]


def test_volumes_scale_with_accounts_and_days(values):
    assert len(records(values, "account")) == ACCOUNTS
    assert 2 * ACCOUNTS <= len(records(values, "contact")) <= 6 * ACCOUNTS
    opportunity_ids = {record["id"] for record in records(values, "opportunity")}
    assert ACCOUNTS <= len(opportunity_ids) <= 3 * ACCOUNTS
    assert len(records(values, "lead")) == round(ACCOUNTS / 3)
    distinct_activities = {activity["id"] for activity in activity_upserts(values)}
    target = ACCOUNTS * DAYS * RATE
    assert target <= len(distinct_activities) <= 1.2 * target + ACCOUNTS


def test_records_come_first_and_versions_only_grow(messages, values):
    first_activity = next(i for i, m in enumerate(messages) if m.topic == "activities")
    first_versions = {}
    for index, value in enumerate(values):
        if value["schema"] == "relstream.record.v1":
            first_versions.setdefault(value["id"], index)
    assert all(index < first_activity for index in first_versions.values())
    last_version: dict[tuple, int] = {}
    for value in values:
        if "version" in value:
            identity = (value["schema"], value["id"], value.get("source"))
            assert value["version"] > last_version.get(identity, -1), value
            last_version[identity] = value["version"]


def test_no_completed_activity_after_end_and_timestamps_whole_seconds(values):
    for activity in activity_upserts(values):
        assert activity["occurred_at"].endswith("Z") and "." not in activity["occurred_at"]
        if activity["state"] == "completed":
            assert instant(activity["occurred_at"]) <= END, activity


# ----- features ---------------------------------------------------------------------------------------
def test_email_threads_reply_to_earlier_emails_of_the_same_conversation(values):
    seen: dict[str, dict] = {}
    replies = 0
    for activity in activity_upserts(values):
        if activity["type"] != "email":
            continue
        if activity["in_reply_to"] is not None:
            original = seen[activity["in_reply_to"]]
            assert original["conversation_id"] == activity["conversation_id"]
            assert original["from"]["side"] != activity["from"]["side"]
            assert instant(original["occurred_at"]) <= instant(activity["occurred_at"])
            replies += 1
        seen.setdefault(activity["id"], activity)
    assert replies >= 10


def test_some_emails_come_from_both_dynamics_and_exchange_with_the_same_content(values):
    copies = defaultdict(dict)
    for activity in activity_upserts(values):
        copies[activity["id"]].setdefault(activity["source"], activity)
    both = [by_source for by_source in copies.values() if {"dynamics", "exchange"} <= set(by_source)]
    assert both
    for by_source in both:
        dynamics, exchange = (dict(by_source[name]) for name in ("dynamics", "exchange"))
        for copy in (dynamics, exchange):
            del copy["source"], copy["version"]
        assert dynamics == exchange


def test_edits_and_deletes_follow_the_original(values):
    first_seen: dict[str, dict] = {}
    edits = deletes = 0
    for value in values:
        if value["schema"] != "relstream.activity.v1" or value.get("source") != "dynamics":
            continue
        original = first_seen.setdefault(value["id"], value)
        if value is original:
            continue
        assert value["version"] > original["version"]
        if value["op"] == "delete":
            assert set(value) == {"schema", "op", "id", "source", "version"}
            deletes += 1
        else:
            assert (value["subject"], value["state"]) != (original["subject"], original["state"])
            edits += 1
    assert edits >= 3 and deletes >= 1


def test_meetings_are_scheduled_canceled_and_completed(values):
    meetings = [a for a in activity_upserts(values) if a["type"] == "meeting"]
    scheduled = [m for m in meetings if m["state"] == "scheduled"]
    assert scheduled and {m["state"] for m in meetings} == STATES
    assert all(END < instant(m["occurred_at"]) <= END + timedelta(days=30) for m in scheduled)
    assert all(30 <= m["duration_minutes"] <= 90 for m in meetings)
    calls = [a for a in activity_upserts(values) if a["type"] == "phone_call"]
    assert calls and all(5 <= c["duration_minutes"] <= 30 for c in calls)


def test_tracked_emails_have_interactions_after_sending_and_not_after_end(values):
    emails = {a["id"]: a for a in activity_upserts(values) if a["type"] == "email"}
    interactions = [v for v in values if v["schema"] == "relstream.email_interaction.v1"]
    assert {i["kind"] for i in interactions} == INTERACTION_KINDS
    assert len({i["id"] for i in interactions}) == len(interactions)
    for interaction in interactions:
        email = emails[interaction["email_id"]]
        assert email["tracked"] and email["from"]["side"] == "internal"
        assert instant(email["occurred_at"]) < instant(interaction["at"]) <= END


def test_private_bcc_and_regarding_every_record_type(values):
    activities = activity_upserts(values)
    assert any(a["private"] for a in activities)
    assert any(a["bcc"] for a in activities)
    assert {a["regarding"]["type"] for a in activities if a["regarding"]} == {"opportunity", "account", "lead"}


def test_stakeholder_change_is_published_after_the_activities_it_reattributes(values):
    last_activity_about: dict[str, int] = {}
    for index, value in enumerate(values):
        if value["schema"] == "relstream.activity.v1" and value["op"] == "upsert" and value["regarding"]:
            last_activity_about[value["regarding"]["id"]] = index
    first_stakeholders: dict[str, list[str]] = {}
    changes = 0
    for index, value in enumerate(values):
        if value["schema"] != "relstream.record.v1" or value["type"] != "opportunity":
            continue
        before = first_stakeholders.setdefault(value["id"], value["stakeholder_ids"])
        if value["stakeholder_ids"] != before:
            assert index > last_activity_about[value["id"]]
            changes += 1
    assert changes >= 1


def test_a_deal_is_won_late(values):
    versions = defaultdict(list)
    for record in records(values, "opportunity"):
        versions[record["id"]].append(record)
    late_wins = [v for v in versions.values() if v[0]["status"] == "open" and v[-1]["status"] == "won"]
    assert late_wins and all(v[-1]["closed_at"] is not None for v in late_wins)
    assert all(v[-1]["closed_at"] is None for v in versions.values() if v[-1]["status"] == "open")
    assert all(v[-1]["closed_at"] for v in versions.values() if v[-1]["status"] in ("won", "lost"))


def test_live_continues_the_history_now_with_growing_versions():
    organisation = SyntheticOrganisation(seed=3, accounts=4, days=30, end=END)
    history = organisation.history(0.5)
    last_version = max(orjson.loads(m.value).get("version", 0) for m in history if m.topic == "records")
    kinds = Counter()
    for tick in range(60):
        now = END + timedelta(seconds=tick)
        for message in organisation.live(now):
            value = check_message(message)
            if value["schema"] == "relstream.activity.v1":
                assert instant(value["occurred_at"]) == now and value["version"] > last_version
                last_version = value["version"]
                kinds["reply" if value["in_reply_to"] else value["type"]] += 1
            else:
                assert instant(value["at"]) == now
                kinds["interaction"] += 1
    assert set(kinds) == {"email", "meeting", "phone_call", "reply", "interaction"}


def test_benchmark_input_has_exactly_n_activity_messages_after_the_records():
    started = time.perf_counter()
    events = generate_activity_events(20_000, seed=1, end=END)
    elapsed = time.perf_counter() - started
    topics = [message.topic for message in events]
    first_activity = topics.index("activities")
    assert set(topics[:first_activity]) == {"records"} and set(topics[first_activity:]) == {"activities"}
    assert len(events) - first_activity == 20_000
    assert elapsed < 20  # ~1 s on a 2-core machine: this guards against an accidental quadratic


def test_cli_arguments_have_the_documented_defaults():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (args.accounts, args.days, args.seed, args.end, args.rate, args.live, args.bootstrap) == (
        12, 120, 7, None, 0.0, False, None)
    assert parser.parse_args(["--end", "2026-11-20T12:00:00+01:00"]).end == END - timedelta(hours=1)
    with pytest.raises(SystemExit):
        parser.parse_args(["--end", "20261120T120000Z"])


# ----- integration ------------------------------------------------------------------------------------
async def consume(bootstrap: str, prefix: str, expected: int, timeout: float = 60.0) -> tuple[list, dict]:
    from aiokafka import AIOKafkaConsumer

    topics = [f"{prefix}.activities", f"{prefix}.records"]
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        received = []
        deadline = time.monotonic() + timeout
        while len(received) < expected and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                received.extend(batch)
        partitions = {topic: len(consumer.partitions_for_topic(topic) or ()) for topic in topics}
        return received, partitions
    finally:
        await consumer.stop()


@pytest.mark.integration
def test_publishes_a_small_organisation_to_kafka(stack, monkeypatch):
    from relstream.cli import main
    from relstream.settings import Settings

    prefix = track_prefix(f"test-demo-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("RELSTREAM_TOPIC_PREFIX", prefix)
    bootstrap = Settings.from_env().kafka_bootstrap
    assert main(["demo-data", "--accounts", "2", "--days", "10", "--seed", "5", "--end", "2026-11-20T12:00:00Z"]) == 0

    expected = generate_organisation(seed=5, accounts=2, days=10, end=END)
    received, partitions = asyncio.run(consume(bootstrap, prefix, len(expected)))

    assert set(partitions.values()) == {Settings.from_env().partitions}
    assert len(received) == len(expected)
    published = Counter((r.topic, r.key.decode(), r.value) for r in received)
    assert published == Counter((f"{prefix}.{m.topic}", m.key, m.value) for m in expected)
    by_key = defaultdict(list)
    for record in received:
        by_key[record.key].append(orjson.loads(record.value))
    for versions in by_key.values():  # one key, one partition: publication order survives the round trip
        record_versions = [v["version"] for v in versions if v["schema"] == "relstream.record.v1"]
        assert record_versions == sorted(record_versions)
