"""Bearer tokens (stored hashed), scopes, and subjects shown only to the `subjects` scope, never when private."""

from __future__ import annotations

import argparse
import io

import httpx
import orjson
import pytest
from api_tokens import TOKENS, auth

from relstream.api import server
from relstream.api.auth import hash_token
from relstream.api.config import ApiConfig, parse_tokens

O_000 = "/v1/records/opportunity/o-000"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKENS['reader'][0]}"},
        {"Authorization": f"Bearer {hash_token(TOKENS['reader'][0])}"},
    ],  # the stored hash is not a token
)
def test_missing_or_invalid_token_is_401(api_url, headers):
    response = httpx.get(api_url + O_000 + "/kpis", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", [O_000 + "/kpis", O_000 + "/kpis/overview", O_000 + "/activities", "/v1/records/lead"])
def test_token_without_read_scope_is_403(api_url, path):
    response = httpx.get(api_url + path, headers=auth("subjects-only"))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_probes_and_dashboard_need_no_token(api_url):
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/ui/", "/ui/opportunity/o-000"):
        assert httpx.get(api_url + path).status_code == 200, path


def _health(api_url: str, token: str) -> dict:
    return httpx.get(api_url + O_000 + "/kpis/relationship_health", headers=auth(token)).json()["widgets"][
        "relationship_health"
    ]


def test_subjects_only_with_the_subjects_scope(api_url, filled_redis):
    written = filled_redis.documents["opportunity:o-000"]["widgets"]["relationship_health"]
    assert written["last_interaction"]["subject"] == "email 263 — Re: pricing ü"
    assert _health(api_url, "full") == written
    hidden = _health(api_url, "reader")
    assert hidden["last_interaction"] == {**written["last_interaction"], "subject": None}
    assert hidden["next_interaction"] == {**written["next_interaction"], "subject": None}
    whole = httpx.get(api_url + O_000 + "/kpis", headers=auth("reader")).json()
    assert whole["widgets"]["relationship_health"] == hidden


def test_activity_subjects_only_with_the_scope_and_never_when_private(api_url, filled_redis):
    written = filled_redis.activities["opportunity:o-000"]
    assert any(a["private"] for a in written) and any(a["subject"] for a in written)
    full = httpx.get(api_url + O_000 + "/activities?limit=200", headers=auth("full")).json()["items"]
    assert [a["subject"] for a in full] == [None if a["private"] else a["subject"] for a in written]
    reader = httpx.get(api_url + O_000 + "/activities?limit=200", headers=auth("reader")).json()["items"]
    assert {a["subject"] for a in reader} == {None}


def test_private_subject_is_withheld_even_if_the_store_holds_one(api_url, filled_redis, redis_client):
    """Defence in depth: a private activity whose subject reached Redis is still not served."""
    settings = filled_redis.settings
    leaked = {
        "id": "em-x",
        "type": "email",
        "initiator": "us",
        "occurred_at": "2026-11-01T10:00:00Z",
        "state": "completed",
        "subject": "secret merger",
        "private": True,
    }
    document = {**filled_redis.documents["lead:l-000"], "entity": {"type": "lead", "id": "l-leak", "name": None}}
    redis_client.set(settings.key("kpi", "lead", "l-leak"), orjson.dumps(document))
    redis_client.set(settings.key("activities", "lead", "l-leak"), orjson.dumps([leaked]))
    items = httpx.get(api_url + "/v1/records/lead/l-leak/activities", headers=auth("full")).json()["items"]
    assert items == [{**leaked, "subject": None}]


def test_auth_off_must_be_explicit_and_hides_subjects(serve, filled_redis, monkeypatch):
    monkeypatch.delenv("RELSTREAM_API_AUTH", raising=False)
    assert ApiConfig.from_env().auth is True
    monkeypatch.setenv("RELSTREAM_API_AUTH", "maybe")
    with pytest.raises(SystemExit):
        ApiConfig.from_env()
    monkeypatch.setenv("RELSTREAM_API_AUTH", "off")
    url = serve(filled_redis.settings, ApiConfig.from_env())
    response = httpx.get(url + O_000 + "/kpis")
    assert response.status_code == 200
    assert response.json()["widgets"]["relationship_health"]["last_interaction"]["subject"] is None


def test_tokens_from_a_file(tmp_path, monkeypatch):
    path = tmp_path / "tokens"
    path.write_text(f"# dashboards\nops:{hash_token('s3cret')}:read+subjects\n\nci:{'a' * 64}:read\n")
    monkeypatch.delenv("RELSTREAM_API_TOKENS", raising=False)
    monkeypatch.setenv("RELSTREAM_API_TOKENS_FILE", str(path))
    tokens = ApiConfig.from_env().tokens
    assert [(t.name, t.scopes) for t in tokens] == [("ops", {"read", "subjects"}), ("ci", {"read"})]
    assert tokens[0].sha256 == hash_token("s3cret")


@pytest.mark.parametrize(
    "text",
    [
        "plain-token",
        f"x:{'g' * 64}:read",
        f"x:{'a' * 64}:admin",
        f"x:{'a' * 64}:",
        f"x:{'a' * 64}:read,x:{'b' * 64}:read",
    ],
)
def test_bad_token_configuration_stops_start_up(text):
    with pytest.raises(SystemExit):
        parse_tokens(text)


def test_hash_token_prints_a_configuration_line(capsys, monkeypatch):
    parser = argparse.ArgumentParser()
    server.add_arguments(parser)
    assert server.run(parser.parse_args(["--hash-token", "s3cret", "--name", "crm", "--scopes", "read+subjects"])) == 0
    line = capsys.readouterr().out.strip()
    assert line == "crm:1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0:read+subjects"  # sha256sum
    assert parse_tokens(line)[0].scopes == {"read", "subjects"}
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert server.run(parser.parse_args(["--hash-token", "-"])) == 0
    assert capsys.readouterr().out.strip() == f"dashboard:{hash_token('s3cret')}:read"
