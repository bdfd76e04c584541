"""Envelopes: many stage messages in one Kafka message, per destination partition, order kept."""
from __future__ import annotations

import orjson

from relstream.envelope import by_partition, pack, unpack


def test_pack_round_trips_in_order_within_the_size_target():
    items = [(f"contact:{n % 7}", {"m": "attr", "a": f"a-{n}", "f": {"x": "y" * (n % 50)}}) for n in range(500)]
    envelopes = list(pack(items, target_bytes=4096))
    assert len(envelopes) > 1
    assert all(len(e) <= 4096 for e in envelopes)
    assert [tuple(item) for e in envelopes for item in unpack(e)] == items


def test_an_item_larger_than_the_target_travels_alone():
    big = ("account:a", {"e": "z" * 10_000})
    envelopes = list(pack([("contact:c", {"n": 1}), big, ("contact:d", {"n": 2})], target_bytes=1024))
    assert [[tuple(i) for i in unpack(e)] for e in envelopes] == [[("contact:c", {"n": 1})], [big], [("contact:d", {"n": 2})]]
    assert orjson.loads(envelopes[1]) == [["account:a", {"e": "z" * 10_000}]]


def test_nothing_to_send_makes_no_envelope():
    assert list(pack([])) == []


def test_by_partition_groups_per_stage_and_partition_keeping_send_order():
    sends = [("record", "contact:a", {"n": 1}), ("activity", "e-1", {"n": 2}), ("record", "account:b", {"n": 3}),
             ("record", "contact:a", {"n": 4})]
    groups = by_partition(sends, lambda key: 1 if key.startswith("account") else 0)
    assert groups == {
        ("record", 0): [("contact:a", {"n": 1}), ("contact:a", {"n": 4})],
        ("record", 1): [("account:b", {"n": 3})],
        ("activity", 0): [("e-1", {"n": 2})],
    }
