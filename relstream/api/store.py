"""Reads of the worker's Redis projection (the only module here that talks to Redis).

Key layout (written by the worker): `{prefix}:kpi:{type}:{id}` document, `{prefix}:health:{type}` sorted set
of health scores, `{prefix}:activities:{type}:{id}` latest attributed activities (JSON list, newest first).
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from relstream.settings import Settings

# Fail fast: a request must answer 503 within a couple of seconds rather than hang on a dead Redis.
# One immediate retry rides over a pooled connection that Redis closed (restart, idle timeout).
_TIMEOUT_S = 2.0


def connect(settings: Settings) -> Redis:
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=_TIMEOUT_S,
        socket_timeout=_TIMEOUT_S,
        retry=Retry(NoBackoff(), 1),
    )


class Store:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def document(self, type_: str, id_: str) -> dict[str, Any] | None:
        raw = await self.redis.get(self.settings.key("kpi", type_, id_))
        return None if raw is None else orjson.loads(raw)

    async def documents(self, type_: str, ids: list[str]) -> list[dict[str, Any] | None]:
        if not ids:
            return []
        raws = await self.redis.mget([self.settings.key("kpi", type_, id_) for id_ in ids])
        return [None if raw is None else orjson.loads(raw) for raw in raws]

    async def health_range(
        self, type_: str, low: str, high: str, descending: bool, offset: int, limit: int
    ) -> tuple[int, list[tuple[str, float]]]:
        """Members scored within [low, high] (Redis score syntax: `-inf`, `(40`), and how many there are."""
        key = self.settings.key("health", type_)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcount(key, low, high)
            if descending:
                pipe.zrevrangebyscore(key, high, low, start=offset, num=limit, withscores=True)
            else:
                pipe.zrangebyscore(key, low, high, start=offset, num=limit, withscores=True)
            total, members = await pipe.execute()
        return int(total), [(member.decode(), score) for member, score in members]

    async def activities(self, type_: str, id_: str, limit: int) -> list[dict[str, Any]] | None:
        """The latest `limit` activities, or None when the record has no KPI document (unknown record)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(self.settings.key("kpi", type_, id_))
            pipe.get(self.settings.key("activities", type_, id_))
            exists, raw = await pipe.execute()
        if not exists:
            return None
        return orjson.loads(raw)[:limit] if raw else []
