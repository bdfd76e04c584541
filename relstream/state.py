"""The incremental state machine: pure handlers for the two keyed stages of the topology.

Stage *activity* (key = activity id) holds every source copy, e-mail interactions and replies of one
activity; stage *record* (key = `type:id`, or `party:{id}` for stakeholder fan-out) holds the facts
attributed to one record. Handlers take the current state, return the new state and the messages to
send. Two rules make crashes and redeliveries harmless:

* every handler re-sends the *current* effect of its key, even for a duplicate input, so an effect
  lost between a state write and a crash is sent again by the redelivery;
* every effect carries a revision and replaces, never adds, so applying it twice changes nothing.
"""
from __future__ import annotations

from typing import Iterable, Iterator, NamedTuple, Protocol

from relstream.activity import (
    attribution_keys, build_facts, distinct_people, effective_copy, external_party_ids, reply_info,
)
from relstream.kpi.context import Clock
from relstream.kpi.aggregate import RecordAggregate
from relstream.kpi.document import build_widgets, document_of
from relstream.kpi.similar import won_deal_summary
from relstream.model import Activity, RecordInfo, WonDeal

PARTY = "party"
DIRECT = "d"


class Send(NamedTuple):
    """A message for another key: `stage` is "activity" or "record". (A tuple: inputs make ~8 of them.)"""

    stage: str
    key: str
    message: dict


# ---------------------------------------------------------------- stage activity (key = activity id)

def new_activity_entry() -> dict:
    return {"copies": {}, "ix": {}, "rp": {}, "rev": 0, "keys": [], "targets": []}


def _absorb(entry: dict, message: dict) -> bool:
    """Fold one message into the entry; True when it changed anything (stale versions change nothing)."""
    kind = message["m"]
    if kind == "activity":
        event = message["e"]
        held = entry["copies"].get(event["source"])
        if held is not None and event["version"] <= held[0]:
            return False
        entry["copies"][event["source"]] = [event["version"], None if event["op"] == "delete" else event]
        return True
    if kind == "interaction":
        event = message["e"]
        if event["id"] in entry["ix"]:
            return False  # the first interaction with an id wins
        entry["ix"][event["id"]] = [event["type"], event["at"]]
        return True
    held = entry["rp"].get(message["from"])
    if held is not None and message["rev"] < held[0]:
        return False
    entry["rp"][message["from"]] = [message["rev"], message["info"]]
    return held is None or held[1] != message["info"]


def handle_activity(activity_id: str, entry: dict | None, message: dict) -> tuple[dict, list[Send]]:
    """Apply an activity/interaction/reply message; send this activity's current facts everywhere."""
    entry = entry if entry is not None else new_activity_entry()
    if _absorb(entry, message):
        entry["rev"] += 1
    effective = effective_copy({source: copy for source, (_, copy) in entry["copies"].items()})
    if effective is None or effective["state"] == "canceled":
        keys: set[str] = set()
        facts = None
    else:
        people = distinct_people(effective)
        keys = attribution_keys(effective, people) | {f"{PARTY}:{p}" for p in external_party_ids(effective, people)}
        replies = [(info[0], info[1], rid) for rid, (_, info) in entry["rp"].items() if info is not None]
        facts = build_facts(effective, list(entry["ix"].values()), replies, people).to_wire()
    every_key = sorted(set(entry["keys"]) | keys)
    entry["keys"] = every_key
    sends = [
        Send("record", key, {"m": "attr", "a": activity_id, "r": DIRECT, "rev": entry["rev"],
                             "f": facts if key in keys else None})
        for key in every_key
    ]
    if message["m"] == "reply":
        # What this activity answers depends only on its own copies, which a reply cannot change;
        # not echoing links here also ends e-mails that (maliciously) answer each other or themselves.
        return entry, sends
    target = effective["in_reply_to"] if effective is not None and effective["type"] == "email" else None
    info = reply_info(effective) if target else None  # None: not (or no longer) a completed reply
    entry["targets"] = sorted(set(entry["targets"]) | ({target} if target else set()))
    sends += [
        Send("activity", t, {"m": "reply", "from": activity_id, "rev": entry["rev"],
                             "info": list(info) if info and t == target else None})
        for t in entry["targets"]
    ]
    return entry, sends


# ---------------------------------------------------------------- stage record (key = type:id | party:id)

class RecordStore(Protocol):
    """Per-record state of the record stage; the Faust tables and an in-memory dict both provide it."""

    def get_record(self, key: str) -> dict | None: ...
    def set_record(self, key: str, entry: dict) -> None: ...
    def get_attribution(self, key: str, activity_id: str) -> dict | None: ...
    def set_attribution(self, key: str, activity_id: str, entry: dict) -> None: ...
    def activity_ids(self, key: str) -> Iterator[str]: ...
    def get_membership(self, party: str, opportunity: str) -> list | None: ...
    def set_membership(self, party: str, opportunity: str, value: list) -> None: ...
    def memberships(self, party: str) -> Iterator[tuple[str, list]]: ...


def live_facts(entry: dict | None) -> str | None:
    """The freshest facts among the reasons that still attribute the activity (None: not attributed)."""
    live = live_revision(entry)
    return None if live is None else live[1]


def live_revision(entry: dict | None) -> tuple[int, str] | None:
    """(activity revision, facts) of `live_facts`: one revision of an activity has the same facts in every
    record it counts for, so the revision identifies them."""
    if not entry:
        return None
    best = None
    for rev, facts in entry.values():
        if facts is not None:
            activity_rev = rev[0] if isinstance(rev, list) else rev
            if best is None or activity_rev > best[0]:
                best = (activity_rev, facts)
    return best


class RecordResult(NamedTuple):
    """What a record-stage message caused (a tuple: one per stage message)."""

    sends: list[Send]
    dirty: str | None = None  # the record key, when its document must be evaluated again
    changed: str | None = None  # the activity whose attribution to that record may have changed


def _stakeholder_sends(party_id: str, activity_id: str, entry: dict, opportunity: str, membership: list) -> Send:
    version, member = membership
    facts = live_facts(entry) if member else None
    return Send("record", f"opportunity:{opportunity}",
                {"m": "attr", "a": activity_id, "r": f"s:{party_id}", "rev": [entry[DIRECT][0], version],
                 "f": facts})


def handle_record_stage(store: RecordStore, key: str, message: dict) -> RecordResult:
    kind = message["m"]
    record_type, record_id = key.split(":", 1)
    if kind == "attr":
        _apply_attribution(store, key, message)
        if record_type != PARTY:
            return RecordResult([], key, message["a"])
        entry = store.get_attribution(key, message["a"])
        return RecordResult([
            _stakeholder_sends(record_id, message["a"], entry, opportunity, membership)
            for opportunity, membership in store.memberships(record_id)
        ])
    if kind == "member":
        held = store.get_membership(record_id, message["o"])
        if held is None or message["v"] >= held[0]:
            held = [message["v"], message["in"]]
            store.set_membership(record_id, message["o"], held)
        return RecordResult([
            _stakeholder_sends(record_id, activity_id, store.get_attribution(key, activity_id), message["o"], held)
            for activity_id in store.activity_ids(key)
        ])
    return RecordResult(_apply_record(store, key, message["e"]), key)


def _apply_attribution(store: RecordStore, key: str, message: dict) -> None:
    entry = store.get_attribution(key, message["a"]) or {}
    held = entry.get(message["r"])
    if held is not None and (message["rev"] < held[0] or held == [message["rev"], message["f"]]):
        return
    entry[message["r"]] = [message["rev"], message["f"]]
    store.set_attribution(key, message["a"], entry)


def _apply_record(store: RecordStore, key: str, event: dict) -> list[Send]:
    """Keep the latest record version; an opportunity tells every (past and present) stakeholder."""
    held = store.get_record(key) or {"v": -1, "e": None, "ever": []}
    if event["version"] > held["v"]:
        held = {"v": event["version"], "e": None if event["op"] == "delete" else event, "ever": held["ever"]}
    stakeholders: set[str] = set()
    if event["type"] == "opportunity":
        stakeholders = set(held["e"]["stakeholder_ids"]) if held["e"] else set()
        held["ever"] = sorted(set(held["ever"]) | stakeholders)
    store.set_record(key, held)
    return [
        Send("record", f"{PARTY}:{party}", {"m": "member", "o": event["id"], "v": held["v"], "in": party in stakeholders})
        for party in held["ever"]
    ]


def record_activities(store: RecordStore, key: str) -> list[Activity]:
    return [
        Activity.from_wire(facts)
        for activity_id in store.activity_ids(key)
        if (facts := live_facts(store.get_attribution(key, activity_id))) is not None
    ]


def record_info(store: RecordStore, key: str) -> RecordInfo | None:
    held = store.get_record(key)
    return RecordInfo.from_event(held["e"]) if held and held["e"] else None


def evaluate_record(
    store: RecordStore, key: str, clock: Clock, computed_at: float, won_deals: list[WonDeal],
    aggregate: RecordAggregate | None = None,
) -> dict | None:
    """The record's KPI document, or None when no activity is attributed to it any more: from the aggregate
    the caller keeps for it (the projector), else from its activities in the store."""
    record_type, record_id = key.split(":", 1)
    record = record_info(store, key)
    if aggregate is None:
        activities = record_activities(store, key)
        widgets = build_widgets(record_type, activities, clock, record, won_deals) if activities else None
    else:
        widgets = aggregate.widgets(record_type, clock, record, won_deals) if aggregate else None
    return None if widgets is None else document_of(record_type, record_id, clock, computed_at, record, widgets)


def won_deal(store: RecordStore, key: str, as_of: float, activities: Iterable[Activity] | None = None) -> WonDeal | None:
    """The similar-deals candidate this record is, if it is a won opportunity."""
    record = record_info(store, key)
    if record is None or record.type != "opportunity" or record.status != "won":
        return None
    return won_deal_summary(record, record_activities(store, key) if activities is None else activities, as_of)


class MemoryRecordStore:
    """RecordStore over dicts: the in-process pipeline of tests and the batch-equivalence checks."""

    def __init__(self) -> None:
        self.records: dict[str, dict] = {}
        self.attributions: dict[str, dict[str, dict]] = {}
        self.members: dict[str, dict[str, list]] = {}

    def get_record(self, key: str) -> dict | None:
        return self.records.get(key)

    def set_record(self, key: str, entry: dict) -> None:
        self.records[key] = entry

    def get_attribution(self, key: str, activity_id: str) -> dict | None:
        return self.attributions.get(key, {}).get(activity_id)

    def set_attribution(self, key: str, activity_id: str, entry: dict) -> None:
        self.attributions.setdefault(key, {})[activity_id] = entry

    def activity_ids(self, key: str) -> Iterator[str]:
        return iter(list(self.attributions.get(key, {})))

    def get_membership(self, party: str, opportunity: str) -> list | None:
        return self.members.get(party, {}).get(opportunity)

    def set_membership(self, party: str, opportunity: str, value: list) -> None:
        self.members.setdefault(party, {})[opportunity] = value

    def memberships(self, party: str) -> Iterator[tuple[str, list]]:
        return iter(list(self.members.get(party, {}).items()))
