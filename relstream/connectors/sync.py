"""The loop both connectors share: page → events → Kafka acknowledgement → checkpoint, with per-row
dead-lettering, version claiming and progress lines on stderr."""
from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable, Iterable

from relstream.connectors.checkpoints import State, Store, open_store
from relstream.connectors.config import ConnectorConfig
from relstream.connectors.delta import delta_pages
from relstream.connectors.http import ApiClient, RetryPolicy, TokenSource, new_session
from relstream.connectors.mapping import MalformedRow
from relstream.connectors.publisher import Message, Publisher, Topics
from relstream.settings import Settings

log = logging.getLogger("relstream.connectors")


class Progress:
    """One line per page: rows read, events published, dead letters, and the running rate."""

    def __init__(self, source: str):
        self._source = source
        self._started = time.monotonic()
        self.rows = self.events = self.dead = 0

    def page(self, stream: str, rows: int, messages: list[Message], dlq_topic: str) -> None:
        dead = sum(1 for m in messages if m.topic == dlq_topic)
        self.rows += rows
        self.events += len(messages) - dead
        self.dead += dead
        elapsed = max(time.monotonic() - self._started, 1e-6)
        log.info("%s %s: %d rows → %d events, %d dead-lettered | total %d rows, %.0f rows/s",
                 self._source, stream, rows, len(messages) - dead, dead, self.rows, self.rows / elapsed)

    def done(self) -> None:
        log.info("%s sync complete: %d rows, %d events, %d dead-lettered in %.1f s", self._source,
                 self.rows, self.events, self.dead, time.monotonic() - self._started)


class Sync:
    """What a connector's page handlers need: state, topics, and helpers that keep versions monotonic."""

    def __init__(self, source: str, client: ApiClient, state: State, publisher: Publisher, topics: Topics):
        self.source, self.client, self.state, self.publisher, self.topics = source, client, state, publisher, topics
        self.progress = Progress(source)

    async def stream(self, stream: str, initial_url: str, headers: dict[str, str],
                     handle: Callable[[list[dict]], Awaitable[list[Message]]]) -> None:
        """Run one delta round; each page's events and its resume link become durable together."""
        async for page in delta_pages(self.client, stream, initial_url, self.state.get("links", stream), headers):
            messages = await handle(page.rows)
            self.state.put("links", stream, page.resume)
            await self.flush(messages)
            self.progress.page(stream, len(page.rows), messages, self.topics.dlq)

    async def flush(self, messages: list[Message]) -> None:
        await self.publisher.send(messages)
        await self.state.commit()

    def each_row(self, rows: Iterable[dict], key_of: Callable[[dict], str],
                 handle: Callable[[dict], list[Message]]) -> list[Message]:
        """Map rows one by one; a malformed row becomes a dead letter (logged with its id), never an abort.
        Handlers map first and touch state only once the row is known to be good."""
        messages: list[Message] = []
        for row in rows:
            try:
                messages.extend(handle(row))
            except MalformedRow as exc:
                messages.append(self._dead_letter(row, key_of(row), exc.reason))
            except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a shape the mapping did not foresee
                reason = f"unexpected row shape ({type(exc).__name__}: {exc})"
                messages.append(self._dead_letter(row, key_of(row), reason))
        return messages

    def _dead_letter(self, row: dict, key: str, reason: str) -> Message:
        log.warning("%s: row %s dead-lettered: %s", self.source, key, reason)
        return self.topics.dead_letter(self.source, reason, row, key)

    def upsert(self, topic: str, event: dict) -> Message:
        event["version"] = self.state.claim_version(event["id"], event["version"])
        return Message(topic, event["id"], event)

    def delete(self, topic: str, event_id: str, build: Callable[[int], dict]) -> Message:
        return Message(topic, event_id, build(self.state.claim_version(event_id, 0)))


@dataclass(frozen=True)
class Runtime:
    """Long-lived pieces of a connector process; each sync gets a fresh `State` loaded from the store."""

    client: ApiClient
    publisher: Publisher
    store: Store
    topics: Topics

    async def new_sync(self, source: str) -> Sync:
        return Sync(source, self.client, await State.load(self.store), self.publisher, self.topics)


@asynccontextmanager
async def runtime(config: ConnectorConfig, settings: Settings, source: str, scope: str,
                  headers: dict[str, str]) -> AsyncIterator[Runtime]:
    policy = RetryPolicy()
    session = new_session(config.ca_bundle)
    store = open_store(config.state, settings.topic_prefix, source)
    try:
        tokens = TokenSource(session, policy, config.authority, config.tenant_id, config.client_id,
                             config.client_secret, scope)
        async with Publisher(settings.kafka_bootstrap) as publisher:
            yield Runtime(ApiClient(session, tokens, policy, headers), publisher, store, Topics(settings))
    finally:
        await store.close()
        await session.close()
