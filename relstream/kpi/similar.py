"""Similar won deals: rank won opportunities by industry, products and deal size."""
from __future__ import annotations

import math
from typing import Iterable

from relstream.kpi.context import completed_until, hours, round2
from relstream.kpi.response import response_time
from relstream.model import Activity, RecordInfo, WonDeal

TOP = 5


def similarity(open_deal: RecordInfo, won: WonDeal) -> float:
    same_industry = 1.0 if open_deal.industry is not None and open_deal.industry == won.industry else 0.0
    a, b = set(open_deal.products), set(won.products)
    jaccard = len(a & b) / len(a | b) if a | b else 0.0
    v1, v2 = open_deal.estimated_value, won.estimated_value
    value = 0.0
    if v1 is not None and v2 is not None and v1 > 0 and v2 > 0:
        # |ln(v1/v2)| / ln 10 == |log10 v1 - log10 v2|, which is exact for powers of ten (100 vs 1000 -> 1)
        value = 1.0 - min(1.0, abs(math.log10(v1) - math.log10(v2)))
    # 12 decimals: float noise must neither make a zero score positive nor break a tie
    return round(0.35 * same_industry + 0.35 * jaccard + 0.30 * value, 12)


def won_deal_summary(record: RecordInfo, activities: Iterable[Activity], as_of: float) -> WonDeal:
    """A won opportunity's lifetime figures (no day window) for other deals to compare with."""
    done = completed_until(activities, as_of)
    responses = response_time(done, as_of)
    return WonDeal(
        id=record.id, name=record.name, industry=record.industry, products=record.products,
        estimated_value=record.estimated_value, closed_at=record.closed_at,
        activities=len(done), time_spent_hours=hours(sum(a.minutes_us for a in done)),
        avg_response_hours_by_us=responses["by_us"]["avg_hours"],
        response_rate_by_them=responses["by_them"]["rate"],
    )


def similar_won_deals(open_deal: RecordInfo, won_deals: list[WonDeal]) -> list[dict]:
    scored = [(similarity(open_deal, w), w) for w in won_deals if w.id != open_deal.id]
    scored = [(s, w) for s, w in scored if s > 0]
    scored.sort(key=lambda sw: sw[1].id)
    scored.sort(key=lambda sw: (sw[1].closed_at is not None, sw[1].closed_at or 0.0), reverse=True)
    scored.sort(key=lambda sw: sw[0], reverse=True)
    return [
        {"id": w.id, "name": w.name, "similarity": round2(s), "activities": w.activities,
         "time_spent_hours": w.time_spent_hours, "avg_response_hours_by_us": w.avg_response_hours_by_us,
         "response_rate_by_them": w.response_rate_by_them}
        for s, w in scored[:TOP]
    ]
