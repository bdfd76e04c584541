"""The relstream topology, top to bottom.

    {prefix}.activities ─┐                  ┌─> {prefix}.dlq   (invalid input, original bytes + reason)
    {prefix}.records ────┴─> ingest ────────┤
                                            ├─> {prefix}.by-activity ─> activity_stage [table activities]
                                            │        (key activity id)        │ facts of one activity, per record
                                            └─> {prefix}.by-record  <─────────┘
                                                     (key type:id)  ─> record_stage [tables records,
                                                                         attributions, memberships]
    timer flush: dirty records ─> Redis {prefix}:kpi:{type}:{id} + {prefix}.kpi-snapshots
                                  won opportunities ─> {prefix}.won-deals ─> every worker's WonDealsView

Stage topics carry envelopes: one Kafka message holds the items of one destination partition
(`relstream.envelope`), and table writes are coalesced per envelope. Every step is idempotent per
(record, activity, revision); see `relstream.state` for why that makes redeliveries after a crash harmless.
Every batch passes the consumer guard first (`agents.consumer_guard`): offsets the Faust consumer skipped
are read again.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from pathlib import Path

import faust

from agents import fetch_wait, gc_tuning
from agents.changelog import ChangelogWriter
from agents.consumer_guard import ConsumerGuard
from agents.projector import Projector
from agents.store import FaustRecordStore, local_reader
from agents.won_deals import WonDealsView
from relstream.envelope import by_partition, pack, unpack
from relstream.events import InvalidEvent, parse_message
from relstream.ops import consumer_lag
from relstream.pipeline import routing_key, stage_message
from relstream.settings import Settings
from relstream.state import Send, handle_activity, handle_record_stage
from relstream.topics import MAX_MESSAGE_BYTES, ensure_topics

log = logging.getLogger("relstream.worker")
LAG_INTERVAL_S = 10.0
BACKLOG_PAUSE_FACTOR = 4.0
# Batches: inputs validated and routed together, stage envelopes applied together, so that the envelopes
# each stage sends downstream are few and full; a batch waits at most BATCH_WITHIN_S for more messages.
INGEST_BATCH = 2000
STAGE_BATCH = 64
BATCH_WITHIN_S = 0.05
# Record batches of up to 512 KiB (under the topics' default 1 MiB max.message.bytes): a backlog's changelog
# records and envelopes leave in few produce requests.
PRODUCER_BATCH_BYTES = 512 * 1024
EXIT_PROCESSING_FAILED = 70  # EX_SOFTWARE: a batch could not be processed; its messages were not acknowledged


def stop_on_failure(agent: str, events, exc: Exception) -> None:
    """Fail fast: Faust acknowledges a batch when its agent leaves it, even by an exception, and then
    restarts the agent past it — the batch would be lost. Exiting at once (like kill -9, which the design
    survives) leaves its offsets uncommitted, so the restarted worker processes it again."""
    first, last = events[0].message, events[-1].message
    log.critical(
        "%s failed on a batch of %d messages (%s[%d]@%d … %s[%d]@%d): %s: %s. Stopping the worker without "
        "acknowledging the batch; restarted, it reads the batch again from the last committed offset. If it "
        "fails again on the same offsets, this is a bug in relstream: report it with this log.",
        agent, len(events), first.topic, first.partition, first.offset, last.topic, last.partition, last.offset,
        type(exc).__name__, exc, exc_info=exc)
    logging.shutdown()
    os._exit(EXIT_PROCESSING_FAILED)


def create_app(settings: Settings) -> faust.App:
    app = faust.App(
        f"{settings.topic_prefix}-worker",
        broker=f"kafka://{settings.kafka_bootstrap}",
        store=settings.store,
        datadir=settings.data_dir,
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        producer_max_request_size=MAX_MESSAGE_BYTES,
        consumer_max_fetch_size=MAX_MESSAGE_BYTES,
        consumer_metadata_max_age_ms=30_000,  # notice new partitions (and heal a missed assignment) quickly
        producer_linger_ms=5,
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        web_port=settings.worker_web_port,
        web_host=settings.worker_web_host,
        key_serializer="json",  # tables: str keys and dict values survive the changelog round trip
        value_serializer="json",
    )
    raw = {"key_serializer": "raw", "value_serializer": "raw"}
    inputs = app.topic(settings.topic("activities"), settings.topic("records"), **raw)
    by_activity = app.topic(settings.topic("by-activity"), partitions=settings.partitions, **raw)
    by_record = app.topic(settings.topic("by-record"), partitions=settings.partitions, **raw)
    dlq = app.topic(settings.topic("dlq"), **raw)
    stage_topics = {"activity": by_activity, "record": by_record}

    json_table = {"partitions": settings.partitions}
    activities = app.Table("activities", **json_table)
    activity_entry = local_reader(activities)
    writer = ChangelogWriter(app)
    store = FaustRecordStore(
        app.Table("records", **json_table),
        app.Table("attributions", **json_table),
        app.Table("memberships", **json_table),
        writer,
    )
    projector = Projector(app, settings, store, by_record_topic=by_record.get_topic_name())
    won_deals = WonDealsView(settings, on_change=projector.mark_open_opportunities)
    projector.won_deals = won_deals
    agent_topics = set(inputs.topics) | {by_activity.get_topic_name(), by_record.get_topic_name()}
    guard = ConsumerGuard(app, settings, agent_topics, projector.metrics)  # skipped offsets, stalls, rewinds

    async def send_all(sends: list[Send]) -> None:
        """One envelope per destination (stage, partition) and ~512 KiB, items in send order."""
        groups = by_partition(sends, projector.partition_of)
        for (stage, partition), items in groups.items():
            for envelope in pack(items):
                await stage_topics[stage].send(value=envelope, partition=partition)

    async def batches(agent: str, stream, size: int, process) -> None:
        """The agent's loop: batches of up to `size` messages (waiting at most BATCH_WITHIN_S for more), each
        checked by the consumer guard, then processed; a failure stops the worker (`stop_on_failure`)."""
        async for events in stream.take_events(size, within=BATCH_WITHIN_S):
            try:
                await guard.batch(agent, events)
                await process(events)
            except Exception as exc:
                stop_on_failure(agent, events, exc)

    @app.agent(inputs)
    async def ingest(stream):
        """Validate; route valid events by the id inside them; dead-letter the rest with the reason."""
        async def route(events) -> None:
            sends, valid = [], []
            now = settings.now()
            for event in events:
                message = event.message
                try:
                    parsed = parse_message(event.value, message.topic.rsplit(".", 1)[-1], now)
                except InvalidEvent as exc:
                    await dead_letter(event, exc)
                    continue
                stage, key = routing_key(parsed)
                sends.append(Send(stage, key, stage_message(parsed)))
                valid.append(parsed)
            projector.metrics.consumed(valid)
            projector.note_delay("ingest", events[-1].message.timestamp)
            await send_all(sends)
            guard.finished("ingest")
        await batches("ingest", stream, INGEST_BATCH, route)

    async def dead_letter(event, exc: InvalidEvent) -> None:
        message = event.message
        log.warning("dead-lettered %s[%d]@%d: %s", message.topic, message.partition, message.offset, exc.reason)
        projector.metrics.dead_lettered(exc.code)
        await dlq.send(key=message.key, value=event.value, headers={
            "relstream.reason": exc.reason.encode(), "relstream.topic": message.topic.encode(),
            "relstream.partition": str(message.partition).encode(),
            "relstream.offset": str(message.offset).encode(),
        })

    @app.agent(by_activity)
    async def activity_stage(stream):
        """One activity: merge its source copies, replies and interactions; tell every record it counts for."""
        async def merge(events) -> None:
            sends: list[Send] = []
            for event in in_context(stream, events):
                touched: dict[str, dict] = {}
                for key, message in unpack(event.value):
                    entry = touched.get(key) or activity_entry(key)
                    touched[key], effects = handle_activity(key, entry, message)
                    sends += effects
                for key, entry in touched.items():  # one changelog record per activity per envelope
                    writer.set(activities, key, entry, event.message.partition)
            await finish_batch("activity", events, sends)
        await batches("activity_stage", stream, STAGE_BATCH, merge)

    @app.agent(by_record)
    async def record_stage(stream):
        """One record: keep the facts attributed to it; stakeholder parties fan out to their opportunities."""
        async def attribute(events) -> None:
            sends: list[Send] = []
            for event in in_context(stream, events):
                for key, message in unpack(event.value):
                    result = handle_record_stage(store, key, message)
                    if result.dirty:
                        projector.mark(result.dirty, result.changed)
                    sends += result.sends
                store.write_back(event.message.partition)
            await finish_batch("record", events, sends)
        await batches("record_stage", stream, STAGE_BATCH, attribute)

    def in_context(stream, events):
        """Each event as Faust's current event while it is applied: a RocksDB store picks its partition
        from it (take_events does not set it in the agent's own context)."""
        for event in events:
            stream._set_current_event(event)
            yield event
        stream._set_current_event(None)

    async def finish_batch(agent: str, events, sends: list[Send]) -> None:
        """State changes to the changelog, effects downstream in few envelopes; Faust acks the batch after."""
        projector.note_delay(agent, events[-1].message.timestamp)
        await writer.flush()
        await send_all(sends)
        guard.finished(f"{agent}_stage")

    @store.attributions.on_recover
    async def after_recovery() -> None:
        projector.on_recovered()

    @app.on_partitions_revoked.connect
    async def before_rebalance(app, revoked, **kwargs) -> None:
        projector.on_revoked()
        guard.on_revoked(revoked)

    @app.on_partitions_assigned.connect
    async def after_rebalance(app, assigned, **kwargs) -> None:
        await guard.on_assigned(assigned)  # before table recovery ends with its seek

    @app.task
    async def flush_projection() -> None:
        """Coalesce: a record changed by many events is evaluated and written once, oldest changes first,
        for about a quarter second per flush (`Projector.flush`).

        Adaptive: evaluation never takes more than half of the time (a record dirtied again meanwhile is
        evaluated once, later), and at most ~1/5 of it while the agents work through a backlog, so the
        backlog is not re-evaluated over and over; the moment they are current again the next flush is due.
        At low load a flush follows every interval."""
        took, last, ended = 0.0, time.monotonic(), time.time()
        while True:
            await asyncio.sleep(settings.flush_interval_s)
            since = time.monotonic() - last
            if since < took or (projector.behind(ended) and since < BACKLOG_PAUSE_FACTOR * took):
                continue
            last = time.monotonic()
            try:
                await projector.flush()
                took, ended = time.monotonic() - last, time.time()
            except Exception as exc:  # Redis or broker away: keep the state, retry, tell the operator
                log.error("projection flush failed (%s: %s); dirty records kept, retrying in 1 s. "
                          "Check RELSTREAM_REDIS_URL (%s)", type(exc).__name__, exc, settings.redis_address)
                await asyncio.sleep(1)

    @app.task
    async def follow_won_deals() -> None:
        await won_deals.run()

    @app.task
    async def watch_lag() -> None:
        """Consumer lag of this worker's partitions, for /metrics and /readyz (every second until the
        first figures exist, so a fresh worker reports lag as soon as it has partitions)."""
        while True:
            lag: dict = {}
            try:
                assigned = {(tp.topic, tp.partition) for tp in app.consumer.assignment()}
                rows = [row for row in await consumer_lag(settings)
                        if row.group == guard.group and (row.topic, row.partition) in assigned]
                lag = {(row.topic, row.partition): row.lag for row in rows}
                projector.metrics.set_lag(lag)
                if projector.ready:
                    await guard.on_lag(rows)
            except Exception as exc:  # the broker may be restarting: keep the last figures
                log.warning("could not read consumer lag (%s); will retry in %.0f s", exc, LAG_INTERVAL_S)
            await asyncio.sleep(LAG_INTERVAL_S if lag else 1.0)

    projector.install_web(app)
    guard.install_web()
    return app


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--loglevel", default="info", help="worker log level (default info)")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)  # Faust needs it; a fresh checkout has none
    asyncio.run(ensure_topics(settings))
    app = create_app(settings)
    gc_tuning.install()
    fetch_wait.install()
    worker = faust.Worker(app, loglevel=args.loglevel, quiet=True)
    worker.execute_from_commandline()
    return 0
