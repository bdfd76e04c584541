"""Response models: the KPI document of SPEC §4–§5 and the API's own pages, for OpenAPI and its clients.

Documents are passed through as the worker wrote them (after subject redaction); these models describe them,
and the tests hold every example document against them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class RecordType(StrEnum):
    contact = "contact"
    account = "account"
    opportunity = "opportunity"
    lead = "lead"


class Widget(StrEnum):
    overview = "overview"
    customer_interactions = "customer_interactions"
    email_ratio = "email_ratio"
    most_contacted = "most_contacted"
    most_contacted_by = "most_contacted_by"
    relationship_activities = "relationship_activities"
    email_engagement = "email_engagement"
    time_spent = "time_spent"
    response_time = "response_time"
    relationship_health = "relationship_health"
    who_knows_whom = "who_knows_whom"
    similar_won_deals = "similar_won_deals"


ActivityType = Literal["email", "meeting", "phone_call"]
HealthStatus = Literal["good", "fair", "poor", "not_enough_info"]
Trend = Literal["improving", "steady", "declining", "not_enough_info"]


class Entity(BaseModel):
    type: RecordType
    id: str
    name: str | None = None


class Overview(BaseModel):
    highlights: list[str]


class UsThem(BaseModel):
    by_us: int
    by_them: int


class CustomerInteractions(BaseModel):
    email: UsThem
    meeting: UsThem
    phone_call: UsThem


class EmailRatio(BaseModel):
    by_them: float | None
    by_us: float | None


class ByType(BaseModel):
    email: int
    meeting: int
    phone_call: int


class ContactedPerson(BaseModel):
    id: str
    name: str | None
    count: int
    by_type: ByType
    last_interaction_at: datetime | None


class ActivityDay(BaseModel):
    day: date
    email_sent: int
    email_received: int
    meeting_sent: int
    meeting_received: int
    call_made: int
    call_received: int


class EmailEngagement(BaseModel):
    tracked: int
    opened: int
    replied: int
    link_clicked: int
    attachment_viewed: int
    total_opens: int
    last_opened_at: datetime | None
    open_rate: float | None
    reply_rate: float | None
    click_rate: float | None
    attachment_rate: float | None


class TimeSpent(BaseModel):
    by_us: float
    by_them: float
    by_us_hours: float
    by_them_hours: float


class ResponseSide(BaseModel):
    responded: int
    received: int
    rate: float | None
    avg_hours: float | None
    median_hours: float | None


class ResponseTime(BaseModel):
    by_us: ResponseSide
    by_them: ResponseSide


class Interaction(BaseModel):
    at: datetime
    type: ActivityType
    subject: str | None = Field(description="null without the `subjects` scope and for private activities")


class RelationshipHealth(BaseModel):
    score: int | None
    status: HealthStatus
    trend: Trend
    last_interaction: Interaction | None
    next_interaction: Interaction | None


class Acquaintance(BaseModel):
    id: str
    name: str | None
    strength: float
    count: int
    last_interaction_at: datetime | None


class SimilarDeal(BaseModel):
    id: str
    name: str | None
    similarity: float
    activities: int
    time_spent_hours: float
    avg_response_hours_by_us: float | None
    response_rate_by_them: float | None


class Widgets(BaseModel):
    """Every widget that applies to the record's type; absent ones do not apply (SPEC §4)."""

    overview: Overview | None = None
    customer_interactions: CustomerInteractions | None = None
    email_ratio: EmailRatio | None = None
    most_contacted: list[ContactedPerson] | None = None
    most_contacted_by: list[ContactedPerson] | None = None
    relationship_activities: list[ActivityDay] | None = None
    email_engagement: EmailEngagement | None = None
    time_spent: TimeSpent | None = None
    response_time: ResponseTime | None = None
    relationship_health: RelationshipHealth | None = None
    who_knows_whom: list[Acquaintance] | None = Field(None, description="contacts and accounts only")
    similar_won_deals: list[SimilarDeal] | None = Field(None, description="open opportunities only")


class KpiDocument(BaseModel):
    """The record's KPI document; from `…/kpis/{widget}` the same envelope with that one widget."""

    schema_: Literal["relstream.kpi.v1"] = Field(alias="schema")
    entity: Entity
    as_of: datetime
    computed_at: datetime
    widgets: Widgets


class PipelineItem(BaseModel):
    id: str
    name: str | None
    score: int
    status: HealthStatus
    trend: Trend
    as_of: datetime


class PipelinePage(BaseModel):
    type: RecordType
    total: int = Field(description="records matching the filter (records without a health score are never listed)")
    items: list[PipelineItem]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class Activity(BaseModel):
    id: str
    type: ActivityType
    initiator: Literal["us", "them"]
    occurred_at: datetime
    state: Literal["completed", "scheduled", "canceled"]
    subject: str | None = Field(description="null without the `subjects` scope and for private activities")
    private: bool


class ActivityPage(BaseModel):
    entity: Entity
    items: list[Activity] = Field(description="newest first; the worker keeps the latest 200")


class Status(BaseModel):
    status: str
