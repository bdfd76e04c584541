"""FaustRecordStore keeps one facts text per activity, however many records hold it."""
from __future__ import annotations

from types import SimpleNamespace

import orjson

from agents.store import FaustRecordStore
from relstream.state import handle_record_stage


class LocalTable(SimpleNamespace):
    """What the store reads of a Faust table: its local data (a dict, as the memory store's)."""

    def __init__(self) -> None:
        super().__init__(data={})

    def keys(self):
        return self.data.keys()

    def items(self):
        return self.data.items()


class ChangelogRecorder:
    def __init__(self) -> None:
        self.records: list[tuple[str, object, int]] = []

    def set(self, table, key, value, partition) -> None:
        table.data[key] = value
        self.records.append((key, value, partition))


def store() -> FaustRecordStore:
    return FaustRecordStore(LocalTable(), LocalTable(), LocalTable(), ChangelogRecorder())


def facts(revision: int) -> str:
    """A fresh string object each call, as every decoded envelope gives."""
    return orjson.dumps({"id": "e-1", "rev": revision, "subject": "Renewal"}).decode()


def attribute(s: FaustRecordStore, key: str, revision: int, text: str | None) -> None:
    handle_record_stage(s, key, {"m": "attr", "a": "e-1", "r": "d", "rev": revision, "f": text})


def test_records_of_one_activity_share_one_facts_text():
    s = store()
    for key in ("contact:c-1", "account:a-1", "opportunity:o-1"):
        attribute(s, key, 1, facts(1))
    held = [s.get_attribution(key, "e-1")["d"][1] for key in ("contact:c-1", "account:a-1", "opportunity:o-1")]
    assert held[0] == facts(1)
    assert held[0] is held[1] is held[2]


def test_a_new_revision_is_shared_from_then_on_and_the_old_one_stays_where_it_is():
    s = store()
    attribute(s, "contact:c-1", 1, facts(1))
    attribute(s, "account:a-1", 2, facts(2))
    attribute(s, "opportunity:o-1", 2, facts(2))
    assert s.get_attribution("contact:c-1", "e-1")["d"] == [1, facts(1)]
    second = [s.get_attribution(key, "e-1")["d"][1] for key in ("account:a-1", "opportunity:o-1")]
    assert second[0] == facts(2) and second[0] is second[1]
    attribute(s, "contact:c-1", 3, None)  # a retraction holds no text
    assert s.get_attribution("contact:c-1", "e-1")["d"] == [3, None]


def test_recovered_entries_share_their_texts_again():
    s = store()
    s.write_back(0)
    for key in ("contact:c-1", "account:a-1"):
        s.attributions.data[f"{key}|e-1"] = {"d": [1, facts(1)]}  # as a changelog recovery leaves them
    assert s.rebuild_indexes(lambda key: True) == ["account:a-1", "contact:c-1"]
    texts = [s.attributions.data[f"{key}|e-1"]["d"][1] for key in ("contact:c-1", "account:a-1")]
    assert texts[0] == facts(1) and texts[0] is texts[1]
    assert sorted(s.activity_ids("contact:c-1")) == ["e-1"]
