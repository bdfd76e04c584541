"""The operator's view of a real worker that processed the worked example: `relstream lag`,
`relstream projection rebuild`, and the worker's /metrics, /healthz and /readyz."""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import (
    FROZEN_NOW, REDIS_URL, REPO, WorkerProcess, documents_differences, event, publish, redis_client,
    redis_documents, small_org_expected, small_org_messages, unique_prefix, wait_until,
)

pytestmark = pytest.mark.integration
EXPECTED = small_org_expected()
CONVERGE_S = 180


def converged(prefix: str) -> bool:
    return not documents_differences(redis_documents(prefix), EXPECTED["documents"])


@pytest.fixture(scope="module")
def ops_worker(stack, tmp_path_factory):
    """One worker for the module, done with the small-org: processing it takes a while on 2 shared cores."""
    process = WorkerProcess(unique_prefix("ops"), tmp_path_factory.mktemp("ops"), frozen_clock=FROZEN_NOW)
    process.start()
    publish(process.prefix, small_org_messages())
    wait_until(lambda: converged(process.prefix), CONVERGE_S, "small-org documents in Redis")
    yield process
    process.stop()


def relstream(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI as an operator runs it, configured like the worker it looks at (prefix, Kafka, Redis)."""
    return subprocess.run([sys.executable, "-m", "relstream.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def worker_lag(worker: WorkerProcess) -> dict:
    result = relstream(worker.env, "lag", "--json")
    assert result.returncode == 0, result.stderr
    groups = {group["group"]: group for group in json.loads(result.stdout)["groups"]}
    return groups.get(f"{worker.prefix}-worker", {"lag": None, "partitions": []})


def test_lag_drains_to_zero_for_the_worker_group(ops_worker):
    wait_until(lambda: worker_lag(ops_worker)["lag"] == 0, CONVERGE_S, "worker group lag 0", interval=2)
    group = worker_lag(ops_worker)
    assert all(p["lag"] == 0 and p["committed"] in (p["end"], None) for p in group["partitions"])
    topics = {p["topic"] for p in group["partitions"]}
    stages = {ops_worker.prefix + suffix for suffix in (".activities", ".records", ".by-activity", ".by-record")}
    assert topics == stages

    table = relstream(ops_worker.env, "lag")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"]
    assert f"{ops_worker.prefix}-worker" in rows[0]
    assert {topic for topic in stages if any(topic in row.split() for row in rows)} == stages
    assert rows[-1].split() == ["total", "0"]


def test_rebuild_restores_documents_after_our_keys_are_lost(ops_worker):
    client = redis_client()
    client.delete(*client.scan_iter(f"{ops_worker.prefix}:*", count=1000))  # FLUSHDB, limited to our prefix
    assert redis_documents(ops_worker.prefix) == {}

    result = relstream(ops_worker.env, "projection", "rebuild", "--wait", str(CONVERGE_S), timeout=CONVERGE_S + 30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("projection rebuilt:")
    assert documents_differences(redis_documents(ops_worker.prefix), EXPECTED["documents"]) == []


def test_rebuild_without_a_worker_times_out_with_advice(stack):
    env = {**os.environ, "RELSTREAM_TOPIC_PREFIX": unique_prefix("no-worker"), "RELSTREAM_REDIS_URL": REDIS_URL}
    result = relstream(env, "projection", "rebuild", "--wait", "1")
    assert result.returncode == 1
    assert "timed out" in result.stderr and "Is a worker running" in result.stderr and "relstream lag" in result.stderr


def test_metrics_and_probes(ops_worker):
    status, body = ops_worker.get("/metrics")
    assert status == 200
    samples = [s for family in text_string_to_metric_families(body.decode()) for s in family.samples]

    def total(name: str) -> float:
        return sum(sample.value for sample in samples if sample.name == name)

    assert total("relstream_events_consumed_total") > 0
    assert total("relstream_events_dead_lettered_total") >= EXPECTED["invalid_messages"]
    assert total("relstream_documents_written_total") >= len(EXPECTED["documents"])
    assert total("relstream_projection_pending_records") == 0  # everything published so far is written
    lag_topics = {sample.labels["topic"] for sample in samples if sample.name == "relstream_consumer_lag"}
    assert f"{ops_worker.prefix}.activities" in lag_topics  # the per-partition gauge the dashboard draws
    assert any(sample.name.startswith("faust_") for sample in samples)  # Faust's sensor, same registry
    assert ops_worker.get("/healthz")[0] == 200
    status, body = ops_worker.get("/readyz")
    assert status == 200 and orjson.loads(body)["ready"] is True


def live_email(n: int) -> dict:
    return {"schema": "relstream.activity.v1", "op": "upsert", "id": f"live-{n}", "version": 1, "source": "dynamics",
            "type": "email", "state": "completed", "occurred_at": "2026-11-19T10:00:00Z", "subject": "live",
            "from": {"id": "u-live", "side": "internal", "kind": "user"},
            "to": [{"id": "c-live", "side": "external", "kind": "contact", "account_id": "a-live"}]}


@contextmanager
def live_traffic(prefix: str):
    """A steady trickle of new e-mails for records of their own, like `demo-data --live`: every flush has work."""
    stop = threading.Event()

    def send() -> None:
        for n in itertools.count():
            if stop.is_set():
                return
            publish(prefix, [event("activities", live_email(n))])
            time.sleep(0.1)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def test_rebuild_under_live_traffic(ops_worker):
    client = redis_client()
    with live_traffic(ops_worker.prefix):
        live = f"{ops_worker.prefix}:kpi:contact:c-live"
        wait_until(lambda: client.exists(live), CONVERGE_S, "live records projected")
        client.delete(*(key for key in client.scan_iter(f"{ops_worker.prefix}:kpi:*") if b"-live" not in key))
        result = relstream(ops_worker.env, "projection", "rebuild", "--wait", str(CONVERGE_S),
                           timeout=CONVERGE_S + 30)
        assert result.returncode == 0, result.stderr
        documents = redis_documents(ops_worker.prefix)
    small_org = {key: document for key, document in documents.items() if key in EXPECTED["documents"]}
    assert documents_differences(small_org, EXPECTED["documents"]) == []
