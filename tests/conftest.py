"""Session-wide: the real Kafka and Redis of `relstream stack up` (started when not running)."""
from __future__ import annotations

import os
import shutil

import pytest

from tests.harness import (
    BOOTSTRAP, FROZEN_NOW, REDIS_URL, REPO, WorkerProcess, keep_prefix, remove_prefix, tracked_prefixes,
)

WORKER_LOGS = REPO / "test-artifacts" / "worker-logs"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome on the test item, so fixtures can tell a failed test at teardown."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


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
def worker(stack, tmp_path, request):
    """Start `relstream worker` processes (frozen clock, given prefix); all are stopped after the test and
    their prefixes' topics and Redis keys deleted (so pass only the test's own prefixes). When the test
    failed, the workers' logs are kept in test-artifacts/worker-logs/<test>/ (pytest rotates tmp_path) and
    their tails printed into the report; with RELSTREAM_TEST_KEEP_DATA=1 its topics and Redis keys stay too."""
    started: list[WorkerProcess] = []

    def start(prefix: str, wait_ready: bool = True, frozen_clock: str = FROZEN_NOW,
              module: str = "relstream.cli", **env: str) -> WorkerProcess:
        process = WorkerProcess(prefix, tmp_path, frozen_clock=frozen_clock, module=module, **env).start(
            wait_ready=wait_ready)
        started.append(process)
        return process

    yield start
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    tails = {id(process): process.log_tail(60) for process in started} if failed else {}
    if failed:  # where each worker waits, in its log; then what it logged before that, in the report
        for process in started:
            process.dump_tasks()
    for process in started:
        process.stop()
    if failed:
        kept = WORKER_LOGS / request.node.name
        kept.mkdir(parents=True, exist_ok=True)
        for process in started:
            shutil.copy(process.log_path, kept / process.log_path.name)
            print(f"--- {process.log_path.name} (full log with task stacks: {kept / process.log_path.name})\n"
                  f"{tails[id(process)]}")
    keep = failed and os.environ.get("RELSTREAM_TEST_KEEP_DATA") == "1"
    for prefix in dict.fromkeys(process.prefix for process in started):
        (keep_prefix if keep else remove_prefix)(prefix)
