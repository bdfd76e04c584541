"""`relstream demo` end to end: stack, worker, API and a live organisation, and everything it started stopped
again by Ctrl-C; a busy port or a dying child is named, with its log, and fails the command."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.harness import REPO, free_port, process_alive, redis_client, unique_prefix

pytestmark = pytest.mark.integration
READY_TIMEOUT_S = 300.0  # two cores shared with other sessions: a cold worker can take minutes
STOP_TIMEOUT_S = 60.0


class Demo:
    """`relstream demo` as a subprocess with its own prefix, ports and log folder."""

    def __init__(self, tmp: Path, *extra: str, **env: str) -> None:
        self.prefix = unique_prefix("demo")
        self.ports = {"api": free_port(), "worker": free_port()}
        self.api = f"http://127.0.0.1:{self.ports['api']}"
        self.output = tmp / "demo.out"
        self.tmp = tmp
        command = [sys.executable, "-m", "relstream.cli", "demo", "--accounts", "2", "--days", "20",
                   "--api-port", str(self.ports["api"]), "--log-dir", str(tmp), *extra]
        env = {**os.environ, "RELSTREAM_TOPIC_PREFIX": self.prefix,
               "RELSTREAM_WORKER_PORT": str(self.ports["worker"]), **env}
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for(self, probe, what: str):
        """probe()'s first truthy value; fails at once, with the demo's output, if the demo exits first."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"demo exited with {self.process.returncode} before {what}:\n{self.text()}")
            if value := probe():
                return value
            time.sleep(1)
        pytest.fail(f"no {what} after {READY_TIMEOUT_S:.0f} s:\n{self.text()}")

    def child_pids(self) -> dict[str, int]:
        return {name: int(pid) for name, pid in re.findall(r"^(worker|api): started pid (\d+)", self.text(), re.M)}

    def finish(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        client = redis_client()
        keys = list(client.scan_iter(match=f"{self.prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def start_demo(stack, tmp_path):
    started: list[Demo] = []

    def start(*extra: str, **env: str) -> Demo:
        started.append(Demo(tmp_path, *extra, **env))
        return started[-1]

    yield start
    for demo in started:
        demo.finish()


def account_document(api: str) -> dict | None:
    """The KPI document of the first account of the health index, through the API (auth is off in the demo)."""
    try:
        page = httpx.get(f"{api}/v1/records/account", params={"limit": 1}, timeout=5)
        items = page.json()["items"] if page.status_code == 200 else []
        if not items:
            return None
        response = httpx.get(f"{api}/v1/records/account/{items[0]['id']}/kpis", timeout=5)
        return response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_demo_serves_kpis_and_ctrl_c_stops_what_it_started(start_demo):
    demo = start_demo()
    document = demo.wait_for(lambda: account_document(demo.api), "KPI document served by the API")
    assert document["entity"]["type"] == "account" and document["entity"]["name"]
    assert document["widgets"]["relationship_health"]["score"] is not None
    assert httpx.get(f"{demo.api}/ui/", timeout=10).status_code == 200
    link = demo.wait_for(lambda: re.search(rf"healthiest account: .* ({demo.api}/ui/account/\S+)", demo.text()),
                         "link to the healthiest account")
    assert httpx.get(link.group(1), timeout=10).status_code == 200
    children = demo.child_pids()
    assert set(children) == {"worker", "api"}, demo.text()

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=STOP_TIMEOUT_S) == 0, demo.text()
    assert not any(listening(port) for port in demo.ports.values()), demo.text()
    assert not any(process_alive(pid) for pid in children.values()), demo.text()
    assert "Kafka and Redis keep running" in demo.text()


def test_busy_port_is_named_and_nothing_starts(start_demo):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = start_demo("--api-port", str(port))
        assert demo.process.wait(timeout=STOP_TIMEOUT_S) == 1
    assert f"api: port {port} is taken by pid {os.getpid()}" in demo.text()
    assert "started pid" not in demo.text()


def test_a_dying_child_is_named_with_its_log_and_the_other_is_stopped(start_demo):
    demo = start_demo(RELSTREAM_API_TOKENS="not-a-token-line")  # the API refuses to start on bad configuration
    assert demo.process.wait(timeout=READY_TIMEOUT_S) == 1, demo.text()
    assert f"api exited with code 1; its log is {demo.tmp / 'demo-api.log'}" in demo.text()
    assert "RELSTREAM_API_TOKENS" in demo.text()  # the log's tail says why
    assert not process_alive(demo.child_pids()["worker"]) and not listening(demo.ports["worker"])
