"""Session-wide: the real Kafka and Redis of `relstream stack up` (started when not running)."""
from __future__ import annotations

import pytest

from tests.harness import BOOTSTRAP, REDIS_URL


@pytest.fixture(scope="session")
def stack():
    from relstream.stack import ensure_up, kafka_ready, redis_ready

    if not (kafka_ready(BOOTSTRAP) and redis_ready(REDIS_URL)):
        ensure_up()  # starts Kafka (KRaft, Maven Central jars) and redis-server; idempotent
    return True
