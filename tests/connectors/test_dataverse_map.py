"""Dataverse rows → SPEC §2 events (pure mapping, no I/O)."""
from __future__ import annotations

import pytest

from relstream.connectors import dataverse_map as dv
from relstream.connectors.identity import InternalDomains, email_activity_id
from relstream.connectors.mapping import MalformedRow
from tests.connectors.scenario import (
    A_KLANT, AP_DEMO, C_BOB, C_CARLA, E_PRICING, E_REPLY, EUR, FORMATTED, L_DIRK, O_SEATS, PC_CALL, U_ANNA, U_BEN,
    lookup, owner, party,
)

ANNA = {"id": "anna@ourco.example", "side": "internal", "kind": "user", "name": "Anna de Vries",
        "email": "anna@ourco.example", "account_id": None}
BEN = {"id": "ben@ourco.example", "side": "internal", "kind": "user", "name": "Ben Jansen",
       "email": "ben@ourco.example", "account_id": None}


def bob(email: str | None = "bob@klant.example") -> dict:
    return {"id": C_BOB, "side": "external", "kind": "contact", "name": "Bob Smit", "email": email,
            "account_id": A_KLANT}


@pytest.fixture
def directory() -> dv.Directory:
    return dv.Directory(
        domains=InternalDomains(("ourco.example",)),
        users={U_ANNA: {"email": "anna@ourco.example", "name": "Anna de Vries"},
               U_BEN: {"email": "ben@ourco.example", "name": "Ben Jansen"}},
        currencies={EUR: "EUR"},
        account_of={C_BOB: A_KLANT, C_CARLA: A_KLANT, O_SEATS: A_KLANT, L_DIRK: None},
        email_event={E_PRICING: "email-parent"}.get,
    )


def email_row(**changes) -> dict:
    row = {"@odata.etag": 'W/"1019"', "activityid": E_REPLY.upper(), "subject": "RE: Pricing", "statecode": 1,
           "senton": "2026-11-02T11:00:00Z", "actualend": None, "scheduledstart": None,
           "createdon": "2026-11-02T10:59:00Z", "messageid": "<reply-2@klant.example>",
           "inreplyto": "<Pricing-1@ourco.example>", "conversationtrackingid": "conv-1", "isemailfollowed": False,
           "directioncode": False, "versionnumber": 1019,
           **lookup("regardingobjectid", "opportunity", O_SEATS, "Klant — 200 seats"),
           **lookup("parentactivityid", "email", E_PRICING)}
    return {**row, **changes}


REPLY_PARTIES = [party(E_REPLY, 1, "contact", C_BOB, "Bob Smit", "Bob@Klant.example"),
                 party(E_REPLY, 2, "systemuser", U_ANNA, "Anna de Vries", "anna@ourco.example"),
                 party(E_REPLY, 3, None, None, None, "colleague@eu.ourco.example"),
                 party(E_REPLY, 3, None, None, None, "Someone@Elsewhere.example"),
                 party(E_REPLY, 4, "systemuser", U_BEN, "Ben Jansen", "ben@ourco.example"),
                 party(E_REPLY, 8, "opportunity", O_SEATS, "Klant — 200 seats", None)]


def test_email_row_with_parties_becomes_the_activity_event(directory):
    assert dv.activity_event("emails", email_row(), REPLY_PARTIES, directory) == {
        "schema": "relstream.activity.v1", "op": "upsert", "id": email_activity_id("<reply-2@klant.example>"),
        "version": 1019, "source": "dynamics", "type": "email", "state": "completed",
        "occurred_at": "2026-11-02T11:00:00Z", "duration_minutes": None, "subject": "RE: Pricing",
        "private": False, "tracked": False, "from": bob(),
        "to": [ANNA],
        "cc": [{"id": "colleague@eu.ourco.example", "side": "internal", "kind": "user", "name": None,
                "email": "colleague@eu.ourco.example", "account_id": None},
               {"id": "email:someone@elsewhere.example", "side": "external", "kind": "unknown", "name": None,
                "email": "someone@elsewhere.example", "account_id": None}],
        "bcc": [BEN],
        "regarding": {"type": "opportunity", "id": O_SEATS, "account_id": A_KLANT},
        "in_reply_to": email_activity_id("<pricing-1@ourco.example>"),
        "conversation_id": "conv-1", "direction": "inbound",
    }


def test_email_without_message_ids_keeps_its_row_id_and_replies_through_parentactivityid(directory):
    event = dv.activity_event("emails", email_row(messageid=None, inreplyto=None, isemailfollowed=True,
                                                  directioncode=True, senton=None, actualend="2026-11-02T11:05:00Z"),
                              REPLY_PARTIES[:2], directory)
    assert (event["id"], event["in_reply_to"], event["tracked"], event["direction"], event["occurred_at"]) == (
        E_REPLY, "email-parent", True, "outbound", "2026-11-02T11:05:00Z")


def test_appointment_organizer_required_and_optional_attendees(directory):
    row = {"activityid": AP_DEMO, "subject": "Demo", "statecode": 3, "scheduledstart": "2026-11-05T11:00:00+01:00",
           "scheduledend": "2026-11-05T12:30:00+01:00", "actualstart": None, "createdon": "2026-11-01T09:00:00Z",
           "actualdurationminutes": None, "scheduleddurationminutes": None, "versionnumber": 7,
           **lookup("regardingobjectid", "account", A_KLANT, "Klant BV")}
    parties = [party(AP_DEMO, 7, "systemuser", U_ANNA, "Anna de Vries", None, "appointment"),
               party(AP_DEMO, 5, "contact", C_BOB, "Bob Smit", None, "appointment"),
               party(AP_DEMO, 6, "systemuser", U_BEN, "Ben Jansen", None, "appointment"),
               party(AP_DEMO, 1, "contact", C_CARLA, "Carla Visser", None, "appointment")]  # no sender on meetings
    assert dv.activity_event("appointments", row, parties, directory) == {
        "schema": "relstream.activity.v1", "op": "upsert", "id": AP_DEMO, "version": 7, "source": "dynamics",
        "type": "meeting", "state": "scheduled", "occurred_at": "2026-11-05T10:00:00Z", "duration_minutes": 90.0,
        "subject": "Demo", "private": False, "tracked": False, "from": ANNA, "to": [bob(None)], "cc": [BEN],
        "bcc": [], "regarding": {"type": "account", "id": A_KLANT, "account_id": None}, "in_reply_to": None,
        "conversation_id": None,
    }


def test_completed_phone_call_uses_actual_duration_and_direction(directory):
    row = {"activityid": PC_CALL, "subject": "Intro call", "statecode": 1, "directioncode": False,
           "actualstart": None, "scheduledstart": "2026-10-28T14:00:00Z", "createdon": "2026-10-28T13:00:00Z",
           "actualdurationminutes": 15, "scheduleddurationminutes": 30, "versionnumber": 9,
           **lookup("regardingobjectid", "contact", C_CARLA, "Carla Visser")}
    parties = [party(PC_CALL, 1, "contact", C_CARLA, "Carla Visser", None, "phonecall"),
               party(PC_CALL, 2, "systemuser", U_BEN, "Ben Jansen", None, "phonecall")]
    event = dv.activity_event("phonecalls", row, parties, directory)
    assert {k: event[k] for k in ("type", "state", "occurred_at", "duration_minutes", "direction", "regarding")} == {
        "type": "phone_call", "state": "completed", "occurred_at": "2026-10-28T14:00:00Z", "duration_minutes": 15.0,
        "direction": "inbound", "regarding": {"type": "contact", "id": C_CARLA, "account_id": A_KLANT}}
    assert event["from"]["id"] == C_CARLA and event["to"] == [BEN]


@pytest.mark.parametrize("changes, parties, reason", [
    ({}, REPLY_PARTIES[1:2], "email has no sender party"),
    ({"statecode": 7}, REPLY_PARTIES, "statecode 7 is not one of [0, 1, 2, 3]"),
    ({"versionnumber": None}, REPLY_PARTIES, "versionnumber None is not a non-negative integer"),
    ({"senton": "2026-11-02 11:00"}, REPLY_PARTIES, "senton: '2026-11-02 11:00' is not an RFC 3339 date-time"),
    ({"activityid": None}, REPLY_PARTIES, "no activityid"),
])
def test_malformed_activity_rows_are_rejected_with_a_reason(directory, changes, parties, reason):
    with pytest.raises(MalformedRow) as caught:
        dv.activity_event("emails", email_row(**changes), parties, directory)
    assert caught.value.reason == reason


def test_account_contact_and_lead_records(directory):
    account = {"accountid": A_KLANT, "name": "Klant BV", "industrycode": 12,
               f"industrycode{FORMATTED}": "Manufacturing", "statecode": 1, "_parentaccountid_value": None,
               "createdon": "2025-01-15T08:00:00Z", "versionnumber": 3, **owner()}
    assert dv.record_event("accounts", account, directory) == {
        "schema": "relstream.record.v1", "op": "upsert", "type": "account", "id": A_KLANT, "version": 3,
        "name": "Klant BV", "account_id": None, "status": "inactive", "industry": "Manufacturing",
        "owner_id": "anna@ourco.example", "created_at": "2025-01-15T08:00:00Z"}
    contact = {"contactid": C_BOB, "fullname": "Bob Smit", "emailaddress1": "Bob@Klant.example",
               "emailaddress2": "bob@klant.example", "emailaddress3": "b.smit@home.example", "statecode": 0,
               **lookup("parentcustomerid", "account", A_KLANT), "createdon": None, "versionnumber": 4,
               **lookup("ownerid", "team", "7ea00000-0000-4000-8000-000000000001")}
    assert dv.record_event("contacts", contact, directory) == {
        "schema": "relstream.record.v1", "op": "upsert", "type": "contact", "id": C_BOB, "version": 4,
        "name": "Bob Smit", "account_id": A_KLANT, "status": "active",
        "emails": ["bob@klant.example", "b.smit@home.example"], "owner_id": None, "created_at": None}
    contact_of_contact = {**contact, **lookup("parentcustomerid", "contact", C_CARLA)}
    assert dv.record_event("contacts", contact_of_contact, directory)["account_id"] is None
    lead = {"leadid": L_DIRK, "fullname": "Dirk Bakker", "emailaddress1": "dirk@prospect.example",
            "emailaddress2": None, "emailaddress3": None, "_parentaccountid_value": None, "statecode": 2,
            "estimatedamount": 5000, **lookup("transactioncurrencyid", "transactioncurrency", EUR),
            "industrycode": 3, f"industrycode{FORMATTED}": "Consulting", "createdon": "2026-10-01T08:00:00Z",
            "versionnumber": "12", **owner(U_BEN)}
    assert dv.record_event("leads", lead, directory) == {
        "schema": "relstream.record.v1", "op": "upsert", "type": "lead", "id": L_DIRK, "version": 12,
        "name": "Dirk Bakker", "account_id": None, "status": "disqualified", "emails": ["dirk@prospect.example"],
        "estimated_value": 5000, "currency": "EUR", "industry": "Consulting", "owner_id": "ben@ourco.example",
        "created_at": "2026-10-01T08:00:00Z"}


def test_opportunity_base_and_joined_record(directory):
    row = {"opportunityid": O_SEATS, "name": "Klant — 200 seats", "statecode": 1, "estimatedvalue": 120000.0,
           "actualclosedate": "2026-10-20", "_parentaccountid_value": None,
           **lookup("customerid", "account", A_KLANT), **lookup("transactioncurrencyid", "transactioncurrency", EUR),
           "createdon": "2026-09-01T00:00:00Z", "versionnumber": 21, **owner()}
    base = dv.opportunity_base(row, directory)
    assert base == {"version": 21, "name": "Klant — 200 seats", "account_id": A_KLANT, "status": "won",
                    "estimated_value": 120000.0, "currency": "EUR", "owner_id": "anna@ourco.example",
                    "created_at": "2026-09-01T00:00:00Z", "closed_at": "2026-10-20T00:00:00Z"}
    assert dv.opportunity_event(O_SEATS, base, "Manufacturing", {C_CARLA, C_BOB}, {"support", "seats"}) == {
        "schema": "relstream.record.v1", "op": "upsert", "type": "opportunity", "id": O_SEATS, "version": 21,
        "name": "Klant — 200 seats", "account_id": A_KLANT, "status": "won", "estimated_value": 120000.0,
        "currency": "EUR", "owner_id": "anna@ourco.example", "created_at": "2026-09-01T00:00:00Z",
        "closed_at": "2026-10-20T00:00:00Z", "industry": "Manufacturing", "products": ["seats", "support"],
        "stakeholder_ids": [C_BOB, C_CARLA]}
    assert dv.opportunity_base({**row, "statecode": 0}, directory)["closed_at"] is None


def test_connections_and_opportunity_products():
    forward = {"connectionid": "x", "statecode": 0, **lookup("record1id", "opportunity", O_SEATS),
               **lookup("record2id", "contact", C_BOB)}
    backward = {**forward, **lookup("record1id", "contact", C_BOB), **lookup("record2id", "opportunity", O_SEATS)}
    assert dv.stakeholder_link(forward) == dv.stakeholder_link(backward) == (O_SEATS, C_BOB)
    assert dv.stakeholder_link({**forward, "statecode": 1}) is None
    assert dv.stakeholder_link({**forward, **lookup("record2id", "systemuser", U_ANNA)}) is None
    line = {"opportunityproductid": "p", **lookup("opportunityid", "opportunity", O_SEATS),
            **lookup("productid", "product", "f0", "seats"), "productdescription": None}
    assert dv.product_link(line) == (O_SEATS, "seats")
    assert dv.product_link({**line, "_productid_value": None, f"_productid_value{FORMATTED}": None,
                            "productdescription": "training"}) == (O_SEATS, "training")
    with pytest.raises(MalformedRow):
        dv.product_link({**line, "_opportunityid_value": None})


def test_email_interactions(directory):
    row = {"interactionforemailid": "1F000000-0000-4000-8000-000000000001", "emailactivityid": E_PRICING.upper(),
           "interactiontype": 2, "emailinteractiontime": "2026-11-02T10:02:00Z", "versionnumber": 5}
    assert dv.interaction_event(row, directory) == {
        "schema": "relstream.email_interaction.v1", "id": "1f000000-0000-4000-8000-000000000001",
        "email_id": "email-parent", "kind": "attachment_viewed", "at": "2026-11-02T10:02:00Z"}
    assert dv.interaction_event({**row, "interactiontype": 3}, directory) is None
    with pytest.raises(MalformedRow, match="has not published"):
        dv.interaction_event({**row, "emailactivityid": E_REPLY}, directory)


def test_deleted_entity_rows():
    deleted = {"@odata.context": "https://org.crm4.dynamics.com/api/data/v9.2/$metadata#emails/$deletedEntity",
               "id": E_PRICING.upper(), "reason": "deleted"}
    assert dv.is_deleted(deleted) and dv.deleted_id(deleted) == E_PRICING
    assert not dv.is_deleted(email_row())
