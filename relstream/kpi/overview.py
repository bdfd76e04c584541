"""Overview: up to three plain-English highlights, the largest differences first."""
from __future__ import annotations

NOUNS = {"email": ("e-mail", "e-mails"), "meeting": ("meeting", "meetings"), "phone_call": ("call", "calls")}
MAX_HIGHLIGHTS = 3


def _initiative(kind: str, counts: dict) -> tuple[float, str] | None:
    ours, theirs = counts["by_us"], counts["by_them"]
    diff = ours - theirs
    if diff == 0:
        return None
    noun = NOUNS[kind][abs(diff) != 1]
    if diff > 0:
        return (abs(diff), f"You initiated {diff} more {noun} than the customer.")
    return (abs(diff), f"The customer initiated {-diff} more {noun} than you.")


def _response(response: dict) -> tuple[float, str] | None:
    ours, theirs = response["by_us"]["avg_hours"], response["by_them"]["avg_hours"]
    if ours is None or theirs is None or ours == theirs:
        return None
    diff = round(abs(ours - theirs), 1)
    who = "You answer" if ours < theirs else "The customer answers"
    return (diff, f"{who} e-mails {diff:g} hours faster on average.")


def _engagement(engagement: dict) -> tuple[float, str] | None:
    if not engagement["tracked"] or engagement["open_rate"] is None:
        return None
    percent = round(100 * engagement["open_rate"])
    return (percent / 10, f"{percent}% of your {engagement['tracked']} tracked e-mails were opened.")


def _time(spent: dict) -> tuple[float, str] | None:
    diff = spent["by_us_hours"] - spent["by_them_hours"]
    if abs(diff) < 1:
        return None
    side = "You spent" if diff > 0 else "The customer spent"
    return (abs(diff), f"{side} {abs(diff):.1f} more hours on this relationship.")


def overview(widgets: dict) -> dict:
    candidates = [_initiative(kind, counts) for kind, counts in widgets["customer_interactions"].items()]
    candidates += [
        _response(widgets["response_time"]),
        _engagement(widgets["email_engagement"]),
        _time(widgets["time_spent"]),
    ]
    ranked = sorted((c for c in candidates if c), key=lambda c: -c[0])
    return {"highlights": [text for _, text in ranked[:MAX_HIGHLIGHTS]]}
