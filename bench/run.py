"""`python -m bench.run` (`make bench`): load a backlog, time a bare consumer and the worker on it, then
measure event -> document latency at a steady rate; print the figures and update bench/RESULTS.md.

Everything lives under a fresh topic prefix that is deleted afterwards, with its Redis keys. Settings
(partitions, flush interval, Kafka, Redis) come from the environment, as for the worker.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import redis.asyncio as aioredis

from bench.baseline import run_reference
from bench.floor import run_floor
from bench.load import email_templates, publish_backlog, publish_steady
from bench.measure import (
    Kafka, ProbeWatch, cpu_seconds, documents_summary, keyspace_notifications, latency, prometheus_samples,
    status_kib, wait_until_current,
)
from bench.report import LatencyRun, Machine, Run, WorkerRun, broker_pid, table, verdicts, write_results
from relstream.demo import generate_activity_events
from relstream.settings import Settings
from relstream.topics import delete_prefix_topics, ensure_topics
from tests.harness import WorkerProcess

PROBE_EVERY = 10  # one probe among ten events: the rest is background load on the organisation's records
PROBE_GRACE_S = 30.0  # how long the last probes may take to show up after publishing stops


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="activity messages to load (default 100000)")
    parser.add_argument("--rate", type=float, default=500.0, help="steady events/s of the latency phase (default 500)")
    parser.add_argument("--latency-seconds", type=float, default=30.0, help="length of the latency phase (default 30)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic organisation (default 7)")
    parser.add_argument("--timeout", type=float, default=6 * 3600.0,
                        help="give up when the worker is not current after this many seconds (default 21600)")
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes sharing the partitions (default 1; RESULTS.md records only 1)")
    parser.add_argument("--no-write", action="store_true", help="print the figures, leave RESULTS.md alone")
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= Settings.from_env().partitions:  # more would idle without partitions
        parser.error("--workers must be between 1 and RELSTREAM_PARTITIONS")
    return args


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


async def ready_at(workers: list[WorkerProcess], timeout: float = 120.0) -> float:
    """Wall-clock time the first worker answers /readyz with 200 (polled every 50 ms): from then on the
    backlog is being worked on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in workers:
            if worker.process.poll() is not None:
                raise RuntimeError(f"worker exited with {worker.process.returncode}:\n{worker.log_tail()}")
            if worker.ready():
                return time.time()
        await asyncio.sleep(0.05)
    raise TimeoutError(f"no worker ready after {timeout:.0f} s:\n{workers[0].log_tail()}")


def metrics(workers: list[WorkerProcess]) -> Counter:
    """The workers' unlabelled metrics, summed: one /metrics read per worker."""
    return sum((Counter(prometheus_samples(worker.get("/metrics")[1].decode())) for worker in workers), Counter())


def total(workers: list[WorkerProcess], measure) -> int | float:
    """`measure(pid)` (CPU seconds, memory) summed over the worker processes."""
    return sum(measure(worker.process.pid) for worker in workers)


async def measure_worker(workers: list[WorkerProcess], kafka: Kafka, redis: aioredis.Redis, settings: Settings,
                         messages: int, timeout: float) -> WorkerRun:
    """From the first worker's readiness to the moment the projection is current."""
    started = await ready_at(workers)
    cpu = total(workers, cpu_seconds)
    say("worker ready, consuming the backlog")
    stages = [settings.topic(name) for name in ("activities", "records", "by-activity", "by-record")]
    await wait_until_current(kafka, settings, stages, timeout,
                             pending=lambda: metrics(workers)["relstream_projection_pending_records"],
                             alive=lambda: all(worker.process.poll() is None for worker in workers))
    cpu, peak = total(workers, cpu_seconds) - cpu, total(workers, lambda pid: status_kib(pid, "VmHWM"))
    documents, newest = await documents_summary(redis, settings)
    samples = metrics(workers)
    changelogs = [t for t in await kafka.topics_with_prefix(settings.topic_prefix) if t.endswith("-changelog")]
    counts = await kafka.message_counts([*stages[2:], settings.topic("kpi-snapshots"), *changelogs])
    return WorkerRun(
        events=messages, seconds=newest - started, cpu_seconds=cpu, peak_rss_kib=peak, documents=documents,
        messages={"by-activity": counts[stages[2]], "by-record": counts[stages[3]],
                  "changelog": sum(counts[t] for t in changelogs),
                  "kpi-snapshots": counts[settings.topic("kpi-snapshots")]},
        flushes=int(samples["relstream_projection_flush_seconds_count"]),
        flush_seconds=samples["relstream_projection_flush_seconds_sum"],
        documents_written=int(samples["relstream_documents_written_total"]),
    )


async def measure_latency(workers: list[WorkerProcess], redis: aioredis.Redis, settings: Settings,
                          templates: list[dict], rate: float, seconds: float) -> LatencyRun:
    """Steady new e-mails into current workers; every tenth reaches a probe contact we watch for."""
    cpu = total(workers, cpu_seconds)
    async with keyspace_notifications(redis), ProbeWatch(redis, settings) as watch:
        probes, took = await publish_steady(settings, templates, rate=rate, seconds=seconds, probe_every=PROBE_EVERY)
        await watch.wait_for(probes, PROBE_GRACE_S)
    return LatencyRun(rate=rate, probe_every=PROBE_EVERY, seconds=seconds, achieved_rate=round(rate * seconds) / took,
                      worker_cores=(total(workers, cpu_seconds) - cpu) / took,
                      peak_rss_kib=total(workers, lambda pid: status_kib(pid, "VmHWM")),
                      latency=latency(probes, watch.arrivals, PROBE_GRACE_S))


async def cleanup(settings: Settings, kafka: Kafka, redis: aioredis.Redis) -> None:
    """Delete the run's topics, consumer groups and Redis keys. Each step on its own: a failure is a warning
    that names the leftovers, never the run's error (which it would hide when the run failed)."""
    prefix, topics, keys = settings.topic_prefix, [], []
    try:
        topics = await delete_prefix_topics(settings)
    except Exception as exc:  # noqa: BLE001
        say(f"warning: could not delete the topics of {prefix} ({exc!r}); delete `{prefix}.*` and `{prefix}-worker-*`")
    try:
        await kafka.delete_groups([f"{prefix}-worker", f"{prefix}-baseline", f"{prefix}-framework"])
    except Exception as exc:  # noqa: BLE001
        say(f"warning: could not delete the consumer groups of {prefix} ({exc!r})")
    try:
        keys = [key async for key in redis.scan_iter(match=settings.key("*"), count=1000)]
        for start in range(0, len(keys), 1000):
            await redis.unlink(*keys[start:start + 1000])
    except Exception as exc:  # noqa: BLE001
        say(f"warning: could not delete the Redis keys of {prefix} ({exc!r}); delete `{prefix}:*`")
    say(f"removed {len(topics)} topics and {len(keys)} Redis keys of {prefix}")


async def bench(args: argparse.Namespace) -> Run:
    settings = replace(Settings.from_env(), topic_prefix=f"bench-{uuid.uuid4().hex[:8]}")
    machine, started, pid = Machine.now(), datetime.now(timezone.utc), broker_pid()
    say(f"generating {args.events:,} activity messages (prefix {settings.topic_prefix})")
    messages = generate_activity_events(args.events, seed=args.seed, end=started)
    records = sum(1 for message in messages if message.topic == "records")
    redis = aioredis.from_url(settings.redis_url)
    async with Kafka(settings) as kafka:
        try:
            await ensure_topics(settings)
            published = await publish_backlog(settings, messages)
            say(f"published {len(messages):,} messages in {published:.1f} s; running the bare consumer")
            baseline = await asyncio.to_thread(run_reference, "bench.baseline", settings.topic_prefix, len(messages))
            say(f"bare consumer: {baseline.rate:,.0f} messages/s; running a Faust agent that only reads")
            framework = await asyncio.to_thread(run_reference, "bench.framework", settings.topic_prefix, len(messages))
            say(f"Faust agent that only reads: {framework.rate:,.0f} messages/s; running the stage logic alone")
            floor = await asyncio.to_thread(run_floor, args.events, args.seed)
            say(f"stage logic alone: {floor.rate:,.0f} messages/s on one core; starting the worker")
            with tempfile.TemporaryDirectory(prefix="relstream-bench-") as tmp:
                workers = [WorkerProcess(settings.topic_prefix, Path(tmp)).start(wait_ready=False)
                           for _ in range(args.workers)]
                try:
                    worker_run = await measure_worker(workers, kafka, redis, settings, len(messages), args.timeout)
                    say(f"worker current: {worker_run.rate:,.0f} messages/s; steady load at {args.rate:g}/s")
                    steady = await measure_latency(workers, redis, settings, email_templates(messages),
                                                   args.rate, args.latency_seconds)
                except BaseException:
                    for worker in workers:
                        say(f"worker log tail:\n{worker.log_tail()}")
                    raise
                finally:
                    for worker in workers:
                        worker.stop()
        finally:  # also on errors and Ctrl-C (asyncio.run cancels us); the worker is stopped by then
            await cleanup(settings, kafka, redis)  # warns, never raises: the run's own error stays visible
    redis_version = (await redis.info("server"))["redis_version"]
    await redis.aclose()
    return Run(started=started, machine=replace(machine, load_after=os.getloadavg()), redis_version=redis_version,
               activities=len(messages) - records, records=records, partitions=settings.partitions,
               flush_interval_s=settings.flush_interval_s, store=settings.store, publish_seconds=published,
               workers=args.workers,
               broker_pids=(pid, broker_pid()), baseline=baseline, framework=framework, floor=floor,
               worker=worker_run, steady=steady)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = asyncio.run(bench(args))
    print(table(run))
    print("\n".join(verdicts(run)))
    if args.no_write or args.workers > 1:  # the targets, and so RESULTS.md, are about one worker
        say("bench/RESULTS.md left as it is")
    else:
        write_results(run)
        say("bench/RESULTS.md updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
