"""Both connectors end to end: fake Dataverse and Graph → `relstream connect … --once` → the real Kafka.

Every published event is asserted exactly, including versions, deletes and the e-mail both connectors
see under one id; faults (429 with Retry-After, a revoked token, a malformed row, a failing table)
must not change the result.
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from relstream.connectors.identity import email_activity_id
from relstream.connectors.mapping import epoch_millis, instant
from tests.connectors import scenario as s
from tests.connectors.harness import CLIENT_SECRET, REPO, read_topic

pytestmark = pytest.mark.integration

P = email_activity_id(s.MID_PRICING)
R = email_activity_id(s.MID_REPLY)
CONVERSATION = "c0nv0000-0000-4000-8000-000000000001"


def person(pid, side, kind, name, email, account=None) -> dict:
    return {"id": pid, "side": side, "kind": kind, "name": name, "email": email, "account_id": account}


ANNA = person(s.ANNA, "internal", "user", "Anna de Vries", s.ANNA)
BEN = person(s.BEN, "internal", "user", "Ben Jansen", s.BEN)


def bob(email="bob@klant.example"):
    return person(s.C_BOB, "external", "contact", "Bob Smit", email, s.A_KLANT)


def carla(email="carla@klant.example"):
    return person(s.C_CARLA, "external", "contact", "Carla Visser", email, s.A_KLANT)


def activity(source, aid, version, kind, state, occurred, subject, sender, to, cc=(), bcc=(), **extra) -> dict:
    return {"schema": "relstream.activity.v1", "op": "upsert", "id": aid, "version": version, "source": source,
            "type": kind, "state": state, "occurred_at": occurred, "duration_minutes": None, "subject": subject,
            "private": False, "tracked": False, "from": sender, "to": list(to), "cc": list(cc), "bcc": list(bcc),
            "regarding": None, "in_reply_to": None, "conversation_id": None, **extra}


def record(kind, rid, version, **fields) -> dict:
    return {"schema": "relstream.record.v1", "op": "upsert", "type": kind, "id": rid, "version": version, **fields}


def ordered(messages: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    return sorted(messages, key=lambda m: (m[1].get("id", ""), m[1].get("version", 0), str(m[1])))


async def new_messages(topic: str, seen: list) -> list[tuple[str, dict]]:
    everything = await read_topic(topic)
    return [m for m in everything if m not in seen]


def graph_version(collection: str, item_id: str, graph) -> int:
    return epoch_millis(instant(graph.items[collection][item_id][1]["lastModifiedDateTime"], "t"))


async def test_dynamics_then_exchange_publish_exact_events_and_only_changes_afterwards(connectors):
    cs, dv, graph = connectors, connectors.dataverse, connectors.graph
    v = lambda entity_set, rid: dv.tables[entity_set][rid]["versionnumber"]  # noqa: E731
    dv.inject("/emails?", 429, {"Retry-After": "1"})  # service protection on the first e-mail page
    dv.inject("/appointments", action=cs.authority.revoke_all)  # the token "expires" mid-sync
    graph.inject("/calendarView/delta", 429, {"Retry-After": "1"})

    run = await cs.run("dynamics")
    assert run.returncode == 0, run.stderr
    assert CLIENT_SECRET not in run.stderr and "token-" not in run.stderr
    assert "row ea000000-0000-4000-8000-000000000003 dead-lettered: email has no sender party" in run.stderr
    assert [p for p in cs.authority.issued] == [f"{dv.url}/.default"] * 2  # refreshed once after the 401
    assert sum(1 for _, path in dv.requests if path.startswith("/api/data/v9.2/emails?")) >= 2

    opportunity_version = v("opportunities", s.O_SEATS)
    records = await read_topic(cs.topic("records"))
    assert ordered(records) == ordered([(r["id"], r) for r in [
        record("account", s.A_KLANT, v("accounts", s.A_KLANT), name="Klant BV", account_id=None, status="active",
               industry="Manufacturing", owner_id=s.ANNA, created_at="2025-01-15T08:00:00Z"),
        record("account", s.A_OTHER, v("accounts", s.A_OTHER), name="Other NV", account_id=None, status="active",
               industry="Retail", owner_id=s.ANNA, created_at="2025-01-15T08:00:00Z"),
        record("contact", s.C_BOB, v("contacts", s.C_BOB), name="Bob Smit", account_id=s.A_KLANT, status="active",
               emails=["bob@klant.example"], owner_id=s.ANNA, created_at="2025-02-01T08:00:00Z"),
        record("contact", s.C_CARLA, v("contacts", s.C_CARLA), name="Carla Visser", account_id=s.A_KLANT,
               status="active", emails=["carla@klant.example"], owner_id=s.ANNA, created_at="2025-02-01T08:00:00Z"),
        record("lead", s.L_DIRK, v("leads", s.L_DIRK), name="Dirk Bakker", account_id=None, status="open",
               emails=["dirk@prospect.example", "d.bakker@prospect.example"], estimated_value=5000.0,
               currency="EUR", industry=None, owner_id=s.BEN, created_at="2026-10-01T08:00:00Z"),
        record("opportunity", s.O_SEATS, opportunity_version, name="Klant — 200 seats", account_id=s.A_KLANT,
               status="open", estimated_value=120000.0, currency="EUR", owner_id=s.ANNA,
               created_at="2026-09-01T00:00:00Z", closed_at=None, industry="Manufacturing",
               products=["seats", "support"], stakeholder_ids=[s.C_BOB]),
        record("opportunity", s.O_WON, v("opportunities", s.O_WON), name="Other — pilot", account_id=s.A_OTHER,
               status="won", estimated_value=30000.0, currency="EUR", owner_id=s.BEN,
               created_at="2026-06-01T00:00:00Z", closed_at="2026-10-20T00:00:00Z", industry="Retail",
               products=["seats"], stakeholder_ids=[]),
    ]])

    regarding_deal = {"type": "opportunity", "id": s.O_SEATS, "account_id": s.A_KLANT}
    dynamics_activities = [
        activity("dynamics", P, v("emails", s.E_PRICING), "email", "completed", "2026-11-02T09:30:00Z",
                 "Pricing follow-up", ANNA, [bob()], [carla()], [BEN], tracked=True, regarding=regarding_deal,
                 conversation_id=CONVERSATION, direction="outbound"),
        activity("dynamics", R, v("emails", s.E_REPLY), "email", "completed", "2026-11-02T11:00:00Z",
                 "RE: Pricing follow-up", bob(), [ANNA], in_reply_to=P, conversation_id=CONVERSATION,
                 direction="inbound"),
        activity("dynamics", s.E_STRANGER, v("emails", s.E_STRANGER), "email", "completed", "2026-11-03T08:00:00Z",
                 "Hello stranger", BEN,
                 [person("email:someone@elsewhere.example", "external", "unknown", None, "someone@elsewhere.example")],
                 [person(s.L_DIRK, "external", "lead", "Dirk Bakker", "dirk@prospect.example")],
                 regarding={"type": "lead", "id": s.L_DIRK, "account_id": None}, conversation_id=CONVERSATION,
                 direction="outbound"),
        activity("dynamics", s.AP_DEMO, v("appointments", s.AP_DEMO), "meeting", "scheduled", "2026-11-05T10:00:00Z",
                 "Demo", ANNA, [bob(None)], [BEN], duration_minutes=60.0, regarding=regarding_deal),
        activity("dynamics", s.PC_CALL, v("phonecalls", s.PC_CALL), "phone_call", "completed",
                 "2026-10-28T14:00:00Z", "Intro call", carla(None), [BEN], duration_minutes=15.0,
                 regarding={"type": "contact", "id": s.C_CARLA, "account_id": s.A_KLANT}, direction="inbound"),
    ]
    interactions = [
        {"schema": "relstream.email_interaction.v1", "id": s.I_OPENED, "email_id": P, "kind": "opened",
         "at": "2026-11-02T10:02:00Z"},
        {"schema": "relstream.email_interaction.v1", "id": s.I_CLICKED, "email_id": P, "kind": "link_clicked",
         "at": "2026-11-02T10:03:00Z"},
    ]
    activities = await read_topic(cs.topic("activities"))
    assert ordered(activities) == ordered([(a["id"], a) for a in dynamics_activities] + [(P, i) for i in interactions])

    dlq = await read_topic(cs.topic("dlq"))
    assert [(k, m["reason"], m["source"], m["payload"]["activityid"]) for k, m in dlq] == [
        (s.E_BROKEN, "email has no sender party", "connector:dynamics", s.E_BROKEN)]

    state = cs.state("dynamics")
    assert sorted(state["links"]) == sorted(["accounts", "contacts", "leads", "connections", "opportunityproducts",
                                             "opportunities", "emails", "appointments", "phonecalls",
                                             "interactionforemails"])
    assert all(link["next"] is None and "deltatoken" in link["delta"] for link in state["links"].values())
    assert state["versions"][P] == v("emails", s.E_PRICING) and state["rows"][f"emails:{s.E_PRICING}"] == P

    # --- Exchange: the same pricing e-mail and reply get the Dynamics ids; contacts come from the records ---
    exchange_env = {"RELSTREAM_FROZEN_CLOCK": "2026-11-04T00:00:00Z"}
    run = await cs.run("exchange", env=exchange_env)
    assert run.returncode == 0, run.stderr
    assert CLIENT_SECRET not in run.stderr
    assert cs.authority.issued[2:] == [f"{graph.url}/.default"]
    gv = lambda collection, item: graph_version(collection, item, graph)  # noqa: E731
    news = email_activity_id("<news-3@vendor.example>")
    question = email_activity_id("<dirk-4@prospect.example>")
    exchange_activities = [
        activity("exchange", P, gv(s.ANNA_SENT, "AAMk-anna-sent-1"), "email", "completed", "2026-11-02T09:30:00Z",
                 "Pricing follow-up", ANNA, [bob()], [carla()], conversation_id="AAQkAGI2-conv-pricing"),
        activity("exchange", P, gv(s.BEN_INBOX, "AAMk-ben-inbox-1"), "email", "completed", "2026-11-02T09:30:00Z",
                 "Pricing follow-up", ANNA, [bob()], [carla()], conversation_id="AAQkAGI2-conv-pricing"),
        activity("exchange", R, gv(s.ANNA_INBOX, "AAMk-anna-inbox-2"), "email", "completed", "2026-11-02T11:00:00Z",
                 "RE: Pricing follow-up", bob(), [ANNA], in_reply_to=P, conversation_id="AAQkAGI2-conv-pricing"),
        activity("exchange", news, gv(s.ANNA_INBOX, "AAMk-anna-inbox-3"), "email", "completed",
                 "2026-11-03T07:00:00Z", "Newsletter",
                 person("email:news@vendor.example", "external", "unknown", "Vendor News", "news@vendor.example"),
                 [ANNA], conversation_id="AAQkAGI2-conv-pricing"),
        activity("exchange", question, gv(s.ANNA_INBOX, "AAMk-anna-inbox-4"), "email", "completed",
                 "2026-11-03T09:00:00Z", "Question",
                 person(s.L_DIRK, "external", "lead", "Dirk Bakker", "d.bakker@prospect.example"), [ANNA],
                 conversation_id="AAQkAGI2-conv-pricing"),
        activity("exchange", s.UID_PAST, gv(s.ANNA_EVENTS, "AAMk-ev-past"), "meeting", "completed",
                 "2026-10-30T13:00:00Z", "Kick-off", ANNA, [bob()], [BEN], duration_minutes=90.0),
        activity("exchange", s.UID_FUTURE, gv(s.ANNA_EVENTS, "AAMk-ev-future"), "meeting", "scheduled",
                 "2026-11-06T09:00:00Z", "Contract signing", ANNA, [bob()], duration_minutes=30.0, private=True),
        activity("exchange", s.UID_CANCELED, gv(s.ANNA_EVENTS, "AAMk-ev-canceled"), "meeting", "canceled",
                 "2026-10-31T12:00:00Z", "Canceled: lunch", ANNA,
                 [person("email:someone@elsewhere.example", "external", "unknown", "Someone",
                         "someone@elsewhere.example")], duration_minutes=60.0),
    ]
    assert ordered(await new_messages(cs.topic("activities"), activities)) == ordered(
        [(a["id"], a) for a in exchange_activities])
    assert [(k, m["reason"], m["source"]) for k, m in await new_messages(cs.topic("dlq"), dlq)] == [
        ("AAMk-anna-inbox-5", "sentDateTime: 'yesterday' is not an RFC 3339 date-time", "connector:exchange")]

    # --- second round: only the changes, deletes above every version published for that id ---
    records = await read_topic(cs.topic("records"))
    activities = await read_topic(cs.topic("activities"))
    lead_version = v("leads", s.L_DIRK)
    meeting_version = v("appointments", s.AP_DEMO)
    s.change_dataverse(dv)
    s.change_graph(graph)
    run = await cs.run("dynamics")
    assert run.returncode == 0, run.stderr
    run = await cs.run("exchange", env={"RELSTREAM_FROZEN_CLOCK": "2026-11-10T00:00:00Z"})
    assert run.returncode == 0, run.stderr

    deal = dict(records[[r["id"] for _, r in records].index(s.O_SEATS)][1])
    assert ordered(await new_messages(cs.topic("records"), records)) == ordered([(r["id"], r) for r in [
        record("account", s.A_KLANT, v("accounts", s.A_KLANT), name="Klant BV", account_id=None, status="active",
               industry="Logistics", owner_id=s.ANNA, created_at="2025-01-15T08:00:00Z"),
        {**deal, "version": opportunity_version + 1, "industry": "Logistics"},
        {**deal, "version": opportunity_version + 2, "industry": "Logistics", "stakeholder_ids": [s.C_BOB, s.C_CARLA]},
        {**deal, "version": opportunity_version + 3, "industry": "Logistics", "stakeholder_ids": [s.C_BOB, s.C_CARLA],
         "products": ["seats", "support", "training"]},
        {"schema": "relstream.record.v1", "op": "delete", "type": "lead", "id": s.L_DIRK, "version": lead_version + 1},
    ]])
    follow_up = email_activity_id("<followup-7@ourco.example>")
    future = exchange_activities[6]
    assert ordered(await new_messages(cs.topic("activities"), activities)) == ordered([(a["id"], a) for a in [
        {**dynamics_activities[0], "version": v("emails", s.E_PRICING), "subject": "Pricing follow-up (v2)"},
        {"schema": "relstream.activity.v1", "op": "delete", "id": s.AP_DEMO, "source": "dynamics",
         "version": meeting_version + 1},
        {**future, "state": "completed", "version": future["version"] + 1},
        {"schema": "relstream.activity.v1", "op": "delete", "id": news, "source": "exchange",
         "version": exchange_activities[3]["version"] + 1},
        activity("exchange", follow_up, gv(s.ANNA_SENT, "AAMk-anna-sent-7"), "email", "completed",
                 "2026-11-04T08:00:00Z", "Follow-up", ANNA, [carla()], conversation_id="AAQkAGI2-conv-pricing"),
    ]])


async def test_a_failed_sync_resumes_from_its_last_checkpoint_without_duplicates(connectors):
    cs = connectors
    cs.dataverse.inject("/phonecalls", 400)  # e.g. a permission error on one table: the sync stops there
    failed = await cs.run("dynamics")
    assert failed.returncode == 1 and "HTTP 400 from /api/data/v9.2/phonecalls" in failed.stderr
    before = await read_topic(cs.topic("activities"))
    assert {m["id"] for _, m in before} >= {P, R, s.AP_DEMO} and s.PC_CALL not in {m["id"] for _, m in before}
    assert "phonecalls" not in cs.state("dynamics")["links"]

    resumed = await cs.run("dynamics")
    assert resumed.returncode == 0, resumed.stderr
    after = await read_topic(cs.topic("activities"))
    new = [m for key, m in after if (key, m) not in before]
    assert sorted(m["id"] for m in new) == sorted([s.PC_CALL, s.I_OPENED, s.I_CLICKED])
    identities = [(m["id"], m.get("version")) for _, m in after]
    assert len(identities) == len(set(identities)), "nothing published twice"


async def test_polling_mode_syncs_repeatedly_and_stops_cleanly_on_sigterm(connectors):
    cs = connectors
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "relstream.cli", "connect", "dynamics", "--interval", "0.2",
        env={**os.environ, **cs.env}, cwd=REPO, stderr=asyncio.subprocess.PIPE)
    lines: list[str] = []

    async def wait_for_syncs(count: int) -> None:
        while sum("sync complete" in line for line in lines) < count:
            lines.append((await process.stderr.readline()).decode())
            assert lines[-1], "".join(lines)
    await asyncio.wait_for(wait_for_syncs(1), 60)
    cs.dataverse.update("contacts", s.C_BOB, fullname="Bob J. Smit")
    await asyncio.wait_for(wait_for_syncs(3), 60)
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    bob_records = [m for _, m in await read_topic(cs.topic("records")) if m["id"] == s.C_BOB]
    assert [m["name"] for m in bob_records] == ["Bob Smit", "Bob J. Smit"]
