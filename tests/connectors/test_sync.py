"""The shared page loop's row handling: dead letters instead of aborts, monotonic versions."""
from __future__ import annotations

from relstream.connectors.checkpoints import State
from relstream.connectors.mapping import MalformedRow, activity_delete
from relstream.connectors.publisher import Message, Topics
from relstream.connectors.sync import Sync
from relstream.settings import Settings
from tests.connectors.harness import MemoryStore


def test_bad_rows_become_dead_letters_and_the_rest_goes_on():
    sync = Sync("dynamics", client=None, state=State(MemoryStore(), {}), publisher=None,
                topics=Topics(Settings(topic_prefix="p")))

    def handle(row: dict) -> list[Message]:
        if row["n"] == 1:
            raise MalformedRow("no sender")
        return [sync.upsert(sync.topics.activities, {"id": "a", "version": 10 + row["statecode"]})]

    rows = [{"n": 0, "statecode": 0}, {"n": 1}, {"n": 2, "statecode": [1]}, {"n": 3, "statecode": -5}]
    messages = sync.each_row(rows, lambda row: f"row-{row['n']}", handle)
    assert [(m.topic, m.key, m.value.get("version") or m.value["reason"]) for m in messages] == [
        ("p.activities", "a", 10),
        ("p.dlq", "row-1", "no sender"),
        ("p.dlq", "row-2", "unexpected row shape (TypeError: unsupported operand type(s) for +: 'int' and 'list')"),
        ("p.activities", "a", 11),  # 10 - 5 would go backwards: raised above the last published version
    ]
    assert messages[1].value == {"reason": "no sender", "source": "connector:dynamics", "payload": {"n": 1}}
    deleted = sync.delete(sync.topics.activities, "a", lambda version: activity_delete("a", "dynamics", version))
    assert deleted == Message("p.activities", "a", {"schema": "relstream.activity.v1", "op": "delete", "id": "a",
                                                    "source": "dynamics", "version": 12})
