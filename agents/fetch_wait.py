"""How long the broker may hold a fetch for the worker's consumer: 100 ms instead of Faust's fixed 1.5 s.

aiokafka keeps one fetch request in flight per broker, for the partitions that have nothing buffered. When
all partitions with new data are still buffered at the moment it is sent, that request names only idle
ones (a stage topic, a quiet input partition) and the broker holds it for the whole wait; data arriving
meanwhile on the other partitions waits behind it. faust-streaming 0.15.3 hard-codes that wait to 1.5 s
(`AIOKafkaConsumerThread._create_worker_consumer`), which under steady load showed as input arriving in
bursts every ~2 s, 1.5 s late. A short wait costs an idle worker ten small fetches a second.
"""
from __future__ import annotations

from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

FETCH_MAX_WAIT_MS = 100
_create_worker_consumer = AIOKafkaConsumerThread._create_worker_consumer


def _with_short_fetch_wait(thread, transport):
    consumer = _create_worker_consumer(thread, transport)
    consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read by consumer.start() to build its fetcher
    return consumer


def install() -> None:
    """Idempotent; the versions it was checked against are pinned in pyproject.toml."""
    AIOKafkaConsumerThread._create_worker_consumer = _with_short_fetch_wait
