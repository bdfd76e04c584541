"""Every consumed offset, checked against the one before it.

Why: the topics the agents read are never compacted and never written in transactions, so their offsets
are contiguous. A consumer that jumps from offset 41 to 57 of a partition it kept through a rebalance
skipped messages, and their KPIs would be missing without a trace (the consumer lag still reads 0).
This watch makes that loud: an error naming the partition and the offsets, and a metric.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterable

log = logging.getLogger("relstream.worker")

TopicPartition = tuple[str, int]


class OffsetWatch:
    def __init__(self, group: str, on_skip: Callable[[TopicPartition, int, int], None] | None = None):
        self.group = group
        self.last: dict[TopicPartition, int] = {}
        self.held: set[TopicPartition] = set()  # partitions assigned before the rebalance under way
        self.on_skip = on_skip
        self.batches: dict[str, dict] = {}  # agent -> count and wall times of its last batch (/debug/consumer)

    def check(self, agent: str, messages: Iterable) -> None:
        """Note the offsets of a batch before it is applied; report the ones never delivered."""
        progress = self.batches.setdefault(agent, {"batches": 0, "started": None, "finished": None})
        progress["batches"] += 1
        progress["started"] = time.time()
        for message in messages:
            tp = (message.topic, message.partition)
            last = self.last.get(tp)
            if last is not None and message.offset > last + 1:
                log.error(
                    "%s: offsets %d..%d of %s[%d] were never delivered (the consumer skipped them), so their "
                    "KPI changes are missing. Replaying is safe (every step is idempotent): stop the workers and "
                    "reset group %s on that partition to offset %d", agent, last + 1, message.offset - 1,
                    tp[0], tp[1], self.group, last + 1)
                if self.on_skip:
                    self.on_skip(tp, last + 1, message.offset - 1)
            if last is None or message.offset > last:
                self.last[tp] = message.offset

    def finished(self, agent: str) -> None:
        self.batches[agent]["finished"] = time.time()

    def on_revoked(self, revoked: set[TopicPartition]) -> None:
        self.held = set(revoked)

    def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Forget partitions this worker did not hold through the rebalance: others may have moved them on."""
        kept = self.held & set(assigned)
        self.last = {tp: offset for tp, offset in self.last.items() if tp in kept}


async def rewind_partitions_without_commit(consumer, assigned, committed: dict[TopicPartition, int | None]) -> None:
    """Assigned partitions with no `committed` offset (None or 0) go back to their first offset.

    Why: after a rebalance Faust seeks every partition to its committed offset, dropping whatever it had
    fetched but not processed, yet leaves a partition with no commit where its fetcher stopped: the
    dropped messages were skipped (found as "offsets a..b were never delivered" and as lost KPIs when a
    worker joined or died before its first commit). Done on assignment, while Faust keeps the streams
    paused for table recovery, so no message is in flight; starting at the first offset is what a
    consumer without commit does anyway, and re-reading is harmless (idempotent steps)."""
    fresh = [tp for tp in assigned if not committed.get((tp.topic, tp.partition))]
    if fresh:
        log.info("no committed offset yet for %s: reading them from their first offset",
                 ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(fresh)))
        await consumer.seek_wait(await consumer.earliest_offsets(*fresh))


STALL_S = 15.0


class StallGuard:
    """Partitions whose unprocessed messages stopped moving while the worker sits idle get re-read.

    Why: around a rebalance Faust can drop a message it already fetched (the consumer position moved past
    it) without processing or acknowledging it; its offset is never committed, the lag stays above zero
    and nothing would fetch it again. When a partition's committed and end offsets have not changed for
    STALL_S while no agent started a batch, the worker seeks it back to its committed offset: the steps
    are idempotent, so re-reading costs a little work and loses nothing."""

    def __init__(self, watch: OffsetWatch, stall_s: float = STALL_S):
        self.watch = watch
        self.stall_s = stall_s
        self.unchanged_since: dict[TopicPartition, tuple[int | None, int, float]] = {}

    def stalled(self, rows, now: float) -> list[tuple[TopicPartition, int | None]]:
        """(partition, committed offset) of every row (this worker's partitions) stuck behind its end."""
        last_batch = max((b["started"] or 0.0 for b in self.watch.batches.values()), default=0.0)
        idle = now - last_batch >= self.stall_s
        stuck, seen = [], {}
        for row in rows:
            if row.lag <= 0:
                continue
            tp = (row.topic, row.partition)
            held = self.unchanged_since.get(tp)
            since = held[2] if held and held[:2] == (row.committed, row.end) else now
            if idle and now - since >= self.stall_s:
                stuck.append((tp, row.committed))
                since = now  # give the re-read its time before judging again
            seen[tp] = (row.committed, row.end, since)
        self.unchanged_since = seen
        return stuck
