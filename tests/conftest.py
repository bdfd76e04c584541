"""Session-wide: the real Kafka and Redis of `relstream stack up` (started when not running)."""
from __future__ import annotations

import pytest

from tests.harness import BOOTSTRAP, FROZEN_NOW, REDIS_URL, WorkerProcess


@pytest.fixture(scope="session")
def stack():
    from relstream.stack import ensure_up, kafka_ready, redis_ready

    if not (kafka_ready(BOOTSTRAP) and redis_ready(REDIS_URL)):
        ensure_up()  # starts Kafka (KRaft, Maven Central jars) and redis-server; idempotent
    return True


@pytest.fixture
def worker(stack, tmp_path):
    """Start `relstream worker` processes (frozen clock, given prefix); all are stopped after the test."""
    started: list[WorkerProcess] = []

    def start(prefix: str, wait_ready: bool = True, frozen_clock: str = FROZEN_NOW) -> WorkerProcess:
        process = WorkerProcess(prefix, tmp_path, frozen_clock=frozen_clock).start(wait_ready=wait_ready)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
