"""`python -m bench.floor`: the worker's own logic without Kafka, Faust or Redis, on one core.

The same input through the same handlers (`relstream.state`) in FIFO order, and the same document
evaluation, all in one loop: the most one worker could do with this logic if messaging cost nothing.
Timed in CPU seconds of this process, so that other load on a shared machine does not count.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timezone

from bench.measure import child_figures
from relstream.demo import generate_activity_events
from relstream.events import InvalidEvent, parse_message
from relstream.kpi.context import Clock, Params
from relstream.pipeline import LocalPipeline, routing_key, stage_message
from relstream.settings import Settings
from relstream.state import PARTY, evaluate_record


@dataclass(frozen=True)
class FloorResult:
    events: int
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.cpu_seconds


def run_floor(events: int, seed: int) -> FloorResult:
    """The floor in a child process (its state is the size of the organisation's)."""
    return FloorResult(**child_figures("bench.floor", "--events", str(events), "--seed", str(seed), "--json"))


class Floor:
    """Both stages and the projection's evaluation, CPU seconds of each kept apart."""

    def __init__(self, now: datetime, settings: Settings):
        self.clock = Clock(now.timestamp(), Params(settings.window_days, settings.health_frequency_days,
                                                   settings.health_weights))
        self.now = now
        self.pipeline = LocalPipeline()  # its handlers and state; the queueing and timing are ours
        self.store = self.pipeline.store
        self.dirty = self.pipeline.dirty
        self.seconds: Counter[str] = Counter()
        self.messages: Counter[str] = Counter()
        self.evaluations = 0

    def consume(self, topic: str, value: bytes) -> None:
        """One input message and everything it causes downstream."""
        started = time.process_time()
        try:
            event = parse_message(value, topic, self.now)
        except InvalidEvent:
            return
        queue = deque([(*routing_key(event), stage_message(event))])
        self.seconds["parse"] += time.process_time() - started
        while queue:
            stage, key, message = queue.popleft()
            started = time.process_time()
            sends = self.pipeline.apply(stage, key, message)
            self.seconds[f"{stage} stage"] += time.process_time() - started
            self.messages[stage] += 1
            queue.extend((send.stage, send.key, send.message) for send in sends)

    def flush(self) -> None:
        """Evaluate every dirty record once, as a projection flush does (without the Redis write)."""
        started = time.process_time()
        for key in self.dirty:
            if not key.startswith(f"{PARTY}:"):
                evaluate_record(self.store, key, self.clock, time.time(), [])
                self.evaluations += 1
        self.dirty.clear()
        self.seconds["evaluation"] += time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="activity messages (default 100000)")
    parser.add_argument("--flush-every", type=int, default=0,
                        help="evaluate dirty documents every this many inputs (default 0: once, at the end)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic organisation (default 7)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object (bench.run)")
    args = parser.parse_args(argv)
    now = datetime.now(timezone.utc)
    messages = generate_activity_events(args.events, seed=args.seed, end=now)
    floor = Floor(now, Settings.from_env())
    started = time.process_time()
    for index, message in enumerate(messages, 1):
        floor.consume(message.topic, message.value)
        if args.flush_every and index % args.flush_every == 0:
            floor.flush()
    floor.flush()
    elapsed = time.process_time() - started
    if args.json:
        print(json.dumps({"events": len(messages), "cpu_seconds": elapsed}))
        return 0
    print(f"{len(messages):,} input messages in {elapsed:.1f} CPU s: {len(messages) / elapsed:,.0f}/s on one core")
    print("CPU seconds: " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in floor.seconds.items()))
    print("stage messages: " + ", ".join(f"{stage} {count:,} ({count / len(messages):.2f}/input)"
                                         for stage, count in floor.messages.items())
          + f"; {floor.evaluations:,} document evaluations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
