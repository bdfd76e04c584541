"""Issue 3: what production does to a stream processor must leave every KPI exact.

Each scenario ends by comparing the Redis documents with a batch recompute of the final event log.
"""
from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
from datetime import datetime, timezone

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from agents.app import EXIT_PROCESSING_FAILED
from relstream.demo import generate_organisation
from tests.harness import (
    BOOTSTRAP, REPO, batch_recompute, documents_differences, process_alive, publish, redis_client, redis_documents,
    unique_prefix, wait_until,
)

pytestmark = pytest.mark.integration
END = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
CONVERGE_S = 240


def organisation(seed: int, accounts: int = 6, days: int = 90) -> list[tuple[str, bytes, bytes]]:
    return [(m.topic, m.key.encode(), m.value) for m in generate_organisation(seed=seed, accounts=accounts, days=days, end=END)]


def assert_converges(prefix: str, log, timeout: float = CONVERGE_S) -> None:
    expected = batch_recompute(log)
    assert len(expected) > 10

    def matches() -> bool:
        return not documents_differences(redis_documents(prefix), expected)

    try:
        wait_until(matches, timeout, "Redis documents equal to the batch recompute")
    except AssertionError:
        differences = documents_differences(redis_documents(prefix), expected)
        records = sorted({d.split(".", 1)[0].split(": ", 1)[0] for d in differences})
        raise AssertionError(f"{len(differences)} differences in {len(records)} of {len(expected)} records "
                             f"({records[:8]}), e.g. {differences[:15]}") from None


def test_kill_minus_nine_while_events_flow(worker):
    """Several SIGKILLs at random moments mid-stream, each followed by a restart: nothing lost or doubled."""
    prefix = unique_prefix("kill9")
    log = organisation(seed=11)
    running = worker(prefix)
    rng = random.Random(11)
    chunks = [log[i:i + 60] for i in range(0, len(log), 60)]
    publisher = threading.Thread(target=lambda: [publish(prefix, c) or time.sleep(0.3) for c in chunks])
    publisher.start()
    for _ in range(3):
        time.sleep(rng.uniform(1.0, 4.0))
        running.kill()
        running = worker(prefix)
    publisher.join()
    assert_converges(prefix, log)


def test_a_failing_batch_stops_the_worker_and_is_processed_again(worker, tmp_path):
    """A handler raising (a bug) must not lose its batch: Faust would acknowledge it and restart the agent
    past it. The worker stops unacknowledged with exit code 70 and a CRITICAL log naming the offsets; the
    next worker processes the batch again and every document ends exact."""
    prefix = unique_prefix("fail-fast")
    log = organisation(seed=17)
    marker = tmp_path / "fault-injected"
    faulty = worker(prefix, module="tests.faulty_worker", RELSTREAM_TEST_FAULT_MARKER=str(marker))
    publish(prefix, log)
    wait_until(lambda: faulty.process.poll() is not None, 120, "the worker stopping on the injected fault")
    assert faulty.process.returncode == EXIT_PROCESSING_FAILED
    text = faulty.log_path.read_text()
    assert marker.read_text().startswith("account:")
    assert f"RuntimeError: injected fault on {marker.read_text()}" in text
    assert "[CRITICAL] record_stage failed on a batch of" in text and "without acknowledging the batch" in text
    worker(prefix)
    assert_converges(prefix, log)


def test_scale_out_and_in(worker):
    """A second worker joins mid-stream (rebalance moves state), later the first one is killed."""
    prefix = unique_prefix("scale")
    log = organisation(seed=12)
    third = len(log) // 3
    first = worker(prefix)
    publish(prefix, log[:third])
    second = worker(prefix)
    publish(prefix, log[third:2 * third])
    wait_until(lambda: first.ready() and second.ready(), 120, "both workers ready after the rebalance")
    first.kill()
    publish(prefix, log[2 * third:])
    assert_converges(prefix, log)
    assert second.ready()


def test_lost_redis_is_rebuilt_without_replaying_input(worker):
    prefix = unique_prefix("redis-lost")
    log = organisation(seed=13)
    worker(prefix)
    publish(prefix, log)
    assert_converges(prefix, log)
    client = redis_client()
    lost = list(client.scan_iter(f"{prefix}:*", count=1000))
    client.delete(*lost)  # what FLUSHALL or an empty restarted Redis does to our keys
    assert redis_documents(prefix) == {}
    assert_converges(prefix, log, timeout=60)


def _reset_group_to_earliest(group: str, topics: list[str]) -> None:
    """What `kafka-consumer-groups --reset-offsets --to-earliest` does, for a group with no live member."""
    async def reset() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
        await admin.start()
        try:
            described = await admin.describe_topics(topics)
        finally:
            await admin.close()
        tps = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
        consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(tps)
            await consumer.commit({tp: 0 for tp in tps})
        finally:
            await consumer.stop()

    asyncio.run(reset())


def test_replay_and_group_reset_change_nothing(worker):
    prefix = unique_prefix("replay")
    log = organisation(seed=14)
    first = worker(prefix)
    publish(prefix, log)
    assert_converges(prefix, log)
    publish(prefix, log)  # the whole history re-published
    assert_converges(prefix, log)
    first.stop()
    _reset_group_to_earliest(f"{prefix}-worker", [f"{prefix}.{t}" for t in ("activities", "records", "by-activity", "by-record")])
    worker(prefix)
    time.sleep(5)
    assert_converges(prefix, log)


def test_backfill_a_year_then_live(worker):
    """A new tenant's year of history at full speed, then live events on top."""
    prefix = unique_prefix("backfill")
    history = organisation(seed=15, accounts=4, days=365)
    live = organisation(seed=15, accounts=4, days=365)[-40:]  # re-sent tail: duplicates arriving live
    worker(prefix)
    publish(prefix, history)
    assert_converges(prefix, history)
    publish(prefix, live)
    assert_converges(prefix, history + live)


def _kafka_pid() -> int:
    run_dir = os.environ.get("RELSTREAM_STACK_DIR", str(REPO / ".stack"))
    with open(os.path.join(run_dir, "run", "kafka.pid")) as handle:
        return int(handle.read().strip())


def test_broker_restart_while_worker_runs(worker):
    """The broker goes away and comes back: the worker reconnects by itself and the result is exact."""
    from relstream.stack import ensure_up, kafka_ready

    prefix = unique_prefix("broker")
    log = organisation(seed=16)
    half = len(log) // 2
    running = worker(prefix)
    publish(prefix, log[:half])
    pid = _kafka_pid()
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not process_alive(pid), 120, "the broker process to exit")
    ensure_up()
    wait_until(lambda: kafka_ready(BOOTSTRAP), 120, "the broker to come back")
    publish(prefix, log[half:])
    assert_converges(prefix, log)
    assert running.process.poll() is None, "the worker must survive a broker restart"
