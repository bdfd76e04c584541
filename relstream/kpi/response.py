"""How fast each side answers e-mails, and whether our tracked e-mails are opened and answered."""
from __future__ import annotations

from statistics import median

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


def _side_figures(emails: list[Activity], as_of: float) -> dict:
    delays = response_delays(emails, as_of)
    return {
        "responded": len(delays),
        "received": len(emails),
        "rate": ratio(len(delays), len(emails)),
        "avg_hours": round2(sum(delays) / len(delays)) if delays else None,
        "median_hours": round2(median(delays)) if delays else None,
    }


def response_time(scope: list[Activity], as_of: float) -> dict:
    """`by_us` answers e-mails from them; `by_them` answers e-mails from us."""
    return {
        "by_us": _side_figures(emails_from(scope, us=False), as_of),
        "by_them": _side_figures(emails_from(scope, us=True), as_of),
    }


def email_engagement(window: list[Activity], as_of: float) -> dict:
    tracked = [a for a in window if a.type == "email" and a.by_us and a.tracked]
    counts = {"opened": 0, "replied": 0, "link_clicked": 0, "attachment_viewed": 0}
    total_opens = 0
    last_opened: float | None = None
    for email in tracked:
        seen = [i for i in email.interactions if i.at <= as_of]
        kinds = {i.kind for i in seen}
        for kind in ("opened", "link_clicked", "attachment_viewed"):
            counts[kind] += kind in kinds
        opens = [i.at for i in seen if i.kind == "opened"]
        total_opens += len(opens)
        if opens:
            last_opened = max(opens) if last_opened is None else max(last_opened, *opens)
        counts["replied"] += any(r.side == THEM and r.at <= as_of for r in email.replies)
    n = len(tracked)
    return {
        "tracked": n, **counts,
        "total_opens": total_opens,
        "last_opened_at": None if last_opened is None else format_timestamp(last_opened),
        "open_rate": ratio(counts["opened"], n),
        "reply_rate": ratio(counts["replied"], n),
        "click_rate": ratio(counts["link_clicked"], n),
        "attachment_rate": ratio(counts["attachment_viewed"], n),
    }
