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


RANKING_FIELDS = ("industry", "products", "estimated_value", "closed_at")  # what similarity and its order read


class WonDealsView:
    """`on_change(ids)`: the won deals in `ids` changed only their shown figures (activities, hours, rates),
    so only open deals listing them need a new document; `on_change(None)`: the candidates or their ranking
    changed, every open deal re-ranks."""

    def __init__(self, settings: Settings, on_change: Callable[[set[str] | None], None]):
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

    def apply(self, key: bytes, value: bytes | None) -> str | None:
        """Fold one record in: None (nothing changed), "figures" or "ranking" (see the class)."""
        deal_id = key.decode()
        held = self.deals.get(deal_id)
        if value is None:
            return "ranking" if self.deals.pop(deal_id, None) is not None else None
        raw = orjson.loads(value)
        deal = WonDeal(**{**raw, "products": tuple(raw["products"])})
        if held == deal:
            return None
        self.deals[deal_id] = deal
        if held is None or any(getattr(held, name) != getattr(deal, name) for name in RANKING_FIELDS):
            return "ranking"
        return "figures"

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
                    reranked, refigured = False, set()
                    for records in batches.values():
                        for record in records:
                            change = self.apply(record.key, record.value)
                            reranked |= change == "ranking"
                            if change == "figures":
                                refigured.add(record.key.decode())
                    if reranked:
                        self.on_change(None)
                    elif refigured:
                        self.on_change(refigured)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker restarts: log, wait, reconnect
                log.warning("won-deals view lost its connection (%s); reconnecting in 2 s", exc)
                await asyncio.sleep(2)
            finally:
                await consumer.stop()
