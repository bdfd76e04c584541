"""OffsetWatch: a partition's offsets must follow each other; a jump is reported once, with its range."""
from __future__ import annotations

from types import SimpleNamespace

from agents.offsets import OffsetWatch


def messages(topic: str, partition: int, *offsets: int):
    return [SimpleNamespace(topic=topic, partition=partition, offset=o) for o in offsets]


def watch():
    skipped = []
    return OffsetWatch(on_skip=lambda tp, count: skipped.append((tp, count)), retry_s=15), skipped


def test_contiguous_offsets_and_redeliveries_are_fine():
    offsets, skipped = watch()
    offsets.check("a", messages("t", 0, 5, 6, 7))
    offsets.check("a", messages("t", 0, 6, 7, 8))  # a seek back to the committed offset: redelivery
    offsets.check("a", messages("t", 1, 100))  # first message of another partition: nothing to compare
    assert skipped == []


def test_a_jump_is_a_gap_until_read_again_or_found_empty(caplog):
    caplog.set_level("INFO", "relstream.worker")
    offsets, skipped = watch()
    assert offsets.check("record_stage", messages("t", 2, 10, 11)) == []
    assert offsets.check("record_stage", messages("t", 2, 15, 16)) == [(("t", 2), 12, 14)]
    assert offsets.first_missing(("t", 2)) == 12
    offsets.holes(("t", 2), {12})  # a transaction marker: no message there
    offsets.report("record_stage", ("t", 2), {13, 14})
    assert skipped == [(("t", 2), 2)]
    assert "offsets 13..14 of t[2] (2 messages) were never delivered" in caplog.text
    assert offsets.first_missing(("t", 2)) == 13
    assert offsets.check("record_stage", messages("t", 2, 13)) == []  # the re-read arrives
    assert offsets.first_missing(("t", 2)) == 14
    assert offsets.check("record_stage", messages("t", 2, 14, 15, 16, 17)) == []
    assert offsets.first_missing(("t", 2)) is None
    assert "have been read again" in caplog.text


def test_a_gap_not_read_again_is_asked_for_again_after_the_retry_period(monkeypatch):
    import agents.offsets

    clock = [1000.0]
    monkeypatch.setattr(agents.offsets.time, "time", lambda: clock[0])
    offsets, _ = watch()
    offsets.check("ingest", messages("t", 0, 1))
    offsets.check("ingest", messages("t", 0, 4))
    assert offsets.overdue(1010.0) == []
    assert offsets.overdue(1016.0) == [(("t", 0), 2, 3)]
    assert offsets.overdue(1020.0) == []  # asked again at 1016: wait another period


def test_commits_never_pass_a_gap_that_was_not_read_again():
    from collections import namedtuple

    from agents.offsets import cap_commits_at_gaps

    TP = namedtuple("TP", "topic partition")
    offsets, _ = watch()
    offsets.check("ingest", messages("t", 0, 5, 6))
    offsets.check("ingest", messages("t", 0, 9, 10))  # 7..8 skipped

    class Consumer:
        _committed_offset = {TP("t", 0): 5, TP("t", 1): None}

        def _new_offset(self, tp):
            return 11  # Faust: the first run of acknowledged offsets, 9..10, ends at 10

    consumer = Consumer()
    cap_commits_at_gaps(consumer, offsets)
    cap_commits_at_gaps(consumer, offsets)  # installed once
    assert consumer._new_offset(TP("t", 0)) == 7  # not past the gap
    assert consumer._new_offset(TP("t", 1)) == 11  # no gap there
    consumer._committed_offset[TP("t", 0)] = 7
    assert consumer._new_offset(TP("t", 0)) is None  # already committed up to the gap
    offsets.check("ingest", messages("t", 0, 7, 8))
    assert consumer._new_offset(TP("t", 0)) == 11


def test_partitions_not_held_through_a_rebalance_start_afresh():
    offsets, skipped = watch()
    offsets.check("a", messages("t", 0, 10) + messages("t", 1, 20))
    offsets.on_revoked({("t", 0), ("t", 1)})
    offsets.on_assigned({("t", 0)})  # t[1] went to another worker
    offsets.on_revoked({("t", 0)})
    offsets.on_assigned({("t", 0), ("t", 1)})  # and came back, moved on by the other worker
    offsets.check("a", messages("t", 1, 90) + messages("t", 0, 11))
    assert skipped == []
    assert offsets.check("a", messages("t", 0, 13)) == [(("t", 0), 12, 12)]  # t[0] was held all along
    offsets.on_revoked({("t", 0), ("t", 1)})
    offsets.on_assigned({("t", 1)})  # t[0] and its gap go to another worker (nothing committed past 12)
    assert offsets.first_missing(("t", 0)) is None and offsets.overdue(10 ** 10) == []


def test_assigned_partitions_without_commit_are_rewound_to_their_first_offset():
    import asyncio
    from collections import namedtuple

    from agents.offsets import rewind_partitions_without_commit

    TP = namedtuple("TP", "topic partition")
    calls = []

    class Consumer:
        async def earliest_offsets(self, *tps):
            return {tp: 3 for tp in tps}

        async def seek_wait(self, offsets):
            calls.append(sorted(offsets.items()))

    assigned = [TP("in", 0), TP("in", 1), TP("in", 2), TP("in", 3)]
    committed = {("in", 0): 12, ("in", 1): None, ("in", 2): 0}  # ("in", 3): never seen by the group
    asyncio.run(rewind_partitions_without_commit(Consumer(), assigned, committed))
    assert calls == [[(TP("in", 1), 3), (TP("in", 2), 3), (TP("in", 3), 3)]]
    asyncio.run(rewind_partitions_without_commit(Consumer(), [TP("in", 0)], committed))
    assert len(calls) == 1  # nothing to rewind: no seek at all


def row(partition: int, committed, end: int):
    return SimpleNamespace(topic="in", partition=partition, committed=committed, end=end,
                           lag=end - (committed or 0))


def test_a_partition_stuck_behind_its_end_while_idle_is_re_read_once_per_period():
    from agents.offsets import StallGuard

    offsets, _ = watch()
    guard = StallGuard(offsets, stall_s=15)
    offsets.check("ingest", messages("in", 0, 1))
    offsets.batches["ingest"]["started"] = 1000.0  # the last batch of any agent
    rows = [row(0, 10, 11), row(1, 5, 5), row(2, None, 3)]
    assert guard.stalled(rows, 1010.0) == []  # first sight
    assert guard.stalled(rows, 1020.0) == []  # idle 20 s, but unchanged for only 10 s
    assert guard.stalled(rows, 1026.0) == [(("in", 0), 10), (("in", 2), None)]  # caught-up partition 1 never
    assert guard.stalled(rows, 1036.0) == []  # the re-read gets its own 15 s
    assert guard.stalled(rows, 1041.0) == [(("in", 0), 10), (("in", 2), None)]


def test_moving_offsets_or_a_busy_worker_are_not_a_stall():
    from agents.offsets import StallGuard

    offsets, _ = watch()
    guard = StallGuard(offsets, stall_s=15)
    offsets.check("ingest", messages("in", 0, 1))
    offsets.batches["ingest"]["started"] = 1000.0
    assert guard.stalled([row(0, 10, 20)], 1000.0) == []
    assert guard.stalled([row(0, 12, 20)], 1020.0) == []  # committed moved: progress
    offsets.batches["ingest"]["started"] = 1030.0
    assert guard.stalled([row(0, 12, 20)], 1040.0) == []  # unchanged 20 s, but a batch started 10 s ago
