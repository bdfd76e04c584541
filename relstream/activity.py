"""One activity's truth: merging source copies (SPEC §2.1), attribution (§3) and its compact facts.

Pure functions over the normalised event dicts of `relstream.events`.
"""
from __future__ import annotations

from relstream.model import Activity, Interaction, Person, Reply, THEM, US

SOURCE_PRIORITY = {"dynamics": 0, "exchange": 1}
FILLABLE = ("subject", "regarding", "in_reply_to", "conversation_id")
EMAIL_WRITING_MINUTES = 5.0
EMAIL_READING_MINUTES = 2.5


def _source_order(source: str) -> tuple[int, int, str]:
    """dynamics, exchange, then others by code point, "" (missing source) last."""
    if source in SOURCE_PRIORITY:
        return (0, SOURCE_PRIORITY[source], "")
    return (1 if source else 2, 0, source)


def effective_copy(copies: dict[str, dict | None]) -> dict | None:
    """The effective activity from each source's latest live copy (None = deleted), or None."""
    live = [copies[s] for s in sorted(copies, key=_source_order) if copies[s] is not None]
    if len(live) <= 1:  # nothing to merge (most activities come from one source)
        return dict(live[0]) if live else None
    merged = dict(live[0])
    for name in FILLABLE:
        if merged.get(name) is None:
            merged[name] = next((c[name] for c in live[1:] if c.get(name) is not None), None)
    merged["tracked"] = any(c["tracked"] for c in live)
    merged["private"] = any(c["private"] for c in live)
    return merged


def distinct_people(event: dict) -> list[dict]:
    seen: dict[str, dict] = {}
    for party in [event["sender"], *event["to"], *event["cc"]]:
        seen.setdefault(party["id"], party)
    return list(seen.values())


def attribution_keys(event: dict, people: list[dict] | None = None) -> set[str]:
    """Record keys `type:id` the activity counts for by rules 1-4 (rule 5 needs the stakeholders).
    `people`: the event's `distinct_people`, when the caller has them already."""
    if event["state"] == "canceled":
        return set()
    keys: set[str] = set()
    for party in distinct_people(event) if people is None else people:
        if party["side"] != THEM:
            continue
        if party["kind"] == "contact":
            keys.add(f"contact:{party['id']}")
            if party["account_id"]:
                keys.add(f"account:{party['account_id']}")
        elif party["kind"] == "lead":
            keys.add(f"lead:{party['id']}")
    regarding = event.get("regarding")
    if regarding:
        keys.add(f"{regarding['type']}:{regarding['id']}")
        if regarding.get("account_id"):
            keys.add(f"account:{regarding['account_id']}")
    return keys


def external_party_ids(event: dict, people: list[dict] | None = None) -> set[str]:
    """External persons of the activity: rule 5 matches them against opportunity stakeholders."""
    if event["state"] == "canceled":
        return set()
    return {p["id"] for p in (distinct_people(event) if people is None else people) if p["side"] == THEM}


def _minutes(event: dict, people: list[dict]) -> tuple[float, float]:
    """Time spent (us, them) in minutes, SPEC §4 time_spent."""
    sender = event["sender"]
    if event["type"] == "email":
        us = them = 0.0
        if sender["side"] == US:
            us += EMAIL_WRITING_MINUTES
        else:
            them += EMAIL_WRITING_MINUTES
        readers = [p for p in people if p["id"] != sender["id"]]
        us += EMAIL_READING_MINUTES * sum(1 for p in readers if p["side"] == US)
        if any(p["side"] == THEM for p in readers):
            them += EMAIL_READING_MINUTES
        return us, them
    duration = event["dur"]
    internal = sum(1 for p in people if p["side"] == US)
    external = any(p["side"] == THEM for p in people)
    return duration * internal, duration if external else 0.0


def build_facts(
    event: dict, interactions: list[tuple[str, float]], replies: list[tuple[float, str, str]],
    people: list[dict] | None = None,
) -> Activity:
    """The record-independent facts of an effective (non-canceled) activity."""
    people = distinct_people(event) if people is None else people
    minutes_us, minutes_them = _minutes(event, people)
    return Activity(
        id=event["id"], type=event["type"], state=event["state"], at=event["t"],
        initiator_side=event["sender"]["side"],
        people=tuple(Person(p["id"], p["side"], p["name"]) for p in people),
        minutes_us=minutes_us, minutes_them=minutes_them, subject=event["subject"],
        private=event["private"], tracked=event["tracked"], in_reply_to=event["in_reply_to"],
        replies=tuple(Reply(at, side, rid) for at, side, rid in sorted(replies)),
        interactions=tuple(Interaction(kind, at) for kind, at in sorted(interactions, key=lambda i: (i[1], i[0]))),
    )


def reply_info(event: dict | None) -> tuple[float, str] | None:
    """What an e-mail tells the e-mail it answers: (sent at, initiator side), if it is a completed reply."""
    if event is None or event["type"] != "email" or event["state"] != "completed" or not event["in_reply_to"]:
        return None
    return (event["t"], event["sender"]["side"])
