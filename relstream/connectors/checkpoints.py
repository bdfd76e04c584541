"""Durable connector state: delta links, the last version published per event, and small join tables.

State lives in namespaces of JSON values. Changes are journalled in memory and written only by
`commit()`, which the sync calls after Kafka acknowledged the page they belong to. A file store
(one JSON document, atomically replaced, a section per connector) suits one host; a `redis://` URL
suits large or containerised deployments (a hash per namespace, changes applied in one MULTI).
"""
from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

import orjson

DELETED = object()  # journal marker: the key was removed


class Store(Protocol):
    async def load(self) -> dict[str, dict[str, Any]]: ...
    async def save(self, changes: dict[str, dict[str, Any]]) -> None: ...
    async def close(self) -> None: ...


class FileStore:
    """`{connector: {namespace: {key: value}}}` in one file; each save re-reads under a lock so two
    connectors can share the path, then writes a temp file, fsyncs and `os.replace`s it."""

    def __init__(self, path: str, connector: str):
        self._path = Path(path)
        self._connector = connector

    async def load(self) -> dict[str, dict[str, Any]]:
        return await asyncio.to_thread(lambda: self._read().get(self._connector, {}))

    async def save(self, changes: dict[str, dict[str, Any]]) -> None:
        await asyncio.to_thread(self._save, changes)

    async def close(self) -> None:
        return None

    def _read(self) -> dict:
        try:
            return orjson.loads(self._path.read_bytes())
        except FileNotFoundError:
            return {}

    def _save(self, changes: dict[str, dict[str, Any]]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._path.with_name(self._path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            document = self._read()
            _apply(document.setdefault(self._connector, {}), changes)
            fd, temp = tempfile.mkstemp(dir=self._path.parent, prefix=self._path.name + ".")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(orjson.dumps(document))
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, self._path)
            except BaseException:
                os.unlink(temp)
                raise
            directory = os.open(self._path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)


class RedisStore:
    """Hash `{prefix}:connector-state:{connector}:{namespace}`, values as JSON."""

    def __init__(self, url: str, prefix: str, connector: str):
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._base = f"{prefix}:connector-state:{connector}"

    async def load(self) -> dict[str, dict[str, Any]]:
        data: dict[str, dict[str, Any]] = {}
        async for key in self._redis.scan_iter(match=f"{self._base}:*"):
            namespace = key.decode()[len(self._base) + 1:]
            raw = await self._redis.hgetall(key)
            data[namespace] = {k.decode(): orjson.loads(v) for k, v in raw.items()}
        return data

    async def save(self, changes: dict[str, dict[str, Any]]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for namespace, entries in changes.items():
                key = f"{self._base}:{namespace}"
                removed = [k for k, v in entries.items() if v is DELETED]
                kept = {k: orjson.dumps(v) for k, v in entries.items() if v is not DELETED}
                if removed:
                    pipe.hdel(key, *removed)
                if kept:
                    pipe.hset(key, mapping=kept)
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()


def _apply(target: dict[str, dict[str, Any]], changes: dict[str, dict[str, Any]]) -> None:
    for namespace, entries in changes.items():
        section = target.setdefault(namespace, {})
        for key, value in entries.items():
            if value is DELETED:
                section.pop(key, None)
            else:
                section[key] = value


def open_store(location: str, prefix: str, connector: str) -> Store:
    if location.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(location, prefix, connector)
    return FileStore(location, connector)


class State:
    """The working copy: reads see uncommitted changes; `commit()` makes them durable."""

    def __init__(self, store: Store, data: dict[str, dict[str, Any]]):
        self._store = store
        self._data = data
        self._journal: dict[str, dict[str, Any]] = {}

    @classmethod
    async def load(cls, store: Store) -> "State":
        return cls(store, await store.load())

    def get(self, namespace: str, key: str, default: Any = None) -> Any:
        return self._data.get(namespace, {}).get(key, default)

    def section(self, namespace: str) -> dict[str, Any]:
        """Live read-only view of a namespace; change it only through `put` and `drop`."""
        return self._data.setdefault(namespace, {})

    def put(self, namespace: str, key: str, value: Any) -> None:
        self._data.setdefault(namespace, {})[key] = value
        self._journal.setdefault(namespace, {})[key] = value

    def drop(self, namespace: str, key: str) -> None:
        if key in self._data.get(namespace, {}):
            del self._data[namespace][key]
            self._journal.setdefault(namespace, {})[key] = DELETED

    def claim_version(self, event_id: str, candidate: int) -> int:
        """The version to publish: the row's own version, raised above every version already published
        for this id (edits after a synthetic re-publish, deletes that carry no version)."""
        last = self.get("versions", event_id)
        version = candidate if last is None else max(candidate, last + 1)
        self.put("versions", event_id, version)
        return version

    async def commit(self) -> None:
        if self._journal:
            journal, self._journal = self._journal, {}
            await self._store.save(journal)
