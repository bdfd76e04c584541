"""Session-wide: the real Kafka and Redis of `relstream stack up` (started when not running)."""
from __future__ import annotations

import pytest

from tests.harness import BOOTSTRAP, FROZEN_NOW, REDIS_URL, WorkerProcess, remove_prefix, tracked_prefixes


@pytest.fixture(scope="session")
def stack():
    """The running stack; at the end of the session, the topics and Redis keys of every test prefix
    (`unique_prefix`, `WorkerProcess`) that no fixture removed earlier are deleted."""
    from relstream.stack import ensure_up, kafka_ready, redis_ready

    if not (kafka_ready(BOOTSTRAP) and redis_ready(REDIS_URL)):
        ensure_up()  # starts Kafka (KRaft, Maven Central jars) and redis-server; idempotent
    yield True
    for prefix in tracked_prefixes():
        remove_prefix(prefix)


@pytest.fixture
def worker(stack, tmp_path):
    """Start `relstream worker` processes (frozen clock, given prefix); all are stopped after the test and
    their prefixes' topics and Redis keys deleted (so pass only the test's own prefixes)."""
    started: list[WorkerProcess] = []

    def start(prefix: str, wait_ready: bool = True, frozen_clock: str = FROZEN_NOW) -> WorkerProcess:
        process = WorkerProcess(prefix, tmp_path, frozen_clock=frozen_clock).start(wait_ready=wait_ready)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    for prefix in dict.fromkeys(process.prefix for process in started):
        remove_prefix(prefix)
