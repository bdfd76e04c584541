"""The opportunity record is a join: its own row, its products (opportunityproduct rows), its
stakeholders (connection rows to contacts) and its account's industry. Each part changes in its own
table's delta, so the parts live in connector state and any change re-publishes the opportunity.

State namespaces: `opportunities` (id → own columns), `opportunity_parts` (child row → [opportunity,
"stakeholder"|"product", value]), `industries` (account → industry label).
"""
from __future__ import annotations

from collections import defaultdict

from relstream.connectors.checkpoints import State
from relstream.connectors.dataverse_map import opportunity_event

_MISSING = object()


class OpportunityJoin:
    def __init__(self, state: State):
        self._state = state
        self._parts_of: dict[str, set[str]] = defaultdict(set)
        self._of_account: dict[str, set[str]] = defaultdict(set)
        self._dirty: set[str] = set()
        for key, (opportunity, _, _) in state.section("opportunity_parts").items():
            self._parts_of[opportunity].add(key)
        for opportunity, base in state.section("opportunities").items():
            self._index_account(opportunity, None, base.get("account_id"))

    def _index_account(self, opportunity: str, old: str | None, new: str | None) -> None:
        if old:
            self._of_account[old].discard(opportunity)
        if new:
            self._of_account[new].add(opportunity)

    def set_base(self, opportunity: str, base: dict) -> None:
        old = self._state.get("opportunities", opportunity) or {}
        self._index_account(opportunity, old.get("account_id"), base.get("account_id"))
        self._state.put("opportunities", opportunity, base)
        self._dirty.add(opportunity)

    def drop_base(self, opportunity: str) -> None:
        old = self._state.get("opportunities", opportunity) or {}
        self._index_account(opportunity, old.get("account_id"), None)
        self._state.drop("opportunities", opportunity)
        self._dirty.discard(opportunity)

    def set_part(self, key: str, opportunity: str, kind: str, value: str) -> None:
        part = [opportunity, kind, value]
        if self._state.get("opportunity_parts", key) == part:
            return
        self.drop_part(key)
        self._state.put("opportunity_parts", key, part)
        self._parts_of[opportunity].add(key)
        self._dirty.add(opportunity)

    def drop_part(self, key: str) -> None:
        old = self._state.get("opportunity_parts", key)
        if old is not None:
            self._state.drop("opportunity_parts", key)
            self._parts_of[old[0]].discard(key)
            self._dirty.add(old[0])

    def set_industry(self, account: str, industry: str | None) -> None:
        if self._state.get("industries", account, _MISSING) != industry:
            self._state.put("industries", account, industry)
            self._dirty |= self._of_account[account]

    def drop_industry(self, account: str) -> None:
        self._state.drop("industries", account)
        self._dirty |= self._of_account[account]

    def take_events(self) -> list[dict]:
        """Record upserts for every changed opportunity whose own row is known (candidate versions)."""
        events = []
        for opportunity in sorted(self._dirty):
            base = self._state.get("opportunities", opportunity)
            if base is None:
                continue  # parts arrived before the opportunity row: published when the row comes
            parts = [self._state.get("opportunity_parts", key) for key in self._parts_of[opportunity]]
            events.append(opportunity_event(
                opportunity, base, self._state.get("industries", base.get("account_id") or ""),
                {value for _, kind, value in parts if kind == "stakeholder"},
                {value for _, kind, value in parts if kind == "product"},
            ))
        self._dirty.clear()
        return events
