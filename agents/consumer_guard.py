"""The Faust consumer, guarded: what app.py calls at each batch, rebalance and lag reading.

Why a guard: around rebalances faust-streaming's consumer can skip messages and commit past them (see
`agents.offsets`). This object owns the remedies — the offset watch with its re-reads and commit cap, the
rewind of partitions without a commit, the stall guard — so the topology in app.py stays readable.
"""
from __future__ import annotations

import logging
import time

from faust.types import TP

from agents.offsets import (
    OffsetWatch, StallGuard, cap_commits_at_gaps, offsets_holding_messages, rewind_partitions_without_commit,
)
from relstream.metrics import WorkerMetrics
from relstream.ops import consumer_lag
from relstream.settings import Settings

log = logging.getLogger("relstream.worker")


class ConsumerGuard:
    def __init__(self, app, settings: Settings, topics: set[str], metrics: WorkerMetrics):
        self.app = app
        self.settings = settings
        self.group = f"{settings.topic_prefix}-worker"
        self.topics = topics  # what the agents read
        self.metrics = metrics
        self.watch = OffsetWatch(on_skip=metrics.skipped)
        self.stalls = StallGuard(self.watch)

    def install_web(self) -> None:
        @self.app.page("/debug/consumer")
        async def consumer_state(web, request):
            """What the consumer is doing per partition, for an operator whose lag does not move."""
            return web.json({**consumer_state_of(self.app), "agents": self.watch.batches})

    async def batch(self, agent: str, events) -> None:
        """Before a batch is applied: its offsets checked, any gap in front of it read again."""
        await self._read_again(agent, self.watch.check(agent, (event.message for event in events)))

    def finished(self, agent: str) -> None:
        self.watch.finished(agent)

    def on_revoked(self, revoked) -> None:
        self.watch.on_revoked({(tp.topic, tp.partition) for tp in revoked})

    async def on_assigned(self, assigned) -> None:
        self.watch.on_assigned({(tp.topic, tp.partition) for tp in assigned})
        cap_commits_at_gaps(self.app.consumer, self.watch)
        try:
            committed = {(row.topic, row.partition): row.committed for row in await consumer_lag(self.settings)
                         if row.group == self.group}
            await rewind_partitions_without_commit(
                self.app.consumer, [tp for tp in assigned if tp.topic in self.topics], committed)
        except Exception as exc:  # the broker may be restarting: Faust's own seek still applies
            log.warning("could not check the new partitions' committed offsets (%s: %s); partitions "
                        "without a commit may skip messages fetched before this rebalance",
                        type(exc).__name__, exc)

    async def on_lag(self, rows) -> None:
        """With fresh lag figures of this worker's partitions: re-read stalled partitions and overdue gaps."""
        for (topic, partition), committed in self.stalls.stalled(rows, time.time()):
            tp = TP(topic, partition)
            offset = committed if committed is not None else (await self.app.consumer.earliest_offsets(tp))[tp]
            log.warning("%s[%d]: messages from offset %d on were fetched but not processed for %.0f s while the "
                        "worker was idle; reading them again (harmless: every step is idempotent)",
                        topic, partition, offset, self.stalls.stall_s)
            self.metrics.rereads.inc()
            await self.app.consumer.seek(tp, offset)
        await self._read_again("retry", self.watch.overdue(time.time()), retry=True)

    async def _read_again(self, agent: str, gaps, retry: bool = False) -> None:
        """Seek back to the first message of each gap (the later messages come again: harmless); offsets
        that hold no message (compaction, transaction markers) are simply forgotten."""
        for tp, first, last in gaps:
            held = await offsets_holding_messages(self.settings.kafka_bootstrap, tp, first, last)
            if held is None:
                held = set(range(first, last + 1))
            self.watch.holes(tp, set(range(first, last + 1)) - held)
            if not held:
                continue
            if retry:
                log.warning("offsets %d..%d of %s[%d] still not read again; seeking back once more",
                            min(held), max(held), *tp)
            else:
                self.watch.report(agent, tp, held)
            await self.app.consumer.seek(TP(*tp), min(held))


def consumer_state_of(app) -> dict:
    """Faust's view (active, paused, flow) and aiokafka's (position, paused, status) of every assigned
    partition."""
    consumer = app.consumer
    aiokafka_consumer = consumer._thread._ensure_consumer()
    subscription = aiokafka_consumer._subscription.subscription
    assignment = subscription.assignment if subscription else None
    active = consumer._get_active_partitions()
    partitions = {}
    for tp in sorted(consumer.assignment()):
        state = assignment.state_value(tp) if assignment else None
        partitions[f"{tp.topic}[{tp.partition}]"] = {
            "faust_active": tp in active, "faust_paused": tp in consumer._paused_partitions,
            "faust_buffered": tp in consumer._buffered_partitions,
            "faust_read_offset": consumer._read_offset.get(tp), "faust_committed": consumer._committed_offset.get(tp),
            "position": getattr(state, "_position", None), "paused": getattr(state, "paused", None),
            "status": str(getattr(state, "_status", None)), "highwater": getattr(state, "highwater", None),
        }
    fetcher = aiokafka_consumer._fetcher
    return {"fetches_in_flight_to": sorted(fetcher._in_flight),
            "fetched_not_consumed": sorted(f"{tp.topic}[{tp.partition}]" for tp in fetcher._records),
            "flow_active": consumer.flow_active, "flow_control_active": app.flow_control.is_active(),
            "generation": app.consumer_generation_id, "rebalancing": app.rebalancing, "partitions": partitions}
