"""The opportunity record joined from its row, its products, its stakeholders and its account's industry."""
from __future__ import annotations

from relstream.connectors.checkpoints import State
from relstream.connectors.opportunities import OpportunityJoin
from tests.connectors.harness import MemoryStore

BASE = {"version": 7, "name": "Deal", "account_id": "a-1", "status": "open", "estimated_value": 10.0,
        "currency": "EUR", "owner_id": "anna@ourco.example", "created_at": None, "closed_at": None}


def summary(events: list[dict]) -> list[tuple]:
    return [(e["id"], e["version"], e["industry"], e["products"], e["stakeholder_ids"]) for e in events]


def test_parts_seen_before_their_opportunity_wait_for_it():
    join = OpportunityJoin(State(MemoryStore(), {}))
    join.set_industry("a-1", "Retail")
    join.set_part("connections:1", "o-1", "stakeholder", "c-1")
    join.set_part("opportunityproducts:1", "o-1", "product", "seats")
    assert join.take_events() == []
    join.set_base("o-1", BASE)
    assert summary(join.take_events()) == [("o-1", 7, "Retail", ["seats"], ["c-1"])]
    assert join.take_events() == []


def test_every_part_change_republishes_and_state_rebuilds_the_indexes():
    state = State(MemoryStore(), {})
    join = OpportunityJoin(state)
    join.set_base("o-1", BASE)
    join.set_base("o-2", {**BASE, "account_id": "a-2"})
    join.set_part("connections:1", "o-1", "stakeholder", "c-1")
    join.take_events()
    join.set_part("connections:1", "o-1", "stakeholder", "c-1")  # unchanged: nothing to publish
    assert join.take_events() == []
    rebuilt = OpportunityJoin(state)  # as at the start of the next sync
    rebuilt.set_industry("a-1", "Logistics")
    rebuilt.set_part("connections:2", "o-1", "stakeholder", "c-2")
    rebuilt.set_part("opportunityproducts:1", "o-1", "product", "support")
    assert summary(rebuilt.take_events()) == [("o-1", 7, "Logistics", ["support"], ["c-1", "c-2"])]
    rebuilt.drop_part("connections:1")
    rebuilt.drop_industry("a-1")
    assert summary(rebuilt.take_events()) == [("o-1", 7, None, ["support"], ["c-2"])]
    rebuilt.drop_base("o-1")
    rebuilt.drop_part("connections:2")  # cascade delete after the opportunity itself
    assert rebuilt.take_events() == []
