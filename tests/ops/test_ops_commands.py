"""The operator's view of a real worker that processed the worked example: `relstream lag`,
`relstream projection rebuild`, and the worker's /metrics, /healthz and /readyz."""
from __future__ import annotations

import json
import subprocess
import sys

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import (
    REPO, WorkerProcess, documents_differences, publish, redis_client, redis_documents, small_org_expected,
    small_org_messages, unique_prefix, wait_until,
)

pytestmark = pytest.mark.integration
EXPECTED = small_org_expected()
CONVERGE_S = 180


def converged(prefix: str) -> bool:
    return not documents_differences(redis_documents(prefix), EXPECTED["documents"])


@pytest.fixture(scope="module")
def worker(stack, tmp_path_factory):
    """One worker for the module: the small-org takes a while to process on a shared 2-core machine."""
    process = WorkerProcess(unique_prefix("ops"), tmp_path_factory.mktemp("ops"), frozen_clock=EXPECTED["as_of"])
    process.start()
    publish(process.prefix, small_org_messages())
    wait_until(lambda: converged(process.prefix), CONVERGE_S, "small-org documents in Redis")
    yield process
    process.stop()


def relstream(worker: WorkerProcess, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI as an operator runs it, configured like the worker (prefix, Kafka, Redis)."""
    return subprocess.run([sys.executable, "-m", "relstream.cli", *args], env=worker.env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def worker_lag(worker: WorkerProcess) -> dict:
    result = relstream(worker, "lag", "--json")
    assert result.returncode == 0, result.stderr
    groups = {group["group"]: group for group in json.loads(result.stdout)["groups"]}
    return groups.get(f"{worker.prefix}-worker", {"lag": None, "partitions": []})


def test_lag_drains_to_zero_for_the_worker_group(worker):
    wait_until(lambda: worker_lag(worker)["lag"] == 0, CONVERGE_S, "worker group lag 0", interval=2)
    group = worker_lag(worker)
    assert all(p["committed"] == p["end"] and p["lag"] == 0 for p in group["partitions"])
    topics = {p["topic"] for p in group["partitions"]}
    stages = {worker.prefix + suffix for suffix in (".activities", ".records", ".by-activity", ".by-record")}
    assert topics == stages

    table = relstream(worker, "lag")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"]
    assert f"{worker.prefix}-worker" in rows[0]
    assert {topic for topic in stages if any(topic in row.split() for row in rows)} == stages
    assert rows[-1].split() == ["total", "0"]


def test_rebuild_restores_documents_after_our_keys_are_lost(worker):
    client = redis_client()
    client.delete(*client.scan_iter(f"{worker.prefix}:*", count=1000))  # FLUSHDB, limited to our prefix
    assert redis_documents(worker.prefix) == {}

    result = relstream(worker, "projection", "rebuild", "--wait", str(CONVERGE_S), timeout=CONVERGE_S + 30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("projection rebuilt:")
    assert documents_differences(redis_documents(worker.prefix), EXPECTED["documents"]) == []


def test_metrics_and_probes(worker):
    status, body = worker.get("/metrics")
    assert status == 200
    samples = [s for family in text_string_to_metric_families(body.decode()) for s in family.samples]

    def total(name: str) -> float:
        return sum(sample.value for sample in samples if sample.name == name)

    assert total("relstream_events_consumed_total") > 0
    assert total("relstream_events_dead_lettered_total") >= EXPECTED["invalid_messages"]
    assert total("relstream_documents_written_total") >= len(EXPECTED["documents"])
    assert worker.get("/healthz")[0] == 200
    status, body = worker.get("/readyz")
    assert status == 200 and orjson.loads(body)["ready"] is True
