"""Issue 5 end to end: both connectors → real Kafka → real worker → Redis KPI documents."""
from __future__ import annotations

from collections import defaultdict

import orjson
import pytest

from tests.connectors import scenario
from tests.harness import (
    WorkerProcess, batch_recompute, documents_differences, read_topic_async, redis_client, redis_documents, wait_until,
)

pytestmark = pytest.mark.integration
CLOCK = "2026-11-04T12:00:00Z"  # the scenario's "Contract signing" meeting is still ahead


async def test_connectors_feed_the_worker_and_a_shared_email_counts_once(connectors, tmp_path):
    clock = {"RELSTREAM_FROZEN_CLOCK": CLOCK}
    assert (await connectors.run("dynamics", env=clock)).returncode == 0
    assert (await connectors.run("exchange", env=clock)).returncode == 0
    published = [
        (name, record.key, record.value)
        for name in ("records", "activities")
        for record in await read_topic_async(connectors.topic(name))
    ]
    sources = defaultdict(set)
    for name, _, value in published:
        event = orjson.loads(value)
        if name == "activities" and event.get("schema") == "relstream.activity.v1":
            sources[event["id"]].add(event.get("source"))
    shared = [activity_id for activity_id, seen in sources.items() if seen == {"dynamics", "exchange"}]
    assert shared, "the scenario has an e-mail that both connectors publish under one id"

    expected = batch_recompute(published, now=CLOCK)
    bob = f"contact:{scenario.C_BOB}"
    assert bob in expected
    worker = WorkerProcess(connectors.prefix, tmp_path, frozen_clock=CLOCK).start()
    try:
        wait_until(lambda: not documents_differences(redis_documents(connectors.prefix), expected), 180,
                   "the worker's documents for the connectors' events")
    finally:
        worker.stop()
    listed = orjson.loads(redis_client().get(f"{connectors.prefix}:activities:contact:{scenario.C_BOB}"))
    listed_ids = [a["id"] for a in listed]
    assert any(listed_ids.count(activity_id) == 1 for activity_id in shared)
    assert len(listed_ids) == len(set(listed_ids))
    emails = redis_documents(connectors.prefix)[bob]["widgets"]["customer_interactions"]["email"]
    assert emails == expected[bob]["widgets"]["customer_interactions"]["email"]
    assert emails["by_us"] + emails["by_them"] == sum(1 for a in listed if a["type"] == "email" and a["state"] == "completed")
