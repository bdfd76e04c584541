"""docker-compose.yml, the Dockerfile and ops/ cannot run here (no Docker): check that they parse and agree
with each other and with what the code really exposes."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from relstream.api.metrics import RequestMetrics
from relstream.metrics import WorkerMetrics
from relstream.topics import MAX_MESSAGE_BYTES
from tests.harness import REPO

OPS = REPO / "ops"
SAMPLE_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml(REPO / "docker-compose.yml")


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads((OPS / "grafana" / "relstream-dashboard.json").read_text())


def exposed_names(registry: CollectorRegistry) -> set[str]:
    """Sample names as Prometheus stores them (counters gain _total, histograms _bucket/_sum/_count)."""
    return {family.name + suffix for family in registry.collect() for suffix in SAMPLE_SUFFIXES[family.type]}


def api_metric_names() -> set[str]:
    registry = CollectorRegistry()
    RequestMetrics(app=None, registry=registry)
    return exposed_names(registry)


def expressions(dashboard: dict) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def scrape_jobs() -> dict[str, dict]:
    return {job["job_name"]: job for job in load_yaml(OPS / "prometheus.yml")["scrape_configs"]}


def test_every_dashboard_query_uses_metrics_that_exist(dashboard):
    known = exposed_names(WorkerMetrics().registry) | api_metric_names()
    for expr in expressions(dashboard):
        names = set(re.findall(r"\brelstream_[a-z_]+", expr))
        jobs = set(re.findall(r'job="([^"]+)"', expr))
        assert names or jobs, f"{expr!r} queries no relstream metric or job"
        assert names <= known, f"{expr!r}: unknown metrics {names - known}"
        assert jobs <= set(scrape_jobs()), f"{expr!r}: jobs not scraped by ops/prometheus.yml"


def test_dashboard_draws_every_worker_metric(dashboard):
    queries = "\n".join(expressions(dashboard))
    families = {family.name for family in WorkerMetrics().registry.collect()}
    assert {family for family in families if family not in queries} == set()


def test_dashboard_panels_and_datasource_variable(dashboard):
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    titles = [panel["title"] for panel in dashboard["panels"]]
    for wanted in ("Consumer lag per partition", "Throughput", "DLQ rate by reason", "Projection flush latency",
                   "Documents written / s", "Event-time lag"):
        assert wanted in titles
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(titles)
    for panel in dashboard["panels"]:
        sources = [panel["datasource"]] + [target["datasource"] for target in panel["targets"]]
        assert all(source == {"type": "prometheus", "uid": "${datasource}"} for source in sources), panel["title"]
    flush = next(p for p in dashboard["panels"] if p["title"] == "Projection flush latency")
    assert {t["legendFormat"] for t in flush["targets"]} == {"p50", "p99"}


def test_prometheus_scrapes_worker_and_api_where_compose_serves_them(compose):
    jobs = scrape_jobs()
    worker, api = compose["services"]["worker"], compose["services"]["api"]
    assert jobs["relstream-worker"]["dns_sd_configs"][0]["port"] == int(worker["environment"]["RELSTREAM_WORKER_PORT"])
    assert worker["environment"]["RELSTREAM_WORKER_HOST"] == "0.0.0.0"
    assert jobs["relstream-api"]["static_configs"][0]["targets"] == ["api:8000"]
    assert api["command"][-4:] == ["--host", "0.0.0.0", "--port", "8000"]
    assert all(job["metrics_path"] == "/metrics" for job in jobs.values())


def test_compose_services_health_and_dependencies(compose):
    services = compose["services"]
    assert set(services) == {"kafka", "redis", "worker", "api", "demo-data", "prometheus", "grafana"}
    kafka = services["kafka"]["environment"]
    assert services["kafka"]["image"] == "apache/kafka:4.1.0"
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert kafka["KAFKA_MESSAGE_MAX_BYTES"] == MAX_MESSAGE_BYTES
    for name in ("worker", "api", "demo-data"):
        assert services[name]["build"] == "."
        assert services[name]["environment"]["RELSTREAM_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert services[name]["environment"]["RELSTREAM_REDIS_URL"] == "redis://redis:6379/0"
    assert services["api"]["environment"]["RELSTREAM_API_AUTH"] == "off"
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency}, which has no healthcheck"


def test_compose_mounts_and_grafana_provisioning_agree(compose):
    grafana = compose["services"]["grafana"]["volumes"] + compose["services"]["prometheus"]["volumes"]
    mounts = dict(volume.split(":")[:2] for volume in grafana if volume.startswith("./"))
    assert all((REPO / source).exists() for source in mounts), mounts
    provider = load_yaml(OPS / "grafana" / "provisioning" / "dashboards" / "relstream.yml")["providers"][0]
    assert mounts["./ops/grafana/relstream-dashboard.json"].rsplit("/", 1)[0] == provider["options"]["path"]
    assert mounts["./ops/grafana/provisioning"] == "/etc/grafana/provisioning"
    datasource = load_yaml(OPS / "grafana" / "provisioning" / "datasources" / "prometheus.yml")["datasources"][0]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"


def test_dockerfile_copies_what_exists():
    lines = (REPO / "Dockerfile").read_text().splitlines()
    assert "FROM python:3.11-slim" in lines
    for line in lines:
        if line.startswith("COPY "):
            assert (REPO / line.split()[1]).exists(), line
