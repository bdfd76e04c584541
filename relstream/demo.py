"""`relstream demo-data`: a synthetic but realistic organisation, published to Kafka.

The generator is pure and seeded, so demos, tests and benchmarks see the same bytes on every run; the
publisher is a thin aiokafka loop around it. The data exercises every input rule of SPEC §2 and the
identities of §7: GUID record ids, SMTP addresses as seller ids, e-mail threads, tracked e-mails and their
interactions, e-mails seen by both Dynamics and Exchange, edits, deletes, scheduled and canceled meetings,
and record changes published after the activities they re-attribute.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import math
import random
import sys
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import accumulate

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder

from relstream.settings import Settings
from relstream.timeutil import format_timestamp, parse_timestamp, to_epoch

FIRST_NAMES = (
    "Anna", "Bram", "Daan", "Emma", "Fleur", "Gijs", "Hanna", "Jeroen", "Julia", "Lars", "Lotte",
    "Maarten", "Noor", "Pieter", "Roos", "Sanne", "Sophie", "Thijs", "Wouter", "Yara", "Amelia",
    "Charlotte", "Emily", "George", "Grace", "Harry", "Jack", "James", "Lucy", "Oliver", "Olivia", "Thomas",
)
LAST_NAMES = (
    "de Vries", "Jansen", "de Jong", "Bakker", "Visser", "Smit", "Meijer", "van den Berg", "Mulder",
    "de Boer", "Dekker", "van Dijk", "Bos", "Vos", "Peters", "Hendriks", "Smith", "Jones", "Taylor",
    "Brown", "Williams", "Wilson", "Evans", "Walker", "O'Brien", "Clarke",
)
COMPANY_STEMS = (
    "Noordzee", "Polder", "Delta", "Brabant", "Hanze", "Rijnmond", "Kempen", "Oranje", "Zuidas", "Veluwe",
    "Thames", "Pennine", "Northgate", "Harbour", "Meridian", "Lindenhof", "Kroon", "Tulip", "Windmill", "Amstel",
)
INDUSTRY_WORDS = {
    "manufacturing": ("Machinebouw", "Precision Parts", "Metaal"),
    "logistics": ("Logistiek", "Freight", "Transport"),
    "retail": ("Retail", "Stores", "Winkels"),
    "energy": ("Energie", "Power", "Solar"),
    "healthcare": ("Zorg", "Medical", "Health"),
    "finance": ("Finance", "Capital", "Verzekeringen"),
    "software": ("Software", "Digital", "Systems"),
}
LEGAL_FORMS = ("B.V.", "N.V.", "Ltd", "Group")
PRODUCTS = ("seats", "support", "analytics", "storage", "mobile", "training", "integration", "consulting")
EMAIL_SUBJECTS = (
    "Introduction", "Follow-up on our call", "Pricing proposal", "Demo recap", "Contract draft",
    "Implementation timeline", "Quarterly review", "Renewal options", "Question about the invoice",
    "Meeting notes", "Reference customers", "Security questionnaire",
)
MEETING_SUBJECTS = (
    "Discovery session", "Product demo", "Quarterly business review", "Contract negotiation", "Kick-off",
    "Technical deep dive", "Lunch",
)
CALL_SUBJECTS = ("Quick check-in", "Pricing question", "Follow-up call", "Support escalation", "Intro call")
MEETING_MINUTES = (30, 45, 60, 60, 90)
OUR_DOMAIN = "ourco.example"
MINUTE, HOUR, DAY = 60, 3600, 86400
# Instants are whole seconds since the Unix epoch inside the generator: adding, comparing and sorting them
# is several times cheaper than with aware datetimes, and that is most of the generator's work.
Seconds = int

DEFAULT_ACTIVITIES_PER_ACCOUNT_DAY = 0.5  # a few touches a week per account, as a busy sales team logs
BENCH_ACCOUNTS = 200
BENCH_DAYS = 365
MESSAGES_PER_ACTIVITY = 1.5  # measured ~1.57 (interactions, Exchange copies, edits): a little over n, then trimmed


@dataclass(frozen=True, slots=True)
class Message:
    """One Kafka message: `topic` is the unprefixed name ("activities" or "records")."""

    topic: str
    key: str
    value: bytes


@dataclass
class _Opportunity:
    id: str
    name: str
    account_id: str
    status: str
    estimated_value: int
    industry: str
    products: list[str]
    owner: dict
    stakeholders: list[dict]
    created_at: Seconds
    closed_at: Seconds | None
    activity_count: int = 0

    def is_open_at(self, moment: Seconds) -> bool:
        return self.created_at <= moment and (self.closed_at is None or moment <= self.closed_at)


@dataclass
class _Account:
    id: str
    name: str
    industry: str
    team: list[dict]  # internal parties, owner first
    contacts: list[dict] = field(default_factory=list)
    opportunities: list[_Opportunity] = field(default_factory=list)
    activity_level: float = 1.0  # busy and sleepy accounts side by side, so health scores spread
    reply_probability: float = 0.6
    quiet_after: Seconds | None = None  # some accounts go silent: their health should drop


@dataclass
class _Lead:
    party: dict
    owner: dict
    status: str
    created_at: Seconds


@dataclass(frozen=True)
class _Scene:
    """Who talks to whom about what: the cast of one episode."""

    sellers: list[dict]
    customers: list[dict]
    regarding: dict | None
    reply_probability: float


class _Timeline:
    """Events keyed by their publication moment, rendered to messages in publication order.

    Dynamics and record events get their `version` at rendering, like Dataverse's row version: one
    counter increasing in publication order, so a later edit or delete always carries a higher version.
    """

    def __init__(self) -> None:
        self._events: list[tuple[Seconds, int, str, str, dict]] = []
        self._row_version = 0

    def add(self, published_at: Seconds, topic: str, key: str, payload: dict) -> None:
        self._events.append((published_at, len(self._events), topic, key, payload))

    def upserts(self) -> list[tuple[Seconds, dict]]:
        """Dynamics activity upserts added so far, for the passes that copy, edit or delete them."""
        return [
            (published_at, payload)
            for published_at, _, topic, _, payload in self._events
            if topic == "activities" and payload.get("op") == "upsert" and payload["source"] == "dynamics"
        ]

    def drain(self) -> list[Message]:
        self._events.sort()  # by moment, then by insertion: the sequence number is unique
        messages = []
        for _, _, topic, key, payload in self._events:
            if "version" in payload and payload["version"] is None:
                self._row_version += 1
                payload["version"] = self._row_version
            messages.append(Message(topic, key, orjson.dumps(payload)))
        self._events.clear()
        return messages


@contextmanager
def _cycle_collector_paused():
    """The generator allocates ~10 small acyclic containers per event; letting the cycle collector rescan
    the growing heap meanwhile costs a third of the run time. Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class SyntheticOrganisation:
    """A seeded organisation: sellers, accounts, contacts, leads, opportunities and their activity history.

    `history()` gives the backlog up to `end`; `live(now)` then continues it one activity at a time.
    """

    def __init__(self, *, seed: int, accounts: int, days: int, end: datetime) -> None:
        if accounts < 1 or days < 1:
            raise ValueError("accounts and days must be at least 1")
        self.rng = random.Random(seed)
        self.end = int(to_epoch(end))
        self.start = self.end - days * DAY
        self.timeline = _Timeline()
        self._used_addresses: set[str] = set()
        self.sellers = [self._seller() for _ in range(max(3, round(accounts / 3)))]
        self.accounts = [self._account() for _ in range(accounts)]
        self.leads = [self._lead() for _ in range(max(1, round(accounts / 3)))]
        self._account_weights = list(accumulate(account.activity_level for account in self.accounts))
        self._recent_outbound_emails: deque[dict] = deque(maxlen=20)

    # ----- identities -------------------------------------------------------------------------------
    def _guid(self) -> str:
        """Dataverse row ids are lower-case GUIDs (SPEC §7); derived from the seed to stay reproducible."""
        digits = f"{self.rng.getrandbits(128):032x}"
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

    def _person_name(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def _address(self, first: str, last: str, domain: str) -> str:
        """first.last@domain, numbered on collision so that every person has their own address."""
        local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        address, number = f"{local}@{domain}", 1
        while address in self._used_addresses:
            number += 1
            address = f"{local}{number}@{domain}"
        self._used_addresses.add(address)
        return address

    def _seller(self) -> dict:
        first, last = self._person_name()
        address = self._address(first, last, OUR_DOMAIN)
        return {"id": address, "side": "internal", "kind": "user", "name": f"{first} {last}", "email": address}

    def _account(self) -> _Account:
        rng = self.rng
        industry = rng.choice(tuple(INDUSTRY_WORDS))
        trade_name = f"{rng.choice(COMPANY_STEMS)} {rng.choice(INDUSTRY_WORDS[industry])}"
        domain = trade_name.lower().replace(" ", "") + ".example"
        account = _Account(
            id=self._guid(),
            name=f"{trade_name} {rng.choice(LEGAL_FORMS)}",
            industry=industry,
            team=rng.sample(self.sellers, k=rng.randint(1, min(3, len(self.sellers)))),
            activity_level=rng.choice((0.3, 0.6, 1.0, 1.0, 1.5, 2.5)),
            reply_probability=rng.uniform(0.3, 0.9),
        )
        span_days = (self.end - self.start) // DAY
        if span_days >= 42 and rng.random() < 0.2:
            account.quiet_after = self.end - rng.randint(21, min(60, span_days // 2)) * DAY
        for _ in range(rng.randint(2, 6)):
            first, last = self._person_name()
            address = self._address(first, last, domain)
            account.contacts.append({
                "id": self._guid(), "side": "external", "kind": "contact", "name": f"{first} {last}",
                "email": address, "account_id": account.id,
            })
        account.opportunities = [self._opportunity(account, trade_name) for _ in range(rng.randint(1, 3))]
        return account

    def _opportunity(self, account: _Account, trade_name: str) -> _Opportunity:
        rng = self.rng
        created_at = self._uniform_time(self.start - 30 * DAY, self.end - 3 * DAY)
        status = rng.choices(("open", "won", "lost"), weights=(60, 25, 15))[0]
        closed_at = None
        if status != "open":
            closed_at = min(created_at + rng.randint(20 * DAY, 120 * DAY), self.end - HOUR)
        products = rng.sample(PRODUCTS, k=rng.randint(1, 3))
        return _Opportunity(
            id=self._guid(),
            name=f"{trade_name} — {' + '.join(products)}",
            account_id=account.id,
            status=status,
            estimated_value=int(round(rng.lognormvariate(math.log(40_000), 1.0), -2)),
            industry=account.industry,
            products=products,
            owner=account.team[0],
            stakeholders=rng.sample(account.contacts, k=rng.randint(1, len(account.contacts) - 1)),
            created_at=created_at,
            closed_at=closed_at,
        )

    def _lead(self) -> _Lead:
        rng = self.rng
        first, last = self._person_name()
        company = rng.choice(COMPANY_STEMS).lower()
        party = {
            "id": self._guid(), "side": "external", "kind": "lead", "name": f"{first} {last}",
            "email": self._address(first, last, f"{company}-prospect.example"),
        }
        status = rng.choices(("open", "qualified", "disqualified"), weights=(60, 25, 15))[0]
        created_at = self._uniform_time(self.start - 30 * DAY, self.end - 5 * DAY)
        return _Lead(party=party, owner=rng.choice(self.sellers), status=status, created_at=created_at)

    # ----- records ----------------------------------------------------------------------------------
    def _publish_record(self, published_at: Seconds, payload: dict) -> None:
        self.timeline.add(published_at, "records", payload["id"], payload)

    @staticmethod
    def _record(record_type: str, record_id: str, **fields: object) -> dict:
        return {"schema": "relstream.record.v1", "op": "upsert", "type": record_type, "id": record_id,
                "version": None, **fields}

    def _opportunity_record(self, opportunity: _Opportunity) -> dict:
        return self._record(
            "opportunity", opportunity.id, name=opportunity.name, account_id=opportunity.account_id,
            status=opportunity.status, estimated_value=opportunity.estimated_value, currency="EUR",
            industry=opportunity.industry, products=opportunity.products, owner_id=opportunity.owner["id"],
            stakeholder_ids=[contact["id"] for contact in opportunity.stakeholders],
            created_at=format_timestamp(opportunity.created_at),
            closed_at=format_timestamp(opportunity.closed_at) if opportunity.closed_at else None,
        )

    def _publish_records(self) -> None:
        """The initial sync of the CRM, before any activity, so every party resolves to a known record."""
        at = self.start
        for account in self.accounts:
            self._publish_record(at, self._record(
                "account", account.id, name=account.name, status="active", industry=account.industry,
                owner_id=account.team[0]["id"]))
            for contact in account.contacts:
                self._publish_record(at, self._record(
                    "contact", contact["id"], name=contact["name"], account_id=account.id, status="active",
                    emails=[contact["email"]]))
        for lead in self.leads:
            self._publish_record(at, self._record(
                "lead", lead.party["id"], name=lead.party["name"], status=lead.status,
                emails=[lead.party["email"]], owner_id=lead.owner["id"], created_at=format_timestamp(lead.created_at)))
        for account in self.accounts:
            for opportunity in account.opportunities:
                self._publish_record(at, self._opportunity_record(opportunity))

    # ----- time -------------------------------------------------------------------------------------
    def _uniform_time(self, low: Seconds, high: Seconds) -> Seconds:
        return low + self.rng.randint(0, max(0, high - low))

    def _business_time(self, low: Seconds, high: Seconds) -> Seconds:
        """A moment in office hours (07-17 UTC), mostly on weekdays: what a CRM timeline looks like."""
        while True:
            moment = self._uniform_time(low, high) // DAY * DAY + self.rng.randrange(7 * HOUR, 17 * HOUR)
            weekday = (moment // DAY + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
            if low <= moment <= high and (weekday < 5 or self.rng.random() < 0.08):
                return moment

    # ----- activities -------------------------------------------------------------------------------
    def _activity(self, activity_type: str, state: str, at: Seconds, *, subject: str, sender: dict,
                  to: list[dict], cc: list[dict] | None = None, regarding: dict | None,
                  duration: int | None = None, in_reply_to: str | None = None, conversation_id: str | None = None,
                  tracked: bool = False) -> dict:
        """An activity event in SPEC §2.1 field order; a few are private, as real mailboxes have."""
        return {
            "schema": "relstream.activity.v1", "op": "upsert", "id": self._guid(),
            "version": None, "source": "dynamics", "type": activity_type, "state": state,
            "occurred_at": format_timestamp(at), "duration_minutes": duration, "subject": subject,
            "private": self.rng.random() < 0.04, "tracked": tracked, "from": sender, "to": to, "cc": cc or [],
            "bcc": [], "regarding": regarding, "in_reply_to": in_reply_to, "conversation_id": conversation_id,
        }

    def _publish_activity(self, published_at: Seconds, payload: dict) -> None:
        """History is published within [start, end], after the initial record sync and never past `end`."""
        self.timeline.add(min(max(published_at, self.start), self.end), "activities", payload["id"], payload)

    def _account_scene(self, account: _Account, at: Seconds) -> _Scene:
        """An account's people, mostly about one of its open deals (as sellers log it): then the deal's owner
        does most of the talking, with its stakeholders."""
        open_deals = [deal for deal in account.opportunities if deal.is_open_at(at)]
        if open_deals and self.rng.random() < 0.7:
            deal = self.rng.choice(open_deals)
            deal.activity_count += 1
            customers = deal.stakeholders if self.rng.random() < 0.8 else account.contacts
            return _Scene([deal.owner, *account.team], customers,
                          {"type": "opportunity", "id": deal.id, "account_id": account.id},
                          account.reply_probability)
        regarding = {"type": "account", "id": account.id} if self.rng.random() < 0.4 else None
        return _Scene(account.team, account.contacts, regarding, account.reply_probability)

    def _lead_scene(self, lead: _Lead) -> _Scene:
        return _Scene([lead.owner], [lead.party], {"type": "lead", "id": lead.party["id"]}, 0.5)

    def _episode_time_and_scene(self) -> tuple[Seconds, _Scene]:
        if self.rng.random() < 0.1:
            lead = self.rng.choice(self.leads)
            return self._business_time(max(self.start, lead.created_at), self.end), self._lead_scene(lead)
        account = self.rng.choices(self.accounts, cum_weights=self._account_weights)[0]
        at = self._business_time(self.start, account.quiet_after or self.end)
        return at, self._account_scene(account, at)

    def _customers(self, scene: _Scene) -> list[dict]:
        return self.rng.sample(scene.customers, k=min(len(scene.customers), self.rng.choice((1, 1, 1, 2, 3))))

    def _colleagues(self, scene: _Scene, seller: dict) -> list[dict]:
        others = [person for person in scene.sellers if person is not seller]
        return [self.rng.choice(others)] if others and self.rng.random() < 0.25 else []

    def _email_thread(self, at: Seconds, scene: _Scene) -> int:
        """An e-mail and its replies back and forth, with `in_reply_to` and one `conversation_id`."""
        rng = self.rng
        seller, customers = rng.choice(scene.sellers), self._customers(scene)
        subject = rng.choice(EMAIL_SUBJECTS)
        conversation_id = self._guid()
        if rng.random() < 0.7:
            sender, to, cc = seller, customers, self._colleagues(scene, seller)
        else:
            sender, to, cc = customers[0], [seller], customers[1:]
        previous, count = None, 0
        while at <= self.end:
            email = self._email(at, subject, sender, to, cc, scene.regarding, previous, conversation_id)
            count += 1
            answer_probability = scene.reply_probability if email["from"]["side"] == "internal" else 0.85
            if count >= 5 or rng.random() >= answer_probability:
                break
            median_hours = 10 if email["from"]["side"] == "internal" else 3
            at += int(rng.lognormvariate(math.log(median_hours), 0.9) * HOUR)
            sender, to, cc = to[0], [sender], []
            subject = subject if subject.startswith("Re: ") else f"Re: {subject}"
            previous = email
        return count

    def _email(self, at: Seconds, subject: str, sender: dict, to: list[dict], cc: list[dict],
               regarding: dict | None, previous: dict | None, conversation_id: str) -> dict:
        outbound = sender["side"] == "internal"
        email = self._activity(
            "email", "completed", at, subject=subject, sender=sender, to=to, cc=cc, regarding=regarding,
            in_reply_to=previous["id"] if previous else None, conversation_id=conversation_id,
            tracked=outbound and self.rng.random() < 0.5)
        if self.rng.random() < 0.03:
            email["bcc"] = [self.rng.choice(self.sellers)]
        self._publish_activity(at, email)
        if email["tracked"]:
            self._publish_interactions(at, email["id"])
        if outbound:
            self._recent_outbound_emails.append(email)
        return email

    def _publish_interactions(self, sent_at: Seconds, email_id: str) -> None:
        """What tracking reports: opens, clicks and attachment views, all after the send, none after `end`."""
        rng = self.rng
        kinds = ["opened"] * rng.choice((0, 0, 1, 1, 2, 3))
        if kinds and rng.random() < 0.3:
            kinds.append("link_clicked")
        if kinds and rng.random() < 0.2:
            kinds.append("attachment_viewed")
        for kind in kinds:
            at = sent_at + rng.randint(MINUTE, 3 * DAY)
            if at <= self.end:
                event = {"schema": "relstream.email_interaction.v1", "id": self._guid(), "email_id": email_id,
                         "kind": kind, "at": format_timestamp(at)}
                self.timeline.add(at, "activities", email_id, event)

    def _meeting(self, at: Seconds, scene: _Scene, state: str = "completed") -> int:
        """A meeting organised by us (mostly) or by the customer; completed ones are logged when they end."""
        rng = self.rng
        seller, customers = rng.choice(scene.sellers), self._customers(scene)
        if rng.random() < 0.85:
            organizer, required = seller, customers
        else:
            organizer, required = customers[0], [seller, *customers[1:]]
        if state == "completed" and rng.random() < 0.08:
            state = "canceled"
        duration = rng.choice(MEETING_MINUTES)
        meeting = self._activity(
            "meeting", state, at, subject=rng.choice(MEETING_SUBJECTS), sender=organizer, to=required,
            cc=self._colleagues(scene, seller), regarding=scene.regarding, duration=duration)
        logged_at = at + duration * MINUTE if state == "completed" else at - rng.randint(1, 7) * DAY
        self._publish_activity(logged_at, meeting)
        return 1

    def _phone_call(self, at: Seconds, scene: _Scene) -> int:
        seller, customer = self.rng.choice(scene.sellers), self.rng.choice(scene.customers)
        caller, callee = (seller, customer) if self.rng.random() < 0.75 else (customer, seller)
        duration = self.rng.randint(5, 30)
        call = self._activity("phone_call", "completed", at, subject=self.rng.choice(CALL_SUBJECTS),
                              sender=caller, to=[callee], regarding=scene.regarding, duration=duration)
        self._publish_activity(at + duration * MINUTE, call)
        return 1

    def _episode(self) -> int:
        """One piece of history; returns how many activities it produced."""
        at, scene = self._episode_time_and_scene()
        kind = self.rng.random()
        if kind < 0.55:
            return self._email_thread(at, scene)
        if kind < 0.78:
            return self._meeting(at, scene)
        return self._phone_call(at, scene)

    def _schedule_meetings(self) -> None:
        """Meetings booked in the coming 30 days: they feed *next interaction*."""
        for account in self.accounts:
            if account.quiet_after is None and self.rng.random() < 0.5:
                at = self._business_time(self.end + HOUR, self.end + 30 * DAY)
                scene = _Scene(account.team, account.contacts, None, account.reply_probability)
                self._meeting(at, scene, state="scheduled")

    # ----- later changes ----------------------------------------------------------------------------
    def _mirror_to_exchange(self, emails: list[tuple[Seconds, dict]]) -> None:
        """Some e-mails also reach us through Exchange: same id and content, Exchange's own version."""
        for published_at, email in self.rng.sample(emails, k=min(len(emails), max(1, len(emails) * 3 // 10))):
            copy = {**email, "version": self.rng.randint(1, 3), "source": "exchange"}
            self._publish_activity(published_at + self.rng.randint(1, 30) * MINUTE, copy)

    def _edit_and_delete(self, upserts: list[tuple[Seconds, dict]]) -> None:
        """Sellers fix subjects, cancel meetings after the fact and delete what they logged by mistake."""
        completed = [(at, payload) for at, payload in upserts if payload["state"] == "completed"]
        edits = max(1, len(completed) * 3 // 100)
        deletes = max(1, len(completed) * 15 // 1000)
        chosen = self.rng.sample(completed, k=min(len(completed), edits + deletes))
        for published_at, payload in chosen[:edits]:
            edited = {**payload, "version": None}
            if payload["type"] == "meeting":
                edited["state"] = "canceled"
            else:
                edited["subject"] = f"{payload['subject']} (updated)"
            self._publish_activity(published_at + self.rng.randint(1, 72) * HOUR, edited)
        for published_at, payload in chosen[edits:]:
            deletion = {"schema": "relstream.activity.v1", "op": "delete", "id": payload["id"],
                        "source": "dynamics", "version": None}
            self._publish_activity(published_at + self.rng.randint(1, 72) * HOUR, deletion)

    def _late_record_changes(self) -> None:
        """Published at `end`, after the activities: stakeholders added and deals won retroactively
        change attribution and similar-deal rankings (SPEC §3 rule 5)."""
        discussed = [deal for account in self.accounts for deal in account.opportunities
                     if deal.status == "open" and deal.activity_count]
        changed = self.rng.sample(discussed, k=min(len(discussed), 1 + len(discussed) // 5))
        for deal in changed:
            account = next(account for account in self.accounts if account.id == deal.account_id)
            newcomers = [contact for contact in account.contacts if contact not in deal.stakeholders]
            deal.stakeholders = [*deal.stakeholders, self.rng.choice(newcomers)]
            self._publish_record(self.end, self._opportunity_record(deal))
        for deal in discussed[: 1 + len(discussed) // 10]:
            deal.status, deal.closed_at = "won", self.end
            self._publish_record(self.end, self._opportunity_record(deal))

    # ----- public -----------------------------------------------------------------------------------
    def history(self, activities_per_account_day: float) -> list[Message]:
        """Everything up to `end`, in publication order: records, activities, then late record changes."""
        with _cycle_collector_paused():
            self._publish_records()
            target = round(len(self.accounts) * (self.end - self.start) / DAY * activities_per_account_day)
            produced = 0
            while produced < target:
                produced += self._episode()
            self._schedule_meetings()
            upserts = self.timeline.upserts()
            self._mirror_to_exchange([(at, payload) for at, payload in upserts if payload["type"] == "email"])
            self._edit_and_delete(upserts)
            self._late_record_changes()
            return self.timeline.drain()

    def live(self, now: datetime) -> list[Message]:
        """What happens `now`: a customer answering a recent e-mail of ours, an open of a tracked one, or a
        new e-mail, meeting or call, so that every widget of the dashboard keeps moving."""
        self.end = int(to_epoch(now))
        roll = self.rng.random()
        tracked = [email for email in self._recent_outbound_emails if email["tracked"]]
        if roll < 0.25 and self._recent_outbound_emails:
            self._customer_reply(self._recent_outbound_emails.popleft())
        elif roll < 0.4 and tracked:
            self._open_now(self.rng.choice(tracked))
        else:
            account = self.rng.choices(self.accounts, cum_weights=self._account_weights)[0]
            scene = self._account_scene(account, self.end)
            episode = self.rng.choice((self._email_thread, self._email_thread, self._meeting, self._phone_call))
            episode(self.end, scene)
        return self.timeline.drain()

    def _customer_reply(self, email: dict) -> None:
        subject = email["subject"] if email["subject"].startswith("Re: ") else f"Re: {email['subject']}"
        self._email(self.end, subject, email["to"][0], [email["from"]], [], email["regarding"], email,
                    email["conversation_id"])

    def _open_now(self, email: dict) -> None:
        event = {"schema": "relstream.email_interaction.v1", "id": self._guid(), "email_id": email["id"],
                 "kind": "opened", "at": format_timestamp(self.end)}
        self.timeline.add(self.end, "activities", email["id"], event)


def generate_organisation(*, seed: int, accounts: int, days: int, end: datetime,
                          activities_per_account_day: float = DEFAULT_ACTIVITIES_PER_ACCOUNT_DAY) -> list[Message]:
    """The history of a seeded organisation over the `days` before `end`, in publication order."""
    organisation = SyntheticOrganisation(seed=seed, accounts=accounts, days=days, end=end)
    return organisation.history(activities_per_account_day)


def generate_activity_events(n: int, *, seed: int, end: datetime) -> list[Message]:
    """About `n` activity-topic messages of a fixed 200-account organisation, its records first: the
    benchmark's input, realistic in shape (threads, edits, interactions) rather than uniform noise."""
    rate = n / (BENCH_ACCOUNTS * BENCH_DAYS * MESSAGES_PER_ACTIVITY)
    messages = generate_organisation(seed=seed, accounts=BENCH_ACCOUNTS, days=BENCH_DAYS, end=end,
                                     activities_per_account_day=rate)
    records = [message for message in messages if message.topic == "records"]
    activities = [message for message in messages if message.topic == "activities"]
    return records + activities[:n]


# ----- command line ---------------------------------------------------------------------------------
LIVE_PAUSE_SECONDS = (0.4, 0.9)  # ~1.5 new activities a second: visible on the dashboard, easy to follow
UNPACED_CHUNK = 10_000  # acknowledgements are awaited per chunk: errors surface early, memory stays flat
TOPICS = ("records", "activities")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accounts", type=_positive_int, default=12, help="customer accounts (default 12)")
    parser.add_argument("--days", type=_positive_int, default=120, help="days of history before --end (default 120)")
    parser.add_argument("--seed", type=int, default=7, help="random seed: same seed, same data (default 7)")
    parser.add_argument("--end", type=_timestamp, default=None,
                        help="end of the history, RFC 3339 (default: now, UTC)")
    parser.add_argument("--rate", type=float, default=0.0, help="events per second, 0 = as fast as possible")
    parser.add_argument("--live", action="store_true",
                        help="after the history, keep publishing new activities until Ctrl-C")
    parser.add_argument("--bootstrap", default=None, help="Kafka bootstrap servers (default RELSTREAM_KAFKA_BOOTSTRAP)")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def _timestamp(text: str) -> datetime:
    moment = parse_timestamp(text)
    if moment is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not an RFC 3339 date-time with an offset")
    return moment


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    bootstrap = args.bootstrap or settings.kafka_bootstrap
    end = args.end or datetime.now(timezone.utc)
    organisation = SyntheticOrganisation(seed=args.seed, accounts=args.accounts, days=args.days, end=end)
    history = organisation.history(DEFAULT_ACTIVITIES_PER_ACCOUNT_DAY)
    progress = _Progress(len(history))
    try:
        asyncio.run(_publish(organisation, history, settings, bootstrap, args.rate, args.live, progress))
    except KeyboardInterrupt:
        pass  # the way to end --live; the summary still says what was published
    progress.summary(bootstrap, settings)
    return 0


class _Progress:
    """What was sent, reported on stderr at most once a second so that large runs stay readable."""

    def __init__(self, history_size: int) -> None:
        self.history_size = history_size
        self.per_topic = {"activities": 0, "records": 0}
        self.started = time.monotonic()
        self._last_report = self.started

    @property
    def sent(self) -> int:
        return sum(self.per_topic.values())

    def count(self, messages: list[Message]) -> None:
        for message in messages:
            self.per_topic[message.topic] += 1
        now = time.monotonic()
        if now - self._last_report >= 1.0:
            self._last_report = now
            print(f"demo-data: {self.sent} sent (history: {self.history_size}), {self._rate(now):.0f} events/s",
                  file=sys.stderr)

    def _rate(self, now: float) -> float:
        return self.sent / max(now - self.started, 1e-9)

    def summary(self, bootstrap: str, settings: Settings) -> None:
        elapsed = time.monotonic() - self.started
        print(
            f"demo-data: published {self.sent} messages ({self.per_topic['activities']} to "
            f"{settings.topic('activities')}, {self.per_topic['records']} to {settings.topic('records')}) "
            f"on {bootstrap} in {elapsed:.1f} s ({self._rate(time.monotonic()):.0f} events/s)",
            file=sys.stderr,
        )


async def _publish(organisation: SyntheticOrganisation, history: list[Message], settings: Settings,
                   bootstrap: str, rate: float, live: bool, progress: _Progress) -> None:
    await _ensure_topics(bootstrap, [settings.topic(name) for name in TOPICS], settings.partitions)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20)
    await producer.start()
    try:
        publisher = _BatchPublisher(producer, settings, {
            name: sorted(await producer.partitions_for(settings.topic(name))) for name in TOPICS})
        await _paced(history, rate, publisher, progress)
        while live:
            await asyncio.sleep(random.uniform(*LIVE_PAUSE_SECONDS))
            await _paced(organisation.live(datetime.now(timezone.utc)), rate, publisher, progress)
    finally:
        await producer.stop()


async def _paced(messages: list[Message], rate: float, publisher: _BatchPublisher, progress: _Progress) -> None:
    """Publish in chunks: a tenth of a second's worth when paced to `rate`, large ones when not."""
    chunk = max(1, int(rate / 10)) if rate > 0 else UNPACED_CHUNK
    started = time.monotonic()
    for first in range(0, len(messages), chunk):
        if rate > 0:
            await asyncio.sleep(max(0.0, started + first / rate - time.monotonic()))
        await publisher.send(messages[first:first + chunk])
        progress.count(messages[first:first + chunk])


class _BatchPublisher:
    """Sends per-partition batches: twice the throughput of one `send` per message on the local stack.
    Partitions are chosen as the default keyed partitioner does, and order is kept within each one."""

    def __init__(self, producer: AIOKafkaProducer, settings: Settings, partitions: dict[str, list[int]]) -> None:
        self.producer = producer
        self.settings = settings
        self.partitions = partitions
        self.partitioner = DefaultPartitioner()

    async def send(self, messages: list[Message]) -> None:
        """Returns once every message is acknowledged, so that a failure surfaces here."""
        batches: dict[tuple[str, int], BatchBuilder] = {}
        acks = []
        for message in messages:
            key = message.key.encode()
            partitions = self.partitions[message.topic]
            target = (self.settings.topic(message.topic), self.partitioner(key, partitions, partitions))
            batch = batches.get(target)
            if batch is None:
                batch = batches[target] = self.producer.create_batch()
            if batch.append(key=key, value=message.value, timestamp=None) is None:  # full: send it, start anew
                acks.append(await self.producer.send_batch(batch, target[0], partition=target[1]))
                batch = batches[target] = self.producer.create_batch()
                batch.append(key=key, value=message.value, timestamp=None)
        for (topic, partition), batch in batches.items():
            acks.append(await self.producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*acks)


async def _ensure_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    """Create the input topics with the worker's partition count: broker auto-creation would use its own
    default. Replication 1 suits the single-broker stack; an existing topic is left as it is."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in missing])
        for topic, error_code, *_ in response.topic_errors:
            error = for_code(error_code)
            if error_code and error is not TopicAlreadyExistsError:
                raise error(f"cannot create topic {topic}")
    finally:
        await admin.close()
