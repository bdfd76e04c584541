"""Probes, metrics, 503 when Redis is down, CORS only when configured."""

from __future__ import annotations

import time
from dataclasses import replace

import httpx
import pytest
from api_tokens import auth

from relstream.api.config import ApiConfig


@pytest.fixture(scope="module")
def down_url(serve, filled_redis, closed_port) -> str:
    """The API pointed at a port where no Redis listens."""
    settings = replace(filled_redis.settings, redis_url=f"redis://127.0.0.1:{closed_port}/0")
    return serve(settings, ApiConfig(auth=False))


def test_liveness_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


@pytest.mark.parametrize(
    "path",
    [
        "/readyz",
        "/v1/records/opportunity/o-000/kpis",
        "/v1/records/opportunity/o-000/kpis/overview",
        "/v1/records/opportunity",
        "/v1/records/opportunity/o-000/activities",
        "/v1/records/opportunity/o-000/kpis/stream",
    ],
)
def test_redis_down_is_503_fast_and_without_a_trace(down_url, path):
    started = time.monotonic()
    response = httpx.get(down_url + path, timeout=10)
    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert "Traceback" not in response.text and "redis.exceptions" not in response.text
    assert time.monotonic() - started < 3


def test_liveness_does_not_depend_on_redis(down_url):
    assert httpx.get(down_url + "/healthz").status_code == 200


def test_metrics_count_requests_by_route_template_and_status(client):
    client.get("/v1/records/opportunity/o-001/kpis")
    client.get("/v1/records/opportunity/nope/kpis")
    text = client.get("/metrics").text
    route = 'route="/v1/records/{type}/{id}/kpis"'
    assert f'relstream_api_requests_total{{method="GET",{route},status="200"}}' in text
    assert f'relstream_api_requests_total{{method="GET",{route},status="404"}}' in text
    assert f'relstream_api_request_duration_seconds_bucket{{le="0.005",method="GET",{route},status="200"}}' in text
    assert "o-001" not in text  # ids never become labels


def test_no_cors_unless_configured(client):
    response = client.get("/v1/records/opportunity", headers={"Origin": "https://crm.example"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_for_configured_origins(serve, filled_redis, monkeypatch):
    monkeypatch.setenv("RELSTREAM_API_CORS_ORIGINS", "https://crm.example, https://other.example")
    monkeypatch.setenv("RELSTREAM_API_TOKENS", "")
    url = serve(filled_redis.settings, replace(ApiConfig.from_env(), auth=False))
    allowed = httpx.get(url + "/v1/records/opportunity", headers={"Origin": "https://crm.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://crm.example"
    preflight = httpx.options(
        url + "/v1/records/opportunity",
        headers={
            "Origin": "https://crm.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200
    other = httpx.get(url + "/v1/records/opportunity", headers={"Origin": "https://evil.example", **auth("reader")})
    assert "access-control-allow-origin" not in other.headers
