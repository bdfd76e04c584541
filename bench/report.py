"""The figures of one run: the side-by-side table on stdout and the generated part of bench/RESULTS.md."""
from __future__ import annotations

import math
import os
import platform
import re
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

from bench.baseline import BaselineResult
from bench.floor import FloorResult
from bench.measure import Latency
from relstream.stack import Layout, stack_dir

RESULTS = Path(__file__).with_name("RESULTS.md")
BEGIN, END = "<!-- bench:generated:begin -->", "<!-- bench:generated:end -->"
TARGET_RATE = 5_000  # activity events/s through one worker (issue 2 §5)
TARGET_P99_S = 2.0  # at 500 events/s


@dataclass(frozen=True)
class WorkerRun:
    """The worker from ready to current: time, resources and how much work one input message caused."""

    events: int
    seconds: float
    cpu_seconds: float
    peak_rss_kib: int
    documents: int
    messages: dict[str, int]  # messages written per topic kind during the run
    flushes: int
    flush_seconds: float
    documents_written: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds


@dataclass(frozen=True)
class LatencyRun:
    rate: float
    probe_every: int
    seconds: float
    achieved_rate: float
    worker_cores: float  # CPU seconds per second (all threads) while the steady load ran
    peak_rss_kib: int
    latency: Latency


@dataclass(frozen=True)
class Machine:
    nproc: int
    cpu: str
    ram_gib: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] | None = None

    @classmethod
    def now(cls) -> "Machine":
        cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        ram = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        return cls(os.cpu_count() or 0, cpu.group(1) if cpu else platform.processor(),
                   int(ram.group(1)) / 2**20 if ram else 0.0, os.getloadavg())


@dataclass(frozen=True)
class Run:
    started: datetime
    machine: Machine
    redis_version: str
    activities: int
    records: int
    partitions: int
    flush_interval_s: float
    store: str
    publish_seconds: float
    broker_pids: tuple[str, str]  # before and after: the shared stack is restarted by other users now and then
    workers: int  # worker processes sharing the partitions (CPU and memory are their sums)
    baseline: BaselineResult
    framework: BaselineResult  # a Faust agent that only reads the same input (bench.framework)
    floor: FloorResult  # the stage logic alone, no messaging (bench.floor)
    worker: WorkerRun
    steady: LatencyRun

    @property
    def messages(self) -> int:
        return self.activities + self.records

    @property
    def ceiling(self) -> float:
        """Inputs/s of one core that only hands the inputs to a Faust agent and runs the stage logic on them:
        no stage topics, changelogs or projection yet. One worker can do no better."""
        return 1.0 / (1.0 / self.framework.rate + 1.0 / self.floor.rate)


def broker_pid() -> str:
    pid_file = Layout(stack_dir()).kafka_pid
    return pid_file.read_text().strip() if pid_file.exists() else "unknown"


def kafka_version() -> str:
    jars = sorted((stack_dir() / "kafka-libs").glob("kafka_*-*.jar"))
    return jars[-1].stem.split("-", 1)[1] if jars else "unknown"


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f} MiB"


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def _latency(seconds: float, waited: float) -> str:
    return f"> {waited:g} s (not seen)" if math.isinf(seconds) else _s(seconds)


def _load(load: tuple[float, float, float] | None) -> str:
    return "—" if load is None else " / ".join(f"{value:.2f}" for value in load)


def rows(run: Run) -> list[tuple[str, ...]]:
    """(measure, worker, Faust agent that only reads, bare consumer) for the table."""
    w, f, b, lat = run.worker, run.framework, run.baseline, run.steady.latency
    return [
        ("input messages/s (ready -> current)", f"{w.rate:,.0f}", f"{f.rate:,.0f}", f"{b.rate:,.0f}"),
        ("wall time", _s(w.seconds), _s(f.seconds), _s(b.seconds)),
        ("CPU time", _s(w.cpu_seconds), _s(f.cpu_seconds), _s(b.cpu_seconds)),
        ("peak RSS (VmHWM)", _mib(w.peak_rss_kib), _mib(f.peak_rss_kib), _mib(b.peak_rss_kib)),
        (f"latency p50 at {run.steady.rate:g}/s", _latency(lat.p50, lat.waited), "—", "—"),
        (f"latency p99 at {run.steady.rate:g}/s", _latency(lat.p99, lat.waited), "—", "—"),
        (f"latency max at {run.steady.rate:g}/s", _latency(lat.max, lat.waited), "—", "—"),
    ]


COLUMNS = ("Faust agent, reads only", "bare consumer")


def _workers(run: Run) -> str:
    return "worker" if run.workers == 1 else f"{run.workers} workers"


def table(run: Run) -> str:
    lines = [("", _workers(run), *COLUMNS), *rows(run)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(f"{cell:<{width}}" if i == 0 else f"{cell:>{width}}" for i, (cell, width) in enumerate(zip(line, widths)))
        for line in lines)


def verdicts(run: Run) -> list[str]:
    rate, lat = run.worker.rate, run.steady.latency
    one = "" if run.workers == 1 else f" through one worker: not measured; {run.workers} workers"
    lines = [
        f"throughput ≥ {TARGET_RATE:,} events/s{one}: {'met' if rate >= TARGET_RATE else 'MISSED'} ({rate:,.0f}/s, "
        f"{rate / run.baseline.rate:.2%} of the bare consumer's {run.baseline.rate:,.0f}/s)",
        f"ceiling of one worker: {run.ceiling:,.0f}/s — one core that only hands the inputs to a Faust agent "
        f"({run.framework.rate:,.0f}/s alone) and runs the stage logic on them ({run.floor.rate:,.0f}/s alone, "
        f"`python -m bench.floor`), before any stage topic, changelog or document write",
        f"p99 latency < {TARGET_P99_S:g} s at {run.steady.rate:g} events/s: "
        f"{'met' if lat.p99 < TARGET_P99_S else 'MISSED'} ({_latency(lat.p99, lat.waited)}, "
        f"{lat.arrived}/{lat.probes} probes seen)",
    ]
    before, after = run.broker_pids
    if before != after:
        lines.append(f"WARNING: Kafka was restarted during the run (pid {before} -> {after}); the figures include the outage")
    return lines


def markdown(run: Run) -> str:
    w, s, m = run.worker, run.steady, run.machine
    per_event = {kind: count / run.messages for kind, count in w.messages.items()}
    table_lines = [f"| | {_workers(run)} | {' | '.join(COLUMNS)} |", "|---|---:|---:|---:|",
                   *(f"| {' | '.join(line)} |" for line in rows(run))]
    return "\n".join([
        BEGIN,
        f"## Latest run: {run.started:%Y-%m-%d %H:%M} UTC",
        "",
        *table_lines,
        "",
        *(f"- {line}" for line in verdicts(run)),
        "",
        "**Input.** "
        f"{run.activities:,} activity messages + {run.records:,} records = {run.messages:,} messages "
        f"(`relstream.demo.generate_activity_events`, 200 accounts, 365 days), published in "
        f"{run.publish_seconds:.1f} s before the worker starts. {run.partitions} partitions, "
        f"flush interval {run.flush_interval_s:g} s, store `{run.store}`, "
        f"{'one worker' if run.workers == 1 else f'{run.workers} worker processes'}.",
        "",
        "**Work per input message during the load.** "
        + ", ".join(f"{kind} {per_event[kind]:.2f}" for kind in w.messages)
        + f". {w.flushes:,} flushes wrote {w.documents_written:,} documents ({w.documents:,} distinct) in "
        f"{w.flush_seconds:.1f} s, {w.flush_seconds / w.seconds:.0%} of the wall time; the worker process used "
        f"{w.cpu_seconds / w.seconds:.2f} cores (CPU seconds per second, all threads).",
        "",
        "**Steady load.** "
        f"{s.rate:g} new e-mails/s requested for {s.seconds:.0f} s, {s.achieved_rate:,.0f}/s published; one in "
        f"{s.probe_every} also goes to a fresh probe contact whose first document write (Redis keyspace event) ends its "
        f"latency. The worker process used {s.worker_cores:.2f} cores meanwhile; peak RSS at the end "
        f"{_mib(s.peak_rss_kib)}.",
        "",
        f"**Machine.** {m.nproc} × {m.cpu}, {m.ram_gib:.1f} GiB RAM, shared with other engineers: "
        f"load average (1/5/15 min) {_load(m.load_before)} before, {_load(m.load_after)} after. "
        f"Python {platform.python_version()}, Kafka {kafka_version()} (KRaft, single broker), "
        f"Redis {run.redis_version}, faust-streaming {version('faust-streaming')}, aiokafka {version('aiokafka')}.",
        END,
    ])


def write_results(run: Run, path: Path = RESULTS) -> None:
    """Replace the generated section of RESULTS.md, keeping the hand-written analysis around it."""
    text = path.read_text() if path.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    before, rest = text.split(BEGIN, 1)
    path.write_text(before + markdown(run) + rest.split(END, 1)[1])
