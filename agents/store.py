"""The record stage's state in Faust tables, with the in-memory indexes the tables cannot give.

Tables are keyed finely (`{record}|{activity}`) so that one changelog message stays small however
many activities a record has; the indexes (record -> activity ids, party -> opportunities) are derived
data, rebuilt from the tables after every recovery. Writes are buffered while an envelope is applied
and reach the tables (and their changelogs) once per key in `write_back`.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterator

SEP = "|"


def local_reader(table):
    """`get` of the table's local store: the memory store's own dict when it has one (its Mapping.get
    wrapper cost ~3 % of a worker's time), the store's `get` otherwise (RocksDB). Resolved at the first
    read, when Faust has created the store."""
    get = None

    def read(key: str):
        nonlocal get
        if get is None:
            data = getattr(table.data, "data", None)
            get = data.get if isinstance(data, dict) else table.data.get
        return get(key)
    return read


class FaustRecordStore:
    def __init__(self, records, attributions, memberships, writer):
        self.writer = writer
        self.records = records
        self.attributions = attributions
        self.memberships_table = memberships
        self._activities: dict[str, set[str]] = defaultdict(set)
        self._members: dict[str, dict[str, list]] = defaultdict(dict)
        self._pending: dict[int, dict] = {id(t): {} for t in (records, attributions, memberships)}
        self._readers = {id(t): local_reader(t) for t in (records, attributions, memberships)}
        self._facts: dict[str, str] = {}  # activity id -> the facts text the records share

    def _get(self, table, key: str):
        value = self._pending[id(table)].get(key)
        return self._readers[id(table)](key) if value is None else value

    def _set(self, table, key: str, value) -> None:
        self._pending[id(table)][key] = value

    def write_back(self, partition: int) -> None:
        """One table write (one changelog record) per key touched since the last call."""
        for table in (self.records, self.attributions, self.memberships_table):
            pending = self._pending[id(table)]
            for key, value in pending.items():
                self.writer.set(table, key, value, partition)
            pending.clear()

    def rebuild_indexes(self, owns) -> list[str]:
        """Re-derive the indexes from local table data of owned record keys; returns those keys."""
        self._activities.clear()
        self._members.clear()
        self._facts.clear()
        keys = {k for k in self.records.keys() if owns(k)}
        for composite, entry in list(self.attributions.items()):
            key, activity_id = composite.split(SEP, 1)
            if owns(key):
                self._activities[key].add(activity_id)
                keys.add(key)
                for held in entry.values():  # recovered texts are separate copies: share them again
                    held[1] = self._shared(activity_id, held[1])
        for composite, value in list(self.memberships_table.items()):
            party, opportunity = composite.split(SEP, 1)
            if owns(f"party:{party}"):
                self._members[party][opportunity] = value
        return sorted(keys)

    def get_record(self, key: str) -> dict | None:
        return self._get(self.records, key)

    def set_record(self, key: str, entry: dict) -> None:
        self._set(self.records, key, entry)

    def get_attribution(self, key: str, activity_id: str) -> dict | None:
        return self._get(self.attributions, f"{key}{SEP}{activity_id}")

    def set_attribution(self, key: str, activity_id: str, entry: dict) -> None:
        for held in entry.values():
            held[1] = self._shared(activity_id, held[1])
        self._set(self.attributions, f"{key}{SEP}{activity_id}", entry)
        self._activities[key].add(activity_id)

    def activity_ids(self, key: str) -> Iterator[str]:
        return iter(list(self._activities.get(key, ())))

    def _shared(self, activity_id: str, facts: str | None) -> str | None:
        """One string for an activity's facts however many records hold them: each of the ~6 records an
        activity counts for decoded its own copy from its envelope, ~6 equal texts of ~0.5 KiB per activity.
        (Only the newest text per activity is remembered: a record still on an older revision keeps its own.)"""
        if facts is None:
            return None
        shared = self._facts.get(activity_id)
        if shared == facts:
            return shared
        self._facts[activity_id] = facts
        return facts

    def get_membership(self, party: str, opportunity: str) -> list | None:
        return self._members.get(party, {}).get(opportunity)

    def set_membership(self, party: str, opportunity: str, value: list) -> None:
        self._set(self.memberships_table, f"{party}{SEP}{opportunity}", value)
        self._members[party][opportunity] = value

    def memberships(self, party: str) -> Iterator[tuple[str, list]]:
        return iter(list(self._members.get(party, {}).items()))

    def known_keys(self) -> list[str]:
        return sorted(set(self._activities) | {k for k in self.records.keys()})
