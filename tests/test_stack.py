"""The local stack really serves Kafka and Redis: round-trips through the real services, no mocks."""
from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from relstream import cli, stack
from relstream.settings import Settings
from relstream.topics import delete_prefix_topics

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def settings() -> Settings:
    settings = Settings.from_env()
    stack.ensure_up(settings)
    return settings


async def test_kafka_round_trip_with_committed_group(settings: Settings) -> None:
    prefix = f"test-stack-{uuid.uuid4().hex}"
    topic, group = f"{prefix}.round-trip", f"{prefix}-group"
    try:
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
    finally:
        await delete_prefix_topics(replace(settings, topic_prefix=prefix))

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


# ----- waiting for a starting broker (no broker needed: the probe, the pid and server.log are faked) -----
STARTING_LOG = "[2026-11-27 19:17:43,806] INFO [BrokerServer id=1] Transition from SHUTDOWN to STARTING (kafka.server.BrokerServer)\n"
STARTED_LOG = STARTING_LOG + "[2026-11-27 19:19:16,784] INFO [KafkaRaftServer nodeId=1] Kafka Server started (kafka.server.KafkaRaftServer)\n"


@pytest.fixture
def fake_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A layout whose broker 'answers' after `ready_after` s; quick timeouts: 0.3 s ready, 3 s starting."""
    layout = stack.Layout(tmp_path)
    layout.logs.mkdir()
    state = {"ready_after": 1.0, "alive": True, "t0": time.monotonic()}
    monkeypatch.setattr(stack, "KAFKA_READY_TIMEOUT_S", 0.3)
    monkeypatch.setattr(stack, "KAFKA_STARTING_TIMEOUT_S", 3.0)
    monkeypatch.setattr(stack, "KAFKA_PROGRESS_EVERY_S", 0.2)
    monkeypatch.setattr(stack, "_alive", lambda pid: state["alive"])

    def ready(bootstrap: str, timeout: float = 5.0) -> bool:
        time.sleep(0.05)
        return time.monotonic() - state["t0"] >= state["ready_after"]

    monkeypatch.setattr(stack, "kafka_ready", ready)
    return layout, state


def test_a_broker_still_starting_is_waited_for_past_the_ready_timeout(fake_broker, capsys) -> None:
    layout, state = fake_broker
    (layout.logs / "server.log").write_text(STARTING_LOG)
    stack._wait_kafka(layout, 1, "localhost:9092")  # ready after 1 s > 0.3 s
    assert "not serving metadata yet after 0 s (server.log: starting, catching up" in capsys.readouterr().err


def test_a_started_broker_that_does_not_answer_fails_after_the_ready_timeout(fake_broker) -> None:
    layout, state = fake_broker
    (layout.logs / "server.log").write_text(STARTED_LOG)
    began = time.monotonic()
    with pytest.raises(stack.StackError, match="did not serve metadata within 0 s"):
        stack._wait_kafka(layout, 1, "localhost:9092")
    assert time.monotonic() - began < 2.0


def test_starting_has_a_bound_too(fake_broker) -> None:
    layout, state = fake_broker
    state["ready_after"] = 60.0
    (layout.logs / "server.log").write_text(STARTING_LOG)
    with pytest.raises(stack.StackError, match="still starting after 3 s"):
        stack._wait_kafka(layout, 1, "localhost:9092")


def test_a_dead_broker_is_named_at_once(fake_broker) -> None:
    layout, state = fake_broker
    state["alive"] = False
    (layout.logs / "server.log").write_text(STARTING_LOG)
    with pytest.raises(stack.StackError, match="exited during start-up"):
        stack._wait_kafka(layout, 1, "localhost:9092")


def test_start_up_state_comes_from_the_last_lifecycle_line(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text(STARTED_LOG + STARTING_LOG + "[x] INFO The broker is in RECOVERY. (BrokerLifecycleManager)\n")
    assert stack._kafka_starting(tmp_path) == "recovering its logs"
    log.write_text(STARTED_LOG)
    assert stack._kafka_starting(tmp_path) is None
    log.write_text("[x] INFO Replayed PartitionRecord ...\n" * 10)  # only chatter, written just now: loading
    assert stack._kafka_starting(tmp_path).startswith("loading")
