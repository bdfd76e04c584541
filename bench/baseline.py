"""The floor to compare the worker with: a bare aiokafka consumer that only reads and parses the inputs.

Runs in its own process (`python -m bench.baseline PREFIX COUNT`) so that its peak RSS is its own.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, replace

import orjson
from aiokafka import AIOKafkaConsumer

from bench.measure import child_figures, status_kib
from relstream.settings import Settings


@dataclass(frozen=True)
class BaselineResult:
    events: int
    seconds: float  # first fetched message to the last one parsed (group join excluded, as for the worker)
    cpu_seconds: float  # over the same span
    peak_rss_kib: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def run_reference(module: str, prefix: str, count: int) -> BaselineResult:
    """Consume the `count` input messages under `prefix` in a child process: `bench.baseline` (this bare
    consumer) or `bench.framework` (a Faust agent that only reads)."""
    return BaselineResult(**child_figures(module, prefix, str(count)))


async def consume(settings: Settings, count: int) -> tuple[int, float, float]:
    """Read and orjson-parse `count` messages of the input topics in a consumer group, from the earliest;
    returns the count, the wall and the CPU seconds from the first fetched batch to the last message."""
    consumer = AIOKafkaConsumer(settings.topic("activities"), settings.topic("records"),
                                bootstrap_servers=settings.kafka_bootstrap, group_id=f"{settings.topic_prefix}-baseline",
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        seen, started, cpu = 0, None, None
        while seen < count:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                started, cpu = started or time.perf_counter(), cpu or time.process_time()
                for record in records:
                    orjson.loads(record.value)
                seen += len(records)
        return seen, time.perf_counter() - started, time.process_time() - cpu
    finally:
        await consumer.stop()


def main() -> None:
    prefix, count = sys.argv[1], int(sys.argv[2])
    seen, seconds, cpu = asyncio.run(consume(replace(Settings.from_env(), topic_prefix=prefix), count))
    print(json.dumps({"events": seen, "seconds": seconds, "cpu_seconds": cpu, "peak_rss_kib": status_kib("self", "VmHWM")}))


if __name__ == "__main__":
    main()
