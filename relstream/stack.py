"""`relstream stack up | down | status`: the local Kafka (KRaft, from Maven Central jars) and Redis.

Development and the integration tests run against this stack, so it must come up with one idempotent
command on a bare Debian box: no Docker, no Kafka tarball, nothing outside the stack folder.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from relstream.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = REPO_ROOT / "stack"
KAFKA_READY_TIMEOUT_S = 90.0
KAFKA_STARTING_TIMEOUT_S = 300.0  # while server.log shows start-up in progress: recovering thousands of partitions is slow
KAFKA_PROGRESS_EVERY_S = 15.0
LOG_TAIL_BYTES = 4 * 1024 * 1024
# server.log lines that mark the broker's start-up (and its end), oldest first; the last one found tells the state
KAFKA_LIFECYCLE = (
    ("Starting controller", "starting the controller"),
    ("Transition from SHUTDOWN to STARTING", "starting, catching up with the metadata log"),
    ("Transitioning from STARTING to RECOVERY", "recovering its logs"),
    ("The broker is in RECOVERY", "recovering its logs"),
    ("Transitioning from RECOVERY to RUNNING", "unfenced, finishing start-up"),
    ("Kafka Server started", None),
    ("to SHUTTING_DOWN", None),
)
REDIS_READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 30.0
JAVA_MIN_VERSION = 17
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
KAFKA_MARKER = "kafka.Kafka"
REDIS_MARKER = "redis-server"
EXIT_NOT_UP = 3


class StackError(RuntimeError):
    """Why the stack cannot be brought up, with the CLI exit code that goes with it."""

    exit_code = 1


class MissingPrerequisite(StackError):
    """A tool the operator has to install (Java, Maven, apt): exit code 2 so scripts can tell it apart."""

    exit_code = 2


@dataclass(frozen=True)
class Layout:
    """Every file the stack writes, under one folder that `--fresh` and `rm -rf` can reason about."""

    root: Path

    @property
    def libs(self) -> Path:
        return self.root / "kafka-libs"

    @property
    def libs_stamp(self) -> Path:
        return self.libs / ".pom.sha256"

    @property
    def kafka(self) -> Path:
        return self.root / "kafka"

    @property
    def kafka_data(self) -> Path:
        return self.kafka / "data"

    @property
    def server_properties(self) -> Path:
        return self.kafka / "server.properties"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def kafka_pid(self) -> Path:
        return self.run / "kafka.pid"

    @property
    def redis_pid(self) -> Path:
        return self.run / "redis.pid"

    @property
    def redis(self) -> Path:
        return self.root / "redis"


@dataclass(frozen=True)
class ServiceStatus:
    """One row of `relstream stack status`."""

    service: str
    address: str
    pid: int | None
    state: str

    @property
    def up(self) -> bool:
        return self.state == "up"


# --------------------------------------------------------------------------- public API


def stack_dir() -> Path:
    """The stack folder: `.stack/` at the repo root unless RELSTREAM_STACK_DIR says otherwise."""
    return Path(os.environ.get("RELSTREAM_STACK_DIR") or REPO_ROOT / ".stack").resolve()


def ensure_up(settings: Settings | None = None, fresh: bool = False) -> None:
    """Start whatever is not running and wait until Kafka serves metadata and Redis answers PING.

    Raises RuntimeError (a StackError) with an operator-readable reason on failure.
    """
    settings = settings or Settings.from_env()
    layout = Layout(stack_dir())
    with _locked(layout):
        if fresh:
            _stop_all(layout)
            _say(f"kafka: wiping {layout.kafka}")
            shutil.rmtree(layout.kafka, ignore_errors=True)
        _kafka_up(layout, settings.kafka_bootstrap)
        _redis_up(layout, settings.redis_url)


def ensure_down() -> None:
    """Stop Kafka and Redis if they run; success when nothing runs."""
    layout = Layout(stack_dir())
    with _locked(layout):
        _stop_all(layout)


def stack_status(settings: Settings | None = None) -> list[ServiceStatus]:
    """The state of both services as seen by a client, not just by their pid files."""
    settings = settings or Settings.from_env()
    layout = Layout(stack_dir())
    kafka_host, kafka_port = _kafka_address(settings.kafka_bootstrap)
    redis_port = _redis_port(settings.redis_url)
    return [
        _service_status(
            "kafka", f"{kafka_host}:{kafka_port}", kafka_port,
            _running(layout.kafka_pid, KAFKA_MARKER), lambda: kafka_ready(settings.kafka_bootstrap, 5.0),
        ),
        _service_status(
            "redis", f"127.0.0.1:{redis_port}", redis_port,
            _running(layout.redis_pid, REDIS_MARKER), lambda: redis_ready(settings.redis_url, 2.0),
        ),
    ]


def kafka_ready(bootstrap: str, timeout: float = 5.0) -> bool:
    """True once the broker answers a metadata request listing itself (a TCP connect succeeds much earlier)."""
    deadline = time.monotonic() + timeout
    with _quiet("aiokafka"):
        while True:
            remaining = deadline - time.monotonic()
            if _run_coroutine(_kafka_answers(bootstrap, max(remaining, 1.0))):
                return True
            if time.monotonic() + 0.5 >= deadline:
                return False
            time.sleep(0.5)


def redis_ready(url: str, timeout: float = 2.0) -> bool:
    """True once Redis answers PING at `url`."""
    import redis

    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        while True:
            try:
                return bool(client.ping())
            except (redis.RedisError, OSError):
                if time.monotonic() + 0.2 >= deadline:
                    return False
                time.sleep(0.2)
    finally:
        client.close()


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="start Kafka and Redis (no-op when running) and wait until both answer")
    up.add_argument(
        "--fresh", action="store_true",
        help="stop both, wipe Kafka's data and start again (Redis keeps nothing across restarts anyway)",
    )
    actions.add_parser("down", help="stop Kafka and Redis")
    actions.add_parser("status", help=f"show both services; exit 0 when both are up, {EXIT_NOT_UP} otherwise")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "up":
            ensure_up(fresh=args.fresh)
        elif args.action == "down":
            ensure_down()
        else:
            return _print_status(stack_status())
    except StackError as exc:
        _say(f"error: {exc}")
        return exc.exit_code
    return 0


def _print_status(rows: list[ServiceStatus]) -> int:
    table = [("SERVICE", "ADDRESS", "PID", "STATE")]
    table += [(r.service, r.address, str(r.pid or "-"), r.state) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    return 0 if all(r.up for r in rows) else EXIT_NOT_UP


# --------------------------------------------------------------------------- Kafka


def _kafka_up(layout: Layout, bootstrap: str) -> None:
    _, port = _kafka_address(bootstrap)
    pid = _running(layout.kafka_pid, KAFKA_MARKER)
    if pid:
        _require_same_port("kafka", _configured_kafka_port(layout), port, "RELSTREAM_KAFKA_BOOTSTRAP")
        _wait_kafka(layout, pid, bootstrap)
        _say(f"kafka: already running, pid {pid} on localhost:{port}")
        return
    java = _java()
    _fetch_libs(layout)
    controller_port = _render_config(layout, port)
    _require_free_port("kafka", port, "RELSTREAM_KAFKA_BOOTSTRAP")
    _require_free_port("kafka controller", controller_port, "`relstream stack up --fresh` (picks a new port)")
    _format_storage(layout, java)
    pid = _start_kafka(layout, java)
    _say(f"kafka: started pid {pid} on localhost:{port}, waiting for it to serve metadata")
    _wait_kafka(layout, pid, bootstrap)
    _say(f"kafka: ready on localhost:{port}")


def _java() -> str:
    """Kafka 4 brokers need Java 17+; say how to get it rather than letting the JVM fail cryptically."""
    java = shutil.which("java")
    hint = "install OpenJDK 17: apt-get install -y openjdk-17-jre-headless"
    if not java:
        raise MissingPrerequisite(f"kafka: Java {JAVA_MIN_VERSION}+ is required but `java` is not on PATH; {hint}")
    banner = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', banner)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):  # "1.8.0_x" style
        major = int(match.group(2))
    if major < JAVA_MIN_VERSION:
        found = f"{java} ({major or 'unknown version'})"
        raise MissingPrerequisite(f"kafka: Java {JAVA_MIN_VERSION}+ is required, found {found}; {hint}")
    return java


def _fetch_libs(layout: Layout) -> None:
    """Copy the jars of stack/pom.xml once; again only when the pom changes (e.g. a Kafka upgrade)."""
    pom = TEMPLATES / "pom.xml"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    if layout.libs_stamp.is_file() and layout.libs_stamp.read_text().strip() == digest:
        return
    mvn = shutil.which("mvn")
    if not mvn:
        raise MissingPrerequisite(
            "kafka: Maven is required to fetch the Kafka jars on first run but `mvn` is not on PATH; "
            "install it: apt-get install -y maven"
        )
    _say("kafka: fetching jars with Maven (first run, ~1 min)")
    shutil.rmtree(layout.libs, ignore_errors=True)
    command = [mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={layout.libs}"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise StackError(f"kafka: `{' '.join(command)}` failed:\n{_tail(done.stdout + done.stderr)}")
    layout.libs_stamp.write_text(digest + "\n")
    _say(f"kafka: {len(list(layout.libs.glob('*.jar')))} jars in {layout.libs}")


def _render_config(layout: Layout, kafka_port: int) -> int:
    """Write server.properties from the template; the controller keeps its port (the formatted quorum records it)."""
    controller_port = _configured_controller_port(layout) or _free_port(preferred=kafka_port + 1)
    template = string.Template((TEMPLATES / "server.properties.template").read_text())
    layout.kafka.mkdir(parents=True, exist_ok=True)
    layout.server_properties.write_text(
        template.substitute(kafka_port=kafka_port, controller_port=controller_port, data_dir=layout.kafka_data)
    )
    return controller_port


def _format_storage(layout: Layout, java: str) -> None:
    """Format the KRaft log dir once; a formatted dir holds the cluster id and must not be re-formatted."""
    if (layout.kafka_data / "meta.properties").is_file():
        return
    cluster_id = _cluster_id()
    _say(f"kafka: formatting storage (cluster id {cluster_id})")
    command = _java_command(layout, java, "kafka.tools.StorageTool") + [
        "format", "-t", cluster_id, "-c", str(layout.server_properties), "--standalone",
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise StackError(f"kafka: storage format failed:\n{_tail(done.stdout + done.stderr)}")


def _cluster_id() -> str:
    """Kafka's Uuid text form: URL-safe base64 of 16 random bytes; a leading '-' would read as a CLI flag."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _start_kafka(layout: Layout, java: str) -> int:
    """Run the broker detached (own session, output to a file) so it outlives this command and ignores our Ctrl-C."""
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.run.mkdir(parents=True, exist_ok=True)
    command = _java_command(layout, java, "kafka.Kafka") + [str(layout.server_properties)]
    with open(layout.logs / "kafka.out", "ab") as out:
        process = subprocess.Popen(
            command, cwd=layout.root, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    layout.kafka_pid.write_text(f"{process.pid}\n")
    return process.pid


def _java_command(layout: Layout, java: str, main_class: str) -> list[str]:
    return [
        java, "-Xmx512m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={TEMPLATES / 'log4j2.xml'}", f"-Dkafka.logs.dir={layout.logs}",
        "-cp", f"{layout.libs}/*", main_class,
    ]


def _wait_kafka(layout: Layout, pid: int, bootstrap: str) -> None:
    """Until the broker serves metadata: KAFKA_READY_TIMEOUT_S, or up to KAFKA_STARTING_TIMEOUT_S while its
    server.log shows it still starting (after a restart with many partitions, log recovery alone takes minutes)."""
    server_log = layout.logs / "server.log"
    started = time.monotonic()
    next_progress = started + KAFKA_PROGRESS_EVERY_S
    while True:
        if not _alive(pid):
            layout.kafka_pid.unlink(missing_ok=True)
            raise StackError(f"kafka: pid {pid} exited during start-up; {_log_hint(layout.logs / 'kafka.out')}")
        if kafka_ready(bootstrap, 5.0):
            return
        starting = _kafka_starting(layout.logs)
        if time.monotonic() - started >= (KAFKA_STARTING_TIMEOUT_S if starting else KAFKA_READY_TIMEOUT_S):
            break
        if time.monotonic() >= next_progress:
            next_progress += KAFKA_PROGRESS_EVERY_S
            doing = f"server.log: {starting}" if starting else f"no start-up progress in {server_log}"
            _say(f"kafka: pid {pid} not serving metadata yet after {time.monotonic() - started:.0f} s ({doing})")
    if starting:
        raise StackError(
            f"kafka: pid {pid} still starting after {KAFKA_STARTING_TIMEOUT_S:.0f} s (server.log: {starting}); "
            f"thousands of leftover topics make recovery slow: once it is up, delete old test/bench topics, "
            f"or start over with `relstream stack up --fresh`; see {server_log}"
        )
    raise StackError(f"kafka: pid {pid} did not serve metadata within {KAFKA_READY_TIMEOUT_S:.0f} s; see {server_log}")


def _kafka_starting(logs: Path, quiet_s: float = 30.0) -> str | None:
    """What the broker is busy with when its server.log shows start-up in progress, else None.

    The last lifecycle line (KAFKA_LIFECYCLE) of server.log, or of the newest rolled-over file when start-up
    chatter (a line per partition) already rolled it over, decides; with none in either tail, a log written
    to in the last `quiet_s` seconds means megabytes of start-up chatter, i.e. still loading."""
    current = logs / "server.log"
    rolled = sorted(logs.glob("server.log.*"), key=lambda f: _mtime(f), reverse=True)[:1]
    for log in (current, *rolled):
        state = _last_lifecycle(_read_tail(log, LOG_TAIL_BYTES))
        if state is not None:
            return state or None
    return "loading (log busy, no lifecycle line in its tail)" if time.time() - _mtime(current) < quiet_s else None


def _last_lifecycle(text: str) -> str | None:
    """The state of the last lifecycle line in `text` ("" when started or stopping), None when there is none."""
    best, state = -1, None
    for marker, meaning in KAFKA_LIFECYCLE:
        at = text.rfind(marker)
        if at > best:
            best, state = at, meaning or ""
    return state


def _read_tail(path: Path, size: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(f.seek(0, os.SEEK_END) - size, 0))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


async def _kafka_answers(bootstrap: str, timeout: float) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout)
        return bool(cluster.get("brokers"))
    except (KafkaError, OSError, asyncio.TimeoutError):
        return False
    finally:
        await admin.close()


def _configured_kafka_port(layout: Layout) -> int | None:
    match = re.search(r"^advertised\.listeners=PLAINTEXT://[^:]*:(\d+)", _read(layout.server_properties), re.M)
    return int(match.group(1)) if match else None


def _configured_controller_port(layout: Layout) -> int | None:
    match = re.search(r"^controller\.quorum\.bootstrap\.servers=[^:]*:(\d+)", _read(layout.server_properties), re.M)
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------- Redis


def _redis_up(layout: Layout, url: str) -> None:
    port = _redis_port(url)
    pid = _running(layout.redis_pid, REDIS_MARKER)
    if pid:
        _require_same_port("redis", _redis_cmdline_port(pid), port, "RELSTREAM_REDIS_URL")
        _wait_redis(layout, url)
        _say(f"redis: already running, pid {pid} on 127.0.0.1:{port}")
        return
    binary = _redis_binary()
    _require_free_port("redis", port, "RELSTREAM_REDIS_URL")
    pid = _start_redis(layout, binary, port)
    _wait_redis(layout, url)
    _say(f"redis: started pid {pid} on 127.0.0.1:{port}")


def _redis_binary() -> str:
    """Debian's redis-server, installed with apt on first use (the stack runs as root in dev containers)."""
    binary = shutil.which("redis-server")
    if binary:
        return binary
    apt = shutil.which("apt-get")
    if not apt:
        raise MissingPrerequisite(
            "redis: redis-server is not installed and apt-get is not available; "
            "install Redis 7 with your package manager and put redis-server on PATH"
        )
    _say("redis: installing redis-server with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt, "install", "-y", "-q", "redis-server"]
    done = subprocess.run(install, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        subprocess.run([apt, "update", "-q"], capture_output=True, env=env)
        done = subprocess.run(install, capture_output=True, text=True, env=env)
    binary = shutil.which("redis-server")
    if done.returncode != 0 or not binary:
        raise MissingPrerequisite(
            f"redis: `apt-get install -y redis-server` failed:\n{_tail(done.stdout + done.stderr)}\n"
            "install it yourself (as root): apt-get update && apt-get install -y redis-server"
        )
    return binary


def _start_redis(layout: Layout, binary: str, port: int) -> int:
    """Daemonized, loopback only, nothing persisted: test data must not survive a restart."""
    for folder in (layout.redis, layout.logs, layout.run):
        folder.mkdir(parents=True, exist_ok=True)
    layout.redis_pid.unlink(missing_ok=True)
    command = [
        binary, "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
        "--save", "", "--appendonly", "no",
        "--pidfile", str(layout.redis_pid), "--logfile", str(layout.logs / "redis.log"), "--dir", str(layout.redis),
    ]
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise StackError(f"redis: redis-server failed to start:\n{_tail(done.stdout + done.stderr)}")
    deadline = time.monotonic() + REDIS_READY_TIMEOUT_S
    while not (pid := _read_pid(layout.redis_pid)):
        if time.monotonic() > deadline:
            raise StackError(f"redis: no pid file after start; {_log_hint(layout.logs / 'redis.log')}")
        time.sleep(0.05)
    return pid


def _wait_redis(layout: Layout, url: str) -> None:
    if not redis_ready(url, REDIS_READY_TIMEOUT_S):
        raise StackError(f"redis: no answer to PING at {url}; {_log_hint(layout.logs / 'redis.log')}")


def _redis_cmdline_port(pid: int) -> int | None:
    """redis-server rewrites its process title to 'redis-server 127.0.0.1:<port>'."""
    match = re.search(r":(\d+)", _cmdline(pid))
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------- stopping


def _stop_all(layout: Layout) -> None:
    _stop("kafka", layout.kafka_pid, KAFKA_MARKER)
    _stop("redis", layout.redis_pid, REDIS_MARKER)


def _stop(service: str, pid_file: Path, marker: str) -> None:
    """SIGTERM, give it STOP_TIMEOUT_S to shut down cleanly, then SIGKILL."""
    pid = _running(pid_file, marker)
    if not pid:
        pid_file.unlink(missing_ok=True)
        _say(f"{service}: not running")
        return
    _say(f"{service}: stopping pid {pid}")
    os.kill(pid, signal.SIGTERM)
    if not _wait_exit(pid, STOP_TIMEOUT_S):
        _say(f"{service}: pid {pid} ignored SIGTERM for {STOP_TIMEOUT_S:.0f} s, killing it")
        os.kill(pid, signal.SIGKILL)
        _wait_exit(pid, 5.0)
    pid_file.unlink(missing_ok=True)
    _say(f"{service}: stopped")


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


# --------------------------------------------------------------------------- processes and ports


def _running(pid_file: Path, marker: str) -> int | None:
    """The pid in `pid_file` if that process is alive and still ours (pids get reused after reboots)."""
    pid = _read_pid(pid_file)
    return pid if pid and _alive(pid) and marker in _cmdline(pid) else None


def _read_pid(pid_file: Path) -> int | None:
    text = _read(pid_file).strip()
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    """Alive and not a zombie; reaps the process if we started it in this interpreter (ensure_up in tests)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    stat = _read(Path(f"/proc/{pid}/stat"))
    return bool(stat) and stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _require_free_port(service: str, port: int, fix: str) -> None:
    if _port_free(port):
        return
    raise StackError(
        f"{service}: port {port} is taken by {_port_owner(port)}, which is not this stack's {service.split()[0]}; "
        f"stop it or use another port ({fix})"
    )


def _require_same_port(service: str, running_port: int | None, wanted_port: int, setting: str) -> None:
    if running_port is not None and running_port != wanted_port:
        raise StackError(
            f"{service}: already running on port {running_port} but {setting} asks for {wanted_port}; "
            "run `relstream stack down` first"
        )


def _port_free(port: int) -> bool:
    """Whether a server could listen on `port` on all interfaces (as Kafka does); TIME_WAIT leftovers don't count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _free_port(preferred: int) -> int:
    if _port_free(preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_owner(port: int) -> str:
    """'pid N (command)' of the process listening on `port`, from /proc, so the operator knows what to stop."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in _read(Path(table)).splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A = LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                pid = int(fd_dir.parent.name)
                return f"pid {pid} ({_cmdline(pid)[:80]})"
    return "another process"


# --------------------------------------------------------------------------- small helpers


def _kafka_address(bootstrap: str) -> tuple[str, int]:
    """The first bootstrap server; the local stack only serves this machine."""
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    host = host.strip("[]") or "localhost"
    if host not in LOCAL_HOSTS and host != socket.gethostname():
        raise StackError(f"kafka: RELSTREAM_KAFKA_BOOTSTRAP={bootstrap!r} is not local; the stack runs on this machine")
    if not port.isdigit():
        raise StackError(f"kafka: RELSTREAM_KAFKA_BOOTSTRAP={bootstrap!r} has no port")
    return host, int(port)


def _redis_port(url: str) -> int:
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "") or (parsed.hostname or "localhost") not in LOCAL_HOSTS:
        raise StackError(f"redis: RELSTREAM_REDIS_URL={url!r} is not a local redis:// URL; the stack runs here")
    return parsed.port or 6379


def _service_status(
    service: str, address: str, port: int, pid: int | None, ready: Callable[[], bool]
) -> ServiceStatus:
    if pid:
        return ServiceStatus(service, address, pid, "up" if ready() else "not answering")
    if not _port_free(port):
        return ServiceStatus(service, address, None, f"port taken by {_port_owner(port)}")
    return ServiceStatus(service, address, None, "down")


@contextlib.contextmanager
def _locked(layout: Layout):
    """One `up`/`down` at a time per stack folder: parallel test sessions must not start two brokers."""
    layout.root.mkdir(parents=True, exist_ok=True)
    with open(layout.root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def _quiet(logger_name: str):
    """Connection-refused errors are expected while polling a starting broker; keep them off the terminal."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _run_coroutine(coroutine):
    """Run a probe from sync code, also when the caller is inside an event loop (async test fixtures)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _log_hint(log: Path) -> str:
    tail = _tail(_read(log), 10)
    return f"last lines of {log}:\n{tail}" if tail else f"see {log}"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
