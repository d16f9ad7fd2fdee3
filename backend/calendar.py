"""Working days per UK nation, for the case clocks: the Reasonable Grounds target (5 working days,
DESIGN §4), the Conclusive Grounds and panel review targets, and pausing them during a suspension.

Bank holidays differ by nation (Easter Monday is not one in Scotland; St Andrew's Day is;
St Patrick's Day and the Boyne only in Northern Ireland), so the nation where the referral is made
(``fr-location``) picks the calendar. Dates are UK civil dates (Europe/London), not UTC dates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

UK_TIME = ZoneInfo("Europe/London")
SUBDIVISIONS = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern-ireland": "NIR"}
"""``fr-location`` value -> subdivision code of ``holidays.UK``."""


@lru_cache(maxsize=256)
def bank_holidays(nation: str, year: int) -> frozenset[date]:
    """The bank holidays of ``nation`` (an ``fr-location`` value) in ``year``."""
    try:
        subdiv = SUBDIVISIONS[nation]
    except KeyError:
        raise ValueError(f"unknown UK nation {nation!r}; expected one of {sorted(SUBDIVISIONS)}") from None
    import holidays  # imported when first needed: it is slow to import and start-up does not need it

    return frozenset(holidays.UK(subdiv=subdiv, years=year).keys())


def is_working_day(day: date, nation: str) -> bool:
    """Monday to Friday and not a bank holiday of ``nation``."""
    return day.weekday() < 5 and day not in bank_holidays(nation, day.year)


def add_working_days(start: date, days: int, nation: str) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself never counts).

    A referral made on Friday has its 5-working-day target the next Friday; one made on Saturday
    also the next Friday.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current, nation):
            remaining -= 1
    return current


def working_days_between(start: date, end: date, nation: str) -> int:
    """How many working days of ``nation`` fall after ``start`` up to and including ``end``
    (0 when ``end`` is not after ``start``): what a paused clock adds when it resumes."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current, nation):
            count += 1
    return count


def uk_date(moment: datetime) -> date:
    """The civil date in the UK at an aware ``moment`` (23:30 UTC in summer is already tomorrow)."""
    if moment.tzinfo is None:
        raise ValueError("uk_date needs an aware datetime")
    return moment.astimezone(UK_TIME).date()


def rg_due_date(submitted_at: datetime, nation: str, working_days: int = 5) -> date:
    """The RG decision target for a referral submitted at ``submitted_at`` in ``nation``."""
    return add_working_days(uk_date(submitted_at), working_days, nation)
