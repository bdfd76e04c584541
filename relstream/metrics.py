"""The worker's own Prometheus metrics (Faust's sensor adds its own next to these)."""
from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter("relstream_events_consumed", "Valid input events consumed", ["kind"], registry=r)
        self.dlq = Counter("relstream_events_dead_lettered", "Invalid input events sent to the DLQ, by reason code",
                           ["reason"], registry=r)
        self.event_time_lag = Gauge(
            "relstream_event_time_lag_seconds", "now - occurred_at of the newest applied activity", registry=r)
        self.flushes = Histogram("relstream_projection_flush_seconds", "Projection flush duration", registry=r)
        self.documents = Counter("relstream_documents_written", "KPI documents written to Redis", registry=r)
        self.documents_removed = Counter("relstream_documents_removed", "KPI documents removed", registry=r)
        self.pending = Gauge("relstream_projection_pending_records",
                             "Records whose KPI document waits to be evaluated and written", registry=r)
        self.consumer_lag = Gauge(
            "relstream_consumer_lag", "Messages not yet processed, per topic and partition of this worker",
            ["topic", "partition"], registry=r)
        self.skipped_offsets = Counter(
            "relstream_skipped_offsets", "Offsets the consumer never delivered (should stay 0; see the worker log)",
            ["topic", "partition"], registry=r)
        self.rereads = Counter(
            "relstream_stalled_rereads", "Partitions re-read because fetched messages were never processed", registry=r)
        self._lag: dict[tuple[str, int], int] = {}
        self._newest = 0.0

    def set_lag(self, lag: dict[tuple[str, int], int]) -> None:
        for (topic, partition) in set(self._lag) - set(lag):
            self.consumer_lag.remove(topic, str(partition))
        for (topic, partition), value in lag.items():
            self.consumer_lag.labels(topic, str(partition)).set(value)
        self._lag = dict(lag)

    def total_lag(self) -> int:
        return sum(self._lag.values())

    def consumed(self, events: list[dict]) -> None:
        """A batch of valid inputs: one counter update per kind (per event, the sensor showed in profiles)."""
        kinds: dict[str, int] = {}
        for event in events:
            kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
        for kind, count in kinds.items():
            self.events.labels(kind).inc(count)
        occurred = max((t for event in events if (t := event.get("t")) is not None), default=None)
        if occurred is not None and occurred > self._newest:
            self._newest = occurred
        if self._newest:
            self.event_time_lag.set(max(0.0, time.time() - self._newest))

    def dead_lettered(self, code: str) -> None:
        self.dlq.labels(code).inc()

    def skipped(self, tp: tuple[str, int], count: int) -> None:
        self.skipped_offsets.labels(tp[0], str(tp[1])).inc(count)
