"""The dashboard's live feed: a server-sent event per new document, `deleted` when it goes."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import httpx
import orjson
from api_tokens import auth


def events(response: httpx.Response) -> Iterator[tuple[str, str]]:
    name, data = "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield name, "\n".join(data)
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def test_stream_emits_on_change_and_on_delete(api_url, filled_redis, redis_client):
    key = filled_redis.settings.key("kpi", "opportunity", "o-live")
    document = copy.deepcopy(filled_redis.documents["opportunity:o-000"])
    document["entity"]["id"] = "o-live"
    redis_client.set(key, orjson.dumps(document))

    url = api_url + "/v1/records/opportunity/o-live/kpis/stream"
    with httpx.stream("GET", url, headers=auth("reader"), timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        feed = events(response)

        name, data = next(feed)
        first = orjson.loads(data)
        assert name == "kpis" and first["computed_at"] == document["computed_at"]
        assert first["widgets"]["relationship_health"]["last_interaction"]["subject"] is None  # reader scope

        document["computed_at"] = "2026-11-20T12:00:05Z"
        document["widgets"]["relationship_health"]["score"] = 55
        redis_client.set(key, orjson.dumps(document))
        name, data = next(feed)
        assert name == "kpis"
        assert orjson.loads(data)["widgets"]["relationship_health"]["score"] == 55

        redis_client.delete(key)
        assert next(feed)[0] == "deleted"
        assert next(feed, None) is None  # the server ends the stream


def test_stream_of_unknown_record_is_a_json_404(api_url):
    response = httpx.get(api_url + "/v1/records/opportunity/o-none/kpis/stream", headers=auth("reader"))
    assert response.status_code == 404 and response.json()["code"] == "not_found"
