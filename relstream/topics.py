"""Every topic of the topology, created up front so a fresh broker (or a new prefix) just works."""
from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from relstream.settings import Settings

log = logging.getLogger("relstream.topics")
MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # the DLQ must take a rejected >1 MiB message as it came


def topic_specs(settings: Settings) -> list[NewTopic]:
    n = settings.partitions
    compacted = {"cleanup.policy": "compact"}
    return [
        NewTopic(settings.topic("activities"), n, 1),
        NewTopic(settings.topic("records"), n, 1),
        NewTopic(settings.topic("by-activity"), n, 1),
        NewTopic(settings.topic("by-record"), n, 1),
        NewTopic(settings.topic("dlq"), n, 1, topic_configs={"max.message.bytes": str(MAX_MESSAGE_BYTES)}),
        NewTopic(settings.topic("kpi-snapshots"), n, 1, topic_configs=compacted),
        NewTopic(settings.topic("won-deals"), 1, 1, topic_configs=compacted),
    ]


async def ensure_topics(settings: Settings, timeout: float = 120.0) -> None:
    """Create what is missing, then wait until every partition has a leader: a consumer group that
    assigns before the new topics are in the metadata would get no partitions at all."""
    specs = topic_specs(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=30000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        for spec in (s for s in specs if s.name not in existing):
            try:
                await admin.create_topics([spec])
                log.info("created topic %s (%d partitions)", spec.name, spec.num_partitions)
            except TopicAlreadyExistsError:
                pass  # another worker won the race
        await _wait_for_leaders(admin, [s.name for s in specs], timeout)
    finally:
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        described = await admin.describe_topics(names)
        pending = [
            d["topic"] for d in described
            if d.get("error_code") or not d.get("partitions") or any(p["leader"] < 0 for p in d["partitions"])
        ]
        if not pending:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"topics without partition leaders after {timeout:.0f} s: {pending}; is the broker healthy?")
        await asyncio.sleep(0.5)
