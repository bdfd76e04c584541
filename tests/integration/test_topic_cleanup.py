"""`delete_prefix_topics` on the real broker: a prefix's topics go, its near-namesakes' stay."""
from __future__ import annotations

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from relstream.settings import Settings
from relstream.topics import delete_prefix_topics, prefix_topics
from tests.harness import BOOTSTRAP, redis_client, remove_prefix, unique_prefix

pytestmark = pytest.mark.integration


def names(prefix: str) -> list[str]:
    """What a worker leaves: ours (`{prefix}.…`) and Faust's (`{prefix}-worker-…`)."""
    return [f"{prefix}.activities", f"{prefix}.by-record", f"{prefix}-worker-records-changelog",
            f"{prefix}-worker-__assignor-__leader"]


async def list_topics() -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def create(topics: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in topics])
    finally:
        await admin.close()


def test_only_the_prefix_own_topics_are_claimed() -> None:
    every = [*names("t-a"), *names("t-ab"), *names("t-a-b"), *names("t-a-worker"), "t-a", "t-a-bench", "t-a.x.y"]
    assert prefix_topics(every, "t-a") == sorted(names("t-a"))
    assert prefix_topics(every, "t-a-worker") == sorted(names("t-a-worker"))
    assert prefix_topics(every, "t-a-b") == sorted(names("t-a-b"))
    assert prefix_topics(every, "t-a.x") == ["t-a.x.y"]


def test_deleting_a_prefix_leaves_near_namesakes_alone(stack) -> None:
    base = unique_prefix("cleanup")
    others = [f"{base}b", f"{base}-b", f"{base}-worker", f"{base}_b"]  # `x` next to `xb`, `x-b`, ...
    ours, theirs = names(base), [t for other in others for t in names(other)]
    try:
        asyncio.run(create(ours + theirs))
        assert set(ours + theirs) <= asyncio.run(list_topics())

        deleted = asyncio.run(delete_prefix_topics(Settings(kafka_bootstrap=BOOTSTRAP, topic_prefix=base)))

        assert sorted(deleted) == sorted(ours)
        left = asyncio.run(list_topics())
        assert not set(ours) & left
        assert set(theirs) <= left
        # a second run finds nothing to do, and says so without failing
        assert asyncio.run(delete_prefix_topics(Settings(kafka_bootstrap=BOOTSTRAP, topic_prefix=base))) == []
    finally:
        for other in others:
            remove_prefix(other)
        remove_prefix(base)
    assert not {t for t in asyncio.run(list_topics()) if t.startswith(base)}


def test_remove_prefix_also_drops_the_redis_keys_of_that_prefix_only(stack) -> None:
    base = unique_prefix("cleanup-redis")
    client = redis_client()
    client.set(f"{base}:kpi:account:1", b"{}")
    client.set(f"{base}-b:kpi:account:1", b"{}")
    try:
        remove_prefix(base)
        assert client.exists(f"{base}:kpi:account:1") == 0
        assert client.exists(f"{base}-b:kpi:account:1") == 1
    finally:
        client.delete(f"{base}-b:kpi:account:1")
        client.close()
