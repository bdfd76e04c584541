"""What the benchmark observes from outside the worker: consumer lag, projection freshness, memory, CPU, latency."""
from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
import time
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.protocol.admin import DeleteGroupsRequest

from relstream.settings import Settings
from relstream.topics import prefix_topics
from relstream.timeutil import parse_timestamp, to_epoch

PROBE = "probe-"  # id prefix of the dedicated contacts whose documents time the latency phase


# ----- the process ----------------------------------------------------------------------------------
def child_figures(module: str, *args: str) -> dict:
    """Run `python -m module args...` to completion in its own process (its memory and CPU are its own)
    and return the JSON object it prints last (from the line's first "{": Faust writes terminal codes)."""
    done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, check=True)
    last = done.stdout.strip().splitlines()[-1]
    return orjson.loads(last[last.index("{"):])


def status_kib(pid: int | str, field: str) -> int:
    """A kB field of /proc/<pid>/status: VmRSS (now) or VmHWM (peak resident set since start)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prometheus_samples(text: str) -> dict[str, float]:
    """The unlabelled samples of a Prometheus text exposition, by name."""
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and "{" not in line:
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


# ----- Kafka ----------------------------------------------------------------------------------------
class Kafka:
    """Admin and offset look-ups: a consumer group's lag, message counts, the bench's topics."""

    def __init__(self, settings: Settings):
        self.admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        self.consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
        self._partitions: dict[str, list[TopicPartition]] = {}

    async def __aenter__(self) -> "Kafka":
        await self.admin.start()
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.consumer.stop()
        await self.admin.close()

    async def partitions(self, topics: list[str]) -> list[TopicPartition]:
        unknown = [topic for topic in topics if topic not in self._partitions]
        for described in await self.admin.describe_topics(unknown) if unknown else []:
            self._partitions[described["topic"]] = [
                TopicPartition(described["topic"], p["partition"]) for p in described["partitions"]]
        return [tp for topic in topics for tp in self._partitions[topic]]

    async def message_counts(self, topics: list[str]) -> dict[str, int]:
        """Messages ever written to each topic (the sum of its partitions' end offsets)."""
        ends = await self.consumer.end_offsets(await self.partitions(topics))
        return {topic: sum(end for tp, end in ends.items() if tp.topic == topic) for topic in topics}

    async def lag(self, group: str, topics: list[str]) -> int:
        """Messages of `topics` not yet committed by `group`."""
        tps = await self.partitions(topics)
        committed = await self.admin.list_consumer_group_offsets(group, partitions=tps)
        ends = await self.consumer.end_offsets(tps)
        return sum(max(0, end - max(committed[tp].offset if tp in committed else 0, 0)) for tp, end in ends.items())

    async def topics_with_prefix(self, prefix: str) -> list[str]:
        """Our topics (`{prefix}.name`) and Faust's (`{prefix}-worker-…` changelogs and assignor)."""
        return sorted(prefix_topics(await self.admin.list_topics(), prefix))

    async def delete_groups(self, groups: list[str]) -> None:
        """Empty groups outlive their topics; aiokafka's admin has no call for DeleteGroups, so send it."""
        for group in groups:
            coordinator = await self.admin.find_coordinator(group)
            await self.admin._send_request(DeleteGroupsRequest([group]), coordinator)


# ----- the projection -------------------------------------------------------------------------------
async def documents_summary(redis: aioredis.Redis, settings: Settings) -> tuple[int, float]:
    """How many KPI documents the projection holds and the newest `computed_at` among them (epoch seconds)."""
    keys = [key async for key in redis.scan_iter(match=settings.key("kpi", "*"), count=1000)]
    newest = 0.0
    for start in range(0, len(keys), 500):
        for raw in await redis.mget(keys[start:start + 500]):
            if raw is not None:
                newest = max(newest, to_epoch(parse_timestamp(orjson.loads(raw)["computed_at"])))
    return len(keys), newest


async def wait_until_current(kafka: Kafka, settings: Settings, topics: list[str], timeout: float,
                             pending: Callable[[], float], alive: Callable[[], bool]) -> None:
    """Until the worker's group has no lag on `topics` and, read after that, no record waits to be written
    (`pending`: its relstream_projection_pending_records): every message processed, every document written."""
    group = f"{settings.topic_prefix}-worker"
    deadline, last_report = time.monotonic() + timeout, time.monotonic()
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the worker exited before its projection was current")
        try:
            lag = await kafka.lag(group, topics)
        except KafkaError as exc:  # the shared broker is restarted now and then: not current, ask again
            print(f"bench: lag unknown ({type(exc).__name__}), asking again", file=sys.stderr, flush=True)
            lag = None
        waiting = pending() if lag == 0 else None
        if waiting == 0:
            return
        if time.monotonic() - last_report >= 10:
            last_report = time.monotonic()
            print(f"bench: worker lag {lag} messages, {waiting} records waiting to be written", file=sys.stderr, flush=True)
        await asyncio.sleep(settings.flush_interval_s)
    raise TimeoutError(f"the projection was not current after {timeout:.0f} s")


# ----- latency --------------------------------------------------------------------------------------
@asynccontextmanager
async def keyspace_notifications(redis: aioredis.Redis):
    """Keyspace events for string commands (K$) on, the server's previous setting restored afterwards."""
    previous = (await redis.config_get("notify-keyspace-events"))["notify-keyspace-events"]
    await redis.config_set("notify-keyspace-events", previous + "".join(f for f in "K$" if f not in previous))
    try:
        yield
    finally:
        await redis.config_set("notify-keyspace-events", previous)


class ProbeWatch:
    """When each probe contact's KPI document is first written (monotonic clock), from keyspace events."""

    def __init__(self, redis: aioredis.Redis, settings: Settings):
        db = redis.connection_pool.connection_kwargs.get("db", 0)
        self.pattern = f"__keyspace@{db}__:{settings.key('kpi', 'contact', PROBE)}*"
        self.pubsub = redis.pubsub()
        self.arrivals: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "ProbeWatch":
        await self.pubsub.psubscribe(self.pattern)
        self._task = asyncio.create_task(self._listen())
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task
        await self.pubsub.aclose()

    async def _listen(self) -> None:
        async for message in self.pubsub.listen():
            if message["type"] == "pmessage" and message["data"] == b"set":
                probe_id = message["channel"].decode().rsplit(":", 1)[1]
                self.arrivals.setdefault(probe_id, time.monotonic())

    async def wait_for(self, probes: dict[str, float], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while set(probes) - set(self.arrivals) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Latency:
    """Event -> document latency in seconds (nearest rank); a probe never seen counts as infinitely late."""

    probes: int
    arrived: int
    waited: float  # every probe not seen had at least this long to arrive
    p50: float
    p99: float
    max: float


def latency(published: dict[str, float], arrivals: dict[str, float], waited: float) -> Latency:
    values = sorted(arrivals[probe] - at if probe in arrivals else math.inf for probe, at in published.items())
    values = values or [math.inf]

    def rank(q: float) -> float:
        return values[max(0, math.ceil(q * len(values)) - 1)]

    return Latency(len(published), len(arrivals), waited, rank(0.5), rank(0.99), values[-1])
