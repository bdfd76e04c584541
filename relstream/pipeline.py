"""The whole topology in one process, without Kafka: the same handlers, in-memory queues.

Used by tests (incremental == batch, whatever the interleaving) and by nothing in production; the
Faust agents in `agents/` wire the same handlers to Kafka topics and tables.
"""
from __future__ import annotations

import random
from collections import OrderedDict, deque

from relstream.kpi.context import Clock
from relstream.model import WonDeal
from relstream.state import (
    MemoryRecordStore, Send, evaluate_record, handle_activity, handle_record_stage, won_deal, PARTY,
)


def routing_key(event: dict) -> tuple[str, str]:
    """Where a validated input event goes: (stage, key). The value's id decides, not the Kafka key."""
    if event["kind"] == "record":
        return "record", f"{event['type']}:{event['id']}"
    if event["kind"] == "interaction":
        return "activity", event["email_id"]
    return "activity", event["id"]


def stage_message(event: dict) -> dict:
    return {"m": event["kind"], "e": event}


class LocalPipeline:
    """Per-key FIFO queues (Kafka keeps order per partition, hence per key); any interleaving across keys."""

    def __init__(self, rng: random.Random | None = None, redeliver_probability: float = 0.0):
        self.activities: dict[str, dict] = {}
        self.store = MemoryRecordStore()
        self.queues: OrderedDict[tuple[str, str], deque] = OrderedDict()
        self.rng = rng
        self.redeliver_probability = redeliver_probability
        self.dirty: set[str] = set()

    def publish(self, event: dict) -> None:
        stage, key = routing_key(event)
        self._enqueue(Send(stage, key, stage_message(event)))

    def _enqueue(self, send: Send) -> None:
        self.queues.setdefault((send.stage, send.key), deque()).append(send.message)

    def apply(self, stage: str, key: str, message: dict) -> list[Send]:
        """One stage message through its handler; returns what it sends (the caller queues it)."""
        if stage == "activity":
            self.activities[key], sends = handle_activity(key, self.activities.get(key), message)
            return sends
        result = handle_record_stage(self.store, key, message)
        if result.dirty:
            self.dirty.add(result.dirty)
        return result.sends

    def _step(self, stage: str, key: str, message: dict) -> None:
        for send in self.apply(stage, key, message):
            self._enqueue(send)

    def run(self) -> None:
        """Drain every queue; with an rng, pick keys at random and sometimes process a message twice."""
        while self.queues:
            keys = list(self.queues)
            stage, key = self.rng.choice(keys) if self.rng else keys[0]
            queue = self.queues[(stage, key)]
            message = queue.popleft()
            if not queue:
                del self.queues[(stage, key)]
            self._step(stage, key, message)
            if self.rng and self.rng.random() < self.redeliver_probability:
                self._step(stage, key, message)  # a redelivery after a crash: state already advanced

    def record_keys(self) -> list[str]:
        keys = set(self.store.attributions) | set(self.store.records)
        return sorted(k for k in keys if not k.startswith(f"{PARTY}:"))

    def won_deals(self, as_of: float) -> list[WonDeal]:
        return [w for key in self.record_keys() if (w := won_deal(self.store, key, as_of)) is not None]

    def documents(self, clock: Clock, computed_at: float | None = None) -> dict[str, dict]:
        won = self.won_deals(clock.as_of)
        stamp = clock.as_of if computed_at is None else computed_at
        return {
            key: doc for key in self.record_keys()
            if (doc := evaluate_record(self.store, key, clock, stamp, won)) is not None
        }
