"""Batch recompute over a final event log: the reference the streaming pipeline must equal.

Deliberately written as a straightforward whole-log computation, independent of the incremental
state machine in `relstream.state`, so that tests can compare the two.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from relstream.activity import attribution_keys, build_facts, effective_copy, external_party_ids, reply_info
from relstream.kpi.context import Clock
from relstream.kpi.document import build_document
from relstream.kpi.similar import won_deal_summary
from relstream.model import Activity, RecordInfo


def _latest(events: Iterable[tuple[tuple, dict]]) -> dict[tuple, dict]:
    """Highest version per key; among equal versions the first seen wins (later ones are no-ops)."""
    latest: dict[tuple, dict] = {}
    for key, event in events:
        if key not in latest or event["version"] > latest[key]["version"]:
            latest[key] = event
    return latest


def attributed_activities(events: list[dict]) -> tuple[dict[str, list[Activity]], dict[str, RecordInfo]]:
    """Per record key `type:id`, its attributed activities; and the live records."""
    copies = _latest(((e["id"], e["source"]), e) for e in events if e["kind"] == "activity")
    by_activity: dict[str, dict[str, dict | None]] = defaultdict(dict)
    for (activity_id, source), event in copies.items():
        by_activity[activity_id][source] = None if event["op"] == "delete" else event
    effective = {aid: eff for aid, c in by_activity.items() if (eff := effective_copy(c)) is not None}

    interactions: dict[str, list[tuple[str, float]]] = defaultdict(list)
    seen_interactions: set[str] = set()
    for event in events:
        if event["kind"] == "interaction" and event["id"] not in seen_interactions:
            seen_interactions.add(event["id"])
            interactions[event["email_id"]].append((event["type"], event["at"]))
    replies: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for activity_id, event in effective.items():
        if (info := reply_info(event)) is not None:
            replies[event["in_reply_to"]].append((info[0], info[1], activity_id))

    records = {
        key: RecordInfo.from_event(e)
        for key, e in _latest(((f"{e['type']}:{e['id']}",), e) for e in events if e["kind"] == "record").items()
        if e["op"] == "upsert"
        for key in [key[0]]
    }
    stakeholder_of: dict[str, set[str]] = defaultdict(set)
    for record in records.values():
        if record.type == "opportunity":
            for party in record.stakeholder_ids:
                stakeholder_of[party].add(f"opportunity:{record.id}")

    per_record: dict[str, list[Activity]] = defaultdict(list)
    for activity_id, event in effective.items():
        if event["state"] == "canceled":
            continue
        facts = build_facts(event, interactions.get(activity_id, []), replies.get(activity_id, []))
        keys = attribution_keys(event)
        for party in external_party_ids(event):
            keys |= stakeholder_of.get(party, set())
        for key in keys:
            per_record[key].append(facts)
    return dict(per_record), records


def documents(events: list[dict], clock: Clock, computed_at: float | None = None) -> dict[str, dict]:
    """Every KPI document, keyed `type:id`, evaluated at `clock.as_of`."""
    per_record, records = attributed_activities(events)
    won = [
        won_deal_summary(record, per_record.get(key, []), clock.as_of)
        for key, record in records.items()
        if record.type == "opportunity" and record.status == "won"
    ]
    result = {}
    for key, activities in per_record.items():
        record_type, record_id = key.split(":", 1)
        result[key] = build_document(
            record_type, record_id, activities, clock,
            computed_at if computed_at is not None else clock.as_of, records.get(key), won,
        )
    return result
