"""From per-record state to Redis documents: dirty tracking, coalesced flushes, rebuilds, roll-forward.

A record touched by many events in a burst is evaluated once per flush; after a recovery, a
rebalance, a lost Redis or a new UTC day every owned record is evaluated again.
"""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import time
from typing import Iterable

import orjson
from aiokafka.partitioner import murmur2
from faust.sensors.prometheus import setup_prometheus_sensors

from relstream.kpi.context import Clock, Params
from relstream.kpi.aggregate import RecordAggregate
from relstream.kpi.explain import MAX_LISTED, activity_row
from relstream.metrics import WorkerMetrics
from relstream.projection import Projection, RedisProjection
from relstream.settings import Settings
from relstream.model import Activity
from relstream.state import PARTY, evaluate_record, live_revision, won_deal
from relstream.timeutil import utc_day

log = logging.getLogger("relstream.projection")
CHUNK = 50
FLUSH_BUDGET_S = 0.25  # a flush evaluates for about this long, oldest changes first; the rest wait for the next
BEHIND_S = 2.0  # message age that means a backlog (at normal load well under a second)


PARTITION_CACHE_KEYS = 1 << 18


def snapshot_digest(encoded: bytes) -> bytes:
    """A document's entity and widgets, without `as_of` and `computed_at` (which move at every evaluation):
    the widgets are the document's last member (`document_of`), the entity precedes both timestamps."""
    entity = encoded[:encoded.index(b',"as_of":')]
    return hashlib.blake2b(entity + encoded[encoded.index(b',"widgets":'):], digest_size=16).digest()


class Partitioner:
    """Kafka's default partitioner (murmur2), memoised: pure Python murmur2 costs ~10 µs a key, and every
    stage message needs its key's partition. A plain dict, emptied when full (cheaper per call than
    `lru_cache`, which showed in profiles; the hot keys are back after a few batches)."""

    def __init__(self, partitions: int):
        self.partitions = partitions
        self.cache: dict[str, int] = {}

    def __call__(self, key: str) -> int:
        partition = self.cache.get(key)
        if partition is None:
            if len(self.cache) >= PARTITION_CACHE_KEYS:
                self.cache.clear()
            partition = self.cache[key] = (murmur2(key.encode()) & 0x7FFFFFFF) % self.partitions
        return partition


class Projector:
    def __init__(self, app, settings: Settings, store, by_record_topic: str):
        self.app = app
        self.settings = settings
        self.store = store
        self.by_record_topic = by_record_topic
        # the partition a stage key lives in: chosen by us when sending, so owners can be computed
        self.partition_of = Partitioner(settings.partitions)
        self.params = Params(settings.window_days, settings.health_frequency_days, settings.health_weights)
        self.redis = RedisProjection(settings)
        self.metrics = WorkerMetrics()
        self.metrics.pending.set_function(lambda: len(self.dirty))
        self.won_deals = None  # set by the app (WonDealsView)
        self.dirty: dict[str, None] = {}  # records to evaluate again, in the order they first changed
        self.ready = False
        self.snapshot_hashes: dict[str, bytes] = {}
        self.lists_written: dict[str, int] = {}  # record key -> version of the activity list Redis holds
        self.decoded: dict[str, tuple[int, Activity]] = {}  # activity id -> (revision, decoded facts)
        self.aggregates: dict[str, RecordAggregate] = {}  # record key -> its live activities and their figures
        self.changed: dict[str, set[str]] = {}  # record key -> activity ids to look up again in the store
        self.rows: dict[str, tuple[Activity, dict]] = {}  # activity id -> (decoded activity, its list row)
        self.showing: dict[str, set[str]] = {}  # won deal id -> open opportunity keys whose document lists it
        self.shown_by: dict[str, set[str]] = {}  # the reverse
        self.rolled_day = None
        self.unmarked: set[int] = set()  # owned partitions fully re-projected into `dirty`, marker not yet set
        self.delays: dict[str, tuple[float, float]] = {}  # agent -> (noted at, age of its last message)
        self.snapshots_topic = settings.topic("kpi-snapshots")
        self.won_topic = settings.topic("won-deals")

    # -- ownership -------------------------------------------------------------------------------
    def owned_partitions(self) -> set[int]:
        return {tp.partition for tp in self.app.consumer.assignment() if tp.topic == self.by_record_topic}

    def owns(self, key: str, owned: set[int] | None = None) -> bool:
        return self.partition_of(key) in (self.owned_partitions() if owned is None else owned)

    # -- backlog ----------------------------------------------------------------------------------
    def note_delay(self, agent: str, produced_at: float | None) -> None:
        """How far behind an agent is: now minus the Kafka timestamp of the message it just processed."""
        if produced_at:
            now = time.time()
            self.delays[agent] = (now, now - produced_at)

    def behind(self, since: float) -> bool:
        """Since `since` (epoch s), an agent worked on a message older than BEHIND_S: a backlog, not normal
        load. Notes from before it do not count: an idle agent's last backlog message is history."""
        return any(delay > BEHIND_S and noted >= since for noted, delay in self.delays.values())

    # -- marking -----------------------------------------------------------------------------------
    def mark(self, key: str, changed_activity: str | None = None) -> None:
        """A record to evaluate again; `changed_activity`: the activity whose attribution to it changed."""
        self.dirty.setdefault(key)
        if changed_activity is not None:
            self.changed.setdefault(key, set()).add(changed_activity)

    def mark_all(self) -> None:
        self.dirty.update(dict.fromkeys(k for k in self.store.known_keys() if not k.startswith(f"{PARTY}:")))

    def mark_open_opportunities(self, deal_ids: set[str] | None) -> None:
        """Won deals changed: open opportunities listing them (`deal_ids`), or all of them (None), re-rank.

        Similarity and its order never read a won deal's activity figures, so a new e-mail on a won deal
        cannot move it into or out of anyone's top five: only the documents showing it change."""
        if deal_ids is not None:
            self.dirty.update(dict.fromkeys(key for deal_id in deal_ids for key in self.showing.get(deal_id, ())))
            return
        for key in self.store.known_keys():
            if key.startswith("opportunity:"):
                record = self.store.get_record(key)
                if record and record["e"] and record["e"].get("status") == "open":
                    self.dirty.setdefault(key)

    def _remember_shown(self, key: str, document: dict | None) -> None:
        """Which won deals an open opportunity's document lists (the index `mark_open_opportunities` reads)."""
        shown = document["widgets"].get("similar_won_deals", []) if document else []
        ids = {deal["id"] for deal in shown}
        for deal_id in self.shown_by.pop(key, set()) - ids:
            self.showing.get(deal_id, set()).discard(key)
        for deal_id in ids:
            self.showing.setdefault(deal_id, set()).add(key)
        if ids:
            self.shown_by[key] = ids

    def on_recovered(self) -> None:
        owned = self.owned_partitions()
        self.decoded.clear()
        self.aggregates.clear()
        self.lists_written.clear()
        self.changed.clear()
        keys = self.store.rebuild_indexes(lambda k: self.owns(k, owned))
        self.dirty = dict.fromkeys(k for k in keys if not k.startswith(f"{PARTY}:"))
        self.unmarked = set(owned)
        self.ready = True
        log.info("state recovered: %d records in partitions %s; re-projecting all of them", len(self.dirty), sorted(owned))

    def on_revoked(self) -> None:
        self.ready = False

    # -- flushing ----------------------------------------------------------------------------------
    async def _roll_forward(self, now: float, owned: set[int]) -> None:
        """Re-evaluate what time or a lost Redis made stale: everything on a new UTC day, a partition
        whose Redis marker vanished (FLUSHALL, Redis restarted empty, `relstream projection rebuild`)."""
        day = utc_day(now)
        if day != self.rolled_day:
            self.rolled_day = day
            self.mark_all()
        lost = await self.redis.lost(owned) - self.unmarked
        if lost:
            log.warning("Redis lost the projection of partitions %s (flushed or restarted): rebuilding them", sorted(lost))
            self.lists_written.clear()
            self.mark_all()
            self.unmarked |= lost

    async def flush(self) -> None:
        """Evaluate and write dirty records, those that changed first before the others, for about
        FLUSH_BUDGET_S: a long flush would hold every record behind the slowest ones (and the agents behind
        the flush); what is left stays dirty, in order, for the next one."""
        if not self.ready:
            return
        started = time.perf_counter()
        now = self.settings.now().timestamp()
        owned = self.owned_partitions()
        await self._roll_forward(now, owned)
        self.dirty = {k: None for k in self.dirty if self.owns(k, owned)}
        written = await self._write(now, started + FLUSH_BUDGET_S)
        rebuilt = self.unmarked & owned
        if rebuilt:  # a lost partition is whole again once none of its records waits to be written
            rebuilt -= {self.partition_of(k) for k in self.dirty}
            await self.redis.mark_complete(rebuilt)
            self.unmarked -= rebuilt
        if written:
            self.metrics.flushes.observe(time.perf_counter() - started)

    async def _write(self, now: float, deadline: float) -> int:
        """Chunks of the oldest dirty records until the deadline; each leaves `dirty` before it is evaluated,
        so a change arriving meanwhile makes it dirty again. Returns how many records were written."""
        clock = Clock(now, self.params)
        written = 0
        while self.dirty and (not written or time.perf_counter() < deadline):
            chunk = list(itertools.islice(self.dirty, CHUNK))
            for key in chunk:
                del self.dirty[key]
            # won deals as they are now: a change after this marks the chunk's open opportunities again
            won = self.won_deals.list() if self.won_deals else []
            try:
                await self._flush_chunk(chunk, clock, won)
            except Exception:
                self.dirty = dict.fromkeys(chunk) | self.dirty  # nothing is lost: first at the next flush
                raise
            written += len(chunk)
            await asyncio.sleep(0)  # let the agents run between chunks
        return written

    def _aggregate(self, key: str) -> RecordAggregate:
        """The record's live activities and their figures. Kept per record between evaluations and updated by
        the activities marked as changed, so that a record with thousands of activities costs its changes,
        not its history, to bring up to date (the store is read in full once per record after a recovery)."""
        aggregate = self.aggregates.get(key)
        if aggregate is None:
            self.changed.pop(key, None)
            aggregate = self.aggregates[key] = RecordAggregate(listed=MAX_LISTED)
            changed = self.store.activity_ids(key)
        else:
            changed = self.changed.pop(key, ())
        for activity_id in changed:
            activity = self._decoded(activity_id, live_revision(self.store.get_attribution(key, activity_id)))
            if activity is None:
                aggregate.drop(activity_id)
            elif aggregate.activities.get(activity_id) is not activity:
                aggregate.put(activity)
        if not aggregate:
            del self.aggregates[key]
        return aggregate

    def _decoded(self, activity_id: str, live: tuple[int, str] | None) -> Activity | None:
        """Facts decoded once per activity revision, shared by every record the activity counts for."""
        if live is None:
            return None
        cached = self.decoded.get(activity_id)
        if cached is None or cached[0] != live[0]:
            cached = self.decoded[activity_id] = (live[0], Activity.from_wire(live[1]))
        return cached[1]

    def _row(self, activity: Activity) -> dict:
        """`activity_row`, memoised per activity object (the decode cache keeps it while its facts hold)."""
        cached = self.rows.get(activity.id)
        if cached is None or cached[0] is not activity:
            cached = self.rows[activity.id] = (activity, activity_row(activity))
        return cached[1]

    async def _flush_chunk(self, keys: list[str], clock: Clock, won) -> None:
        updates: dict[str, Projection | None] = {}
        listed: dict[str, int] = {}  # activity lists written with this chunk, by version
        for key in keys:
            aggregate = self._aggregate(key)
            document = evaluate_record(self.store, key, clock, time.time(), won, aggregate)
            if document is None:
                updates[key] = None
            else:
                rows = None
                if self.lists_written.get(key) != aggregate.list_version:  # else Redis holds this list already
                    rows = orjson.dumps([self._row(a) for a in aggregate.latest()])
                    listed[key] = aggregate.list_version
                updates[key] = Projection(document, orjson.dumps(document), rows)
            if key.startswith("opportunity:"):
                self._remember_shown(key, document)
                await self._publish_won_deal(key, clock.as_of, aggregate.activities.values())
        await self.redis.write(updates)
        self.lists_written.update(listed)
        for key, update in updates.items():
            await self._publish_snapshot(key, update)
            if update is None:
                self.lists_written.pop(key, None)
                self.metrics.documents_removed.inc()
            else:
                self.metrics.documents.inc()

    async def _publish_snapshot(self, key: str, update: Projection | None) -> None:
        """Only on change: the same document at a later `as_of` with equal entity and widgets is not news."""
        digest = b"" if update is None else snapshot_digest(update.encoded)
        if self.snapshot_hashes.get(key) == digest:
            return
        self.snapshot_hashes[key] = digest
        value = None if update is None else update.encoded
        # Faust's producer directly (here and for won deals): Topic.send's per-message machinery cost more
        # than evaluating the document
        await self.app.producer.send(self.snapshots_topic, key.encode(), value, None, None, None)

    async def _publish_won_deal(self, key: str, as_of: float, activities: Iterable[Activity]) -> None:
        deal = won_deal(self.store, key, as_of, activities)
        deal_id = key.split(":", 1)[1]
        if self.won_deals.get(deal_id) == deal:
            return
        await self.app.producer.send(self.won_topic, deal_id.encode(), self.won_deals.encode(deal), None, None, None)

    # -- web ---------------------------------------------------------------------------------------
    def install_web(self, app) -> None:
        """/healthz, /readyz and /metrics (ours and Faust's sensor in one registry) on the worker's web port."""
        setup_prometheus_sensors(app, registry=self.metrics.registry, name_prefix="faust")

        @app.page("/healthz")
        async def healthz(web, request):
            return web.json({"status": "alive"})

        @app.page("/readyz")
        async def readyz(web, request):
            lag = self.metrics.total_lag()
            ready = self.ready and bool(self.owned_partitions()) and lag <= self.settings.ready_max_lag
            body = {"ready": ready, "recovered": self.ready, "consumer_lag": lag,
                    "max_lag": self.settings.ready_max_lag,
                    "partitions": sorted(self.owned_partitions()) if self.ready else []}
            return web.json(body, status=200 if ready else 503)
