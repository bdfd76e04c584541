"""SPEC §4 and §5: the pure KPI widgets and the KPI document, on small hand-built activity lists.

Every expected number is worked out by hand from the SPEC wording (arithmetic in the comments).
as_of is 2026-11-02T12:00:00Z unless a test says otherwise; today = 2026-11-02.
"""
from __future__ import annotations

import math
from datetime import timezone

import pytest

from relstream.kpi.context import Clock, Params, in_window, ratio
from relstream.kpi.document import build_document, build_widgets
from relstream.kpi.health import relationship_health, status_of, trend_of
from relstream.kpi.interactions import customer_interactions, email_ratio, relationship_activities, time_spent
from relstream.kpi.overview import overview
from relstream.kpi.people import most_contacted, most_contacted_by, who_knows_whom
from relstream.kpi.response import email_engagement, response_time
from relstream.kpi.similar import similar_won_deals, won_deal_summary
from relstream.model import Activity, Interaction, Person, RecordInfo, Reply, WonDeal
from relstream.timeutil import parse_timestamp, to_epoch


def ts(text: str) -> float:
    return to_epoch(parse_timestamp(text))


AS_OF = ts("2026-11-02T12:00:00Z")
CLOCK = Clock(AS_OF)
DAY = 86400.0
HOUR = 3600.0
US, THEM = "internal", "external"

ANNA = Person("u-anna", US, "Anna")
BOB = Person("c-bob", THEM, "Bob")


def act(aid, type="email", at=AS_OF - DAY, by_us=True, people=(ANNA, BOB), state="completed",
        mu=0.0, mt=0.0, subject=None, private=False, tracked=False, replies=(), interactions=(),
        in_reply_to=None) -> Activity:
    return Activity(id=aid, type=type, state=state, at=at, initiator_side=US if by_us else THEM,
                    people=tuple(people), minutes_us=mu, minutes_them=mt, subject=subject,
                    private=private, tracked=tracked, in_reply_to=in_reply_to,
                    replies=tuple(replies), interactions=tuple(interactions))


def u(pid, name=None):
    return Person(pid, US, name)


def c(pid, name=None):
    return Person(pid, THEM, name)


# --------------------------------------------------------------------------------------------------
# rounding (§4 "Rounding")
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("num, den, expected", [
    (23, 40, 0.58),   # 0.575 exactly → half-even → 0.58
    (1, 8, 0.12),     # 0.125 exactly → half-even → 0.12
    (3, 8, 0.38),     # 0.375 → 0.38
    (5, 8, 0.62),     # 0.625 → 0.62
    (7, 8, 0.88),     # 0.875 → 0.88
    (1, 200, 0.0),    # 0.005 → 0.00
    (3, 200, 0.02),   # 0.015 exactly → 0.02 (the float 0.015 would round to 0.01)
    (1, 3, 0.33), (2, 3, 0.67), (0, 5, 0.0), (5, 5, 1.0), (40, 23, 1.74),  # 1.7391…
])
def test_ratio_half_even_on_the_exact_value(num, den, expected):
    assert ratio(num, den) == expected


@pytest.mark.parametrize("num", [0, 5])
def test_ratio_with_zero_divisor_is_null(num):
    assert ratio(num, 0) is None


# --------------------------------------------------------------------------------------------------
# the window (§4: days [today-364, today], up to as_of; RELSTREAM_WINDOW_DAYS)
# --------------------------------------------------------------------------------------------------

def ids(activities):
    return sorted(a.id for a in activities)


def test_default_window_edges():
    # today = 2026-11-02; today-364 = 2025-11-03 (2026 is not a leap year: today-365 = 2025-11-02)
    activities = [
        act("first-instant", at=ts("2025-11-03T00:00:00Z")),
        act("day-before", at=ts("2025-11-02T23:59:59Z")),
        act("at-as-of", at=AS_OF),
        act("after-as-of", at=AS_OF + 1),
        act("later-today", at=ts("2026-11-02T23:00:00Z")),
        act("scheduled-in-window", at=AS_OF - DAY, state="scheduled"),
        act("mid", at=ts("2026-05-01T08:00:00Z")),
    ]
    assert ids(in_window(activities, CLOCK)) == ["at-as-of", "first-instant", "mid"]


def test_window_days_parameter():
    clock = Clock(AS_OF, Params(window_days=30))
    # today-29 = 2026-10-04 (Nov 2 − 2 = Oct 31, − 27 more = Oct 4)
    activities = [act("in", at=ts("2026-10-04T00:00:00Z")), act("out", at=ts("2026-10-03T23:59:59Z"))]
    assert ids(in_window(activities, clock)) == ["in"]


def test_window_of_one_day_is_today_only():
    clock = Clock(AS_OF, Params(window_days=1))
    activities = [act("today", at=ts("2026-11-02T00:00:00Z")), act("yesterday", at=ts("2026-11-01T23:59:59Z"))]
    assert ids(in_window(activities, clock)) == ["today"]


def test_window_applies_to_widget_counts():
    activities = [
        act("in", at=ts("2025-11-03T00:00:00Z")),
        act("out", at=ts("2025-11-02T23:59:59Z")),
        act("future", at=AS_OF + 60),
        act("sched", at=AS_OF - DAY, state="scheduled"),
    ]
    widgets = build_widgets("contact", activities, CLOCK)
    assert widgets["customer_interactions"]["email"] == {"by_us": 1, "by_them": 0}
    widgets30 = build_widgets("contact", activities, Clock(AS_OF, Params(window_days=30)))
    assert widgets30["customer_interactions"]["email"] == {"by_us": 0, "by_them": 0}


# --------------------------------------------------------------------------------------------------
# customer_interactions, email_ratio
# --------------------------------------------------------------------------------------------------

def test_customer_interactions_counts_by_initiator():
    window = [act("e1"), act("e2"), act("e3", by_us=False), act("m1", type="meeting", by_us=False),
              act("p1", type="phone_call"), act("p2", type="phone_call"), act("p3", type="phone_call", by_us=False)]
    assert customer_interactions(window) == {
        "email": {"by_us": 2, "by_them": 1},
        "meeting": {"by_us": 0, "by_them": 1},
        "phone_call": {"by_us": 2, "by_them": 1},
    }


def test_customer_interactions_empty():
    counts = customer_interactions([])
    assert counts == {k: {"by_us": 0, "by_them": 0} for k in ("email", "meeting", "phone_call")}
    assert all(isinstance(v, int) for d in counts.values() for v in d.values())


def test_email_ratio_23_to_40():
    window = [act(f"u{i}") for i in range(40)] + [act(f"t{i}", by_us=False) for i in range(23)]
    window += [act("m", type="meeting", by_us=False), act("p", type="phone_call")]  # not e-mails
    # by_them = 23/40 = 0.575 → 0.58; by_us = 40/23 = 1.739… → 1.74
    assert email_ratio(window) == {"by_them": 0.58, "by_us": 1.74}


def test_email_ratio_1_to_8():
    window = [act(f"u{i}") for i in range(8)] + [act("t", by_us=False)]
    assert email_ratio(window) == {"by_them": 0.12, "by_us": 8.0}  # 1/8 = 0.125 → 0.12


def test_email_ratio_divisor_zero_is_null():
    window = [act(f"t{i}", by_us=False) for i in range(3)]
    assert email_ratio(window) == {"by_them": None, "by_us": 0.0}  # 3/0 undefined; 0/3 = 0


def test_email_ratio_no_emails():
    assert email_ratio([act("m", type="meeting")]) == {"by_them": None, "by_us": None}


# --------------------------------------------------------------------------------------------------
# most_contacted / most_contacted_by
# --------------------------------------------------------------------------------------------------

D1 = AS_OF - DAY  # 2026-11-01T12:00:00Z


def people_fixture():
    return [
        act("a1", "email", D1, True, [u("u-1", "Anna"), c("c-1", None), c("c-3", "Cee")]),
        act("a2", "meeting", AS_OF - 2 * DAY, True, [u("u-1", "A. de Vries"), c("c-1", "Robert"), c("c-2", "Dee")]),
        act("a3", "phone_call", AS_OF - 3 * DAY, False, [c("c-1", "Bobby"), u("u-2", "Ub")]),
        act("a4", "email", AS_OF - 10 * DAY, False, [c("c-2"), u("u-1"), u("u-3", "Three")]),
        act("a5", "email", D1, True, [u("u-2", None), c("c-4", "Four")]),
        act("a6", "meeting", AS_OF - 20 * DAY, False, [c("c-3"), c("c-4", "Old four"), c("c-5"), u("u-2", "U2 old")]),
    ]


def test_most_contacted_top3_ordering_and_cards():
    # c-1: a1,a2,a3 = 3 (last a1 -1d); c-3: a1,a6 = 2 (last -1d); c-4: a5,a6 = 2 (last -1d);
    # c-2: a2,a4 = 2 (last -2d); c-5: 1.  Order count desc, last desc, id asc → c-1, c-3, c-4.
    result = most_contacted(people_fixture(), AS_OF)
    assert result == [
        {"id": "c-1", "name": "Robert", "count": 3,  # a1 has no name; a2 (-2d) is newer than a3 (-3d)
         "by_type": {"email": 1, "meeting": 1, "phone_call": 1}, "last_interaction_at": "2026-11-01T12:00:00Z"},
        {"id": "c-3", "name": "Cee", "count": 2,
         "by_type": {"email": 1, "meeting": 1, "phone_call": 0}, "last_interaction_at": "2026-11-01T12:00:00Z"},
        {"id": "c-4", "name": "Four", "count": 2,
         "by_type": {"email": 1, "meeting": 1, "phone_call": 0}, "last_interaction_at": "2026-11-01T12:00:00Z"},
    ]


def test_most_contacted_by_internal_people():
    # u-1: a1,a2,a4 = 3 (last -1d); u-2: a3,a5,a6 = 3 (last a5 -1d) → tie → id asc; u-3: 1
    result = most_contacted_by(people_fixture(), AS_OF)
    assert [(r["id"], r["count"]) for r in result] == [("u-1", 3), ("u-2", 3), ("u-3", 1)]
    assert result[0]["name"] == "Anna"          # a1 (-1d) newest with a name
    assert result[1]["name"] == "Ub"            # a5 has none; a3 (-3d) newer than a6 (-20d)
    assert result[0]["by_type"] == {"email": 2, "meeting": 1, "phone_call": 0}
    assert result[1]["by_type"] == {"email": 1, "meeting": 1, "phone_call": 1}
    assert result[2] == {"id": "u-3", "name": "Three", "count": 1,
                         "by_type": {"email": 1, "meeting": 0, "phone_call": 0},
                         "last_interaction_at": "2026-10-23T12:00:00Z"}


def test_most_contacted_count_beats_recency():
    window = [act("x1", at=AS_OF - 10 * DAY, people=[ANNA, c("c-x")]),
              act("x2", at=AS_OF - 9 * DAY, people=[ANNA, c("c-x")]),
              act("y1", at=AS_OF - 60, people=[ANNA, c("c-y")])]
    assert [r["id"] for r in most_contacted(window, AS_OF)] == ["c-x", "c-y"]


def test_most_contacted_recency_beats_id():
    window = [act("x1", at=AS_OF - 10 * DAY, people=[ANNA, c("c-a")]),
              act("y1", at=AS_OF - 60, people=[ANNA, c("c-z")])]
    assert [r["id"] for r in most_contacted(window, AS_OF)] == ["c-z", "c-a"]


def test_most_contacted_same_person_twice_in_one_activity_counts_once():
    window = [act("x1", people=[ANNA, c("c-1", "Bob")])]
    assert most_contacted(window, AS_OF)[0]["count"] == 1


def test_name_tie_at_same_instant_takes_the_greater_activity_id():
    for order in (1, -1):
        window = [act("x-1", at=D1, people=[ANNA, c("c-1", "From x-1")]),
                  act("x-2", at=D1, people=[ANNA, c("c-1", "From x-2")])][::order]
        assert most_contacted(window, AS_OF)[0]["name"] == "From x-2"


def test_name_null_when_no_activity_carries_one():
    window = [act("x1", people=[ANNA, c("c-1")])]
    assert most_contacted(window, AS_OF)[0]["name"] is None


def test_most_contacted_empty():
    assert most_contacted([], AS_OF) == []
    assert most_contacted_by([], AS_OF) == []


def test_most_contacted_via_document_uses_the_window():
    activities = [act("old", at=ts("2025-11-02T23:59:59Z"), people=[ANNA, c("c-1")]),
                  act("old2", at=ts("2025-11-02T23:59:59Z"), people=[ANNA, c("c-1")]),
                  act("new", at=D1, people=[ANNA, c("c-2")])]
    widgets = build_widgets("contact", activities, CLOCK)
    assert [(r["id"], r["count"]) for r in widgets["most_contacted"]] == [("c-2", 1)]


# --------------------------------------------------------------------------------------------------
# relationship_activities (own 60-day window)
# --------------------------------------------------------------------------------------------------

def test_relationship_activities_rows_and_boundaries():
    # today-59 = 2026-09-04 (Nov 2 −31 = Oct 2, −28 = Sep 4); today-60 = 2026-09-03
    activities = [
        act("first", "email", ts("2026-09-04T00:00:00Z"), True),          # row 0 email_sent
        act("too-old", "email", ts("2026-09-03T23:59:59Z"), False),       # excluded
        act("oct1-late", "email", ts("2026-10-01T23:59:59Z"), False),     # row 27 email_received
        act("oct2-midnight", "email", ts("2026-10-02T00:00:00Z"), True),  # row 28 email_sent
        act("m-us", "meeting", ts("2026-10-02T10:00:00Z"), True),         # row 28 meeting_sent
        act("m-them", "meeting", ts("2026-11-02T11:59:59Z"), False),      # row 59 meeting_received
        act("call-us", "phone_call", AS_OF, True),                        # row 59 call_made
        act("call-them", "phone_call", ts("2026-11-01T00:00:00Z"), False),  # row 58 call_received
        act("after", "phone_call", AS_OF + 1, False),                     # excluded (after as_of)
        act("sched", "meeting", ts("2026-11-01T09:00:00Z"), True, state="scheduled"),  # excluded
    ]
    rows = relationship_activities(activities, CLOCK)
    assert len(rows) == 60
    assert rows[0]["day"] == "2026-09-04" and rows[59]["day"] == "2026-11-02"
    assert rows[27]["day"] == "2026-10-01" and rows[28]["day"] == "2026-10-02"
    zero = {"email_sent": 0, "email_received": 0, "meeting_sent": 0, "meeting_received": 0,
            "call_made": 0, "call_received": 0}
    expected = {i: dict(zero) for i in range(60)}
    expected[0]["email_sent"] = 1
    expected[27]["email_received"] = 1
    expected[28]["email_sent"] = 1
    expected[28]["meeting_sent"] = 1
    expected[58]["call_received"] = 1
    expected[59]["meeting_received"] = 1
    expected[59]["call_made"] = 1
    for i, row in enumerate(rows):
        assert {k: v for k, v in row.items() if k != "day"} == expected[i], i


def test_relationship_activities_days_are_consecutive_oldest_first():
    rows = relationship_activities([], CLOCK)
    days = [r["day"] for r in rows]
    assert days[:3] == ["2026-09-04", "2026-09-05", "2026-09-06"]
    assert days[-3:] == ["2026-10-31", "2026-11-01", "2026-11-02"]
    assert "2026-09-30" in days and "2026-10-31" in days and len(set(days)) == 60


def test_relationship_activities_ignores_the_kpi_window_setting():
    # a 30-day KPI window does not shorten the 60-day series
    rows = relationship_activities([act("x", at=ts("2026-09-10T12:00:00Z"))], Clock(AS_OF, Params(window_days=30)))
    assert rows[6]["day"] == "2026-09-10" and rows[6]["email_sent"] == 1


def test_relationship_activities_as_of_at_midnight():
    midnight = ts("2026-11-02T00:00:00Z")
    activities = [act("at", at=midnight, by_us=False), act("before", at=midnight - 1, by_us=False)]
    rows = relationship_activities(activities, Clock(midnight))
    assert rows[59]["day"] == "2026-11-02" and rows[59]["email_received"] == 1
    assert rows[58]["day"] == "2026-11-01" and rows[58]["email_received"] == 1


# --------------------------------------------------------------------------------------------------
# email_engagement
# --------------------------------------------------------------------------------------------------

def test_email_engagement():
    e1 = act("e1", at=AS_OF - 5 * DAY, tracked=True,
             interactions=[Interaction("opened", AS_OF - 4 * DAY), Interaction("opened", AS_OF - 3 * DAY),
                           Interaction("link_clicked", AS_OF - 3 * DAY)],
             replies=[Reply(AS_OF - 4 * DAY, THEM, "r1")])
    e2 = act("e2", at=AS_OF - 2 * DAY, tracked=True,
             interactions=[Interaction("opened", AS_OF + HOUR),            # after as_of: ignored
                           Interaction("attachment_viewed", AS_OF - DAY)],
             replies=[Reply(AS_OF - DAY, US, "r2")])                        # from us: not a reply by them
    e3 = act("e3", at=AS_OF - DAY, tracked=False, interactions=[Interaction("opened", AS_OF - 60)])  # untracked
    e4 = act("e4", at=AS_OF - DAY, by_us=False, tracked=True,
             interactions=[Interaction("opened", AS_OF - 60)])              # initiated by them
    e5 = act("e5", at=AS_OF - DAY, tracked=True, replies=[Reply(AS_OF + 60, THEM, "r5")])  # reply after as_of
    m1 = act("m1", type="meeting", tracked=True, interactions=[Interaction("opened", AS_OF - 60)])
    old = act("old", at=AS_OF - 400 * DAY, tracked=True, interactions=[Interaction("opened", AS_OF - 399 * DAY)])
    widgets = build_widgets("contact", [e1, e2, e3, e4, e5, m1, old], CLOCK)
    # tracked outbound e-mails in the window: e1, e2, e5 → 3
    assert widgets["email_engagement"] == {
        "tracked": 3, "opened": 1, "replied": 1, "link_clicked": 1, "attachment_viewed": 1,
        "total_opens": 2,                                  # e1's two opens
        "last_opened_at": "2026-10-30T12:00:00Z",         # as_of − 3 d
        "open_rate": 0.33, "reply_rate": 0.33, "click_rate": 0.33, "attachment_rate": 0.33,  # 1/3
    }


def test_email_engagement_reply_counts_even_if_reply_is_not_in_this_records_activities():
    # the reply from them is only known through the e-mail's replies (attributed elsewhere or nowhere)
    e1 = act("e1", tracked=True, replies=[Reply(AS_OF - 60, THEM, "elsewhere")])
    result = email_engagement([e1], AS_OF)
    assert (result["replied"], result["reply_rate"]) == (1, 1.0)


def test_email_engagement_rates_over_tracked_count():
    emails = [act(f"e{i}", tracked=True, interactions=[Interaction("opened", AS_OF - 60)] if i < 3 else [])
              for i in range(8)]
    result = email_engagement(emails, AS_OF)
    assert result["tracked"] == 8 and result["opened"] == 3 and result["total_opens"] == 3
    assert result["open_rate"] == 0.38  # 3/8 = 0.375 → half-even → 0.38
    assert result["reply_rate"] == 0.0 and result["click_rate"] == 0.0


def test_email_engagement_nothing_tracked():
    result = email_engagement([act("e1"), act("e2", by_us=False, tracked=True)], AS_OF)
    assert result == {"tracked": 0, "opened": 0, "replied": 0, "link_clicked": 0, "attachment_viewed": 0,
                      "total_opens": 0, "last_opened_at": None, "open_rate": None, "reply_rate": None,
                      "click_rate": None, "attachment_rate": None}


def test_email_engagement_interaction_exactly_at_as_of_counts():
    result = email_engagement([act("e1", tracked=True, interactions=[Interaction("opened", AS_OF)])], AS_OF)
    assert result["opened"] == 1 and result["last_opened_at"] == "2026-11-02T12:00:00Z"


# --------------------------------------------------------------------------------------------------
# time_spent
# --------------------------------------------------------------------------------------------------

def test_time_spent_over_the_window():
    activities = [
        act("e1", mu=5.0, mt=2.5),
        act("e2", by_us=False, mu=7.5, mt=7.5),
        act("m1", type="meeting", mu=60.0, mt=0.0),
        act("old", at=ts("2025-11-02T23:59:59Z"), mu=600.0, mt=600.0),   # outside the window
        act("sched", type="meeting", state="scheduled", mu=100.0, mt=100.0),
        act("late", at=AS_OF + 1, mu=50.0, mt=50.0),
    ]
    result = build_widgets("account", activities, CLOCK)["time_spent"]
    # us: 5 + 7.5 + 60 = 72.5 min = 1.2083 h → 1.21; them: 2.5 + 7.5 = 10 min = 0.1667 h → 0.17
    assert result == {"by_us": 72.5, "by_them": 10.0, "by_us_hours": 1.21, "by_them_hours": 0.17}


@pytest.mark.parametrize("mins, hours", [(45.0, 0.75), (90.0, 1.5), (0.0, 0.0), (1.0, 0.02), (2.5, 0.04),
                                         (1440.0, 24.0)])
def test_time_spent_hours(mins, hours):
    # 1/60 = 0.01667 → 0.02; 2.5/60 = 0.041667 → 0.04
    assert time_spent([act("x", mu=mins, mt=mins)])["by_us_hours"] == hours


# --------------------------------------------------------------------------------------------------
# response_time
# --------------------------------------------------------------------------------------------------

T0 = AS_OF - 10 * DAY


def test_response_time_by_us_rules():
    emails = [
        # first response from the other side: 1 h (same-side 0.5 h ignored; 3 h later is not the first)
        act("m1", at=T0, by_us=False, replies=[Reply(T0 + 3 * HOUR, US, "r-b"), Reply(T0 + HOUR, US, "r-a"),
                                               Reply(T0 + 0.5 * HOUR, THEM, "r-t")]),
        # reply before M ignored → 4 h
        act("m2", at=T0 + DAY, by_us=False, replies=[Reply(T0 + DAY - HOUR, US, "r-early"),
                                                     Reply(T0 + DAY + 4 * HOUR, US, "r-2")]),
        # reply after as_of ignored → unanswered
        act("m3", at=T0 + 2 * DAY, by_us=False, replies=[Reply(AS_OF + HOUR, US, "r-3")]),
        act("m4", at=T0 + 3 * DAY, by_us=False),                             # unanswered
        act("m5", at=T0 + 4 * DAY, by_us=False, replies=[Reply(T0 + 4 * DAY + 10 * HOUR, US, "r-5")]),  # 10 h
        act("mtg", type="meeting", by_us=False, replies=[Reply(AS_OF - 60, US, "r-x")]),  # not an e-mail
    ]
    result = response_time(emails, AS_OF)
    # received 5, responded 3 → 0.6; delays 1, 4, 10 → avg 5.0, median 4.0
    assert result["by_us"] == {"responded": 3, "received": 5, "rate": 0.6, "avg_hours": 5.0, "median_hours": 4.0}
    assert result["by_them"] == {"responded": 0, "received": 0, "rate": None, "avg_hours": None,
                                 "median_hours": None}


def test_response_time_by_them_even_count_median():
    emails = [
        act("n1", at=T0, replies=[Reply(T0 + 2 * HOUR, THEM, "r1")]),                     # 2
        act("n2", at=T0 + DAY, replies=[Reply(T0 + DAY, THEM, "r2")]),                    # 0 (same instant counts)
        act("n3", at=T0 + 2 * DAY, replies=[Reply(T0 + 2 * DAY + HOUR, US, "own"),
                                            Reply(T0 + 2 * DAY + 3.5 * HOUR, THEM, "r3")]),  # 3.5
        act("n4", at=T0 + 3 * DAY, replies=[Reply(T0 + 3 * DAY + 4.5 * HOUR, THEM, "r4")]),  # 4.5
    ]
    result = response_time(emails, AS_OF)["by_them"]
    # sorted 0, 2, 3.5, 4.5 → median (2 + 3.5)/2 = 2.75; avg 10/4 = 2.5; rate 4/4
    assert result == {"responded": 4, "received": 4, "rate": 1.0, "avg_hours": 2.5, "median_hours": 2.75}


def test_response_time_avg_rounding_and_rate_half_even():
    emails = [act("a", at=T0, by_us=False, replies=[Reply(T0 + HOUR, US, "r")]),
              act("b", at=T0, by_us=False, replies=[Reply(T0 + HOUR, US, "r")]),
              act("c", at=T0, by_us=False, replies=[Reply(T0 + 2 * HOUR, US, "r")])]
    emails += [act(f"x{i}", at=T0, by_us=False) for i in range(5)]
    result = response_time(emails, AS_OF)["by_us"]
    # delays 1, 1, 2 → avg 4/3 = 1.333 → 1.33; median 1; rate 3/8 = 0.375 → 0.38
    assert result == {"responded": 3, "received": 8, "rate": 0.38, "avg_hours": 1.33, "median_hours": 1.0}


def test_response_time_nothing_answered():
    result = response_time([act("a", by_us=False), act("b", by_us=False)], AS_OF)["by_us"]
    assert result == {"responded": 0, "received": 2, "rate": 0.0, "avg_hours": None, "median_hours": None}


def test_response_time_only_emails_in_the_window():
    activities = [act("old", at=ts("2025-11-02T23:59:59Z"), by_us=False,
                      replies=[Reply(ts("2025-11-03T01:00:00Z"), US, "r")]),
                  act("new", at=T0, by_us=False, replies=[Reply(T0 + 6 * HOUR, US, "r2")])]
    result = build_widgets("lead", activities, CLOCK)["response_time"]["by_us"]
    assert result == {"responded": 1, "received": 1, "rate": 1.0, "avg_hours": 6.0, "median_hours": 6.0}


# --------------------------------------------------------------------------------------------------
# relationship_health
# --------------------------------------------------------------------------------------------------

def health_fixture():
    return [
        act("a1", "email", AS_OF - 2 * DAY, True, subject="Pricing", private=True,
            replies=[Reply(AS_OF - DAY, THEM, "r-1")]),
        act("a2", "email", AS_OF - 10 * DAY, False),
        act("a3", "meeting", AS_OF - 40 * DAY, True),
        act("a4", "email", AS_OF - 50 * DAY, True),
        act("a5", "phone_call", AS_OF - 20 * DAY, False),
        act("s0", "email", AS_OF - DAY, True, state="scheduled", subject="Past, still scheduled"),
        act("s1", "meeting", AS_OF + 3 * DAY, True, state="scheduled", subject="Kick-off"),
        act("s2", "phone_call", AS_OF + 5 * DAY, True, state="scheduled", subject="Later"),
    ]


def test_health_worked_example():
    # now: R = 1 − 2/(4·7) = 26/28 = 0.92857 (last completed a1, 2 d ago)
    #      A = min(1, W30/(30/7)); W30 = a1, a2, a5 = 3 → 3·7/30 = 0.7
    #      E = min(1, 2·them/(us+them)) = 2·2/5 = 0.8 (us a1,a3,a4; them a2,a5)
    #      P = by_them rate over e-mails from us (a1 answered, a4 not) = 1/2
    #      100·(0.3·0.92857 + 0.3·0.7 + 0.2·0.8 + 0.2·0.5) = 74.857 → 75 → good
    # then (as_of − 14 d = 2026-10-19T12:00Z): completed a3 (−26 d rel.), a4, a5 (−6 d rel.) → 3
    #      R = 1 − 6/28 = 0.78571; A: (−44 d, −14 d] holds a3, a5 → 2·7/30 = 0.46667
    #      E = 2·1/3 = 0.66667; P = 0/1 (a4 unanswered) = 0
    #      100·(0.23571 + 0.14 + 0.13333 + 0) = 50.90 → 51;  75 − 51 = 24 ≥ 5 → improving
    result = relationship_health(health_fixture(), CLOCK)
    assert result == {
        "score": 75, "status": "good", "trend": "improving",
        "last_interaction": {"at": "2026-10-31T12:00:00Z", "type": "email", "subject": None},  # private
        "next_interaction": {"at": "2026-11-05T12:00:00Z", "type": "meeting", "subject": "Kick-off"},
    }


def test_health_frequency_parameter():
    acts = [act(f"e{i}", at=AS_OF - 6 * DAY) for i in range(3)]  # by us, unanswered
    # F = 14: R = 1 − 6/56 = 0.89286; A = min(1, 3/(30/14) = 1.4) = 1; E = 0; P = 0/3 = 0
    #         100·(0.26786 + 0.3) = 56.79 → 57 fair
    result = relationship_health(acts, Clock(AS_OF, Params(frequency_days=14)))
    assert (result["score"], result["status"]) == (57, "fair")
    # F = 7: R = 1 − 6/28 = 0.78571; A = 3/(30/7) = 0.7 → 100·(0.23571 + 0.21) = 44.57 → 45 fair
    result = relationship_health(acts, CLOCK)
    assert (result["score"], result["status"]) == (45, "fair")
    # no completed activity 14 days earlier → trend not_enough_info
    assert result["trend"] == "not_enough_info"


@pytest.mark.parametrize("weight, score, status", [
    (1.5, 54, "fair"),   # A = min(1, 4.5/(30/7) = 1.05) = 1 → 100·(0.23571 + 0.3) = 53.57 → 54
    (0.5, 34, "poor"),   # A = 1.5/(30/7) = 0.35 → 100·(0.23571 + 0.105) = 34.07 → 34
])
def test_health_weights(weight, score, status):
    acts = [act(f"e{i}", at=AS_OF - 6 * DAY) for i in range(3)]
    params = Params(weights={"email": weight, "meeting": 1.0, "phone_call": 1.0})
    result = relationship_health(acts, Clock(AS_OF, params))
    assert (result["score"], result["status"]) == (score, status)


def test_health_days_since_last_is_a_real_number():
    # F = 1 → 4F = 4 days; last e-mail 36 h = 1.5 d ago: R = 1 − 1.5/4 = 0.625
    # A = min(1, 3/(30/1)) = 0.1; E = 2·3/3 → 1; P = no e-mails from us → 0.5
    # 100·(0.1875 + 0.03 + 0.2 + 0.1) = 51.75 → 52 (whole days would give 55.5 or 48)
    acts = [act(f"t{i}", at=AS_OF - 36 * HOUR, by_us=False) for i in range(3)]
    assert relationship_health(acts, Clock(AS_OF, Params(frequency_days=1)))["score"] == 52


def test_health_declining_trend():
    acts = [act(f"t{i}", at=AS_OF - 15 * DAY, by_us=False) for i in range(3)]
    # now:  R = 1 − 15/28 = 0.46429; A = 0.7; E = 1; P = 0.5 → 100·(0.13929 + 0.21 + 0.2 + 0.1) = 64.93 → 65
    # then: R = 1 − 1/28 = 0.96429;  A = 0.7; E = 1; P = 0.5 → 100·(0.28929 + 0.21 + 0.3) = 79.93 → 80
    result = relationship_health(acts, CLOCK)
    assert (result["score"], result["status"], result["trend"]) == (65, "good", "declining")


def test_health_steady_poor():
    acts = [act(f"t{i}", at=AS_OF - 100 * DAY, by_us=False) for i in range(3)]
    # R = 0 (100 d ≫ 28); A = 0; E = 1; P = 0.5 → 100·(0.2 + 0.1) = 30 both now and 14 d earlier
    result = relationship_health(acts, CLOCK)
    assert (result["score"], result["status"], result["trend"]) == (30, "poor", "steady")


def test_health_no_activity_in_window_reciprocity_zero_and_p_half():
    acts = [act(f"t{i}", at=AS_OF - 400 * DAY, by_us=False) for i in range(3)]
    # ≥ 3 completed ever; R = 0; A = 0; E = 0 (window has none); P = 0.5 (rate null) → 100·0.1 = 10
    result = relationship_health(acts, CLOCK)
    assert (result["score"], result["status"], result["trend"]) == (10, "poor", "steady")
    assert result["last_interaction"] == {"at": "2025-09-28T12:00:00Z", "type": "email", "subject": None}


def test_health_all_by_us_unanswered_scores_zero():
    acts = [act(f"e{i}", at=AS_OF - (100 + i) * DAY) for i in range(3)]
    # R 0, A 0, E = 0/3 = 0, P = 0/3 = 0 → 0
    assert relationship_health(acts, CLOCK)["score"] == 0


def test_health_fewer_than_three_completed():
    acts = [act("c1"), act("c2", at=AS_OF - 2 * DAY),
            act("s1", state="scheduled", at=AS_OF + DAY), act("s2", state="scheduled", at=AS_OF - DAY),
            act("late", at=AS_OF + 60)]  # completed after as_of does not count yet
    result = relationship_health(acts, CLOCK)
    assert (result["score"], result["status"], result["trend"]) == (None, "not_enough_info", "not_enough_info")
    assert result["last_interaction"]["at"] == "2026-11-01T12:00:00Z"
    assert result["next_interaction"]["at"] == "2026-11-03T12:00:00Z"


@pytest.mark.parametrize("score, status", [(None, "not_enough_info"), (0, "poor"), (39, "poor"), (40, "fair"),
                                           (59, "fair"), (60, "good"), (100, "good")])
def test_status_thresholds(score, status):
    assert status_of(score) == status


@pytest.mark.parametrize("now, then, trend", [
    (65, 60, "improving"), (64, 60, "steady"), (56, 60, "steady"), (55, 60, "declining"),
    (60, 60, "steady"), (100, 0, "improving"), (None, 50, "not_enough_info"), (50, None, "not_enough_info"),
])
def test_trend_thresholds(now, then, trend):
    assert trend_of(now, then) == trend


def test_next_interaction_at_as_of_and_tie_by_smaller_id():
    acts = [act("s-b", state="scheduled", at=AS_OF, subject="B"),
            act("s-a", state="scheduled", at=AS_OF, subject="A", type="meeting"),
            act("s-0", state="scheduled", at=AS_OF - 1, subject="past")]
    assert relationship_health(acts, CLOCK)["next_interaction"] == {
        "at": "2026-11-02T12:00:00Z", "type": "meeting", "subject": "A"}


def test_next_interaction_private_subject_hidden():
    acts = [act("s", state="scheduled", at=AS_OF + DAY, subject="Secret", private=True, type="phone_call")]
    assert relationship_health(acts, CLOCK)["next_interaction"] == {
        "at": "2026-11-03T12:00:00Z", "type": "phone_call", "subject": None}


def test_last_interaction_tie_by_greater_id_and_ignores_future():
    acts = [act("x-1", at=D1, subject="one"), act("x-2", at=D1, subject="two", type="meeting"),
            act("late", at=AS_OF + 1, subject="late")]
    result = relationship_health(acts, CLOCK)
    assert result["last_interaction"] == {"at": "2026-11-01T12:00:00Z", "type": "meeting", "subject": "two"}
    assert result["next_interaction"] is None


def test_no_interactions_at_all():
    result = relationship_health([], CLOCK)
    assert result == {"score": None, "status": "not_enough_info", "trend": "not_enough_info",
                      "last_interaction": None, "next_interaction": None}


# --------------------------------------------------------------------------------------------------
# who_knows_whom
# --------------------------------------------------------------------------------------------------

def test_who_knows_whom_strength_top5_and_ties():
    activities = [
        act("w1", "email", AS_OF - 90 * DAY, True, [u("u-1", "Anna"), c("c-1")]),          # 0.5^(90/90) = 0.5
        act("w2", "meeting", AS_OF, True, [u("u-1"), u("u-2", "Ub"), c("c-1")]),           # 0.5^0 = 1
        act("w3", "phone_call", AS_OF - 180 * DAY, False, [c("c-1"), u("u-2", "Old")]),     # 0.5^2 = 0.25
        act("w4", "email", AS_OF - 45 * DAY, True, [u("u-3"), c("c-1")]),                  # 0.5^0.5 = 0.7071
        act("w5", "email", AS_OF - 90 * DAY, True, [u("u-5"), c("c-1")]),                  # 0.5
        act("w6", "email", AS_OF - 90 * DAY, True, [u("u-4"), c("c-1")]),                  # 0.5
        act("w7", "email", AS_OF - 90 * DAY, True, [u("u-0"), c("c-1")]),                  # 0.5
        act("w8", "email", AS_OF - 400 * DAY, True, [u("u-1"), c("c-1")]),                 # outside window
    ]
    result = build_widgets("contact", activities, CLOCK)["who_knows_whom"]
    # u-1 = 0.5 + 1 = 1.5; u-2 = 1 + 0.25 = 1.25; u-3 = 0.71; then 0.5 ties by id: u-0, u-4 (u-5 6th)
    assert result == [
        {"id": "u-1", "name": "Anna", "strength": 1.5, "count": 2, "last_interaction_at": "2026-11-02T12:00:00Z"},
        {"id": "u-2", "name": "Ub", "strength": 1.25, "count": 2, "last_interaction_at": "2026-11-02T12:00:00Z"},
        {"id": "u-3", "name": None, "strength": 0.71, "count": 1, "last_interaction_at": "2026-09-18T12:00:00Z"},
        {"id": "u-0", "name": None, "strength": 0.5, "count": 1, "last_interaction_at": "2026-08-04T12:00:00Z"},
        {"id": "u-4", "name": None, "strength": 0.5, "count": 1, "last_interaction_at": "2026-08-04T12:00:00Z"},
    ]


def test_who_knows_whom_only_internal_people():
    result = who_knows_whom([act("x", people=[c("c-1"), c("c-2")])], AS_OF)
    assert result == []


def test_who_knows_whom_half_life():
    # 30 days old: 0.5^(1/3) = 0.7937 → 0.79; 270 days: 0.5^3 = 0.125 → 0.12 (half-even on the float)
    assert who_knows_whom([act("x", at=AS_OF - 30 * DAY, people=[u("u-1")])], AS_OF)[0]["strength"] == 0.79
    assert who_knows_whom([act("x", at=AS_OF - 270 * DAY, people=[u("u-1")])], AS_OF)[0]["strength"] == 0.12


# --------------------------------------------------------------------------------------------------
# similar_won_deals
# --------------------------------------------------------------------------------------------------

OPEN = RecordInfo(type="opportunity", id="o-open", name="Open deal", status="open", industry="manufacturing",
                  products=("seats", "support"), estimated_value=1000.0)


def won(wid, industry=None, products=(), value=None, closed_at=None, name=None, activities=0,
        hours=0.0, avg=None, rate=None):
    return WonDeal(id=wid, name=name, industry=industry, products=tuple(products), estimated_value=value,
                   closed_at=closed_at, activities=activities, time_spent_hours=hours,
                   avg_response_hours_by_us=avg, response_rate_by_them=rate)


def test_similar_won_deals_scoring_and_top5():
    deals = [
        won("w-1", "manufacturing", ("seats", "support"), 1000.0, name="Twin", activities=12, hours=3.5,
            avg=2.25, rate=0.8),                                  # 0.35 + 0.35·1 + 0.30·1 = 1.0
        won("w-2", "manufacturing", ("seats", "training"), 100.0),  # 0.35 + 0.35·(1/3) + 0.30·0 = 0.4667
        won("w-3", "Manufacturing", (), 10000.0),                 # case differs, |ln 0.1|/ln 10 = 1 → 0
        won("w-4", None, (), 1000.0),                             # 0.30·(1 − 0) = 0.30
        won("w-5", "retail", ("support", "cloud"), None),         # 0.35·(1/3) = 0.1167
        won("o-open", "manufacturing", ("seats", "support"), 1000.0),  # itself: excluded
        won("w-7", "manufacturing", (), 0.0),                     # 0.35 (value ≤ 0 → 0)
        won("w-8", "retail", ("cloud",), 100.0),                  # 100 vs 1000 → 0 → S = 0
        won("w-9", "retail", ("seats", "x", "y", "z", "q"), -5.0),  # 0.35·(1/6) = 0.0583 → 6th, dropped
    ]
    result = similar_won_deals(OPEN, deals)
    assert [(r["id"], r["similarity"]) for r in result] == [
        ("w-1", 1.0), ("w-2", 0.47), ("w-7", 0.35), ("w-4", 0.3), ("w-5", 0.12)]
    assert result[0] == {"id": "w-1", "name": "Twin", "similarity": 1.0, "activities": 12,
                         "time_spent_hours": 3.5, "avg_response_hours_by_us": 2.25, "response_rate_by_them": 0.8}


def test_similar_won_deals_tie_order_closed_at_desc_nulls_last_then_id():
    open_deal = RecordInfo(type="opportunity", id="o-1", status="open", industry="x")
    mar, jan = ts("2026-03-01T00:00:00Z"), ts("2026-01-01T00:00:00Z")
    deals = [won("d-z", "x"), won("d-c", "x", closed_at=jan), won("d-b", "x", closed_at=mar),
             won("d-y", "x"), won("d-a", "x", closed_at=mar), won("d-0", "x")]
    # all S = 0.35; closed desc: d-a, d-b (Mar, id asc), d-c (Jan), then nulls by id: d-0, d-y (d-z 6th)
    assert [r["id"] for r in similar_won_deals(open_deal, deals)] == ["d-a", "d-b", "d-c", "d-0", "d-y"]


def test_similar_equal_values_give_value_term_030():
    open_deal = RecordInfo(type="opportunity", id="o-1", status="open", industry="a", products=("p",),
                           estimated_value=5000.0)
    result = similar_won_deals(open_deal, [won("w", "b", ("q",), 5000.0)])
    assert [(r["id"], r["similarity"]) for r in result] == [("w", 0.3)]  # 0.30·(1 − |ln 1|/ln 10)


def test_similar_value_term_half_decade():
    # 1000 vs 10^3.5: |ln(10^−0.5)| / ln 10 = 0.5 → 0.30·0.5 = 0.15
    open_deal = RecordInfo(type="opportunity", id="o-1", status="open", estimated_value=1000.0)
    result = similar_won_deals(open_deal, [won("w", value=10 ** 3.5)])
    assert [(r["id"], r["similarity"]) for r in result] == [("w", 0.15)]


@pytest.mark.parametrize("v1, v2", [(100.0, 1000.0), (1000.0, 100.0), (1000.0, 10 ** 1.5 * 1000), (None, 1000.0),
                                    (1000.0, None), (0.0, 1000.0), (1000.0, -1.0), (None, None)])
def test_similar_value_term_zero_cases_are_excluded(v1, v2):
    open_deal = RecordInfo(type="opportunity", id="o-1", status="open", industry="a", estimated_value=v1)
    assert similar_won_deals(open_deal, [won("w", "b", (), v2)]) == []


def test_similar_value_tenfold_does_not_break_a_tie():
    # value term for 100 vs 1000 is exactly 0, so both deals have S = 0.35 and the tie goes to the
    # later closed_at (d-b, March) before d-a (January)
    open_deal = RecordInfo(type="opportunity", id="o-1", status="open", industry="x", estimated_value=100.0)
    deals = [won("d-a", "x", value=1000.0, closed_at=ts("2026-01-01T00:00:00Z")),
             won("d-b", "x", value=None, closed_at=ts("2026-03-01T00:00:00Z"))]
    assert [r["id"] for r in similar_won_deals(open_deal, deals)] == ["d-b", "d-a"]


def test_similar_jaccard_of_two_empty_sets_is_zero():
    open_deal = RecordInfo(type="opportunity", id="o-1", status="open", industry="a", products=())
    assert similar_won_deals(open_deal, [won("w", "b", ())]) == []


def test_similar_unknown_industries_do_not_match():
    open_deal = RecordInfo(type="opportunity", id="o-1", status="open", industry=None)
    assert similar_won_deals(open_deal, [won("w", None)]) == []


def test_similar_products_jaccard():
    open_deal = RecordInfo(type="opportunity", id="o-1", status="open", products=("a", "b", "c"))
    result = similar_won_deals(open_deal, [won("w", None, ("b", "c", "d", "e"))])
    # |{b,c}| / |{a,b,c,d,e}| = 2/5 → 0.35·0.4 = 0.14
    assert [(r["id"], r["similarity"]) for r in result] == [("w", 0.14)]


def test_won_deal_summary_lifetime_figures():
    record = RecordInfo(type="opportunity", id="w-1", name="Won", status="won", industry="x", products=("a",),
                        estimated_value=10.0, closed_at=ts("2026-06-01T00:00:00Z"))
    activities = [
        act("b1", at=AS_OF - 700 * DAY, by_us=False, mu=2.5, mt=5.0,
            replies=[Reply(AS_OF - 700 * DAY + 3 * HOUR, US, "r1")]),          # 2 years ago: no day window
        act("b2", at=AS_OF - 10 * DAY, mu=5.0, mt=2.5, replies=[Reply(AS_OF - 10 * DAY + HOUR, THEM, "r2")]),
        act("b3", at=AS_OF - 5 * DAY, mu=5.0, mt=2.5),
        act("b4", type="meeting", at=AS_OF - 3 * DAY, mu=120.0, mt=60.0),
        act("b5", type="meeting", at=AS_OF + DAY, state="scheduled", mu=60.0, mt=60.0),
        act("b6", at=AS_OF + HOUR, mu=5.0, mt=2.5),
    ]
    summary = won_deal_summary(record, activities, AS_OF)
    assert summary.id == "w-1" and summary.name == "Won" and summary.industry == "x"
    assert summary.activities == 4                       # b1..b4
    assert summary.time_spent_hours == 2.21              # (2.5 + 5 + 5 + 120)/60 = 2.2083
    assert summary.avg_response_hours_by_us == 3.0       # b1 answered by us after 3 h
    assert summary.response_rate_by_them == 0.5          # b2 answered, b3 not


# --------------------------------------------------------------------------------------------------
# overview
# --------------------------------------------------------------------------------------------------

def neutral_widgets(ci):
    return {
        "customer_interactions": ci,
        "response_time": {"by_us": {"avg_hours": None}, "by_them": {"avg_hours": None}},
        "email_engagement": {"tracked": 0, "open_rate": None},
        "time_spent": {"by_us": 0.0, "by_them": 0.0, "by_us_hours": 0.0, "by_them_hours": 0.0},
    }


def test_overview_largest_difference_first():
    ci = {"email": {"by_us": 5, "by_them": 1}, "meeting": {"by_us": 3, "by_them": 0},
          "phone_call": {"by_us": 0, "by_them": 1}}
    highlights = overview(neutral_widgets(ci))["highlights"]
    assert len(highlights) == 3
    assert "4" in highlights[0] and "e-mail" in highlights[0]          # diff 4
    assert highlights[1] == "You initiated 3 more meetings than the customer."  # diff 3 (SPEC's example)
    assert "1" in highlights[2] and "call" in highlights[2]            # diff 1, by the customer


def test_overview_at_most_three():
    ci = {"email": {"by_us": 9, "by_them": 1}, "meeting": {"by_us": 0, "by_them": 7},
          "phone_call": {"by_us": 6, "by_them": 0}}
    widgets = neutral_widgets(ci)
    widgets["time_spent"] = {"by_us": 300.0, "by_them": 0.0, "by_us_hours": 5.0, "by_them_hours": 0.0}
    widgets["response_time"] = {"by_us": {"avg_hours": 1.0}, "by_them": {"avg_hours": 3.0}}
    widgets["email_engagement"] = {"tracked": 4, "open_rate": 0.5}
    highlights = overview(widgets)["highlights"]
    assert len(highlights) == 3 and all(isinstance(h, str) and h for h in highlights)


def test_overview_nothing_to_say():
    ci = {k: {"by_us": 2, "by_them": 2} for k in ("email", "meeting", "phone_call")}
    assert overview(neutral_widgets(ci)) == {"highlights": []}


def test_overview_in_document_is_short():
    activities = [act(f"e{i}", at=AS_OF - i * DAY) for i in range(1, 6)]
    highlights = build_widgets("lead", activities, CLOCK)["overview"]["highlights"]
    assert 1 <= len(highlights) <= 3
    assert any("5" in h and "e-mail" in h for h in highlights)


# --------------------------------------------------------------------------------------------------
# the document (§5)
# --------------------------------------------------------------------------------------------------

BASE_WIDGETS = {"overview", "customer_interactions", "email_ratio", "most_contacted", "most_contacted_by",
                "relationship_activities", "email_engagement", "time_spent", "response_time",
                "relationship_health"}


def doc_activities():
    return [
        act("e1", at=AS_OF - DAY, tracked=True, interactions=[Interaction("opened", AS_OF - HOUR)],
            replies=[Reply(AS_OF - 20 * HOUR, THEM, "r")], mu=5.0, mt=2.5),
        act("e2", at=AS_OF - 3 * DAY, by_us=False, mu=2.5, mt=5.0),
        act("m1", type="meeting", at=AS_OF - 5 * DAY, mu=60.0, mt=60.0),
        act("s1", type="meeting", at=AS_OF + DAY, state="scheduled", subject="Next"),
    ]


@pytest.mark.parametrize("rtype, extra", [("contact", {"who_knows_whom"}), ("account", {"who_knows_whom"}),
                                          ("lead", set()), ("opportunity", set())])
def test_widget_set_per_record_type(rtype, extra):
    doc = build_document(rtype, "r-1", doc_activities(), CLOCK, AS_OF + 2)
    assert set(doc["widgets"]) == BASE_WIDGETS | extra


def test_open_opportunity_gets_similar_won_deals():
    deals = [won("w-1", "manufacturing", ("seats",), 1000.0)]
    doc = build_document("opportunity", "o-open", doc_activities(), CLOCK, AS_OF, record=OPEN, won_deals=deals)
    assert set(doc["widgets"]) == BASE_WIDGETS | {"similar_won_deals"}
    # 0.35 + 0.35·(1/2) + 0.30 = 0.825 → 0.82 or 0.83 (±0.01 tolerated by the SPEC)
    (entry,) = doc["widgets"]["similar_won_deals"]
    assert entry["id"] == "w-1" and abs(entry["similarity"] - 0.825) <= 0.01


@pytest.mark.parametrize("status", ["won", "lost"])
def test_closed_opportunity_has_no_similar_won_deals(status):
    record = RecordInfo(type="opportunity", id="o-1", status=status, industry="manufacturing")
    doc = build_document("opportunity", "o-1", doc_activities(), CLOCK, AS_OF, record=record,
                         won_deals=[won("w-1", "manufacturing")])
    assert "similar_won_deals" not in doc["widgets"]


def test_document_envelope_and_timestamps():
    doc = build_document("contact", "c-bob", doc_activities(), CLOCK, ts("2026-11-02T12:00:03Z"))
    assert doc["schema"] == "relstream.kpi.v1"
    assert doc["entity"]["type"] == "contact" and doc["entity"]["id"] == "c-bob"
    assert doc["as_of"] == "2026-11-02T12:00:00Z"
    assert doc["computed_at"] == "2026-11-02T12:00:03Z"
    w = doc["widgets"]
    stamps = [w["relationship_health"]["last_interaction"]["at"], w["relationship_health"]["next_interaction"]["at"],
              w["email_engagement"]["last_opened_at"], *(p["last_interaction_at"] for p in w["most_contacted"]),
              *(p["last_interaction_at"] for p in w["most_contacted_by"]),
              *(p["last_interaction_at"] for p in w["who_knows_whom"])]
    assert stamps[:3] == ["2026-11-01T12:00:00Z", "2026-11-03T12:00:00Z", "2026-11-02T11:00:00Z"]
    for stamp in stamps + [doc["as_of"], doc["computed_at"]]:
        assert stamp.endswith("Z")
        moment = parse_timestamp(stamp)
        assert moment is not None and moment.tzinfo == timezone.utc


def test_document_numbers_for_the_small_case():
    w = build_document("contact", "c-bob", doc_activities(), CLOCK, AS_OF)["widgets"]
    assert w["customer_interactions"] == {"email": {"by_us": 1, "by_them": 1}, "meeting": {"by_us": 1, "by_them": 0},
                                          "phone_call": {"by_us": 0, "by_them": 0}}
    assert w["email_ratio"] == {"by_them": 1.0, "by_us": 1.0}
    # us: 5 + 2.5 + 60 = 67.5 min = 1.125 h → 1.12 (±0.01); them: 2.5 + 5 + 60 = 67.5
    assert w["time_spent"]["by_us"] == 67.5 and w["time_spent"]["by_them"] == 67.5
    assert abs(w["time_spent"]["by_us_hours"] - 1.125) <= 0.01
    # e-mails from us in the window: e1 only (m1 is a meeting); answered by them 24 h − 20 h = 4 h later
    assert w["response_time"]["by_them"] == {"responded": 1, "received": 1, "rate": 1.0, "avg_hours": 4.0,
                                             "median_hours": 4.0}
    # health: 3 completed; last 1 d ago: R = 1 − 1/28 = 0.96429; W30 = 3 → A = 0.7;
    # E = 2·1/(2 + 1) = 0.66667 (us e1, m1; them e2); P = by_them rate = 1/1 = 1
    # 100·(0.28929 + 0.21 + 0.13333 + 0.2) = 83.26 → 83
    assert w["relationship_health"]["score"] == 83
    assert w["relationship_health"]["next_interaction"]["subject"] == "Next"
    assert all(math.isfinite(r["strength"]) for r in w["who_knows_whom"])
