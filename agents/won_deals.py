"""Every worker's copy of the won opportunities (a small, global view), read from a compacted topic."""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from relstream.model import WonDeal
from relstream.settings import Settings

log = logging.getLogger("relstream.won_deals")


class WonDealsView:
    def __init__(self, settings: Settings, on_change: Callable[[], None]):
        self.settings = settings
        self.topic = settings.topic("won-deals")
        self.deals: dict[str, WonDeal] = {}
        self.on_change = on_change

    def list(self) -> list[WonDeal]:
        return list(self.deals.values())

    def get(self, deal_id: str) -> WonDeal | None:
        return self.deals.get(deal_id)

    @staticmethod
    def encode(deal: WonDeal | None) -> bytes | None:
        if deal is None:
            return None
        return orjson.dumps(deal)  # orjson serialises dataclasses natively

    def apply(self, key: bytes, value: bytes | None) -> bool:
        deal_id = key.decode()
        if value is None:
            return self.deals.pop(deal_id, None) is not None
        raw = orjson.loads(value)
        deal = WonDeal(**{**raw, "products": tuple(raw["products"])})
        if self.deals.get(deal_id) == deal:
            return False
        self.deals[deal_id] = deal
        return True

    async def run(self) -> None:
        """Read the whole topic from the start (no consumer group), then follow it; reconnects on errors."""
        while True:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, enable_auto_commit=False)
            try:
                await consumer.start()
                partitions = consumer.partitions_for_topic(self.topic) or {0}
                consumer.assign([TopicPartition(self.topic, p) for p in partitions])
                await consumer.seek_to_beginning()
                while True:
                    batches = await consumer.getmany(timeout_ms=500)
                    changed = False
                    for records in batches.values():
                        for record in records:
                            changed |= self.apply(record.key, record.value)
                    if changed:
                        self.on_change()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker restarts: log, wait, reconnect
                log.warning("won-deals view lost its connection (%s); reconnecting in 2 s", exc)
                await asyncio.sleep(2)
            finally:
                await consumer.stop()
