"""Dataverse Web API v9.2 rows → SPEC §2 events. Pure: everything a row needs besides itself comes in a
`Directory` built by the sync.

Shapes (responses with `Prefer: odata.include-annotations="*"`): lookups as `_x_value` with
`@Microsoft.Dynamics.CRM.lookuplogicalname`, choice labels as `@OData.Community.Display.V1.FormattedValue`,
`versionnumber` (the row version, monotonic across the organisation) on every row, and
`activityparty.participationtypemask` 1 sender, 2 to, 3 cc, 4 bcc, 5 required, 6 optional, 7 organizer.
E-mail interactions come from the `interactionforemail` table (`interactiontype` 0 EmailOpen,
1 LinkOpen, 2 AttachmentOpen, 3 EmailReply; `emailinteractiontime`; `emailactivityid`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from relstream.connectors.identity import InternalDomains, address_party, email_activity_id, normalize_address, party
from relstream.connectors.mapping import (
    ACTIVITY_SCHEMA,
    INTERACTION_SCHEMA,
    RECORD_SCHEMA,
    MalformedRow,
    first_instant,
    instant,
    minutes,
    timestamp,
)
from relstream.timeutil import format_timestamp

SOURCE = "dynamics"
LOOKUP = "@Microsoft.Dynamics.CRM.lookuplogicalname"
FORMATTED = "@OData.Community.Display.V1.FormattedValue"

# entity set -> (primary key, columns read). Keep in step with the mapping functions below.
TABLES: dict[str, tuple[str, str]] = {
    "accounts": ("accountid", "name,industrycode,statecode,_parentaccountid_value,_ownerid_value,createdon"),
    "contacts": ("contactid", "fullname,emailaddress1,emailaddress2,emailaddress3,_parentcustomerid_value,"
                              "statecode,_ownerid_value,createdon"),
    "leads": ("leadid", "fullname,emailaddress1,emailaddress2,emailaddress3,_parentaccountid_value,statecode,"
                        "estimatedamount,_transactioncurrencyid_value,industrycode,_ownerid_value,createdon"),
    "connections": ("connectionid", "_record1id_value,_record2id_value,statecode"),
    "opportunityproducts": ("opportunityproductid", "_opportunityid_value,_productid_value,productdescription"),
    "opportunities": ("opportunityid", "name,_parentaccountid_value,_customerid_value,statecode,estimatedvalue,"
                                       "_transactioncurrencyid_value,actualclosedate,_ownerid_value,createdon"),
    "emails": ("activityid", "subject,statecode,senton,actualend,scheduledstart,createdon,messageid,inreplyto,"
                             "_parentactivityid_value,conversationtrackingid,isemailfollowed,directioncode,"
                             "_regardingobjectid_value"),
    "appointments": ("activityid", "subject,statecode,actualstart,scheduledstart,scheduledend,createdon,"
                                   "actualdurationminutes,scheduleddurationminutes,_regardingobjectid_value"),
    "phonecalls": ("activityid", "subject,statecode,actualstart,scheduledstart,createdon,actualdurationminutes,"
                                 "scheduleddurationminutes,directioncode,_regardingobjectid_value"),
    "interactionforemails": ("interactionforemailid", "emailactivityid,interactiontype,emailinteractiontime"),
}
RECORD_TYPES = {"accounts": "account", "contacts": "contact", "leads": "lead", "opportunities": "opportunity"}
ACTIVITY_TYPES = {"emails": "email", "appointments": "meeting", "phonecalls": "phone_call"}
PARTY_COLUMNS = "participationtypemask,addressused,_partyid_value,_activityid_value"

# statecode: activities 0 Open, 1 Completed, 2 Canceled, 3 Scheduled (appointments only).
ACTIVITY_STATES = {0: "scheduled", 1: "completed", 2: "canceled", 3: "scheduled"}
OPPORTUNITY_STATUSES = {0: "open", 1: "won", 2: "lost"}
LEAD_STATUSES = {0: "open", 1: "qualified", 2: "disqualified"}
ACTIVE_STATUSES = {0: "active", 1: "inactive"}
# participationtypemask -> event field, per activity type (SPEC: meetings' required = to, optional = cc).
PARTY_ROLES = {
    "email": {1: "from", 2: "to", 3: "cc", 4: "bcc"},
    "meeting": {7: "from", 5: "to", 6: "cc"},
    "phone_call": {1: "from", 2: "to"},
}
INITIATOR = {"email": "sender", "meeting": "organizer", "phone_call": "caller (from)"}
INTERACTION_KINDS = {0: "opened", 1: "link_clicked", 2: "attachment_viewed"}  # 3 EmailReply: the reply is an e-mail


@dataclass(frozen=True)
class Directory:
    """Lookups a row cannot answer itself: users' primary SMTP addresses, currency codes, records'
    parent accounts, and the event id under which an e-mail row was published."""

    domains: InternalDomains
    users: Mapping[str, dict] = field(default_factory=dict)  # systemuserid -> {"email", "name"}
    currencies: Mapping[str, str] = field(default_factory=dict)  # transactioncurrencyid -> ISO code
    account_of: Mapping[str, str | None] = field(default_factory=dict)  # contact/lead/opportunity -> account
    email_event: Callable[[str], str | None] = lambda activityid: None


def is_deleted(row: dict) -> bool:
    return str(row.get("@odata.context", "")).endswith("$deletedEntity")


def deleted_id(row: dict) -> str:
    return row_id(row, "id")


def row_id(row: dict, key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedRow(f"no {key}")
    return value.lower()


def row_version(row: dict) -> int:
    """`versionnumber` (Edm.Int64; a string when the service is asked for IEEE754-compatible numbers)."""
    value = row.get("versionnumber")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedRow(f"versionnumber {value!r} is not a non-negative integer")
    return value


def lookup(row: dict, attribute: str) -> tuple[str | None, str | None]:
    """(row id, table logical name) of a lookup column."""
    value = row.get(f"_{attribute}_value")
    if not isinstance(value, str) or not value:
        return None, None
    return value.lower(), row.get(f"_{attribute}_value{LOOKUP}")


def label(row: dict, column: str) -> str | None:
    return row.get(column + FORMATTED)


def _choice(row: dict, column: str, choices: Mapping[int, str]) -> str:
    value = row.get(column)
    if value not in choices:
        raise MalformedRow(f"{column} {value!r} is not one of {sorted(choices)}")
    return choices[value]


def _owner(row: dict, d: Directory) -> str | None:
    owner, table = lookup(row, "ownerid")
    return d.users.get(owner, {}).get("email") if table == "systemuser" else None


def _emails(row: dict) -> list[str]:
    found = (normalize_address(row.get(f"emailaddress{n}")) for n in (1, 2, 3))
    return list(dict.fromkeys(a for a in found if a))


def _number(row: dict, column: str) -> float | int | None:
    value = row.get(column)
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise MalformedRow(f"{column} {value!r} is not a number")
    return value


def record_event(entity_set: str, row: dict, d: Directory) -> dict:
    """An account, contact or lead row as a record upsert (opportunities: `opportunity_base`)."""
    record_type = RECORD_TYPES[entity_set]
    record_id = row_id(row, TABLES[entity_set][0])
    event = {"schema": RECORD_SCHEMA, "op": "upsert", "type": record_type, "id": record_id,
             "version": row_version(row)}
    if record_type == "account":
        event.update(name=row.get("name"), account_id=lookup(row, "parentaccountid")[0],
                     status=_choice(row, "statecode", ACTIVE_STATUSES), industry=label(row, "industrycode"))
    elif record_type == "contact":
        account, table = lookup(row, "parentcustomerid")
        event.update(name=row.get("fullname"), account_id=account if table == "account" else None,
                     status=_choice(row, "statecode", ACTIVE_STATUSES), emails=_emails(row))
    else:
        currency, _ = lookup(row, "transactioncurrencyid")
        event.update(name=row.get("fullname"), account_id=lookup(row, "parentaccountid")[0],
                     status=_choice(row, "statecode", LEAD_STATUSES), emails=_emails(row),
                     estimated_value=_number(row, "estimatedamount"), currency=d.currencies.get(currency),
                     industry=label(row, "industrycode"))
    event.update(owner_id=_owner(row, d), created_at=timestamp(row.get("createdon"), "createdon"))
    return event


def opportunity_base(row: dict, d: Directory) -> dict:
    """The opportunity's own columns; stakeholders, products and industry are joined in later."""
    status = _choice(row, "statecode", OPPORTUNITY_STATUSES)
    account, _ = lookup(row, "parentaccountid")
    if account is None:
        customer, table = lookup(row, "customerid")
        account = customer if table == "account" else None
    currency, _ = lookup(row, "transactioncurrencyid")
    closed = timestamp(row.get("actualclosedate"), "actualclosedate") if status != "open" else None
    return {"version": row_version(row), "name": row.get("name"), "account_id": account, "status": status,
            "estimated_value": _number(row, "estimatedvalue"), "currency": d.currencies.get(currency),
            "owner_id": _owner(row, d), "created_at": timestamp(row.get("createdon"), "createdon"),
            "closed_at": closed}


def opportunity_event(opportunity_id: str, base: dict, industry: str | None, stakeholders: set[str],
                      products: set[str]) -> dict:
    fields = {k: v for k, v in base.items() if k != "version"}
    return {"schema": RECORD_SCHEMA, "op": "upsert", "type": "opportunity", "id": opportunity_id,
            "version": base["version"], **fields, "industry": industry, "products": sorted(products),
            "stakeholder_ids": sorted(stakeholders)}


def stakeholder_link(row: dict) -> tuple[str, str] | None:
    """(opportunity, contact) of an active connection between the two, in either direction."""
    if row.get("statecode") != 0:
        return None
    ends = lookup(row, "record1id"), lookup(row, "record2id")
    for (one, one_table), (other, other_table) in (ends, ends[::-1]):
        if one and other and one_table == "opportunity" and other_table == "contact":
            return one, other
    return None


def product_link(row: dict) -> tuple[str, str]:
    """(opportunity, product name) of an opportunity line; a write-in product has only a description."""
    opportunity, _ = lookup(row, "opportunityid")
    name = label(row, "_productid_value") or row.get("productdescription")
    if opportunity is None or not name:
        raise MalformedRow("opportunity product without opportunity or product name")
    return opportunity, name


def activity_party(row: dict, d: Directory) -> dict | None:
    """An activityparty row as a SPEC party; None when it identifies nobody (no record, no address)."""
    party_id, table = lookup(row, "partyid")
    address = normalize_address(row.get("addressused"))
    name = label(row, "_partyid_value")
    if table == "systemuser":
        user = d.users.get(party_id, {})
        email = user.get("email") or address
        return party(email or f"systemuser:{party_id}", "internal", "user", user.get("name") or name, email)
    if table in ("contact", "lead"):
        return party(party_id, "external", table, name, address, d.account_of.get(party_id))
    if table == "account":
        return party("email:" + address if address else party_id, "external", "unknown", name, address, party_id)
    return address_party(address, name, d.domains) if address else None


def _regarding(row: dict, d: Directory) -> dict | None:
    record_id, table = lookup(row, "regardingobjectid")
    if record_id is None or table not in RECORD_TYPES.values():
        return None
    account = None if table == "account" else d.account_of.get(record_id)
    return {"type": table, "id": record_id, "account_id": account}


def _direction(row: dict) -> str | None:
    value = row.get("directioncode")
    return None if value is None else ("outbound" if value else "inbound")


def activity_event(entity_set: str, row: dict, parties: list[dict], d: Directory) -> dict:
    """An email, appointment or phonecall row and its activityparty rows as an activity upsert."""
    kind = ACTIVITY_TYPES[entity_set]
    activity_id = row_id(row, "activityid")
    state = _choice(row, "statecode", ACTIVITY_STATES)
    roles: dict[str, list[dict]] = {"from": [], "to": [], "cc": [], "bcc": []}
    for party_row in parties:
        role = PARTY_ROLES[kind].get(party_row.get("participationtypemask"))
        mapped = activity_party(party_row, d) if role else None
        if mapped:
            roles[role].append(mapped)
    if not roles["from"]:
        raise MalformedRow(f"{kind} has no {INITIATOR[kind]} party")
    event = {"schema": ACTIVITY_SCHEMA, "op": "upsert", "id": activity_id, "version": row_version(row),
             "source": SOURCE, "type": kind, "state": state, "duration_minutes": None,
             "subject": row.get("subject"), "private": False, "tracked": False,
             "from": roles["from"][0], "to": roles["to"], "cc": roles["cc"], "bcc": roles["bcc"],
             "regarding": _regarding(row, d), "in_reply_to": None, "conversation_id": None}
    if kind == "email":
        parent, _ = lookup(row, "parentactivityid")
        event.update(
            id=email_activity_id(row.get("messageid")) or activity_id,
            occurred_at=first_instant(row, "senton", "actualend", "scheduledstart", "createdon"),
            in_reply_to=email_activity_id(row.get("inreplyto")) or (parent and d.email_event(parent)),
            conversation_id=row.get("conversationtrackingid"),
            tracked=bool(row.get("isemailfollowed")),
            direction=_direction(row),
        )
    else:
        start = first_instant(row, "actualstart", "scheduledstart", "createdon")
        event.update(occurred_at=start, duration_minutes=_duration(row, state, start))
        if kind == "phone_call":
            event["direction"] = _direction(row)
    event["occurred_at"] = format_timestamp(event["occurred_at"])
    return event


def _duration(row: dict, state: str, start) -> float | None:
    if state == "completed" and row.get("actualdurationminutes") is not None:
        return minutes(row["actualdurationminutes"])
    if row.get("scheduleddurationminutes") is not None:
        return minutes(row["scheduleddurationminutes"])
    end = instant(row.get("scheduledend"), "scheduledend")
    return minutes((end - start).total_seconds() / 60) if end else None


def interaction_event(row: dict, d: Directory) -> dict | None:
    """An interactionforemail row as an e-mail interaction; None for replies (their e-mail says it)."""
    interaction_id = row_id(row, "interactionforemailid")
    if row.get("interactiontype") == 3:
        return None
    kind = _choice(row, "interactiontype", INTERACTION_KINDS)
    email_row = row.get("emailactivityid")
    email_id = d.email_event(email_row.lower()) if isinstance(email_row, str) else None
    if email_id is None:
        raise MalformedRow(f"interaction for e-mail {email_row!r}, which this connector has not published")
    at = timestamp(row.get("emailinteractiontime"), "emailinteractiontime")
    if at is None:
        raise MalformedRow("no emailinteractiontime")
    return {"schema": INTERACTION_SCHEMA, "id": interaction_id, "email_id": email_id, "kind": kind, "at": at}
