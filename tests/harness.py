"""What the integration tests need around the real services: a worker process, publish, read back."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

import orjson
import redis

from relstream.batch import documents as batch_documents
from relstream.events import InvalidEvent, parse_message
from relstream.kpi.context import Clock
from relstream.settings import Settings
from relstream.timeutil import parse_timestamp, to_epoch
from relstream.topics import delete_prefix_topics
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

REPO = Path(__file__).resolve().parents[1]


def _small_org_dir() -> Path:
    """The spec's worked example: from RELSTREAM_SPEC_DIR or the spec beside the repo when present (so a
    spec update is picked up), else the copy in tests/data taken from SPEC.md's examples/small-org."""
    for spec in (os.environ.get("RELSTREAM_SPEC_DIR"), REPO.parent / "shared" / "spec"):
        if spec and (Path(spec) / "examples" / "small-org" / "expected.json").exists():
            return Path(spec) / "examples" / "small-org"
    return REPO / "tests" / "data" / "small-org"


SMALL_ORG = _small_org_dir()
BOOTSTRAP = os.environ.get("RELSTREAM_KAFKA_BOOTSTRAP", "localhost:9092")
REDIS_URL = os.environ.get("RELSTREAM_REDIS_URL", "redis://localhost:6379/0")


log = logging.getLogger("tests.harness")
_PREFIXES: set[str] = set()  # prefixes of this session whose topics and keys are not removed yet


def unique_prefix(name: str) -> str:
    """A fresh prefix; its topics and Redis keys are removed after the test (`worker` fixture) or at the end
    of the session (`stack` fixture), whichever comes first."""
    return track_prefix(f"t-{name}-{uuid.uuid4().hex[:8]}")


def track_prefix(prefix: str) -> str:
    _PREFIXES.add(prefix)
    return prefix


def keep_prefix(prefix: str) -> None:
    """Leave a prefix's topics and keys in place (a failed test's, to inspect); the session will not remove it."""
    _PREFIXES.discard(prefix)
    log.warning("keeping the Kafka topics and Redis keys of %s for inspection", prefix)


def tracked_prefixes() -> list[str]:
    return sorted(_PREFIXES)


def remove_prefix(prefix: str) -> None:
    """Delete the Kafka topics and Redis keys of a finished test's prefix (stop its workers first).

    A failure is a warning, never a test failure: the test's verdict does not depend on the clean-up."""
    _PREFIXES.discard(prefix)
    try:
        settings = Settings(kafka_bootstrap=BOOTSTRAP, redis_url=REDIS_URL, topic_prefix=prefix)
        with ThreadPoolExecutor(1) as pool:  # a thread: also safe where an event loop is running
            pool.submit(asyncio.run, delete_prefix_topics(settings)).result()
    except Exception as exc:  # noqa: BLE001 - whatever it is, report it and go on
        log.warning("could not delete the Kafka topics of %s: %r", prefix, exc)
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
        try:
            keys = list(client.scan_iter(match=f"{_glob_escape(prefix)}:*", count=1000))
            for start in range(0, len(keys), 1000):
                client.unlink(*keys[start:start + 1000])
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001
        log.warning("could not delete the Redis keys of %s: %r", prefix, exc)


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WorkerProcess:
    """`relstream worker` as a real OS process, so tests can SIGKILL it like production would."""

    def __init__(self, prefix: str, tmp: Path, frozen_clock: str | None = None, module: str = "relstream.cli",
                 **env: str):
        self.prefix = track_prefix(prefix)  # so the session's end removes its topics even when no fixture does
        self.module = module  # `python -m <module> worker`: a test may wrap the CLI (tests/faulty_worker.py)
        self.port = free_port()
        self.log_path = tmp / f"worker-{self.port}.log"
        self.env = {
            **os.environ, "RELSTREAM_TOPIC_PREFIX": prefix, "RELSTREAM_KAFKA_BOOTSTRAP": BOOTSTRAP,
            "RELSTREAM_REDIS_URL": REDIS_URL, "RELSTREAM_WORKER_PORT": str(self.port),
            "RELSTREAM_DATA_DIR": str(tmp / f"data-{self.port}"), **env,
        }
        if frozen_clock:
            self.env["RELSTREAM_FROZEN_CLOCK"] = frozen_clock
        self.process: subprocess.Popen | None = None

    def start(self, wait_ready: bool = True) -> "WorkerProcess":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "worker", "--loglevel", "info"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
        )
        if wait_ready:
            self.wait_ready()
        return self

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.ready():
                return
            time.sleep(0.5)
        raise TimeoutError(f"worker not ready after {timeout}s:\n{self.log_tail()}")

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def kill(self) -> None:
        """kill -9: no shutdown hook runs, nothing is flushed or committed."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def dump_tasks(self) -> None:
        """Into the worker log: its consumer state, then (SIGUSR1, mode) the stack of every thread and task."""
        if self.process and self.process.poll() is None:
            status, body = self.get("/debug/consumer")
            with open(self.log_path, "ab") as log_file:
                log_file.write(b"--- GET /debug/consumer -> %d\n%s\n" % (status, body))
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(2)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def small_org_messages() -> list[tuple[str, bytes | None, bytes]]:
    """(topic suffix, key, value bytes) of the worked example, in publication order."""
    messages = []
    for line in (SMALL_ORG / "messages.jsonl").read_text().splitlines():
        m = json.loads(line)
        value = m["value"].encode() if "value" in m else base64.b64decode(m["value_base64"])
        key = None if m.get("key") is None else str(m["key"]).encode()
        messages.append((m["topic"], key, value))
    return messages


def small_org_expected() -> dict:
    return json.loads((SMALL_ORG / "expected.json").read_text())


async def publish_async(prefix: str, messages: Iterable[tuple[str, bytes | None, bytes | None]]) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True,
                                max_request_size=4 * 1024 * 1024, linger_ms=5)
    await producer.start()
    count = 0
    try:
        for topic, key, value in messages:
            await producer.send(f"{prefix}.{topic}", key=key, value=value)
            count += 1
        await producer.flush()
    finally:
        await producer.stop()
    return count


def publish(prefix: str, messages) -> int:
    return asyncio.run(publish_async(prefix, list(messages)))


def event(topic: str, payload: dict, key: str | None = None) -> tuple[str, bytes, bytes]:
    return topic, (key or payload.get("email_id") or payload["id"]).encode(), orjson.dumps(payload)


async def read_topic_async(topic: str, timeout: float = 10.0) -> list:
    """Every message of a topic from the beginning (no consumer group)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    tps = [TopicPartition(topic, p["partition"]) for d in described for p in d.get("partitions", [])]
    if not tps:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            positions = [await consumer.position(tp) for tp in tps]
            if all(pos >= ends[tp] for pos, tp in zip(positions, tps)):
                break
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset))
    finally:
        await consumer.stop()


def read_topic(topic: str, timeout: float = 10.0) -> list:
    return asyncio.run(read_topic_async(topic, timeout))


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(REDIS_URL)


def redis_documents(prefix: str) -> dict[str, dict]:
    client = redis_client()
    documents = {}
    for key in client.scan_iter(f"{prefix}:kpi:*", count=1000):
        document = orjson.loads(client.get(key))
        documents[f"{document['entity']['type']}:{document['entity']['id']}"] = document
    return documents


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def widget_differences(actual, expected, path: str = "", tolerance: float = 0.01) -> list[str]:
    """Paths where `actual` differs from `expected` (numbers within the spec's ±0.01; `overview` is free text)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {actual!r} != {expected!r}"]
        out = []
        for key in sorted(set(actual) | set(expected)):
            if key == "overview":
                continue
            if key not in actual or key not in expected:
                out.append(f"{path}.{key}: only in {'expected' if key in expected else 'actual'}")
            else:
                out += widget_differences(actual[key], expected[key], f"{path}.{key}", tolerance)
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: {actual!r} != {expected!r}"]
        return [d for i, (a, e) in enumerate(zip(actual, expected)) for d in widget_differences(a, e, f"{path}[{i}]", tolerance)]
    if isinstance(expected, float) or isinstance(actual, float):
        if actual is None or expected is None or isinstance(actual, str) or abs(actual - expected) > tolerance + 1e-9:
            return [f"{path}: {actual!r} != {expected!r}"]
        return []
    return [] if actual == expected else [f"{path}: {actual!r} != {expected!r}"]


def documents_differences(actual: dict[str, dict], expected: dict[str, dict]) -> list[str]:
    """Compare `type:id -> document` with `type:id -> widgets` (or full documents)."""
    out = [f"{k}: missing" for k in sorted(set(expected) - set(actual))]
    out += [f"{k}: unexpected document" for k in sorted(set(actual) - set(expected))]
    for key in sorted(set(actual) & set(expected)):
        exp = expected[key].get("widgets", expected[key])
        out += widget_differences(actual[key]["widgets"], exp, key)
    return out


FROZEN_NOW = "2026-11-20T12:00:00Z"  # the worked example's processed_at and as_of


def batch_recompute(messages, now: str = FROZEN_NOW) -> dict[str, dict]:
    """What a batch job over the final log says: the reference for every streaming result."""
    moment = parse_timestamp(now)
    events = []
    for topic, _, value in messages:
        try:
            events.append(parse_message(value, topic, moment))
        except InvalidEvent:
            pass
    return batch_documents(events, Clock(to_epoch(moment)))
