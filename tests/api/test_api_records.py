"""The /v1/records endpoints over the worked example in a real Redis."""

from __future__ import annotations

import pytest
import worked_example

from relstream.api.models import ActivityPage, KpiDocument, PipelinePage


def test_document_is_what_the_worker_wrote(client, filled_redis):
    response = client.get("/v1/records/opportunity/o-000/kpis")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["widgets"]["relationship_health"]["score"] == 78
    assert document["widgets"]["relationship_health"]["status"] == "good"
    assert document["entity"] == {"type": "opportunity", "id": "o-000", "name": "Deal 0 for a-001"}
    written = filled_redis.documents["opportunity:o-000"]
    assert document["widgets"]["customer_interactions"] == written["widgets"]["customer_interactions"]
    assert (
        document["widgets"]["similar_won_deals"]
        == filled_redis.expected["documents"]["opportunity:o-000"]["similar_won_deals"]
    )


@pytest.mark.parametrize("key", sorted(worked_example.load_expected()["documents"]))
def test_every_example_document_is_served_and_fits_the_model(client, filled_redis, key):
    rtype, rid = key.split(":")
    document = client.get(f"/v1/records/{rtype}/{rid}/kpis").json()
    KpiDocument.model_validate(document)
    expected = filled_redis.expected["documents"][key]
    assert set(document["widgets"]) == {"overview", *expected}
    assert document["widgets"]["time_spent"] == expected["time_spent"]
    assert ("who_knows_whom" in document["widgets"]) == (rtype in ("contact", "account"))


def test_one_widget_comes_in_the_document_envelope(client):
    body = client.get("/v1/records/contact/c001-001/kpis/who_knows_whom").json()
    assert list(body["widgets"]) == ["who_knows_whom"]
    assert body["widgets"]["who_knows_whom"][0] == {
        "id": "u-000",
        "name": "Pim Meijer",
        "strength": 9.73,
        "count": 36,
        "last_interaction_at": "2026-10-25T04:50:22Z",
    }
    assert body["entity"]["id"] == "c001-001" and body["as_of"] == "2026-11-20T12:00:00Z"


def test_widget_that_does_not_apply_is_404(client):
    response = client.get("/v1/records/opportunity/o-000/kpis/who_knows_whom")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_pipeline_lists_by_health_with_names_status_and_trend(client, filled_redis):
    page = client.get("/v1/records/opportunity", params={"sort": "-health"}).json()
    PipelinePage.model_validate(page)
    expected = filled_redis.expected["documents"]
    scores = {
        k.split(":")[1]: d["relationship_health"]["score"] for k, d in expected.items() if k.startswith("opportunity:")
    }
    assert [item["id"] for item in page["items"]] == sorted(scores, key=lambda i: (-scores[i], i))
    first = page["items"][0]
    assert first == {
        "id": "o-002",
        "name": "Deal 2 for a-002",
        "score": 87,
        "status": "good",
        "trend": "steady",
        "as_of": "2026-11-20T12:00:00Z",
    }
    assert page["total"] == len(scores) and page["next_cursor"] is None


def test_pipeline_status_filter_uses_the_spec_thresholds(client, filled_redis):
    poor = {
        k.split(":")[1]: d["relationship_health"]["score"]
        for k, d in filled_redis.expected["documents"].items()
        if k.startswith("contact:") and d["relationship_health"]["status"] == "poor"
    }
    page = client.get("/v1/records/contact", params={"status": "poor"}).json()
    assert [i["id"] for i in page["items"]] == sorted(poor, key=lambda i: (poor[i], i))  # weakest first
    assert {i["status"] for i in page["items"]} == {"poor"}
    assert page["items"][0]["score"] == 25  # c001-003
    assert client.get("/v1/records/contact", params={"status": "fair"}).json()["items"] == []


def test_pipeline_pages_with_an_opaque_cursor(client, filled_redis):
    contacts = sorted(
        (d["relationship_health"]["score"], k.split(":")[1])
        for k, d in filled_redis.expected["documents"].items()
        if k.startswith("contact:")
    )
    seen, cursor = [], None
    for _ in range(10):
        page = client.get("/v1/records/contact", params={"limit": 4, **({"cursor": cursor} if cursor else {})}).json()
        assert page["total"] == len(contacts)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [rid for _, rid in contacts]
    # a cursor is bound to its query
    first = client.get("/v1/records/contact", params={"limit": 4}).json()["next_cursor"]
    response = client.get("/v1/records/contact", params={"limit": 4, "cursor": first, "status": "good"})
    assert response.status_code == 400 and response.json()["code"] == "bad_parameter"


def test_activities_are_the_latest_attributed_newest_first(client, filled_redis):
    body = client.get("/v1/records/opportunity/o-000/activities", params={"limit": 5}).json()
    ActivityPage.model_validate(body)
    written = filled_redis.activities["opportunity:o-000"]
    assert [a["id"] for a in body["items"]] == [a["id"] for a in written[:5]]
    assert body["items"][0]["state"] == "scheduled"  # the next interaction leads the list
    assert body["entity"] == {"type": "opportunity", "id": "o-000"}
    full = client.get("/v1/records/opportunity/o-000/activities", params={"limit": 200}).json()["items"]
    assert len(full) == len(written)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/records/planet/o-000/kpis", 400, "unknown_type"),
        ("/v1/records/planet", 400, "unknown_type"),
        ("/v1/records/opportunity/o-000/kpis/mood", 400, "unknown_widget"),
        ("/v1/records/opportunity?limit=0", 400, "bad_parameter"),
        ("/v1/records/opportunity?limit=abc", 400, "bad_parameter"),
        ("/v1/records/opportunity?status=excellent", 400, "bad_parameter"),
        ("/v1/records/opportunity?sort=name", 400, "bad_parameter"),
        ("/v1/records/opportunity?cursor=not-a-cursor", 400, "bad_parameter"),
        ("/v1/records/opportunity/o-000/activities?limit=201", 400, "bad_parameter"),
        ("/v1/records/opportunity/o-999/kpis", 404, "not_found"),
        ("/v1/records/opportunity/o-999/kpis/overview", 404, "not_found"),
        ("/v1/records/opportunity/o-999/activities", 404, "not_found"),
        ("/v1/nothing-here", 404, "not_found"),
    ],
)
def test_errors_have_a_stable_code_and_a_message(client, path, status, code):
    response = client.get(path)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["message"] and "Traceback" not in body["message"]
    assert set(body) == {"code", "message"}


def test_wrong_method_is_a_json_405(client):
    response = client.post("/v1/records/opportunity/o-000/kpis")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
