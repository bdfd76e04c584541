"""`relstream connect exchange`: the configured mailboxes' messages and meetings → `{prefix}.activities`.

Per mailbox: one message delta round per folder (`users/{id}/mailFolders/{folder}/messages/delta`)
and one calendar-view delta (`users/{id}/calendarView/delta`). The same e-mail or meeting is usually in
several mailboxes (sender's Sent Items, recipients' Inbox): every copy maps to the same activity id,
and a removal deletes the activity only when no synced mailbox holds it any more. State namespaces:
`rows` (mailbox item → activity id) and `scheduled` (future meetings, re-published as completed once
they start, since no delta reports the passing of time).
"""
from __future__ import annotations

from collections import defaultdict
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

from relstream.connectors import graph_map as gm
from relstream.connectors.config import ConnectorConfig
from relstream.connectors.http import with_query
from relstream.connectors.identity import AddressIndex, InternalDomains
from relstream.connectors.mapping import activity_delete, instant
from relstream.connectors.publisher import Message
from relstream.connectors.records_feed import RecordsFeed
from relstream.connectors.sync import Sync, runtime
from relstream.settings import Settings
from relstream.timeutil import format_timestamp

HEADERS = {"Accept": "application/json"}


class Exchange:
    def __init__(self, config: ConnectorConfig, sync: Sync, index: AddressIndex, now: datetime):
        self._config, self._sync, self._state = config, sync, sync.state
        domains = InternalDomains(config.internal_domains)
        self._resolve = lambda address, name: index.resolve(address, name, domains)
        self._holders: dict[str, set[str]] = defaultdict(set)  # activity id -> mailbox items holding it
        for row_key, activity_id in self._state.section("rows").items():
            self._holders[activity_id].add(row_key)
        self._now = now  # Settings.now(): the wall clock, or RELSTREAM_FROZEN_CLOCK in tests and replays

    async def run(self) -> None:
        await self._sync.flush(self._started_meetings())
        graph = f"{self._config.graph_url}/v1.0/users/"
        page_size = f"odata.maxpagesize={self._config.page_size}"
        for mailbox in self._config.mailboxes:
            user = graph + quote(mailbox, safe="@")
            for folder in self._config.mail_folders:
                url = with_query(f"{user}/mailFolders/{quote(folder)}/messages/delta", {"$select": gm.MESSAGE_FIELDS})
                await self._sync.stream(f"messages:{mailbox}:{folder}", url, {"Prefer": page_size},
                                        self._handler(f"m:{mailbox}:{folder}", self._message))
            window = {"startDateTime": format_timestamp(self._now - timedelta(days=self._config.calendar_past_days)),
                      "endDateTime": format_timestamp(self._now + timedelta(days=self._config.calendar_future_days))}
            await self._sync.stream(f"events:{mailbox}", with_query(f"{user}/calendarView/delta", window),
                                    {"Prefer": f'{page_size}, outlook.timezone="UTC"'},
                                    self._handler(f"e:{mailbox}", self._meeting))
        self._sync.progress.done()

    def _message(self, row: dict) -> dict | None:
        return gm.message_event(row, self._resolve)

    def _meeting(self, row: dict) -> dict | None:
        return gm.meeting_event(row, self._resolve, self._now)

    def _handler(self, prefix: str,
                 to_event: Callable[[dict], dict | None]) -> Callable[[list[dict]], Awaitable[list[Message]]]:
        def one(row: dict) -> list[Message]:
            row_key = f"{prefix}:{row.get('id')}"
            event = None if gm.is_removed(row) else to_event(row)
            if event is None:
                return self._release(row_key)
            messages = self._release(row_key) if self._state.get("rows", row_key) not in (None, event["id"]) else []
            self._state.put("rows", row_key, event["id"])
            self._holders[event["id"]].add(row_key)
            if event["state"] == "scheduled":
                self._state.put("scheduled", event["id"], event)
            else:
                self._state.drop("scheduled", event["id"])
            return messages + [self._sync.upsert(self._sync.topics.activities, event)]

        async def handle(rows: list[dict]) -> list[Message]:
            return self._sync.each_row(rows, lambda row: str(row.get("id", "")), one)
        return handle

    def _release(self, row_key: str) -> list[Message]:
        """This mailbox item is gone; the activity is deleted when it was the last item holding it."""
        activity_id = self._state.get("rows", row_key)
        if activity_id is None:
            return []
        self._state.drop("rows", row_key)
        self._holders[activity_id].discard(row_key)
        if self._holders[activity_id]:
            return []
        self._state.drop("scheduled", activity_id)
        return [self._sync.delete(self._sync.topics.activities, activity_id,
                                  lambda version: activity_delete(activity_id, gm.SOURCE, version))]

    def _started_meetings(self) -> list[Message]:
        messages = []
        for activity_id, event in list(self._state.section("scheduled").items()):
            if instant(event["occurred_at"], "occurred_at") <= self._now:
                self._state.drop("scheduled", activity_id)
                messages.append(self._sync.upsert(self._sync.topics.activities, {**event, "state": "completed"}))
        return messages


@asynccontextmanager
async def open_connector(config: ConnectorConfig, settings: Settings) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Yields `sync_once()`; the address index keeps consuming `{prefix}.records` between syncs."""
    config.require("tenant_id", "client_id", "client_secret", "internal_domains", "mailboxes")
    index = AddressIndex()
    async with runtime(config, settings, gm.SOURCE, f"{config.graph_url}/.default", HEADERS) as rt, \
            RecordsFeed(settings.kafka_bootstrap, settings.topic("records"), index) as feed:
        async def sync_once() -> None:
            await feed.catch_up()
            await Exchange(config, await rt.new_sync(gm.SOURCE), index, settings.now()).run()
        yield sync_once
