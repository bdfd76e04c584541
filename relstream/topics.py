"""Every topic of the topology, created up front so a fresh broker (or a new prefix) just works."""
from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError, for_code

from relstream.settings import Settings

log = logging.getLogger("relstream.topics")
MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # the DLQ must take a rejected >1 MiB message as it came
DELETE_CHUNK = 100  # topics per DeleteTopics request: one request per topic is slow, thousands at once time out


def topic_specs(settings: Settings) -> list[NewTopic]:
    n = settings.partitions
    compacted = {"cleanup.policy": "compact"}
    large = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}  # envelopes, and a max-size event inside one
    return [
        NewTopic(settings.topic("activities"), n, 1),
        NewTopic(settings.topic("records"), n, 1),
        NewTopic(settings.topic("by-activity"), n, 1, topic_configs=large),
        NewTopic(settings.topic("by-record"), n, 1, topic_configs=large),
        NewTopic(settings.topic("dlq"), n, 1, topic_configs=large),
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


def prefix_topics(names: list[str] | set[str], prefix: str) -> list[str]:
    """The topics among `names` that belong to `prefix`: ours, `{prefix}.{name}` (names hold no dot), and
    Faust's, `{prefix}-worker-…` (changelogs, the assignor's leader topic; the app id is `{prefix}-worker`).

    Never another prefix's: `t-a` claims neither `t-ab.x` nor `t-a-b.x` nor `t-a-b-worker-…`; and a Faust
    topic that a longer prefix present on the broker also matches (`t-a-worker-worker-…` when `t-a-worker.…`
    exists) is that prefix's.
    """
    names = set(names)
    owners = {name.rpartition(".")[0] for name in names if "." in name}
    app = f"{prefix}-worker-"

    def faust_topic_of_ours(name: str) -> bool:
        return name.startswith(app) and not any(
            len(other) > len(prefix) and name.startswith(f"{other}-worker-") for other in owners)

    return sorted(name for name in names
                  if ("." in name and name.rpartition(".")[0] == prefix) or faust_topic_of_ours(name))


async def delete_prefix_topics(settings: Settings, timeout: float = 60.0) -> list[str]:
    """Delete every topic of `settings.topic_prefix` (see `prefix_topics`) and wait until the broker's
    metadata lists none of them. Topics already gone are fine; returns the names deleted.

    Test and benchmark runs use a fresh prefix each: without this their topics pile up until a restarted
    broker needs minutes to recover all those partitions. Listing again until nothing of ours is left also
    catches topics created so recently that the first listing did not show them yet.
    """
    prefix = settings.topic_prefix
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=30000)
    await admin.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        requested: list[str] = []
        while listed := prefix_topics(await admin.list_topics(), prefix):
            new = [topic for topic in listed if topic not in requested]
            await _delete(admin, prefix, new)
            requested += new
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"topics of {prefix} still listed {timeout:.0f} s after their deletion: {listed[:10]}")
            await asyncio.sleep(0.2)
        if requested:
            log.info("deleted %d topics of %s", len(requested), prefix)
        return sorted(requested)
    finally:
        await admin.close()


async def _delete(admin: AIOKafkaAdminClient, prefix: str, topics: list[str]) -> None:
    failed = {}
    for start in range(0, len(topics), DELETE_CHUNK):
        response = await admin.delete_topics(topics[start:start + DELETE_CHUNK])
        for topic, code in response.topic_error_codes:
            if code and code != UnknownTopicOrPartitionError.errno:  # already gone: what we wanted
                failed[topic] = for_code(code).__name__
    if failed:
        raise RuntimeError(f"could not delete {len(failed)} topics of {prefix}: {failed}")
