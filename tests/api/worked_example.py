"""The worked example (SPEC's small-org) as the worker would project it into Redis.

A stand-in until `filled_redis` runs the real worker: documents come verbatim from expected.json (plus the
envelope and an overview), activity lists are derived from messages.jsonl with SPEC §2–§3's version,
source and attribution rules, simplified (no validation beyond what these messages need).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson

from relstream.timeutil import format_timestamp, parse_timestamp

# Same location rule as tests/harness.py: RELSTREAM_SPEC_DIR, by default the spec checked out beside the repo.
SPEC_DIR = Path(os.environ.get("RELSTREAM_SPEC_DIR", Path(__file__).resolve().parents[3] / "shared" / "spec"))
EXAMPLE_DIR = SPEC_DIR / "examples" / "small-org"
SOURCE_ORDER = {"dynamics": "0", "exchange": "1"}
TYPES = ("email", "meeting", "phone_call")
NOUN = {"email": ("e-mail", "e-mails"), "meeting": ("meeting", "meetings"), "phone_call": ("phone call", "phone calls")}


def load_expected() -> dict:
    return json.loads((EXAMPLE_DIR / "expected.json").read_text(encoding="utf-8"))


def _messages(topic: str) -> list[dict]:
    events = []
    for line in (EXAMPLE_DIR / "messages.jsonl").read_text(encoding="utf-8").splitlines():
        message = json.loads(line)
        if message["topic"] != topic or "value" not in message:
            continue
        try:
            event = json.loads(message["value"])
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("version"), int):
            events.append(event)
    return events


def _records() -> dict[tuple[str, str], dict]:
    latest: dict[tuple[str, str], dict] = {}
    for event in _messages("records"):
        key = (event["type"], event["id"])
        if key not in latest or latest[key]["version"] < event["version"]:
            latest[key] = event
    return {key: event for key, event in latest.items() if event["op"] == "upsert"}


def _effective_activities() -> list[dict]:
    copies: dict[str, dict[str, dict]] = {}
    for event in _messages("activities"):
        if event.get("schema") != "relstream.activity.v1" or event.get("op") not in ("upsert", "delete"):
            continue
        source = event.get("source") or ""
        held = copies.setdefault(event["id"], {}).get(source)
        if held is None or held["version"] < event["version"]:
            copies[event["id"]][source] = event
    effective = []
    for by_source in copies.values():
        live = [by_source[s] for s in sorted(by_source, key=lambda s: SOURCE_ORDER.get(s, "2" + s) if s else "3")]
        live = [e for e in live if e["op"] == "upsert"]
        if not live or live[0].get("state") not in ("completed", "scheduled"):
            continue
        activity = dict(live[0])
        activity["subject"] = next((e.get("subject") for e in live if e.get("subject")), None)
        activity["private"] = any(e.get("private") for e in live)
        if parse_timestamp(activity.get("occurred_at")) and activity.get("type") in TYPES:
            effective.append(activity)
    return effective


def _attributed(activity: dict, opportunities: dict[str, set[str]]) -> set[tuple[str, str]]:
    parties = [activity["from"], *(activity.get("to") or []), *(activity.get("cc") or [])]
    external = {p["id"] for p in parties if p.get("side") == "external"}
    targets: set[tuple[str, str]] = set()
    for party in parties:
        if party.get("side") != "external":
            continue
        if party.get("kind") == "contact":
            targets.add(("contact", party["id"]))
            if party.get("account_id"):
                targets.add(("account", party["account_id"]))
        elif party.get("kind") == "lead":
            targets.add(("lead", party["id"]))
    regarding = activity.get("regarding") or {}
    if regarding.get("type") and regarding.get("id"):
        targets.add((regarding["type"], regarding["id"]))
    if regarding.get("account_id"):
        targets.add(("account", regarding["account_id"]))
    targets.update(("opportunity", oid) for oid, stakeholders in opportunities.items() if stakeholders & external)
    return targets


def activity_lists() -> dict[str, list[dict]]:
    """`type:id` → the latest 200 attributed activities, newest first, as the contract's list entries."""
    records = _records()
    opportunities = {
        rid: set(r.get("stakeholder_ids") or []) for (rtype, rid), r in records.items() if rtype == "opportunity"
    }
    lists: dict[str, list[dict]] = {}
    for activity in _effective_activities():
        at = parse_timestamp(activity["occurred_at"])
        entry = {
            "id": activity["id"],
            "type": activity["type"],
            "initiator": "us" if activity["from"]["side"] == "internal" else "them",
            "occurred_at": format_timestamp(at),
            "state": activity["state"],
            "subject": None if activity["private"] else activity["subject"],
            "private": activity["private"],
        }
        for rtype, rid in _attributed(activity, opportunities):
            lists.setdefault(f"{rtype}:{rid}", []).append(entry)
    for entries in lists.values():
        entries.sort(key=lambda e: (e["occurred_at"], e["id"]), reverse=True)
        del entries[200:]
    return lists


def _overview(widgets: dict) -> dict:
    differences = []
    for kind in TYPES:
        counts = widgets["customer_interactions"][kind]
        difference = counts["by_us"] - counts["by_them"]
        what = f"{abs(difference)} more {NOUN[kind][abs(difference) != 1]}"
        if difference > 0:
            differences.append((difference, f"You initiated {what} than the customer."))
        elif difference < 0:
            differences.append((-difference, f"The customer initiated {what} than you."))
    return {"highlights": [text for _, text in sorted(differences, key=lambda d: -d[0])[:3]]}


def documents(expected: dict) -> dict[str, dict]:
    """`type:id` → the full KPI document (envelope, name where known, overview first)."""
    records = _records()
    full = {}
    for key, widgets in expected["documents"].items():
        rtype, rid = key.split(":", 1)
        name = (records.get((rtype, rid)) or {}).get("name") or next(
            (p["name"] for p in widgets["most_contacted"] if p["id"] == rid), None
        )
        full[key] = {
            "schema": "relstream.kpi.v1",
            "entity": {"type": rtype, "id": rid, "name": name},
            "as_of": expected["as_of"],
            "computed_at": expected["processed_at"],
            "widgets": {"overview": _overview(widgets), **widgets},
        }
    return full


def write(redis, settings, docs: dict[str, dict], lists: dict[str, list[dict]]) -> None:
    """What the worker's projection writes: document, activity list and health score per record."""
    pipe = redis.pipeline(transaction=False)
    for key, document in docs.items():
        rtype, rid = key.split(":", 1)
        pipe.set(settings.key("kpi", rtype, rid), orjson.dumps(document))
        pipe.set(settings.key("activities", rtype, rid), orjson.dumps(lists.get(key, [])))
        score = document["widgets"]["relationship_health"]["score"]
        if score is not None:
            pipe.zadd(settings.key("health", rtype), {rid: score})
    pipe.execute()
