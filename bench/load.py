"""Putting events on Kafka: the backlog as fast as the broker takes it, then a paced live stream with probes."""
from __future__ import annotations

import asyncio
import time
import uuid
from itertools import groupby

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from bench.measure import PROBE
from relstream.demo import Message
from relstream.settings import Settings
from relstream.timeutil import format_timestamp

BATCH_BYTES = 256 * 1024


async def publish_backlog(settings: Settings, messages: list[Message]) -> float:
    """Send `messages` topic after topic (records first), batched per partition; returns the seconds taken."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20,
                                max_batch_size=BATCH_BYTES)
    await producer.start()
    try:
        started = time.perf_counter()
        for name, group in groupby(messages, key=lambda message: message.topic):
            await _send_batched(producer, settings.topic(name), list(group))
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def _send_batched(producer: AIOKafkaProducer, topic: str, messages: list[Message]) -> None:
    """Place each message as the keyed default partitioner does and keep its order within the partition."""
    partitions = sorted(await producer.partitions_for(topic))
    partitioner = DefaultPartitioner()
    batches, acks = {}, []
    for message in messages:
        key = message.key.encode()
        partition = partitioner(key, partitions, partitions)
        batch = batches.get(partition)
        if batch is None or batch.append(key=key, value=message.value, timestamp=None) is None:
            if batch is not None:  # full: send it and start the next one
                acks.append(await producer.send_batch(batch, topic, partition=partition))
            batch = batches[partition] = producer.create_batch()
            batch.append(key=key, value=message.value, timestamp=None)
    for partition, batch in batches.items():
        acks.append(await producer.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*acks)


def email_templates(messages: list[Message]) -> list[dict]:
    """The backlog's completed e-mails: live traffic reuses their people, so it touches the same records."""
    templates = []
    for message in messages:
        if message.topic == "activities":
            payload = orjson.loads(message.value)
            if payload.get("type") == "email" and payload.get("state") == "completed":
                templates.append(payload)
    return templates


def live_email(template: dict, now: float) -> dict:
    """A new e-mail between the template's people, sent `now`."""
    return {**template, "id": str(uuid.uuid4()), "version": 1, "source": "dynamics", "tracked": False,
            "occurred_at": format_timestamp(now), "in_reply_to": None, "conversation_id": None}


def probe_party(probe_id: str) -> dict:
    return {"id": probe_id, "side": "external", "kind": "contact", "name": f"Probe {probe_id}",
            "email": f"{probe_id}@probe.example"}


async def publish_steady(settings: Settings, templates: list[dict], *, rate: float, seconds: float,
                         probe_every: int) -> tuple[dict[str, float], float]:
    """Publish `rate` new e-mails a second for `seconds`; every `probe_every`-th one is also sent to a fresh
    probe contact. Returns {probe id: monotonic publish time} and the seconds publishing took."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    topic, probes, acks = settings.topic("activities"), {}, []
    try:
        started = time.monotonic()
        for i in range(round(rate * seconds)):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            email = live_email(templates[i % len(templates)], time.time())
            if i % probe_every == 0:
                probe_id = f"{PROBE}{i // probe_every:06d}"
                email["to"] = [*email["to"], probe_party(probe_id)]
                probes[probe_id] = time.monotonic()
            acks.append(await producer.send(topic, key=email["id"].encode(), value=orjson.dumps(email)))
        await asyncio.gather(*acks)
        return probes, time.monotonic() - started
    finally:
        await producer.stop()
