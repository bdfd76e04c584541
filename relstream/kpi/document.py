"""The KPI document of one record (SPEC §5): every widget that applies to the record's type."""
from __future__ import annotations

from relstream.kpi.context import Clock, in_window
from relstream.kpi.health import relationship_health
from relstream.kpi.interactions import (
    KindCounts, count_kinds, email_ratio_of, interactions_of, relationship_activities, time_spent,
)
from relstream.kpi.overview import overview
from relstream.kpi.people import strongest, tally, top_contacted
from relstream.kpi.response import email_engagement, response_time
from relstream.kpi.similar import similar_won_deals
from relstream.model import THEM, US, Activity, RecordInfo, WonDeal
from relstream.timeutil import format_timestamp

SCHEMA = "relstream.kpi.v1"
PEOPLE_TYPES = ("contact", "account")


def build_widgets(
    record_type: str, activities: list[Activity], clock: Clock,
    record: RecordInfo | None = None, won_deals: list[WonDeal] = (),
) -> dict:
    """The widgets from the record's whole history (`aggregate.RecordAggregate` keeps the same up to date)."""
    window = in_window(activities, clock)
    return assemble_widgets(
        record_type, record, won_deals, kinds=count_kinds(window), people=tally(window, clock.as_of),
        rows=relationship_activities(activities, clock), engagement=email_engagement(window, clock.as_of),
        spent=time_spent(window), responses=response_time(window, clock.as_of),
        health=relationship_health(activities, clock),
    )


def assemble_widgets(
    record_type: str, record: RecordInfo | None, won_deals: list[WonDeal], *, kinds: KindCounts,
    people: dict[str, list], rows: list[dict], engagement: dict, spent: dict, responses: dict, health: dict,
) -> dict:
    """Every widget that applies to the record type, from the parts both evaluations compute."""
    widgets = {
        "customer_interactions": interactions_of(kinds),
        "email_ratio": email_ratio_of(kinds),
        "most_contacted": top_contacted(people[THEM]),
        "most_contacted_by": top_contacted(people[US]),
        "relationship_activities": rows,
        "email_engagement": engagement,
        "time_spent": spent,
        "response_time": responses,
        "relationship_health": health,
    }
    if record_type in PEOPLE_TYPES:
        widgets["who_knows_whom"] = strongest(people[US])
    if record_type == "opportunity" and record is not None and record.status == "open":
        widgets["similar_won_deals"] = similar_won_deals(record, list(won_deals))
    widgets["overview"] = overview(widgets)
    return widgets


def build_document(
    record_type: str, record_id: str, activities: list[Activity], clock: Clock, computed_at: float,
    record: RecordInfo | None = None, won_deals: list[WonDeal] = (),
) -> dict:
    widgets = build_widgets(record_type, activities, clock, record, won_deals)
    return document_of(record_type, record_id, clock, computed_at, record, widgets)


def document_of(record_type: str, record_id: str, clock: Clock, computed_at: float, record: RecordInfo | None,
                widgets: dict) -> dict:
    return {
        "schema": SCHEMA,
        "entity": {"type": record_type, "id": record_id, "name": record.name if record else None},
        "as_of": format_timestamp(clock.as_of),
        "computed_at": format_timestamp(computed_at),
        "widgets": widgets,
    }
