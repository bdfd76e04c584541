"""The framework's own ceiling: a Faust agent that only reads and parses the inputs, nothing else.

Same consumer settings and batching as the worker's ingest agent (`agents.app`), no tables, no sends, no
projection: what faust-streaming costs to hand the input messages to an agent on this machine, and so the
most any Faust worker could do with one input message per event. Runs in its own process
(`python -m bench.framework PREFIX COUNT`), printing a `bench.baseline.BaselineResult` as JSON.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace

import faust
import orjson

from agents import fetch_wait
from agents.app import BATCH_WITHIN_S, INGEST_BATCH
from bench.measure import status_kib
from relstream.settings import Settings
from relstream.topics import MAX_MESSAGE_BYTES


def create_app(settings: Settings, count: int) -> faust.App:
    app = faust.App(
        f"{settings.topic_prefix}-framework", broker=f"kafka://{settings.kafka_bootstrap}", store="memory://",
        topic_partitions=settings.partitions, consumer_auto_offset_reset="earliest",
        consumer_max_fetch_size=MAX_MESSAGE_BYTES, web_enabled=False,
    )
    inputs = app.topic(settings.topic("activities"), settings.topic("records"),
                       key_serializer="raw", value_serializer="raw")

    @app.agent(inputs)
    async def read(stream):
        seen, started, cpu = 0, None, None
        async for events in stream.take_events(INGEST_BATCH, within=BATCH_WITHIN_S):
            started, cpu = started or time.perf_counter(), cpu or time.process_time()
            for event in events:
                orjson.loads(event.value)
            seen += len(events)
            if seen >= count:
                print(json.dumps({"events": seen, "seconds": time.perf_counter() - started,
                                  "cpu_seconds": time.process_time() - cpu,
                                  "peak_rss_kib": status_kib("self", "VmHWM")}), flush=True)
                os._exit(0)  # measured; a graceful Faust shutdown would only add seconds to the run

    return app


def main() -> None:
    prefix, count = sys.argv[1], int(sys.argv[2])
    app = create_app(replace(Settings.from_env(), topic_prefix=prefix), count)
    fetch_wait.install()
    faust.Worker(app, loglevel="warning", quiet=True, redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
