"""Kafka side of a connector: publish a page as one batch and return only when every message is acknowledged.

The producer is idempotent with `acks="all"`, so retries inside a session never duplicate; a crash
between the acknowledgement and the checkpoint re-sends the page, which the worker's version rule
turns into no-ops.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from relstream.settings import Settings


@dataclass(frozen=True)
class Message:
    topic: str
    key: str
    value: dict[str, Any]


class Topics:
    """Topic names under the configured prefix."""

    def __init__(self, settings: Settings):
        self.activities = settings.topic("activities")
        self.records = settings.topic("records")
        self.dlq = settings.topic("dlq")

    def dead_letter(self, source: str, reason: str, payload: Any, key: str) -> Message:
        """Same envelope as the worker's dead letters, tagged with the connector that rejected the row."""
        return Message(self.dlq, key, {"reason": reason, "source": f"connector:{source}", "payload": payload})


class Publisher:
    def __init__(self, bootstrap: str):
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            max_request_size=4 * 1024 * 1024,
        )

    async def __aenter__(self) -> "Publisher":
        try:
            await self._producer.start()
        except BaseException:
            await self._producer.stop()
            raise
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._producer.stop()

    async def send(self, messages: list[Message]) -> None:
        """Enqueue every message, then wait for all acknowledgements (raises if any failed)."""
        pending = [
            await self._producer.send(m.topic, orjson.dumps(m.value), key=m.key.encode())
            for m in messages
        ]
        await asyncio.gather(*pending)
