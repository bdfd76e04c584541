"""The compact facts of one effective activity, as the KPI math sees them.

One `Activity` is everything any widget needs about an activity, independent of the record it is
attributed to (participants, time spent, replies and e-mail interactions are the same for every
record). It travels between stages, and is stored in every record it counts for, as JSON text
(`to_wire` / `from_wire`): an opaque string costs one object to move, store and compare, where a decoded
dict cost dozens per record; only the projection decodes it, once per activity revision.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import orjson

US = "internal"
THEM = "external"


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    side: str
    name: str | None


@dataclass(frozen=True, slots=True)
class Reply:
    """A completed e-mail answering this one: when, from which side."""

    at: float
    side: str
    id: str


@dataclass(frozen=True, slots=True)
class Interaction:
    kind: str  # opened | link_clicked | attachment_viewed
    at: float


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    type: str  # email | meeting | phone_call
    state: str  # completed | scheduled
    at: float  # occurred_at, epoch seconds
    initiator_side: str
    people: tuple[Person, ...]  # distinct persons among from/to/cc (bcc never counts)
    minutes_us: float
    minutes_them: float
    subject: str | None = None
    private: bool = False
    tracked: bool = False
    in_reply_to: str | None = None
    replies: tuple[Reply, ...] = field(default=())
    interactions: tuple[Interaction, ...] = field(default=())
    # Derived once per activity revision: documents read them for every activity at every evaluation.
    by_us: bool = field(init=False, repr=False, compare=False)
    first_answer_at: float | None = field(init=False, repr=False, compare=False)
    """The earliest reply from the other side not before the activity: its first response, once it is past."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_us", self.initiator_side == US)
        answers = [r.at for r in self.replies if r.side != self.initiator_side and r.at >= self.at]
        object.__setattr__(self, "first_answer_at", min(answers) if answers else None)

    @property
    def shown_subject(self) -> str | None:
        return None if self.private else self.subject

    def to_wire(self) -> str:
        return orjson.dumps({
            "id": self.id, "type": self.type, "state": self.state, "at": self.at,
            "ini": self.initiator_side, "people": [[p.id, p.side, p.name] for p in self.people],
            "mu": self.minutes_us, "mt": self.minutes_them, "subject": self.subject,
            "private": self.private, "tracked": self.tracked, "irt": self.in_reply_to,
            "rp": [[r.at, r.side, r.id] for r in self.replies],
            "ix": [[i.kind, i.at] for i in self.interactions],
        }).decode()

    @classmethod
    def from_wire(cls, text: str | dict) -> "Activity":
        """From `to_wire`'s text; a dict is the form changelogs written before facts became text hold."""
        wire = text if isinstance(text, dict) else orjson.loads(text)
        return cls(
            id=wire["id"], type=wire["type"], state=wire["state"], at=wire["at"],
            initiator_side=wire["ini"], people=tuple(Person(*p) for p in wire["people"]),
            minutes_us=wire["mu"], minutes_them=wire["mt"], subject=wire["subject"],
            private=wire["private"], tracked=wire["tracked"], in_reply_to=wire["irt"],
            replies=tuple(Reply(*r) for r in wire["rp"]),
            interactions=tuple(Interaction(*i) for i in wire["ix"]),
        )


@dataclass(frozen=True, slots=True)
class RecordInfo:
    """The latest version of a CRM record, as far as the KPIs need it."""

    type: str
    id: str
    name: str | None = None
    status: str | None = None
    industry: str | None = None
    products: tuple[str, ...] = ()
    estimated_value: float | None = None
    closed_at: float | None = None
    account_id: str | None = None
    stakeholder_ids: tuple[str, ...] = ()

    @classmethod
    def from_event(cls, event: dict) -> "RecordInfo":
        return cls(
            type=event["type"], id=event["id"], name=event.get("name"), status=event.get("status"),
            industry=event.get("industry"), products=tuple(event.get("products") or ()),
            estimated_value=event.get("estimated_value"), closed_at=event.get("closed_at"),
            account_id=event.get("account_id"), stakeholder_ids=tuple(event.get("stakeholder_ids") or ()),
        )


@dataclass(frozen=True, slots=True)
class WonDeal:
    """A won opportunity with its lifetime figures: the candidates of *similar won deals*."""

    id: str
    name: str | None
    industry: str | None
    products: tuple[str, ...]
    estimated_value: float | None
    closed_at: float | None
    activities: int
    time_spent_hours: float
    avg_response_hours_by_us: float | None
    response_rate_by_them: float | None
