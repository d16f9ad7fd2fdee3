"""Which referrals the decision unit takes first (DESIGN.md §4): children and urgent cases.

Decided once, at intake, from the referral itself, so the queue can order by a plain column.
"""

from __future__ import annotations

from typing import Any

URGENT_ANSWERS = {"still-in-exploitative-situation": "yes"}
"""Payload answers that make a referral urgent (the only clear safety signal the form has; it
asks nothing about detention)."""


def is_priority(route: str, age_route: str, payload: dict[str, Any] | None) -> bool:
    """Children (or age unknown), and urgent safety cases, go first; DtN reports are not decided."""
    if route != "nrm":
        return False
    if age_route in ("child", "unknown"):
        return True
    answers = (payload or {}).get("answers") or {}
    return any(answers.get(key) == value for key, value in URGENT_ANSWERS.items())
