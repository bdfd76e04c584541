"""The worker's consumer asks the broker to hold a fetch at most FETCH_MAX_WAIT_MS (Faust fixes 1.5 s)."""
from __future__ import annotations

import faust

from agents import fetch_wait


def worker_consumer():
    """The aiokafka consumer Faust's consumer thread would start (created, not started: no broker needed)."""
    app = faust.App("relstream-fetch-wait-test", broker="kafka://localhost:9092")
    return app.consumer._thread._create_worker_consumer(app.transport)


async def test_faust_alone_waits_one_and_a_half_seconds_and_the_worker_a_tenth():
    original = fetch_wait.AIOKafkaConsumerThread._create_worker_consumer
    try:
        fetch_wait.AIOKafkaConsumerThread._create_worker_consumer = fetch_wait._create_worker_consumer
        assert worker_consumer()._fetch_max_wait_ms == 1500  # the value this module exists for
        fetch_wait.install()
        fetch_wait.install()
        assert worker_consumer()._fetch_max_wait_ms == fetch_wait.FETCH_MAX_WAIT_MS == 100
    finally:
        fetch_wait.AIOKafkaConsumerThread._create_worker_consumer = original
