"""Feeds `{prefix}.records` into an `AddressIndex`: from the beginning at start, then only what is new,
up to the end offsets of the moment, before every Exchange sync."""
from __future__ import annotations

import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from relstream.connectors.identity import AddressIndex

log = logging.getLogger(__name__)


async def topic_partitions(bootstrap: str, topic: str) -> set[TopicPartition]:
    """The topic's partitions now (none when it does not exist yet)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return {TopicPartition(topic, p["partition"]) for d in described if not d.get("error_code")
            for p in d.get("partitions", [])}


class RecordsFeed:
    def __init__(self, bootstrap: str, topic: str, index: AddressIndex):
        self._bootstrap, self._topic, self._index = bootstrap, topic, index
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                          auto_offset_reset="earliest")
        self._assigned: set[TopicPartition] = set()

    async def __aenter__(self) -> "RecordsFeed":
        try:
            await self._consumer.start()
        except BaseException:
            await self._consumer.stop()
            raise
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._consumer.stop()

    async def catch_up(self) -> int:
        """Apply every record published so far; returns how many messages were read."""
        partitions = await topic_partitions(self._bootstrap, self._topic)
        if not partitions:
            return 0
        if partitions != self._assigned:
            self._consumer.assign(sorted(partitions))
            await self._consumer.seek_to_beginning(*(partitions - self._assigned))
            self._assigned = partitions
        ends = await self._consumer.end_offsets(sorted(partitions))
        read = 0
        while any([await self._consumer.position(tp) < ends[tp] for tp in partitions]):
            for records in (await self._consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    read += 1
                    try:
                        self._index.apply(orjson.loads(record.value))
                    except (orjson.JSONDecodeError, TypeError, AttributeError):
                        continue  # not ours to judge: the worker dead-letters invalid records
        log.info("exchange: %d record messages read from %s", read, self._topic)
        return read
