"""What counts as the person's personal data in a payload, to keep it out of messages that are
not to the person (question texts are checked against it; tests grep every body sent)."""

from __future__ import annotations

from datetime import date
from typing import Any

PERSONAL_FIELDS = (
    "pv-name-first-name", "pv-name-last-name", "pv-name-nickname", "pv-dob",
    "pv-contact-details-street", "pv-contact-details-town", "pv-contact-details-postcode",
    "pv-contact-details-email-input", "pv-phone-number-yes", "pv-phone-number-alternative",
    "someone-else-first-name", "someone-else-last-name", "someone-else-street", "someone-else-postcode",
    "someone-else-email-input",
)
MIN_LENGTH = 3
"""Shorter values (initials) would match ordinary words."""


def personal_values(payload: dict[str, Any]) -> set[str]:
    """The person's names, date of birth, addresses and contact details in ``payload``, case-folded."""
    answers = payload.get("answers") if isinstance(payload, dict) else None
    if not isinstance(answers, dict):
        return set()
    values = set()
    for field in PERSONAL_FIELDS:
        value = answers.get(field)
        if isinstance(value, dict):  # a date answer: {"date": "1990-02-03", "approximate": false}
            values.update(_date_forms(str(value.get("date") or "")))
        elif isinstance(value, str) and len(value.strip()) >= MIN_LENGTH:
            values.add(value.strip().casefold())
            values.update(_date_forms(value.strip()))
    return values


def _date_forms(text: str) -> set[str]:
    """A date as it could be written: 1990-02-03, 03/02/1990, 3/2/1990, 3 February 1990."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return set()
    return {day.isoformat(), f"{day:%d/%m/%Y}", f"{day.day}/{day.month}/{day.year}",
            f"{day.day} {day:%B} {day.year}".casefold()}
