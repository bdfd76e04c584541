"""Every topic of the topology, created up front so a fresh broker (or a new prefix) just works."""
from __future__ import annotations

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


async def ensure_topics(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=30000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in topic_specs(settings) if spec.name not in existing]
        for spec in missing:
            try:
                await admin.create_topics([spec])
                log.info("created topic %s (%d partitions)", spec.name, spec.num_partitions)
            except TopicAlreadyExistsError:
                pass  # another worker won the race
    finally:
        await admin.close()
