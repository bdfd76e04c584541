"""The local stack really serves Kafka and Redis: round-trips through the real services, no mocks."""
from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from relstream import cli, stack
from relstream.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings() -> Settings:
    settings = Settings.from_env()
    stack.ensure_up(settings)
    return settings


async def test_kafka_round_trip_with_committed_group(settings: Settings) -> None:
    topic = f"test-stack-{uuid.uuid4().hex}"
    group = f"test-stack-{uuid.uuid4().hex}"
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, b"hello", key=b"k1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.kafka_bootstrap, group_id=group,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )
    await consumer.start()
    try:
        message = await consumer.getone()
        await consumer.commit()
        committed = await consumer.committed(sent.topic_partition)
    finally:
        await consumer.stop()

    assert (message.key, message.value) == (b"k1", b"hello")
    assert committed == sent.offset + 1


async def test_redis_set_get(settings: Settings) -> None:
    client = aioredis.Redis.from_url(settings.redis_url)
    key = f"test-stack:{uuid.uuid4().hex}"
    try:
        await client.set(key, "value", ex=60)
        assert await client.get(key) == b"value"
    finally:
        await client.delete(key)
        await client.aclose()


def test_status_exits_zero_when_up(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["stack", "status"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert {(row[0], row[-1]) for row in rows} == {("kafka", "up"), ("redis", "up")}


def test_ready_probes_see_the_services(settings: Settings) -> None:
    assert stack.kafka_ready(settings.kafka_bootstrap, timeout=10)
    assert stack.redis_ready(settings.redis_url, timeout=5)
