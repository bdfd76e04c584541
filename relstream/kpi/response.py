"""How fast each side answers e-mails, and whether our tracked e-mails are opened and answered."""
from __future__ import annotations

import math
from statistics import median
from typing import Sequence

from relstream.kpi.context import ratio, round2
from relstream.model import Activity, THEM
from relstream.timeutil import format_timestamp


def first_response_delay_hours(email: Activity, as_of: float) -> float | None:
    """Hours until the earliest completed reply from the other side (not before the e-mail), if any by
    `as_of` (the earliest such reply is the first answer once its time has come)."""
    first = email.first_answer_at
    if first is None or first > as_of:
        return None
    return (first - email.at) / 3600.0


def response_delays(emails: list[Activity], as_of: float) -> list[float]:
    """First-response delays (hours) of the e-mails that were answered."""
    return [d for d in (first_response_delay_hours(e, as_of) for e in emails) if d is not None]


def emails_from(scope: list[Activity], us: bool) -> list[Activity]:
    return [a for a in scope if a.type == "email" and a.by_us == us]


def side_figures(delays: Sequence[float], received: int) -> dict:
    """One side's answers from its first-response delays (any order) and the e-mails it received."""
    return {
        "responded": len(delays),
        "received": received,
        "rate": ratio(len(delays), received),
        "avg_hours": round2(math.fsum(delays) / len(delays)) if delays else None,  # fsum: order-free
        "median_hours": round2(median(delays)) if delays else None,
    }


def response_time(scope: list[Activity], as_of: float) -> dict:
    """`by_us` answers e-mails from them; `by_them` answers e-mails from us."""
    theirs, ours = emails_from(scope, us=False), emails_from(scope, us=True)
    return response_time_of(response_delays(theirs, as_of), len(theirs), response_delays(ours, as_of), len(ours))


def response_time_of(our_delays: Sequence[float], received_by_us: int,
                     their_delays: Sequence[float], received_by_them: int) -> dict:
    return {"by_us": side_figures(our_delays, received_by_us), "by_them": side_figures(their_delays, received_by_them)}


ENGAGEMENT_KINDS = ("opened", "replied", "link_clicked", "attachment_viewed")


def is_tracked(email: Activity) -> bool:
    return email.type == "email" and email.by_us and email.tracked


def engagement_of(email: Activity, as_of: float) -> tuple[set[str], list[float]]:
    """What one tracked e-mail got by `as_of`: the kinds of ENGAGEMENT_KINDS, and its opens."""
    seen = [i for i in email.interactions if i.at <= as_of]
    kinds = {i.kind for i in seen}
    if any(r.side == THEM and r.at <= as_of for r in email.replies):
        kinds.add("replied")
    return kinds, [i.at for i in seen if i.kind == "opened"]


def email_engagement(window: list[Activity], as_of: float) -> dict:
    tracked = [a for a in window if is_tracked(a)]
    counts = dict.fromkeys(ENGAGEMENT_KINDS, 0)
    total_opens = 0
    last_opened: float | None = None
    for email in tracked:
        kinds, opens = engagement_of(email, as_of)
        for kind in ENGAGEMENT_KINDS:
            counts[kind] += kind in kinds
        total_opens += len(opens)
        if opens:
            last_opened = max(opens) if last_opened is None else max(last_opened, *opens)
    return engagement_figures(len(tracked), counts, total_opens, last_opened)


def engagement_figures(tracked: int, counts: dict[str, int], total_opens: int, last_opened: float | None) -> dict:
    return {
        "tracked": tracked, **{kind: counts[kind] for kind in ENGAGEMENT_KINDS},
        "total_opens": total_opens,
        "last_opened_at": None if last_opened is None else format_timestamp(last_opened),
        "open_rate": ratio(counts["opened"], tracked),
        "reply_rate": ratio(counts["replied"], tracked),
        "click_rate": ratio(counts["link_clicked"], tracked),
        "attachment_rate": ratio(counts["attachment_viewed"], tracked),
    }
