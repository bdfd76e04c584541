"""API test fixtures: a real worker fills Redis under a per-session prefix; uvicorn servers on free ports."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

import httpx
import pytest
import redis
import uvicorn
import worked_example
from api_tokens import TOKEN_CONFIG, auth

from relstream.api.app import create_app
from relstream.api.config import ApiConfig, parse_tokens
from relstream.settings import Settings
from tests.harness import WorkerProcess, publish, redis_documents, small_org_messages


@dataclass(frozen=True)
class Filled:
    settings: Settings
    expected: dict
    documents: dict[str, dict]  # "type:id" -> the document as the worker wrote it
    activities: dict[str, list[dict]]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return replace(Settings.from_env(), topic_prefix=f"relstream-test-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {settings.redis_url} is not reachable ({exc}); run `relstream stack up`")
    yield client
    stale = list(client.scan_iter(match=f"{settings.topic_prefix}:*", count=1000))
    if stale:
        client.delete(*stale)
    client.close()


@pytest.fixture(scope="session")
def filled_redis(stack, settings: Settings, redis_client: redis.Redis, tmp_path_factory) -> Iterator[Filled]:
    """Redis holding the worked example as a real worker projects it, at the example's frozen clock."""
    expected = worked_example.load_expected()
    worker = WorkerProcess(settings.topic_prefix, tmp_path_factory.mktemp("worker"), frozen_clock=expected["as_of"])
    try:
        worker.start()
        publish(settings.topic_prefix, small_org_messages())
        worked_example.wait_until_projected(worker, expected)
        documents = redis_documents(settings.topic_prefix)
        activities = worked_example.activity_lists(redis_client, settings, sorted(documents))
        yield Filled(settings, expected, documents, activities)
    finally:
        worker.stop()


class Served:
    """A uvicorn server in a thread, on a socket bound before start (no free-port race)."""

    def __init__(self, app) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            self.thread.join(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


@pytest.fixture(scope="session")
def serve() -> Iterator:
    """serve(settings, config) -> base URL of a running API; all stopped at the end of the session."""
    running: list[Served] = []

    def start(settings: Settings, config: ApiConfig) -> str:
        running.append(Served(create_app(settings, config)))
        return running[-1].url

    yield start
    for served in running:
        served.stop()


@pytest.fixture(scope="session")
def api_url(serve, filled_redis: Filled) -> str:
    """The API with auth on and the three test tokens, over the filled Redis."""
    return serve(filled_redis.settings, ApiConfig(auth=True, tokens=parse_tokens(TOKEN_CONFIG), stream_interval_s=0.2))


@pytest.fixture
def client(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, headers=auth("reader"), timeout=10) as http:
        yield http


@pytest.fixture(scope="session")
def closed_port() -> Iterator[int]:
    """A port bound but never listening: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
