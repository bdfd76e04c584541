"""The gap probe against the real broker: data offsets are found, transaction markers are holes."""
from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from agents.offsets import offsets_holding_messages
from relstream.settings import Settings
from relstream.topics import delete_prefix_topics
from tests.harness import BOOTSTRAP, unique_prefix

pytestmark = pytest.mark.integration


async def end_offset_reaches(topic: str, offset: int) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        for _ in range(100):
            if (await consumer.end_offsets([partition]))[partition] >= offset:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{topic}[0] never reached offset {offset}")
    finally:
        await consumer.stop()


def test_probe_tells_messages_from_transaction_markers(stack):
    prefix = unique_prefix("probe")
    topic = f"{prefix}.activities"

    async def scenario():
        plain = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP)
        transactional = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, transactional_id=f"{prefix}-tx")
        await plain.start()
        await transactional.start()
        try:
            for i in range(3):  # offsets 0, 1, 2
                await plain.send_and_wait(topic, b"m", partition=0)
            async with transactional.transaction():  # offset 3, then its commit marker at 4
                await transactional.send(topic, b"t", partition=0)
            await end_offset_reaches(topic, 5)  # the marker is written after the commit returns
            await plain.send_and_wait(topic, b"after", partition=0)  # offset 5
        finally:
            await plain.stop()
            await transactional.stop()
        return (await offsets_holding_messages(BOOTSTRAP, (topic, 0), 1, 2),
                await offsets_holding_messages(BOOTSTRAP, (topic, 0), 3, 4),
                await offsets_holding_messages(BOOTSTRAP, (topic, 0), 4, 4))

    try:
        data, with_marker, marker_only = asyncio.run(scenario())
    finally:
        asyncio.run(delete_prefix_topics(Settings(kafka_bootstrap=BOOTSTRAP, topic_prefix=prefix)))
    assert data == {1, 2}
    assert with_marker == {3}
    assert marker_only == set()
