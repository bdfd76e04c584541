"""Writes KPI documents to Redis (SPEC §5): one atomic SET per document, the health index beside it.

I/O only: what to write is decided by the caller.
"""
from __future__ import annotations

import time
from typing import NamedTuple

import redis.asyncio as aioredis

from relstream.settings import Settings


class Projection(NamedTuple):
    """A document to write: as evaluated, as JSON, and its activity list as JSON (None: Redis has it)."""

    document: dict
    encoded: bytes
    activities: bytes | None


class RedisProjection:
    def __init__(self, settings: Settings, client: aioredis.Redis | None = None):
        self.settings = settings
        self.redis = client or aioredis.from_url(settings.redis_url)

    def _keys(self, record_key: str) -> tuple[str, str, str, str]:
        record_type, record_id = record_key.split(":", 1)
        return (self.settings.key("kpi", record_type, record_id),
                self.settings.key("activities", record_type, record_id),
                self.settings.key("health", record_type), record_id)

    async def write(self, updates: dict[str, Projection | None]) -> None:
        """Apply {record key: projection, or None to remove} in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for record_key, update in updates.items():
            kpi_key, activities_key, health_key, record_id = self._keys(record_key)
            if update is None:
                pipe.delete(kpi_key, activities_key)
                pipe.zrem(health_key, record_id)
                continue
            pipe.set(kpi_key, update.encoded)
            if update.activities is not None:
                pipe.set(activities_key, update.activities)
            score = update.document["widgets"]["relationship_health"]["score"]
            if score is None:
                pipe.zrem(health_key, record_id)
            else:
                pipe.zadd(health_key, {record_id: score})
        await pipe.execute()

    def _marker(self, partition: int) -> str:
        return self.settings.key("projection", "partition", str(partition))

    async def lost(self, partitions: set[int]) -> set[int]:
        """Partitions whose marker Redis no longer holds (flushed or restarted empty): rebuild them."""
        ordered = sorted(partitions)
        if not ordered:
            return set()
        present = await self.redis.mget([self._marker(p) for p in ordered])
        return {p for p, value in zip(ordered, present) if value is None}

    async def mark_complete(self, partitions: set[int]) -> None:
        if partitions:
            await self.redis.mset({self._marker(p): str(time.time()) for p in partitions})

    async def request_rebuild(self, partitions: int) -> int:
        """Ask every worker to re-project its partitions (`relstream projection rebuild`)."""
        return await self.redis.delete(*[self._marker(p) for p in range(partitions)])

    async def close(self) -> None:
        await self.redis.aclose()
