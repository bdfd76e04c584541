"""Activity subjects are personal data: only tokens with the `subjects` scope see them, and nobody sees the
subject of a private activity (the worker already writes null there; this is the second line of defence)."""

from __future__ import annotations

from typing import Any

from relstream.api.auth import Principal


def redact_document(document: dict[str, Any], principal: Principal) -> dict[str, Any]:
    if principal.sees_subjects:
        return document
    health = document.get("widgets", {}).get("relationship_health") or {}
    for moment in ("last_interaction", "next_interaction"):
        if health.get(moment):
            health[moment]["subject"] = None
    return document


def redact_activity(activity: dict[str, Any], principal: Principal) -> dict[str, Any]:
    if activity.get("private") or not principal.sees_subjects:
        activity["subject"] = None
    return activity
