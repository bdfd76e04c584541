"""Every consumed offset, checked against the one before it, and what to do about a gap.

Why: around rebalances the Faust consumer can jump over messages (from offset 41 to 57 of a partition)
and then commit past them, so their KPIs would be missing without a trace (lag 0). Our own topics have
contiguous offsets; an input topic may not (compaction, transaction markers), so a gap is first checked
against the broker. A real one is logged as an error, counted, read again (the steps are idempotent),
and no commit passes its first offset until it has been read: a crash or a rebalance meanwhile re-reads
it too.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterable

from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as KafkaTopicPartition

log = logging.getLogger("relstream.worker")

TopicPartition = tuple[str, int]
STALL_S = 15.0
PROBE_S = 5.0


class OffsetWatch:
    def __init__(self, on_skip: Callable[[TopicPartition, int], None] | None = None, retry_s: float = STALL_S):
        self.last: dict[TopicPartition, int] = {}
        self.missing: dict[TopicPartition, set[int]] = {}  # skipped offsets not read again yet
        self.asked: dict[TopicPartition, float] = {}  # when a re-read of the partition's gap was last asked for
        self.held: set[TopicPartition] = set()  # partitions assigned before the rebalance under way
        self.on_skip = on_skip
        self.retry_s = retry_s
        self.batches: dict[str, dict] = {}  # agent -> count and wall times of its last batch (/debug/consumer)

    def check(self, agent: str, messages: Iterable) -> list[tuple[TopicPartition, int, int]]:
        """Note the offsets of a batch before it is applied; returns the gaps (partition, first, last) found.
        A gap counts as missing (no commit passes it) until read again or found to hold no message."""
        progress = self.batches.setdefault(agent, {"batches": 0, "started": None, "finished": None})
        progress["batches"] += 1
        progress["started"] = now = time.time()
        gaps = []
        for message in messages:
            tp, offset = (message.topic, message.partition), message.offset
            if offset in self.missing.get(tp, ()):
                self._found(tp, {offset}, f"{agent}: the skipped offsets of {tp[0]}[{tp[1]}] have been read again")
            last = self.last.get(tp)
            if last is not None and offset > last + 1:
                self.missing.setdefault(tp, set()).update(range(last + 1, offset))
                self.asked[tp] = now
                gaps.append((tp, last + 1, offset - 1))
            if last is None or offset > last:
                self.last[tp] = offset
        return gaps

    def holes(self, tp: TopicPartition, offsets: set[int]) -> None:
        """Offsets that hold no message (compaction, transaction markers): nothing to read there."""
        self._found(tp, offsets, None)

    def report(self, agent: str, tp: TopicPartition, offsets: set[int]) -> None:
        log.error("%s: offsets %d..%d of %s[%d] (%d messages) were never delivered (the consumer skipped them); "
                  "reading them again (harmless: every step is idempotent)", agent, min(offsets), max(offsets),
                  tp[0], tp[1], len(offsets))
        if self.on_skip:
            self.on_skip(tp, len(offsets))

    def _found(self, tp: TopicPartition, offsets: set[int], note: str | None) -> None:
        missing = self.missing.get(tp)
        if not missing:
            return
        missing -= offsets
        if not missing:
            del self.missing[tp]
            self.asked.pop(tp, None)
            if note:
                log.info(note)

    def overdue(self, now: float) -> list[tuple[TopicPartition, int, int]]:
        """Gaps still not read `retry_s` after their re-read was asked for: ask again."""
        due = [(tp, min(missing), max(missing)) for tp, missing in self.missing.items()
               if now - self.asked[tp] >= self.retry_s]
        for tp, _, _ in due:
            self.asked[tp] = now
        return due

    def first_missing(self, tp: TopicPartition) -> int | None:
        missing = self.missing.get(tp)
        return min(missing) if missing else None

    def finished(self, agent: str) -> None:
        self.batches[agent]["finished"] = time.time()

    def on_revoked(self, revoked: set[TopicPartition]) -> None:
        self.held = set(revoked)

    def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Forget partitions this worker did not hold through the rebalance: others may have moved them on
        (their gaps were never committed over, so their new owner reads them)."""
        kept = self.held & set(assigned)
        self.last = {tp: offset for tp, offset in self.last.items() if tp in kept}
        self.missing = {tp: missing for tp, missing in self.missing.items() if tp in kept}
        self.asked = {tp: asked for tp, asked in self.asked.items() if tp in self.missing}


async def offsets_holding_messages(bootstrap: str, tp: TopicPartition, first: int, last: int) -> set[int] | None:
    """Which offsets of first..last hold a message, read by a consumer of our own (no group); None when the
    broker did not answer in PROBE_S. A compacted topic or a transactional producer leaves offsets that
    no consumer ever receives: such a gap is no loss."""
    partition = KafkaTopicPartition(*tp)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        await consumer.start()
        consumer.assign([partition])
        consumer.seek(partition, first)
        found: set[int] = set()
        deadline = time.monotonic() + PROBE_S
        while time.monotonic() < deadline:
            records = (await consumer.getmany(partition, timeout_ms=200)).get(partition, [])
            found.update(record.offset for record in records if record.offset <= last)
            if await consumer.position(partition) > last:
                return found
        return None
    except Exception as exc:  # noqa: BLE001 - the caller re-reads the whole gap instead
        log.warning("could not check offsets %d..%d of %s[%d] (%s)", first, last, tp[0], tp[1], exc)
        return None
    finally:
        await consumer.stop()


def cap_commits_at_gaps(consumer, watch: OffsetWatch) -> None:
    """No committed offset passes a gap that has not been read again (Faust's consumer commits the first run
    of consecutive acknowledged offsets, even when it starts after offsets that were never delivered)."""
    if getattr(consumer, "_relstream_caps_commits", False):
        return
    new_offset = consumer._new_offset

    def capped(tp):
        offset = new_offset(tp)
        first = watch.first_missing((tp.topic, tp.partition))
        if offset is None or first is None or offset <= first:
            return offset
        committed = consumer._committed_offset.get(tp)
        return first if committed is None or first > committed else None

    consumer._new_offset = capped
    consumer._relstream_caps_commits = True


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
