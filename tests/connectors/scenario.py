"""A small organisation seen by both fakes: two sellers at ourco.example, a customer account with two
contacts, a lead, two opportunities, e-mails (one also in Exchange), a meeting, a call, e-mail
interactions, one malformed row per system, and a second round of changes for the incremental sync."""
from __future__ import annotations

import uuid

from tests.connectors.fakes import FakeDataverse, FakeGraph

LOOKUP = "@Microsoft.Dynamics.CRM.lookuplogicalname"
FORMATTED = "@OData.Community.Display.V1.FormattedValue"
DOMAIN = "ourco.example"
ANNA, BEN = f"anna@{DOMAIN}", f"ben@{DOMAIN}"

U_ANNA = "a0000000-0000-4000-8000-000000000001"
U_BEN = "a0000000-0000-4000-8000-000000000002"
EUR = "e0000000-0000-4000-8000-0000000000e1"
A_KLANT = "ac000000-0000-4000-8000-000000000001"
A_OTHER = "ac000000-0000-4000-8000-000000000002"
C_BOB = "cc000000-0000-4000-8000-000000000001"
C_CARLA = "cc000000-0000-4000-8000-000000000002"
L_DIRK = "1e000000-0000-4000-8000-000000000001"
O_SEATS = "0b000000-0000-4000-8000-000000000001"
O_WON = "0b000000-0000-4000-8000-000000000002"
CONN_BOB, CONN_BOB_REVERSE, CONN_CARLA = (f"c0000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
LINE_SEATS, LINE_SUPPORT, LINE_WON, LINE_TRAINING = (f"9e000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3, 4))
P_SEATS, P_SUPPORT = "fe000000-0000-4000-8000-000000000001", "fe000000-0000-4000-8000-000000000002"
E_PRICING = "ea000000-0000-4000-8000-000000000001"
E_REPLY = "ea000000-0000-4000-8000-000000000002"
E_BROKEN = "ea000000-0000-4000-8000-000000000003"
E_STRANGER = "ea000000-0000-4000-8000-000000000004"
AP_DEMO = "ab000000-0000-4000-8000-000000000001"
PC_CALL = "ad000000-0000-4000-8000-000000000001"
I_OPENED, I_CLICKED, I_REPLIED = (f"1f000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
MID_PRICING, MID_REPLY = "<Pricing-1@ourco.example>", "<reply-2@klant.example>"


def lookup(attribute: str, table: str, row_id: str, name: str | None = None) -> dict:
    value = {f"_{attribute}_value": row_id, f"_{attribute}_value{LOOKUP}": table}
    if name:
        value[f"_{attribute}_value{FORMATTED}"] = name
    return value


def owner(user: str = U_ANNA) -> dict:
    return lookup("ownerid", "systemuser", user, "Anna de Vries")


def party(activity: str, mask: int, table: str | None, row_id: str | None, name: str | None,
          address: str | None, activity_table: str = "email") -> dict:
    row = {"activitypartyid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{activity}/{mask}/{row_id or address}")),
           "participationtypemask": mask, "addressused": address,
           **lookup("activityid", activity_table, activity)}
    if table:
        row.update(lookup("partyid", table, row_id, name))
    else:
        row["_partyid_value"] = None
    return row


def define_tables(dv: FakeDataverse) -> None:
    for entity_set, key in [("systemusers", "systemuserid"), ("transactioncurrencies", "transactioncurrencyid"),
                            ("accounts", "accountid"), ("contacts", "contactid"), ("leads", "leadid"),
                            ("connections", "connectionid"), ("opportunityproducts", "opportunityproductid"),
                            ("opportunities", "opportunityid"), ("emails", "activityid"),
                            ("appointments", "activityid"), ("phonecalls", "activityid"),
                            ("activityparties", "activitypartyid"),
                            ("interactionforemails", "interactionforemailid")]:
        dv.table(entity_set, key, tracked=entity_set not in ("systemusers", "transactioncurrencies", "activityparties"))


def load_dataverse(dv: FakeDataverse) -> None:
    define_tables(dv)
    dv.upsert("systemusers", {"systemuserid": U_ANNA, "internalemailaddress": "Anna@OurCo.example",
                              "fullname": "Anna de Vries"})
    dv.upsert("systemusers", {"systemuserid": U_BEN, "internalemailaddress": BEN, "fullname": "Ben Jansen"})
    dv.upsert("transactioncurrencies", {"transactioncurrencyid": EUR, "isocurrencycode": "EUR"})
    for account, name, code, industry in [(A_KLANT, "Klant BV", 12, "Manufacturing"),
                                          (A_OTHER, "Other NV", 25, "Retail")]:
        dv.upsert("accounts", {"accountid": account, "name": name, "industrycode": code,
                               f"industrycode{FORMATTED}": industry, "statecode": 0, "_parentaccountid_value": None,
                               "createdon": "2025-01-15T08:00:00Z", **owner()})
    for contact, name, address in [(C_BOB, "Bob Smit", "Bob@Klant.example"),
                                   (C_CARLA, "Carla Visser", "carla@klant.example")]:
        dv.upsert("contacts", {"contactid": contact, "fullname": name, "emailaddress1": address,
                               "emailaddress2": None, "emailaddress3": None, "statecode": 0,
                               **lookup("parentcustomerid", "account", A_KLANT, "Klant BV"),
                               "createdon": "2025-02-01T08:00:00Z", **owner()})
    dv.upsert("leads", {"leadid": L_DIRK, "fullname": "Dirk Bakker", "emailaddress1": "dirk@prospect.example",
                        "emailaddress2": "d.bakker@prospect.example", "emailaddress3": None, "statecode": 0,
                        "_parentaccountid_value": None, "estimatedamount": 5000.0,
                        **lookup("transactioncurrencyid", "transactioncurrency", EUR, "Euro"),
                        "industrycode": None, "createdon": "2026-10-01T08:00:00Z", **owner(U_BEN)})
    dv.upsert("connections", {"connectionid": CONN_BOB, "statecode": 0,
                              **lookup("record1id", "opportunity", O_SEATS), **lookup("record2id", "contact", C_BOB)})
    dv.upsert("connections", {"connectionid": CONN_BOB_REVERSE, "statecode": 0,
                              **lookup("record1id", "contact", C_BOB), **lookup("record2id", "opportunity", O_SEATS)})
    for line, opportunity, product, product_id in [(LINE_SEATS, O_SEATS, "seats", P_SEATS),
                                                   (LINE_SUPPORT, O_SEATS, "support", P_SUPPORT),
                                                   (LINE_WON, O_WON, "seats", P_SEATS)]:
        dv.upsert("opportunityproducts", {"opportunityproductid": line, "productdescription": None,
                                          **lookup("opportunityid", "opportunity", opportunity),
                                          **lookup("productid", "product", product_id, product)})
    dv.upsert("opportunities", {"opportunityid": O_SEATS, "name": "Klant — 200 seats", "statecode": 0,
                                "estimatedvalue": 120000.0, "actualclosedate": None,
                                **lookup("parentaccountid", "account", A_KLANT, "Klant BV"),
                                **lookup("customerid", "account", A_KLANT, "Klant BV"),
                                **lookup("transactioncurrencyid", "transactioncurrency", EUR, "Euro"),
                                "createdon": "2026-09-01T00:00:00Z", **owner()})
    dv.upsert("opportunities", {"opportunityid": O_WON, "name": "Other — pilot", "statecode": 1,
                                "estimatedvalue": 30000.0, "actualclosedate": "2026-10-20",
                                "_parentaccountid_value": None,
                                **lookup("customerid", "account", A_OTHER, "Other NV"),
                                **lookup("transactioncurrencyid", "transactioncurrency", EUR, "Euro"),
                                "createdon": "2026-06-01T00:00:00Z", **owner(U_BEN)})
    _email(dv, E_PRICING, MID_PRICING, "Pricing follow-up", "2026-11-02T09:30:00Z", outbound=True, followed=True,
           regarding=lookup("regardingobjectid", "opportunity", O_SEATS, "Klant — 200 seats"),
           parties=[party(E_PRICING, 1, "systemuser", U_ANNA, "Anna de Vries", ANNA),
                    party(E_PRICING, 2, "contact", C_BOB, "Bob Smit", "bob@klant.example"),
                    party(E_PRICING, 3, "contact", C_CARLA, "Carla Visser", "carla@klant.example"),
                    party(E_PRICING, 4, "systemuser", U_BEN, "Ben Jansen", BEN)])
    _email(dv, E_REPLY, MID_REPLY, "RE: Pricing follow-up", "2026-11-02T11:00:00Z", outbound=False, followed=False,
           in_reply_to=MID_PRICING, parent=E_PRICING,
           parties=[party(E_REPLY, 1, "contact", C_BOB, "Bob Smit", "bob@klant.example"),
                    party(E_REPLY, 2, "systemuser", U_ANNA, "Anna de Vries", ANNA)])
    _email(dv, E_BROKEN, "<broken-3@ourco.example>", "No sender", "2026-11-02T12:00:00Z", outbound=True,
           followed=False, parties=[party(E_BROKEN, 2, "contact", C_BOB, "Bob Smit", "bob@klant.example")])
    _email(dv, E_STRANGER, None, "Hello stranger", "2026-11-03T08:00:00Z", outbound=True, followed=False,
           regarding=lookup("regardingobjectid", "lead", L_DIRK, "Dirk Bakker"),
           parties=[party(E_STRANGER, 1, "systemuser", U_BEN, "Ben Jansen", BEN),
                    party(E_STRANGER, 2, None, None, None, "Someone@Elsewhere.example"),
                    party(E_STRANGER, 3, "lead", L_DIRK, "Dirk Bakker", "dirk@prospect.example")])
    dv.upsert("appointments", {"activityid": AP_DEMO, "subject": "Demo", "statecode": 3,
                               "scheduledstart": "2026-11-05T10:00:00Z", "scheduledend": "2026-11-05T11:00:00Z",
                               "actualstart": None, "createdon": "2026-11-01T09:00:00Z",
                               "actualdurationminutes": None, "scheduleddurationminutes": 60,
                               **lookup("regardingobjectid", "opportunity", O_SEATS, "Klant — 200 seats")})
    for row in [party(AP_DEMO, 7, "systemuser", U_ANNA, "Anna de Vries", None, "appointment"),
                party(AP_DEMO, 5, "contact", C_BOB, "Bob Smit", None, "appointment"),
                party(AP_DEMO, 6, "systemuser", U_BEN, "Ben Jansen", None, "appointment")]:
        dv.upsert("activityparties", row)
    dv.upsert("phonecalls", {"activityid": PC_CALL, "subject": "Intro call", "statecode": 1, "directioncode": False,
                             "actualstart": None, "scheduledstart": "2026-10-28T14:00:00Z",
                             "createdon": "2026-10-28T13:00:00Z", "actualdurationminutes": 15,
                             "scheduleddurationminutes": 30,
                             **lookup("regardingobjectid", "contact", C_CARLA, "Carla Visser")})
    for row in [party(PC_CALL, 1, "contact", C_CARLA, "Carla Visser", None, "phonecall"),
                party(PC_CALL, 2, "systemuser", U_BEN, "Ben Jansen", None, "phonecall")]:
        dv.upsert("activityparties", row)
    for interaction, kind, at in [(I_OPENED, 0, "2026-11-02T10:02:00Z"), (I_CLICKED, 1, "2026-11-02T10:03:00Z"),
                                  (I_REPLIED, 3, "2026-11-02T11:00:00Z")]:
        dv.upsert("interactionforemails", {"interactionforemailid": interaction, "emailactivityid": E_PRICING,
                                           "interactiontype": kind, "emailinteractiontime": at})


def _email(dv: FakeDataverse, activity: str, message_id: str | None, subject: str, sent: str, *, outbound: bool,
           followed: bool, parties: list[dict], regarding: dict | None = None, in_reply_to: str | None = None,
           parent: str | None = None) -> None:
    for row in parties:
        dv.upsert("activityparties", row)
    dv.upsert("emails", {"activityid": activity, "subject": subject, "statecode": 1, "senton": sent,
                         "actualend": sent, "scheduledstart": None, "createdon": sent, "messageid": message_id,
                         "inreplyto": in_reply_to, "conversationtrackingid": "c0nv0000-0000-4000-8000-000000000001",
                         "isemailfollowed": followed, "directioncode": outbound,
                         **(regarding or {"_regardingobjectid_value": None}),
                         **(lookup("parentactivityid", "email", parent) if parent
                            else {"_parentactivityid_value": None})})


def change_dataverse(dv: FakeDataverse) -> None:
    """Second round: an edited e-mail, a deleted meeting, a new stakeholder and product, an industry change,
    a deleted lead."""
    dv.update("emails", E_PRICING, subject="Pricing follow-up (v2)")
    dv.delete("appointments", AP_DEMO)
    dv.upsert("connections", {"connectionid": CONN_CARLA, "statecode": 0,
                              **lookup("record1id", "opportunity", O_SEATS), **lookup("record2id", "contact", C_CARLA)})
    dv.upsert("opportunityproducts", {"opportunityproductid": LINE_TRAINING, "productdescription": "training",
                                      **lookup("opportunityid", "opportunity", O_SEATS), "_productid_value": None})
    dv.update("accounts", A_KLANT, **{"industrycode": 13, f"industrycode{FORMATTED}": "Logistics"})
    dv.delete("leads", L_DIRK)


# --- Exchange ----------------------------------------------------------------------------------------

def address(name: str | None, value: str) -> dict:
    return {"emailAddress": {"name": name, "address": value}}


def message(item_id: str, message_id: str, subject: str, sent: str, sender: dict, to: list[dict],
            cc: list[dict] | None = None, headers: list[dict] | None = None, draft: bool = False) -> dict:
    return {"id": item_id, "subject": subject, "from": sender, "sender": sender, "toRecipients": to,
            "ccRecipients": cc or [], "bccRecipients": [], "sentDateTime": sent, "receivedDateTime": sent,
            "internetMessageId": message_id, "conversationId": "AAQkAGI2-conv-pricing",
            "internetMessageHeaders": headers or [], "isDraft": draft,
            "body": {"contentType": "html", "content": "…"}}


def event(item_id: str, uid: str, subject: str, start: str, end: str, attendees: list[tuple[str, str, str]],
          cancelled: bool = False, sensitivity: str = "normal") -> dict:
    return {"id": item_id, "iCalUId": uid, "subject": subject, "isCancelled": cancelled, "sensitivity": sensitivity,
            "start": {"dateTime": start, "timeZone": "UTC"}, "end": {"dateTime": end, "timeZone": "UTC"},
            "organizer": address("Anna de Vries", ANNA), "isAllDay": False, "type": "singleInstance",
            "attendees": [{"type": kind, "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
                           **address(name, value)} for kind, name, value in attendees]}


ANNA_SENT, ANNA_INBOX, BEN_INBOX = f"messages:{ANNA}:sentitems", f"messages:{ANNA}:inbox", f"messages:{BEN}:inbox"
ANNA_EVENTS = f"events:{ANNA}"
UID_PAST, UID_FUTURE, UID_CANCELED = (f"040000008200E00074C5B7101A82E008000000000{n}" for n in (1, 2, 3))


def load_graph(graph: FakeGraph) -> None:
    pricing = message("AAMk-anna-sent-1", MID_PRICING.lower(), "Pricing follow-up", "2026-11-02T09:30:00Z",
                      address("Anna de Vries", ANNA), [address("Bob Smit", "bob@klant.example")],
                      [address("Carla Visser", "carla@klant.example")])
    graph.put(ANNA_SENT, pricing)
    graph.put(BEN_INBOX, {**pricing, "id": "AAMk-ben-inbox-1"})
    graph.put(ANNA_INBOX, message("AAMk-anna-inbox-2", MID_REPLY, "RE: Pricing follow-up", "2026-11-02T11:00:00Z",
                                  address("Bob Smit", "bob@klant.example"), [address("Anna de Vries", ANNA)],
                                  headers=[{"name": "In-Reply-To", "value": MID_PRICING}]))
    graph.put(ANNA_INBOX, message("AAMk-anna-inbox-3", "<news-3@vendor.example>", "Newsletter",
                                  "2026-11-03T07:00:00Z", address("Vendor News", "news@vendor.example"),
                                  [address("Anna de Vries", ANNA)]))
    graph.put(ANNA_INBOX, message("AAMk-anna-inbox-4", "<dirk-4@prospect.example>", "Question",
                                  "2026-11-03T09:00:00Z", address("D. Bakker", "d.bakker@prospect.example"),
                                  [address("Anna de Vries", ANNA)]))
    graph.put(ANNA_INBOX, {**message("AAMk-anna-inbox-5", "<bad-5@klant.example>", "Broken", "yesterday",
                                     address("Bob Smit", "bob@klant.example"), [address("Anna de Vries", ANNA)])})
    graph.put(ANNA_SENT, message("AAMk-anna-draft-6", "<draft-6@ourco.example>", "Draft", "2026-11-03T10:00:00Z",
                                 address("Anna de Vries", ANNA), [address("Bob Smit", "bob@klant.example")],
                                 draft=True))
    graph.put(ANNA_EVENTS, event("AAMk-ev-past", UID_PAST, "Kick-off", "2026-10-30T13:00:00.0000000",
                                 "2026-10-30T14:30:00.0000000",
                                 [("required", "Bob Smit", "bob@klant.example"), ("optional", "Ben Jansen", BEN)]))
    graph.put(ANNA_EVENTS, event("AAMk-ev-future", UID_FUTURE, "Contract signing", "2026-11-06T09:00:00.0000000",
                                 "2026-11-06T09:30:00.0000000", [("required", "Bob Smit", "bob@klant.example")],
                                 sensitivity="private"))
    graph.put(ANNA_EVENTS, event("AAMk-ev-canceled", UID_CANCELED, "Canceled: lunch", "2026-10-31T12:00:00.0000000",
                                 "2026-10-31T13:00:00.0000000", [("required", "Someone", "someone@elsewhere.example")],
                                 cancelled=True))


def change_graph(graph: FakeGraph) -> None:
    """Second round: Ben deletes his copy (Anna still holds it), the newsletter is deleted, a new message."""
    graph.remove(BEN_INBOX, "AAMk-ben-inbox-1")
    graph.remove(ANNA_INBOX, "AAMk-anna-inbox-3")
    graph.put(ANNA_SENT, message("AAMk-anna-sent-7", "<followup-7@ourco.example>", "Follow-up", "2026-11-04T08:00:00Z",
                                 address("Anna de Vries", ANNA), [address("Carla Visser", "carla@klant.example")]))
