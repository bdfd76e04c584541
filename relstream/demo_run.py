"""`relstream demo`: the whole pipeline on one machine, live, with one command.

Brings the local stack up, runs a worker and the API as child processes, streams a synthetic organisation
and then a trickle of new activities into Kafka, and shows what flows where until Ctrl-C. It stops what it
started; Kafka and Redis stay up (development and the tests share them) unless --stop-stack.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import os
import random
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import aiohttp
import orjson
import redis
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from relstream import demo, stack
from relstream.settings import Settings

HOST = "127.0.0.1"
READY_TIMEOUT_S = 240.0  # a cold worker on a busy two-core machine needs a minute or more
STOP_GRACE_S = 10.0
TICK_S = 0.5
SAMPLE_S = 2.0  # Redis scan and worker metrics: cheap, but no need on every repaint
RATE_WINDOW_S = 5.0
LINK_SETTLE_S = 10.0  # while the worker projects the history, the healthiest account changes every few seconds
PR_SET_PDEATHSIG = 1
STATE_STYLES = {"starting": "yellow", "ready": "green", "failed": "bold red", "stopped": "dim"}
AUTH_NOTICE = (
    "[bold yellow]API auth is OFF for this demo[/] (RELSTREAM_API_AUTH=off): anyone who reaches "
    "{url} can read the KPIs.\nTo turn it on: `relstream api --hash-token -` prints a token line; put it in "
    "RELSTREAM_API_TOKENS and run `relstream api` without RELSTREAM_API_AUTH=off."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accounts", type=demo._positive_int, default=12, help="customer accounts (default 12)")
    parser.add_argument("--days", type=demo._positive_int, default=120, help="days of history (default 120)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the history (default 7)")
    parser.add_argument("--api-port", type=int, default=8000, help="API and dashboard port (default 8000); "
                        "the worker's port is RELSTREAM_WORKER_PORT (default 6066)")
    parser.add_argument("--log-dir", type=Path, default=None,
                        help="where demo-worker.log and demo-api.log go (default .stack/logs)")
    parser.add_argument("--fresh", action="store_true",
                        help="delete the Redis keys of RELSTREAM_TOPIC_PREFIX first; the worker then re-projects "
                             "what Kafka holds (`relstream stack up --fresh` empties Kafka too)")
    parser.add_argument("--stop-stack", action="store_true", help="also stop Kafka and Redis when the demo ends")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    log_dir = args.log_dir or stack.Layout(stack.stack_dir()).logs
    log_dir.mkdir(parents=True, exist_ok=True)
    busy = _busy_ports(settings.worker_web_port, args.api_port)
    if busy:
        print("\n".join(busy), file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _interrupt)  # until the event loop takes over: SIGTERM ends it like Ctrl-C
    try:
        return _run(args, settings, log_dir)
    except KeyboardInterrupt:
        return 0  # stopped while the stack came up: nothing of ours runs yet
    finally:
        if args.stop_stack:
            stack.ensure_down()


def _run(args: argparse.Namespace, settings: Settings, log_dir: Path) -> int:
    try:
        stack.ensure_up(settings)
    except stack.StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    if args.fresh:
        print(f"fresh: deleted {_delete_keys(settings)} Redis keys under {settings.key('*')}", file=sys.stderr)
    return asyncio.run(Demo(args, settings, log_dir).run())


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _busy_ports(worker_port: int, api_port: int) -> list[str]:
    """Fail before starting anything: a child that cannot bind would only say so in its log."""
    if worker_port == api_port:
        return [f"the worker (RELSTREAM_WORKER_PORT) and the API (--api-port) cannot share port {api_port}"]
    wanted = {"worker": (worker_port, "set RELSTREAM_WORKER_PORT"), "api": (api_port, "use --api-port")}
    return [
        f"{name}: port {port} is taken by {stack._port_owner(port)}; stop it or {fix}"
        for name, (port, fix) in wanted.items()
        if not stack._port_free(port)
    ]


def _delete_keys(settings: Settings) -> int:
    client = redis.Redis.from_url(settings.redis_url)
    try:
        keys = list(client.scan_iter(match=settings.key("*"), count=1000))
        for first in range(0, len(keys), 1000):
            client.delete(*keys[first:first + 1000])
        return len(keys)
    finally:
        client.close()


# --------------------------------------------------------------------------- children


def _death_signal():
    """A pre-exec hook that has the child SIGTERMed when the demo dies, even by SIGKILL, so no orphan keeps a
    port. prctl is looked up here, in the parent: the hook runs between fork and exec and must stay trivial."""
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """A component the demo runs: its command, its log, and the URL that answers 200 once it is ready."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    ready_url: str
    process: subprocess.Popen | None = None
    state: str = "starting"

    def start(self) -> None:
        """In its own session: the terminal's Ctrl-C reaches only the demo, which then stops children in order."""
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_death_signal(),
            )

    def died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def failure(self) -> str:
        return f"{self.name} exited with code {self.process.returncode}; its log is {self.log}:\n{_tail(self.log)}"


def _stop(children: list[Child]) -> list[str]:
    """SIGTERM all, STOP_GRACE_S for all of them together, then SIGKILL; says what happened to each."""
    running = [child for child in children if child.process and child.process.poll() is None]
    for child in running:
        child.process.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    report = []
    for child in running:
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            report.append(f"{child.name}: stopped (pid {child.process.pid})")
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
            report.append(f"{child.name}: killed after {STOP_GRACE_S:.0f} s (pid {child.process.pid})")
        child.state = "stopped"
    return report


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --------------------------------------------------------------------------- what flows


class Published:
    """What the demo sent to Kafka; `count` is the progress hook relstream.demo's publisher calls."""

    def __init__(self) -> None:
        self.total = 0
        self.history = 0
        self._recent: deque[tuple[float, int]] = deque()

    def count(self, messages: list[demo.Message]) -> None:
        self.total += len(messages)
        self._recent.append((time.monotonic(), len(messages)))

    def rate(self) -> float:
        """Events per second over the last few seconds: the live trickle, not the history burst, once it ran."""
        horizon = time.monotonic() - RATE_WINDOW_S
        while self._recent and self._recent[0][0] < horizon:
            self._recent.popleft()
        return sum(n for _, n in self._recent) / RATE_WINDOW_S


@dataclass
class Observed:
    """Sampled from Redis and the worker's /metrics; None until the first sample."""

    documents: int | None = None
    consumed: int | None = None
    dead_lettered: int | None = None
    lag: int | None = None
    healthiest: tuple[str, str, float] | None = None  # account id, name, health score
    healthiest_since: float = 0.0  # monotonic time it became the healthiest


async def _count_documents(client: aioredis.Redis, settings: Settings) -> int:
    return sum([1 async for _ in client.scan_iter(match=settings.key("kpi", "*"), count=1000)])


async def _healthiest_account(client: aioredis.Redis, settings: Settings) -> tuple[str, str, float] | None:
    top = await client.zrevrange(settings.key("health", "account"), 0, 0, withscores=True)
    if not top:
        return None
    account_id, score = top[0][0].decode(), top[0][1]
    raw = await client.get(settings.key("kpi", "account", account_id))
    name = (orjson.loads(raw)["entity"].get("name") if raw else None) or account_id
    return account_id, name, score


async def _worker_counts(http: aiohttp.ClientSession, url: str) -> tuple[int, int, int]:
    """(valid events consumed, events dead-lettered, consumer lag) from the worker's Prometheus metrics."""
    async with http.get(url) as response:
        text = await response.text()
    totals = {
        family.name: sum(sample.value for sample in family.samples if sample.name in _values_of(family.name))
        for family in text_string_to_metric_families(text)
    }
    names = ("relstream_events_consumed", "relstream_events_dead_lettered", "relstream_consumer_lag")
    consumed, dead, lag = (int(totals.get(name, 0)) for name in names)
    return consumed, dead, lag


def _values_of(family: str) -> tuple[str, str]:
    """A counter's value is its `_total` sample, a gauge's has the family's name; `_created` is neither."""
    return family, f"{family}_total"


async def _answers(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url) as response:
            return response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return False


# --------------------------------------------------------------------------- the demo


class Demo:
    """One run of `relstream demo`: its children, what it published and what it last saw in Redis."""

    def __init__(self, args: argparse.Namespace, settings: Settings, log_dir: Path) -> None:
        self.args = args
        self.settings = settings
        self.api_url = f"http://{HOST}:{args.api_port}"
        self.worker_url = f"http://{HOST}:{settings.worker_web_port}"
        cli = [sys.executable, "-m", "relstream.cli"]
        self.worker = Child("worker", [*cli, "worker"], dict(os.environ), log_dir / "demo-worker.log",
                            f"{self.worker_url}/readyz")
        self.api = Child("api", [*cli, "api", "--host", HOST, "--port", str(args.api_port)],
                         {**os.environ, "RELSTREAM_API_AUTH": "off"}, log_dir / "demo-api.log",
                         f"{self.api_url}/readyz")
        self.children = [self.worker, self.api]
        self.published = Published()
        self.publisher: asyncio.Task | None = None
        self.observed = Observed()
        self.linked: str | None = None  # the account whose link was printed last
        self.console = Console(highlight=False, soft_wrap=True)  # URLs and paths stay whole in piped logs

    async def run(self) -> int:
        """Start, watch until a signal or a failure, stop what was started; the exit code of `relstream demo`."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        self.console.print(AUTH_NOTICE.format(url=self.api_url))
        try:
            for child in self.children:  # before any thread exists (Live's, the resolver's): the pre-exec hook
                child.start()
                self.console.print(f"{child.name}: started pid {child.process.pid}, log {child.log}")
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
                client = aioredis.from_url(self.settings.redis_url)
                try:
                    with _then_newline(self.console), Live(self._view(), console=self.console) as live:
                        await self._watch(live, http, client, stopping)
                finally:
                    await client.aclose()
        except _Failed as failure:
            self.console.print(f"error: {failure}", style="bold red")
            return 1
        finally:
            await _cancel(self.publisher)
            for line in _stop(self.children):
                self.console.print(line)
            self._say_goodbye()
        return 0

    async def _watch(self, live: Live, http: aiohttp.ClientSession, client: aioredis.Redis,
                     stopping: asyncio.Event) -> None:
        """The demo's one loop: wait for the children, publish, sample, repaint; raise _Failed on a failure."""
        started, last_sample = time.monotonic(), 0.0
        try:
            while not stopping.is_set():
                self._check_children()
                await self._advance(live, http, time.monotonic() - started)
                if self.worker.state == "ready" and time.monotonic() - last_sample >= SAMPLE_S:
                    last_sample = time.monotonic()
                    await self._sample(live, http, client)
                live.update(self._view())
                await _wait(stopping, TICK_S)
        finally:
            live.update(self._view())  # the last frame shows which component failed

    async def _advance(self, live: Live, http: aiohttp.ClientSession, waited: float) -> None:
        """Publishing starts once both children are ready: a failed start is reported before anything is sent."""
        if self.publisher is None:
            await self._probe(live, http, waited)
            if all(child.state == "ready" for child in self.children):
                live.console.print(f"dashboard: {self.api_url}/ui/")
                self.publisher = asyncio.create_task(self._publish(live))
        elif self.publisher.done() and self.publisher.exception():
            error = self.publisher.exception()
            raise _Failed(f"publishing to Kafka at {self.settings.kafka_bootstrap} failed: {error!r}")

    def _check_children(self) -> None:
        for child in self.children:
            if child.died():
                child.state = "failed"
                raise _Failed(child.failure())

    async def _probe(self, live: Live, http: aiohttp.ClientSession, waited: float) -> None:
        """Readiness by HTTP, as an operator would check it: the worker's /readyz (state recovered), the API's."""
        for child in self.children:
            if child.state == "starting" and await _answers(http, child.ready_url):
                child.state = "ready"
                live.console.print(f"{child.name}: ready after {waited:.0f} s")
            elif child.state == "starting" and waited > READY_TIMEOUT_S:
                child.state = "failed"
                raise _Failed(f"{child.name} not ready after {READY_TIMEOUT_S:.0f} s ({child.ready_url}); "
                              f"its log is {child.log}:\n{_tail(child.log)}")

    async def _publish(self, live: Live) -> None:
        """The seeded history up to now, then new activities until cancelled, with relstream.demo's publisher."""
        organisation = demo.SyntheticOrganisation(seed=self.args.seed, accounts=self.args.accounts,
                                                  days=self.args.days, end=datetime.now(timezone.utc))
        history = organisation.history(demo.DEFAULT_ACTIVITIES_PER_ACCOUNT_DAY)
        self.published.history = len(history)
        live.console.print(f"publishing {len(history)} messages of history, then ~1-2 new activities a second")
        # A new run under the same prefix must not repeat the last run's live ids and versions: the worker would
        # drop them as stale. The history stays seeded; only what happens from now on is fresh.
        organisation.rng = random.Random()
        await demo._publish(organisation, history, self.settings, self.settings.kafka_bootstrap,
                            rate=0.0, live=True, progress=self.published)

    async def _sample(self, live: Live, http: aiohttp.ClientSession, client: aioredis.Redis) -> None:
        """Counts for the display; a failed sample keeps the previous numbers (the children report real failures)."""
        try:
            self.observed.documents = await _count_documents(client, self.settings)
            healthiest = await _healthiest_account(client, self.settings)
            counts = await _worker_counts(http, f"{self.worker_url}/metrics")
        except (redis.RedisError, aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
            return
        self.observed.consumed, self.observed.dead_lettered, self.observed.lag = counts
        if healthiest:
            self._note_healthiest(live, healthiest)

    def _note_healthiest(self, live: Live, healthiest: tuple[str, str, float]) -> None:
        """Print the link of a new healthiest account once the worker took in the history and it stayed on top for
        LINK_SETTLE_S: the log then tells which account leads without one line per flicker of the catch-up."""
        observed = self.observed
        if observed.healthiest is None or observed.healthiest[0] != healthiest[0]:
            observed.healthiest_since = time.monotonic()
        observed.healthiest = healthiest
        history_in = observed.consumed + observed.dead_lettered >= self.published.history > 0
        settled = time.monotonic() - observed.healthiest_since >= LINK_SETTLE_S
        if not (history_in and settled) or self.linked == healthiest[0]:
            return
        self.linked = healthiest[0]
        account_id, name, score = healthiest
        live.console.print(f"healthiest account: {name} (health {score:.0f}) {self._account_url(account_id)}")

    def _account_url(self, account_id: str) -> str:
        return f"{self.api_url}/ui/account/{quote(account_id, safe='')}"

    def _view(self) -> Group:
        components = Table(title=f"relstream demo — prefix {self.settings.topic_prefix}", title_justify="left")
        for column in ("component", "state", "address", "log"):
            components.add_column(column)
        components.add_row("kafka", "[green]ready", self.settings.kafka_bootstrap, "")
        components.add_row("redis", "[green]ready", self.settings.redis_url, "")
        for child, address in ((self.worker, self.worker_url), (self.api, f"{self.api_url} (auth off)")):
            components.add_row(child.name, f"[{STATE_STYLES[child.state]}]{child.state}", address, str(child.log))
        return Group(components, self._numbers())

    def _numbers(self) -> Table:
        numbers = Table.grid(padding=(0, 2))
        numbers.add_column(no_wrap=True)
        numbers.add_column(overflow="fold")  # a long URL goes on on the next line rather than being cut
        observed, published = self.observed, self.published
        numbers.add_row("events published", f"{published.total} (history {published.history}), "
                                            f"{published.rate():.1f} events/s")
        numbers.add_row("worker consumed", f"{_shown(observed.consumed)} valid, {_shown(observed.dead_lettered)} "
                                           f"dead-lettered, lag {_shown(observed.lag)}")
        numbers.add_row("documents in Redis", _shown(observed.documents))
        numbers.add_row("dashboard", f"{self.api_url}/ui/" if self.api.state == "ready" else "-")
        if observed.healthiest:
            account_id, name, score = observed.healthiest
            numbers.add_row("healthiest account", f"{name} ({score:.0f}) {self._account_url(account_id)}")
        after = "Kafka and Redis too" if self.args.stop_stack else "Kafka and Redis keep running"
        numbers.add_row("Ctrl-C", f"stops the worker and the API; {after}")
        return numbers

    def _say_goodbye(self) -> None:
        if not self.args.stop_stack:
            self.console.print("Kafka and Redis keep running; `relstream stack down` stops them.")


class _Failed(Exception):
    """A child died or never got ready, or publishing failed: the demo stops with exit code 1."""


@contextlib.contextmanager
def _then_newline(console: Console):
    """rich ends a live display with a newline on terminals only; piped output needs one too."""
    try:
        yield
    finally:
        if not console.is_terminal:
            console.line()


def _shown(value: int | None) -> str:
    return "-" if value is None else str(value)


async def _wait(event: asyncio.Event, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except asyncio.TimeoutError:
        pass


async def _cancel(task: asyncio.Task | None) -> None:
    """Stop publishing; its own `finally` stops the producer. Its error, if any, was reported already."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
