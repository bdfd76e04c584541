"""Property: a `RecordAggregate` fed any sequence of new activities, revisions and deletions, rendered at any
moment (the clock moving on, across days, or back), gives exactly `build_widgets` over the live activities."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from relstream.kpi.aggregate import RecordAggregate
from relstream.kpi.context import Clock, Params, day_start
from relstream.kpi.health import TREND_LOOKBACK
from relstream.kpi.people import HALF_LIFE_DAYS, decay_units, strength_at
from relstream.kpi.document import build_widgets
from relstream.model import THEM, US, Activity, Interaction, Person, RecordInfo, Reply, WonDeal
from relstream.timeutil import parse_timestamp, to_epoch

AS_OF = to_epoch(parse_timestamp("2026-11-20T12:00:00Z"))
DAY = 86400.0
PEOPLE = [Person(f"u{i}", US, f"User {i}") for i in range(3)] + [Person("u9", US, None)] + \
    [Person(f"c{i}", THEM, name) for i, name in enumerate(["Ann", None, "Cy", "Di"])] + [Person("x", "other", "X")] + \
    [Person("c0", THEM, None), Person("c0", THEM, "Ann B."), Person("u0", US, None)]  # a name shown by some only
IDS = [f"act{i}" for i in range(12)]
OPEN_DEAL = RecordInfo("opportunity", "o1", "Deal", "open", "retail", ("a", "b"), 5000.0)
WON = [WonDeal("w1", "Won", "retail", ("a",), 4000.0, AS_OF - 9 * DAY, 4, 1.5, 2.0, 0.5)]

# instants around AS_OF: the 365-day window's edge, the 60-day series, the 30-day and 14-day health spans
offsets = st.one_of(
    st.integers(-400, 5).map(lambda d: d * DAY),
    st.sampled_from([-365 * DAY, -364 * DAY, -60 * DAY, -59 * DAY, -44 * DAY, -30 * DAY, -14 * DAY, 0.0]),
).flatmap(lambda base: st.one_of(st.sampled_from([0, -12 * 3600]), st.integers(-3 * 3600, 3 * 3600)).map(lambda s: AS_OF + base + s))


@st.composite
def activities(draw, activity_id: str) -> Activity:
    at = draw(offsets)
    kind = draw(st.sampled_from(["email", "meeting", "phone_call"]))
    state = draw(st.sampled_from(["completed", "completed", "completed", "scheduled", "canceled"]))
    ours = draw(st.booleans())
    later = st.integers(-2 * 3600, 20 * DAY).map(lambda s: at + s)  # replies and opens, sometimes ahead of the clock
    return Activity(
        id=activity_id, type=kind, state=state, at=at, initiator_side=US if ours else THEM,
        people=tuple(draw(st.lists(st.sampled_from(PEOPLE), max_size=4, unique_by=lambda p: (p.id, p.side)))),
        minutes_us=draw(st.sampled_from([0.0, 0.1, 12.5, 30.0, 1 / 3])), minutes_them=draw(st.sampled_from([0.0, 0.2, 45.0])),
        subject=draw(st.sampled_from([None, f"about {activity_id}"])), private=draw(st.booleans()),
        tracked=draw(st.booleans()),
        replies=tuple(draw(st.lists(st.builds(Reply, later, st.sampled_from([US, THEM]), st.just("r")), max_size=3))),
        interactions=tuple(draw(st.lists(
            st.builds(Interaction, st.sampled_from(["opened", "link_clicked", "attachment_viewed"]), later),
            max_size=3))),
    )


changes = st.sampled_from(IDS).flatmap(lambda i: st.one_of(activities(i), st.just(i)))  # a revision, or a deletion
moments = st.one_of(st.just(AS_OF), st.integers(-2 * DAY, 3 * DAY).map(lambda s: AS_OF + s))  # exact edges too


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.tuples(st.lists(changes, max_size=6), moments), min_size=1, max_size=8),
       record_type=st.sampled_from(["contact", "account", "opportunity", "lead"]),
       params=st.sampled_from([Params(), Params(window_days=30, frequency_days=3.0,
                                                weights={"email": 0.1, "meeting": 2.5, "phone_call": 0.7})]))
def test_aggregate_equals_build_widgets(steps, record_type, params):
    aggregate, live = RecordAggregate(listed=5), {}
    record = OPEN_DEAL if record_type == "opportunity" else None
    shown = (aggregate.list_version, [])
    for batch, as_of in steps:
        for change in batch:
            if isinstance(change, Activity):
                aggregate.put(change)
                live[change.id] = change
            else:
                aggregate.drop(change)
                live.pop(change, None)
        clock = Clock(as_of, params)
        assert len(aggregate) == len(live)
        expected = build_widgets(record_type, list(live.values()), clock, record, WON)
        assert aggregate.widgets(record_type, clock, record, WON) == expected
        newest = sorted(live.values(), key=lambda a: (a.at, a.id), reverse=True)[:5]
        assert aggregate.latest() == newest
        if newest != shown[1]:  # a list that changed has a new version (an unchanged one may too)
            assert aggregate.list_version != shown[0]
        shown = (aggregate.list_version, newest)


def test_a_reply_ahead_of_the_clock_counts_once_its_time_has_come():
    """The e-mail is evaluated from its history until its reply is past, then from the aggregate."""
    email = Activity("e1", "email", "completed", AS_OF - DAY, US, (PEOPLE[0], PEOPLE[4]), 0.0, 0.0,
                     replies=(Reply(AS_OF + 3600, THEM, "r1"),))
    aggregate = RecordAggregate(listed=5)
    aggregate.put(email)
    before = aggregate.widgets("contact", Clock(AS_OF))
    assert before["response_time"]["by_them"] == {"responded": 0, "received": 1, "rate": 0.0, "avg_hours": None,
                                                  "median_hours": None}
    assert aggregate.waiting == {"e1": AS_OF + 3600}
    after = aggregate.widgets("contact", Clock(AS_OF + 7200))
    assert aggregate.waiting == {}
    assert after["response_time"]["by_them"] == {"responded": 1, "received": 1, "rate": 1.0, "avg_hours": 25.0,
                                                 "median_hours": 25.0}


def test_every_window_edge_counts_as_in_build_widgets():
    """Activities exactly on the edges: the year window, the 60-day series, the 30-day activity span, now,
    and the same edges 14 days ago (the trend's score); next to a mix of both sides, so an edge off by one shows."""
    clock = Clock(AS_OF)
    earlier = clock.shifted(-TREND_LOOKBACK)
    edges = [clock.window_start, clock.days_back_start(60), AS_OF - 30 * DAY, AS_OF,
             earlier.window_start, earlier.as_of - 30 * DAY, earlier.as_of]
    for edge in edges:
        for ours in (True, False):
            history = [Activity(f"edge{ours}", "email", "completed", edge, US if ours else THEM, (PEOPLE[0], PEOPLE[4]),
                                1.0, 1.0, tracked=True, replies=(Reply(edge, THEM if ours else US, "r"),))]
            history += [Activity(f"base{i}", "meeting", "completed", edge + 3600 * (i + 1), side, (PEOPLE[1],), 0.0, 0.0)
                        for i, side in enumerate((US, US, THEM))]
            aggregate = RecordAggregate(listed=5)
            for activity in history:
                aggregate.put(activity)
            assert aggregate.widgets("account", clock) == build_widgets("account", history, clock), (edge, ours)


@given(ages=st.lists(st.floats(min_value=0, max_value=365 * DAY, allow_nan=False), max_size=50),
       as_of=st.floats(min_value=AS_OF - 5 * DAY, max_value=AS_OF + 5 * DAY, allow_nan=False))
def test_strength_from_decay_units_is_the_spec_sum(ages, as_of):
    """Exact integer units (what makes incremental and batch strengths equal) keep the spec's value:
    Σ 0.5^(age in days / 90) to far better than the 0.01 the documents show."""
    units = sum(decay_units(as_of - age, day_start(as_of)) for age in ages)
    expected = sum(0.5 ** (age / DAY / HALF_LIFE_DAYS) for age in ages)
    assert abs(strength_at(units, as_of) - expected) <= 1e-9 * max(1.0, expected)


def test_a_person_s_name_falls_back_when_the_activity_it_came_from_goes():
    """The name comes from the newest activity that shows one, which need not be the newest activity."""
    named_old, named_new, unnamed = Person("c0", THEM, "Ann"), Person("c0", THEM, "Ann B."), Person("c0", THEM, None)
    history = [Activity(f"m{i}", "meeting", "completed", AS_OF - (3 - i) * DAY, US, (PEOPLE[0], person), 0.0, 0.0)
               for i, person in enumerate([named_old, named_new, unnamed])]
    aggregate = RecordAggregate(listed=5)
    for activity in history:
        aggregate.put(activity)
    assert aggregate.widgets("contact", Clock(AS_OF))["most_contacted"][0]["name"] == "Ann B."
    aggregate.drop("m1")
    widgets = aggregate.widgets("contact", Clock(AS_OF))
    assert widgets["most_contacted"][0]["name"] == "Ann"
    assert widgets == build_widgets("contact", [history[0], history[2]], Clock(AS_OF))
