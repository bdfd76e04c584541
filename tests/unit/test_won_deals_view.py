"""The won-deals view tells the projector how much a change matters: figures only, or the ranking."""
from __future__ import annotations

from dataclasses import replace

from agents.won_deals import WonDealsView
from relstream.model import WonDeal
from relstream.settings import Settings

DEAL = WonDeal(id="o-1", name="Deal", industry="retail", products=("seats",), estimated_value=1000.0,
               closed_at=1_700_000_000.0, activities=3, time_spent_hours=1.5, avg_response_hours_by_us=2.0,
               response_rate_by_them=0.5)


def _view() -> WonDealsView:
    return WonDealsView(Settings(), on_change=lambda ids: None)


def test_new_removed_and_ranking_changes_rerank_everyone():
    view = _view()
    assert view.apply(b"o-1", WonDealsView.encode(DEAL)) == "ranking"
    for field, value in (("industry", "energy"), ("products", ("seats", "support")), ("estimated_value", 5.0),
                         ("closed_at", 1_800_000_000.0)):
        changed = replace(DEAL, **{field: value})
        assert view.apply(b"o-1", WonDealsView.encode(changed)) == "ranking", field
        view.apply(b"o-1", WonDealsView.encode(DEAL))
    assert view.apply(b"o-1", None) == "ranking"
    assert view.apply(b"o-1", None) is None  # already gone


def test_figures_and_names_only_touch_the_deals_showing_them():
    view = _view()
    view.apply(b"o-1", WonDealsView.encode(DEAL))
    assert view.apply(b"o-1", WonDealsView.encode(DEAL)) is None
    assert view.apply(b"o-1", WonDealsView.encode(replace(DEAL, activities=4, time_spent_hours=2.0))) == "figures"
    assert view.apply(b"o-1", WonDealsView.encode(replace(DEAL, activities=4, time_spent_hours=2.0, name="New"))) == "figures"
    assert view.get("o-1").name == "New"
