"""OffsetWatch: a partition's offsets must follow each other; a jump is reported once, with its range."""
from __future__ import annotations

from types import SimpleNamespace

from agents.offsets import OffsetWatch


def messages(topic: str, partition: int, *offsets: int):
    return [SimpleNamespace(topic=topic, partition=partition, offset=o) for o in offsets]


def watch():
    skipped = []
    return OffsetWatch("g", on_skip=lambda tp, first, last: skipped.append((tp, first, last))), skipped


def test_contiguous_offsets_and_redeliveries_are_fine():
    offsets, skipped = watch()
    offsets.check("a", messages("t", 0, 5, 6, 7))
    offsets.check("a", messages("t", 0, 6, 7, 8))  # a seek back to the committed offset: redelivery
    offsets.check("a", messages("t", 1, 100))  # first message of another partition: nothing to compare
    assert skipped == []


def test_a_jump_is_reported_with_the_missing_range(caplog):
    offsets, skipped = watch()
    offsets.check("record_stage", messages("t", 2, 10, 11))
    offsets.check("record_stage", messages("t", 2, 15, 16))
    assert skipped == [(("t", 2), 12, 14)]
    assert "offsets 12..14 of t[2] were never delivered" in caplog.text
    assert "reset group g on that partition to offset 12" in caplog.text


def test_partitions_not_held_through_a_rebalance_start_afresh():
    offsets, skipped = watch()
    offsets.check("a", messages("t", 0, 10) + messages("t", 1, 20))
    offsets.on_revoked({("t", 0), ("t", 1)})
    offsets.on_assigned({("t", 0)})  # t[1] went to another worker
    offsets.on_revoked({("t", 0)})
    offsets.on_assigned({("t", 0), ("t", 1)})  # and came back, moved on by the other worker
    offsets.check("a", messages("t", 1, 90) + messages("t", 0, 11))
    assert skipped == []
    offsets.check("a", messages("t", 0, 13))  # but t[0] was held all along: 12 is missing
    assert skipped == [(("t", 0), 12, 12)]


def test_partitions_without_commit_are_rewound_after_faust_seeks_to_committed():
    import asyncio
    from collections import namedtuple

    from agents.offsets import rewind_partitions_without_commit

    TP = namedtuple("TP", "topic partition")
    calls = []

    class Consumer:
        async def seek_to_committed(self):
            return {TP("in", 0): 12, TP("in", 1): None, TP("in", 2): 0, TP("t-changelog", 1): None}

        async def seek_to_beginning(self, *tps):
            calls.append(sorted(tps))

        def _is_changelog_tp(self, tp):
            return tp.topic.endswith("changelog")

    consumer = Consumer()
    rewind_partitions_without_commit(consumer)
    rewind_partitions_without_commit(consumer)  # installed once, however many rebalances
    committed = asyncio.run(consumer.seek_to_committed())
    assert committed[TP("in", 0)] == 12  # what Faust's perform_seek records as committed is unchanged
    assert calls == [[TP("in", 1), TP("in", 2)]]
