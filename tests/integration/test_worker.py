"""The streaming core end to end: real Kafka, a real `relstream worker` process, real Redis."""
from __future__ import annotations

import orjson
import pytest

from tests.harness import (
    batch_recompute, documents_differences, event, publish, read_topic, redis_client, redis_documents,
    small_org_expected, small_org_messages, unique_prefix, wait_until,
)

pytestmark = pytest.mark.integration


def converged(prefix: str, expected: dict) -> bool:
    return not documents_differences(redis_documents(prefix), expected)


def test_small_org_published_twice_equals_expected(worker):
    prefix = unique_prefix("small-org")
    worker(prefix)
    messages = small_org_messages()
    publish(prefix, messages + messages)  # a full replay on top: duplicates everywhere
    expected = small_org_expected()

    wait_until(lambda: converged(prefix, expected["documents"]), 120, "small-org documents in Redis")
    assert documents_differences(redis_documents(prefix), expected["documents"]) == []

    dead = read_topic(f"{prefix}.dlq")
    assert len(dead) == 2 * expected["invalid_messages"]
    reasons = {dict(m.headers)["relstream.reason"].decode() for m in dead}
    assert any("fax" in r for r in reasons) and any("1 MiB" in r or "JSON" in r for r in reasons)
    originals = {v for _, _, v in messages}
    assert all(m.value in originals or m.value is None for m in dead)  # original bytes, untouched

    health = redis_client().zrange(f"{prefix}:health:opportunity", 0, -1, withscores=True)
    assert dict(health)[b"o-000"] == expected["documents"]["opportunity:o-000"]["relationship_health"]["score"]

    snapshots = {m.key.decode(): m.value for m in read_topic(f"{prefix}.kpi-snapshots")}
    latest = orjson.loads(snapshots["opportunity:o-000"])
    assert latest["widgets"]["customer_interactions"] == expected["documents"]["opportunity:o-000"]["customer_interactions"]


def _email(id_, version, *, sender, to, at="2026-11-10T10:00:00Z", source="dynamics", **extra):
    return {"schema": "relstream.activity.v1", "op": "upsert", "id": id_, "version": version, "source": source,
            "type": "email", "state": "completed", "occurred_at": at, "subject": f"subject {id_}",
            "from": sender, "to": to, **extra}


ANNA = {"id": "u-anna", "side": "internal", "kind": "user", "name": "Anna"}
BOB = {"id": "c-bob", "side": "external", "kind": "contact", "name": "Bob", "account_id": "a-klant"}
EVE = {"id": "c-eve", "side": "external", "kind": "contact", "name": "Eve", "account_id": "a-klant"}


def _opportunity(version, stakeholders, status="open"):
    return {"schema": "relstream.record.v1", "op": "upsert", "type": "opportunity", "id": "o-1",
            "version": version, "name": "Klant deal", "status": status, "stakeholder_ids": stakeholders,
            "industry": "retail", "products": ["seats"], "estimated_value": 1000}


def test_edits_deletes_reordering_and_late_stakeholders(worker):
    prefix = unique_prefix("edits")
    worker(prefix)
    log = [
        event("records", _opportunity(1, [])),
        event("activities", _email("e-1", 2, sender=ANNA, to=[BOB], subject="v2 wins")),
        event("activities", _email("e-1", 1, sender=ANNA, to=[BOB], subject="stale v1")),  # out of order
        event("activities", _email("e-2", 1, sender=BOB, to=[ANNA], in_reply_to="e-1", at="2026-11-10T12:00:00Z")),
        event("activities", _email("e-3", 1, sender=EVE, to=[ANNA])),
        event("activities", {"schema": "relstream.activity.v1", "op": "delete", "id": "e-3", "source": "dynamics", "version": 2}),
        event("activities", _email("e-4", 1, sender=ANNA, to=[EVE]), key="not-the-id"),  # key is only a hint
        event("activities", _email("e-2", 1, sender=BOB, to=[ANNA], in_reply_to="e-1", at="2026-11-10T12:00:00Z")),  # duplicate
    ]
    publish(prefix, log)
    expected = batch_recompute(log)
    assert set(expected) == {"contact:c-bob", "contact:c-eve", "account:a-klant"}
    wait_until(lambda: converged(prefix, expected), 90, "documents before the stakeholder change")
    bob = redis_documents(prefix)["contact:c-bob"]["widgets"]
    assert bob["customer_interactions"]["email"] == {"by_us": 1, "by_them": 1}
    assert bob["response_time"]["by_them"]["avg_hours"] == 2.0  # e-2 answers e-1 two hours later
    assert bob["relationship_health"]["last_interaction"]["subject"] == "subject e-2"

    # Bob becomes a stakeholder of o-1 after the fact: his past activities now count for o-1 too.
    later = [event("records", _opportunity(2, ["c-bob"]))]
    publish(prefix, later)
    expected = batch_recompute(log + later)
    assert expected["opportunity:o-1"]["widgets"]["customer_interactions"]["email"] == {"by_us": 1, "by_them": 1}
    wait_until(lambda: converged(prefix, expected), 90, "o-1 after Bob joined its stakeholders")

    # ... and leaves again: o-1 has nothing attributed, its document disappears (and a tombstone follows).
    gone = [event("records", _opportunity(3, ["c-someone-else"]))]
    publish(prefix, gone)
    expected = batch_recompute(log + later + gone)
    assert "opportunity:o-1" not in expected
    wait_until(lambda: converged(prefix, expected), 90, "o-1 removed after Bob left")
    assert redis_client().get(f"{prefix}:kpi:opportunity:o-1") is None
    snapshots = read_topic(f"{prefix}.kpi-snapshots")
    last_o1 = [m for m in snapshots if m.key == b"opportunity:o-1"][-1]
    assert last_o1.value is None


def test_same_email_from_both_sources_counts_once(worker):
    prefix = unique_prefix("merge")
    worker(prefix)
    log = [
        event("activities", _email("m-1", 7, sender=ANNA, to=[BOB], source="exchange", subject=None,
                                   conversation_id="conv-x", tracked=True)),
        event("activities", _email("m-1", 1, sender=ANNA, to=[BOB], source="dynamics", subject="CRM subject")),
        event("activities", {"schema": "relstream.email_interaction.v1", "id": "i-1", "email_id": "m-1",
                              "kind": "opened", "at": "2026-11-10T11:00:00Z"}),
    ]
    publish(prefix, log)
    expected = batch_recompute(log)
    wait_until(lambda: converged(prefix, expected), 90, "merged e-mail")
    bob = redis_documents(prefix)["contact:c-bob"]["widgets"]
    assert bob["customer_interactions"]["email"] == {"by_us": 1, "by_them": 0}
    assert bob["email_engagement"]["tracked"] == 1 and bob["email_engagement"]["opened"] == 1
    assert bob["relationship_health"]["last_interaction"]["subject"] == "CRM subject"


def test_a_burst_on_one_record_is_coalesced_into_few_writes(worker):
    """1,000 e-mails to one contact in a burst: a handful of document writes, the last one exact."""
    from prometheus_client.parser import text_string_to_metric_families

    prefix = unique_prefix("burst")
    process = worker(prefix)
    log = [event("activities", _email(f"b-{n}", 1, sender=ANNA, to=[BOB], at=f"2026-11-1{n % 10}T10:{n % 60:02d}:00Z"))
           for n in range(1000)]
    publish(prefix, log)
    expected = batch_recompute(log)
    wait_until(lambda: converged(prefix, expected), 120, "the burst's documents")
    assert redis_documents(prefix)["contact:c-bob"]["widgets"]["customer_interactions"]["email"]["by_us"] == 1000

    status, body = process.get("/metrics")
    assert status == 200
    samples = {s.name: s.value for family in text_string_to_metric_families(body.decode()) for s in family.samples}
    assert samples["relstream_events_consumed_total"] == 1000
    # two documents (contact c-bob, account a-klant) rewritten a few times each, not 2,000 times
    assert 2 <= samples["relstream_documents_written_total"] < 150


def test_open_deals_follow_the_figures_and_the_ranking_of_won_deals(worker):
    """A won deal's new activity changes only the figures open deals show (they are re-evaluated through the
    index of who lists whom); a won deal that changes industry re-ranks every open deal."""
    prefix = unique_prefix("won")
    worker(prefix)

    def opportunity(id_, version, status, industry, stakeholder):
        return event("records", {**_opportunity(version, [stakeholder], status), "id": id_, "industry": industry,
                                 "closed_at": "2026-11-01T00:00:00Z" if status == "won" else None})

    log = [
        opportunity("o-open", 1, "open", "retail", "c-bob"),
        opportunity("o-won", 1, "won", "retail", "c-eve"),
        event("activities", _email("w-1", 1, sender=ANNA, to=[BOB])),
        event("activities", _email("w-2", 1, sender=ANNA, to=[EVE])),
    ]
    publish(prefix, log)
    expected = batch_recompute(log)
    wait_until(lambda: converged(prefix, expected), 90, "open and won deals")
    shown = redis_documents(prefix)["opportunity:o-open"]["widgets"]["similar_won_deals"]
    assert [(d["id"], d["activities"]) for d in shown] == [("o-won", 1)]

    more = [event("activities", _email("w-3", 1, sender=EVE, to=[ANNA], at="2026-11-11T10:00:00Z"))]
    publish(prefix, more)
    expected = batch_recompute(log + more)
    assert expected["opportunity:o-open"]["widgets"]["similar_won_deals"][0]["activities"] == 2
    wait_until(lambda: converged(prefix, expected), 90, "o-open showing o-won's new activity count")

    moved = [opportunity("o-won", 2, "won", "energy", "c-eve")]
    publish(prefix, moved)
    expected = batch_recompute(log + more + moved)
    assert expected["opportunity:o-open"]["widgets"]["similar_won_deals"][0]["similarity"] < 0.7
    wait_until(lambda: converged(prefix, expected), 90, "o-open re-ranked after o-won changed industry")
