"""Reusable around the connectors: the fakes loaded with the scenario, the environment that points both
connectors at them (and at the real Kafka under a fresh topic prefix), running `relstream connect`
as a real process, and reading a topic back.

End-to-end tests elsewhere can do:

    async with connector_stack(tmp_path) as cs:
        assert (await cs.run("dynamics")).returncode == 0
        assert (await cs.run("exchange")).returncode == 0
        # start the worker with cs.env (RELSTREAM_TOPIC_PREFIX=cs.prefix) and assert the KPIs
"""
from __future__ import annotations

import asyncio
import os
import sys
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

import orjson
from aiokafka import AIOKafkaConsumer

from relstream.connectors.records_feed import topic_partitions

from tests.connectors import scenario
from tests.harness import track_prefix
from tests.connectors.fakes import FakeAuthority, FakeDataverse, FakeGraph

REPO = Path(__file__).resolve().parents[2]
BOOTSTRAP = os.environ.get("RELSTREAM_KAFKA_BOOTSTRAP", "localhost:9092")
TENANT = "11111111-2222-4333-8444-555555555555"
CLIENT_ID = "66666666-7777-4888-9999-000000000000"
CLIENT_SECRET = "s3cr3t~never-logged"


class MemoryStore:
    """A checkpoint store that keeps nothing: for unit tests of state-driven logic."""

    def __init__(self) -> None:
        self.saved: list[dict] = []

    async def load(self) -> dict:
        return {}

    async def save(self, changes: dict) -> None:
        self.saved.append(changes)

    async def close(self) -> None:
        return None


@dataclass
class Run:
    returncode: int
    stderr: str


@dataclass
class ConnectorStack:
    authority: FakeAuthority
    dataverse: FakeDataverse
    graph: FakeGraph
    prefix: str
    state_path: Path
    env: dict[str, str]

    def topic(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    async def run(self, connector: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        """`relstream connect <connector> --once` in a child process with this stack's environment."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "relstream.cli", "connect", connector, "--once", *args,
            env={**os.environ, **self.env, **(env or {})}, cwd=REPO,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout)
        return Run(process.returncode, stderr.decode())

    def state(self, connector: str) -> dict:
        return orjson.loads(self.state_path.read_bytes()).get(connector, {})


@asynccontextmanager
async def connector_stack(tmp_path: Path, load: bool = True) -> AsyncIterator[ConnectorStack]:
    """Fakes started on free ports (and, with `load`, filled with `scenario`), plus the environment."""
    authority = await FakeAuthority(TENANT, CLIENT_ID, CLIENT_SECRET).start()
    dataverse = await FakeDataverse(authority).start()
    graph = await FakeGraph(authority).start()
    if load:
        scenario.load_dataverse(dataverse)
        scenario.load_graph(graph)
    secret_file = tmp_path / "client-secret"
    secret_file.write_text(CLIENT_SECRET + "\n")
    prefix = track_prefix(f"t-conn-{uuid.uuid4().hex[:8]}")
    state_path = tmp_path / "connector-state.json"
    env = {
        "RELSTREAM_KAFKA_BOOTSTRAP": BOOTSTRAP, "RELSTREAM_TOPIC_PREFIX": prefix,
        "RELSTREAM_DATAVERSE_URL": dataverse.url, "RELSTREAM_GRAPH_URL": graph.url,
        "RELSTREAM_AUTHORITY": authority.url, "RELSTREAM_TENANT_ID": TENANT, "RELSTREAM_CLIENT_ID": CLIENT_ID,
        "RELSTREAM_CLIENT_SECRET_FILE": str(secret_file), "RELSTREAM_INTERNAL_DOMAINS": scenario.DOMAIN,
        "RELSTREAM_MAILBOXES": f"{scenario.ANNA},{scenario.BEN}", "RELSTREAM_CONNECTOR_STATE": str(state_path),
        "RELSTREAM_CONNECTOR_PAGE_SIZE": "2",
    }
    stack = ConnectorStack(authority, dataverse, graph, prefix, state_path, env)
    try:
        yield stack
    finally:
        for server in (graph, dataverse, authority):
            await server.close()


async def read_topic(topic: str, bootstrap: str = BOOTSTRAP) -> list[tuple[str, dict]]:
    """Every (key, value) on the topic so far, partition by partition."""
    partitions = sorted(await topic_partitions(bootstrap, topic))
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        messages = []
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                messages += [(r.key.decode(), orjson.loads(r.value)) for r in records]
        return messages
    finally:
        await consumer.stop()
