"""Property: applying any event log incrementally — any order, duplicates, redeliveries — gives exactly
the documents of a batch recompute over the same log."""
from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings, strategies as st

from relstream.batch import documents as batch_documents
from relstream.kpi.context import Clock
from relstream.pipeline import LocalPipeline
from relstream.timeutil import parse_timestamp, to_epoch

AS_OF = to_epoch(parse_timestamp("2026-11-20T12:00:00Z"))
DAY = 86400.0
USERS = [{"id": f"u{i}", "side": "internal", "kind": "user", "name": f"User {i}"} for i in range(3)]
CONTACTS = [{"id": f"c{i}", "side": "external", "kind": "contact", "name": f"Contact {i}",
             "account_id": f"a{i % 2}"} for i in range(4)]
LEADS = [{"id": "l0", "side": "external", "kind": "lead", "name": None}]
UNKNOWN = [{"id": "email:x@y.example", "side": "external", "kind": "unknown", "name": "X"}]
ACTIVITY_IDS = [f"act{i}" for i in range(8)]

parties = st.sampled_from(USERS + CONTACTS + LEADS + UNKNOWN)
offsets = st.floats(min_value=-400 * DAY, max_value=40 * DAY, allow_nan=False).map(round)


@st.composite
def activity_copy(draw, activity_id: str, source: str, version: int) -> dict:
    kind = draw(st.sampled_from(["email", "meeting", "phone_call"]))
    state = draw(st.sampled_from(["completed", "completed", "completed", "scheduled", "canceled"]))
    at = AS_OF + draw(offsets)
    if state == "completed":
        at = min(at, AS_OF)
    return {
        "kind": "activity", "op": "upsert", "id": activity_id, "version": version, "source": source,
        "type": kind, "state": state, "t": float(at), "dur": float(draw(st.integers(0, 120))),
        "subject": draw(st.sampled_from([None, f"s-{activity_id}-{source}-{version}"])),
        "private": draw(st.booleans()), "tracked": draw(st.booleans()),
        "sender": draw(parties), "to": draw(st.lists(parties, max_size=3)), "cc": draw(st.lists(parties, max_size=2)),
        "regarding": draw(st.sampled_from([None, {"type": "opportunity", "id": "o0", "account_id": "a0"},
                                           {"type": "lead", "id": "l0", "account_id": None},
                                           {"type": "account", "id": "a1", "account_id": None}])),
        "in_reply_to": draw(st.sampled_from([None, None, *ACTIVITY_IDS])),
        "conversation_id": draw(st.sampled_from([None, "conv"])),
    }


@st.composite
def event_logs(draw) -> list[dict]:
    log: list[dict] = []
    for activity_id in draw(st.lists(st.sampled_from(ACTIVITY_IDS), min_size=1, max_size=8, unique=True)):
        for source in draw(st.lists(st.sampled_from(["dynamics", "exchange", "zeta", ""]), min_size=1, max_size=2, unique=True)):
            for version in draw(st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True)):
                if draw(st.integers(0, 5)) == 0:
                    log.append({"kind": "activity", "op": "delete", "id": activity_id, "version": version, "source": source})
                else:
                    log.append(draw(activity_copy(activity_id, source, version)))
    for n in range(draw(st.integers(0, 4))):
        log.append({"kind": "interaction", "id": f"ix{n}", "email_id": draw(st.sampled_from(ACTIVITY_IDS)),
                    "type": draw(st.sampled_from(["opened", "link_clicked", "attachment_viewed"])),
                    "at": float(AS_OF + draw(offsets))})
    for opportunity in ("o0", "o1"):
        for version in draw(st.lists(st.integers(0, 4), max_size=3, unique=True)):
            log.append({
                "kind": "record", "op": "upsert", "type": "opportunity", "id": opportunity, "version": version,
                "name": f"{opportunity} v{version}", "status": draw(st.sampled_from(["open", "won", "lost"])),
                "industry": draw(st.sampled_from([None, "retail"])),
                "products": draw(st.lists(st.sampled_from(["seats", "support"]), unique=True)),
                "estimated_value": draw(st.sampled_from([None, 1000.0, 5000.0])),
                "stakeholder_ids": draw(st.lists(st.sampled_from(["c0", "c1", "c2", "l0", "email:x@y.example"]), unique=True)),
                "closed_at": None, "account_id": "a0",
            })
    duplicates = draw(st.lists(st.sampled_from(log), max_size=5)) if log else []
    shuffled = log + duplicates
    draw(st.randoms(use_true_random=False)).shuffle(shuffled)
    return shuffled


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log=event_logs(), seed=st.integers(0, 2**16), redeliver=st.sampled_from([0.0, 0.3]))
def test_incremental_equals_batch(log, seed, redeliver):
    clock = Clock(AS_OF)
    pipeline = LocalPipeline(random.Random(seed), redeliver_probability=redeliver)
    for event in log:
        pipeline.publish(event)
    pipeline.run()
    assert pipeline.documents(clock) == batch_documents(log, clock)


@settings(max_examples=40, deadline=None)
@given(log=event_logs(), split=st.floats(0, 1))
def test_replaying_the_whole_log_changes_nothing(log, split):
    clock = Clock(AS_OF)
    pipeline = LocalPipeline()
    for event in log:
        pipeline.publish(event)
    pipeline.run()
    before = pipeline.documents(clock)
    for event in log[int(split * len(log)):] + log:  # a partial redelivery, then the full history again
        pipeline.publish(event)
    pipeline.run()
    assert pipeline.documents(clock) == before
