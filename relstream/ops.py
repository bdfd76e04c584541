"""`relstream lag`: how far each of our consumer groups is behind, per topic/partition.

The same numbers as `kafka-consumer-groups --describe`, without a Kafka distribution on the operator's
machine, restricted to the groups of this deployment's prefix (the worker's Faust group is `{prefix}-worker`).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict, dataclass
from itertools import groupby
from operator import attrgetter

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from relstream.settings import Settings

REQUEST_TIMEOUT_MS = 30000
WIDE = 200  # piped output (logs, `watch`): never cut a topic name to the 80 columns rich assumes


@dataclass(frozen=True, order=True)
class LagRow:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: nothing committed yet, the group starts at the log start (earliest)
    end: int
    lag: int


def is_ours(group: str, prefix: str) -> bool:
    """`{prefix}-…` or `{prefix}.…`: prefix `relstream` must not claim `relstream2-worker`."""
    return group.startswith(prefix) and group[len(prefix):][:1] in ("-", ".")


async def _committed(admin: AIOKafkaAdminClient, prefix: str) -> dict[str, dict[TopicPartition, int]]:
    """group -> committed offsets, for every group of ours."""
    groups = sorted(group for group, _ in await admin.list_consumer_groups() if is_ours(group, prefix))
    out = {}
    for group in groups:
        offsets = await admin.list_consumer_group_offsets(group)
        out[group] = {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
    return out


async def _partitions(admin: AIOKafkaAdminClient, topics: set[str]) -> list[TopicPartition]:
    """Every partition of `topics`, also those a group has not committed yet (where lag hides at start-up);
    deleted topics have none."""
    described = await admin.describe_topics(sorted(topics)) if topics else []
    return [TopicPartition(topic["topic"], partition["partition"])
            for topic in described if not topic["error_code"] for partition in topic["partitions"]]


async def _log_bounds(bootstrap: str, partitions: list[TopicPartition]) -> dict[TopicPartition, tuple[int, int]]:
    """(log start, log end) of each partition."""
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                request_timeout_ms=REQUEST_TIMEOUT_MS)
    await consumer.start()
    try:
        starts, ends = await consumer.beginning_offsets(partitions), await consumer.end_offsets(partitions)
        return {tp: (starts[tp], ends[tp]) for tp in partitions}
    finally:
        await consumer.stop()


async def consumer_lag(settings: Settings) -> list[LagRow]:
    """Lag of every partition of every topic our groups consume, sorted by group, topic, partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=REQUEST_TIMEOUT_MS)
    await admin.start()
    try:
        committed = await _committed(admin, settings.topic_prefix)
        partitions = await _partitions(admin, {tp.topic for offsets in committed.values() for tp in offsets})
    finally:
        await admin.close()
    bounds = await _log_bounds(settings.kafka_bootstrap, partitions)
    rows = []
    for group, offsets in committed.items():
        topics = {tp.topic for tp in offsets}
        for tp, (start, end) in bounds.items():
            if tp.topic in topics:
                position = offsets.get(tp)
                lag = max(0, end - (start if position is None else position))
                rows.append(LagRow(group, tp.topic, tp.partition, position, end, lag))
    return sorted(rows)


def to_json(rows: list[LagRow]) -> str:
    groups = []
    for group, members in groupby(rows, key=attrgetter("group")):
        partitions = [asdict(row) for row in members]
        groups.append({"group": group, "lag": sum(p["lag"] for p in partitions), "partitions": partitions})
    return json.dumps({"groups": groups}, indent=2)


def to_table(rows: list[LagRow]) -> Table:
    """The group is named on its first row only and long names fold rather than lose their tail."""
    table = Table(box=None, header_style="bold")
    for name in ("GROUP", "TOPIC"):
        table.add_column(name, overflow="fold")
    for name in ("PARTITION", "COMMITTED", "END", "LAG"):
        table.add_column(name, justify="right")
    for group, members in groupby(rows, key=attrgetter("group")):
        members = list(members)
        for index, row in enumerate(members):
            committed = "-" if row.committed is None else str(row.committed)
            table.add_row("" if index else group, row.topic, str(row.partition), committed,
                          str(row.end), str(row.lag), style="yellow" if row.lag else None)
        table.add_row("", "total", "", "", "", str(sum(row.lag for row in members)), style="bold", end_section=True)
    return table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    try:
        rows = asyncio.run(consumer_lag(settings))
    except (KafkaError, OSError) as exc:
        print(f"relstream lag: cannot read consumer groups from Kafka at {settings.kafka_bootstrap} ({exc}); "
              "is it up? `relstream stack status`", file=sys.stderr)
        return 1
    if args.json:
        print(to_json(rows))
    elif rows:
        Console(width=None if sys.stdout.isatty() else WIDE).print(to_table(rows))
    else:
        print(f"no consumer group named {settings.topic_prefix}-… has offsets on an existing topic "
              f"(RELSTREAM_TOPIC_PREFIX={settings.topic_prefix}); is a worker running? `relstream worker`")
    return 0
