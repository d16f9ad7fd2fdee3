"""The periods statistics are published for: whole, ended calendar quarters and nothing finer.

``2026Q3`` (a quarter), ``2026`` (a calendar year) or ``12m-2026Q3`` (the 12 months to the end of
2026 Q3, which moves by whole quarters only). Each is a run of UK calendar quarters, and every
figure is counted per quarter (:class:`Quarter`), so two periods can only overlap in whole quarters
and show the very same figures for them. A quarter is published once it has ended: the figures of a
quarter still running would change from one day to the next, and comparing them is the differencing
the free from/to dates allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from sqlalchemy import case

from backend.calendar import UK_TIME

QUARTER_MONTHS = ("January to March", "April to June", "July to September", "October to December")
SHOWN_FOR_A_QUARTER = 5
"""A quarter's page shows it and the four before it (the same quarter a year earlier included)."""
FIRST_YEAR = 2000


class InvalidPeriod(ValueError):
    """A period that is not a quarter, year or rolling 12 months, or has not ended. ``str()`` is the
    English message (the API's); ``problem`` is ``format`` or ``not-ended`` for pages that translate,
    ``quarter`` the quarter that has not ended (``not-ended``)."""

    def __init__(self, message: str, problem: str, quarter: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem
        self.quarter = quarter


@dataclass(frozen=True, order=True)
class Quarter:
    """A UK calendar quarter: ``index`` counts quarters from year 0 (``year * 4 + number - 1``)."""

    index: int

    @classmethod
    def of(cls, year: int, number: int) -> Quarter:
        return cls(year * 4 + number - 1)

    @classmethod
    def containing(cls, day: date) -> Quarter:
        return cls.of(day.year, (day.month - 1) // 3 + 1)

    @property
    def year(self) -> int:
        return self.index // 4

    @property
    def number(self) -> int:
        return self.index % 4 + 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.number * 3 - 2, 1)

    def starts_at(self) -> datetime:
        """UK midnight at the start of the quarter, as UTC."""
        return datetime.combine(self.first_day, time.min, tzinfo=UK_TIME).astimezone(timezone.utc)

    def next(self) -> Quarter:
        return Quarter(self.index + 1)

    @property
    def code(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        return f"{self.year} Q{self.number}"


@dataclass(frozen=True)
class Period:
    """What was asked for (``code``, ``kind``) and the quarters its figures are shown for."""

    code: str
    kind: str
    """``quarter``, ``year`` or ``rolling``."""
    quarters: tuple[Quarter, ...]

    @property
    def last(self) -> Quarter:
        return self.quarters[-1]

    @property
    def title(self) -> str:
        last = self.last
        if self.kind == "quarter":
            return f"{QUARTER_MONTHS[last.number - 1]} {last.year}"
        if self.kind == "year":
            return f"January to December {last.year}"
        first = self.quarters[0]
        return f"{QUARTER_MONTHS[first.number - 1].split(' to ')[0]} {first.year} to " \
               f"{QUARTER_MONTHS[last.number - 1].split(' to ')[1]} {last.year}"

    def between(self, column: Any) -> Any:
        """SQL: ``column`` within the shown quarters (UK dates)."""
        return (column >= self.quarters[0].starts_at()) & (column < self.last.next().starts_at())

    def column_of(self, column: Any) -> Any:
        """SQL: the position (0, 1, ...) of the shown quarter ``column`` falls in."""
        bounds = [quarter.next().starts_at() for quarter in self.quarters[:-1]]
        if not bounds:
            return 0
        return case(*((column < bound, position) for position, bound in enumerate(bounds)),
                    else_=len(bounds))


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_ROLLING = re.compile(r"^12M-(\d{4})Q([1-4])$", re.IGNORECASE)
FORMAT_MESSAGE = ("Choose a whole quarter such as 2026Q3, a year such as 2026, or the 12 months to the end of a "
                  "quarter such as 12m-2026Q3. Statistics are not published for other dates, so that comparing "
                  "two periods cannot single anyone out.")


def latest(today: date) -> Quarter:
    """The last quarter that has ended by ``today``."""
    return Quarter(Quarter.containing(today).index - 1)


def parse(text: str | None, today: date) -> Period:
    """The period ``text`` names (the latest ended quarter when empty), or :class:`InvalidPeriod`."""
    text = (text or "").strip()
    if not text:
        text = latest(today).code
    if match := _QUARTER.match(text):
        last = Quarter.of(int(match[1]), int(match[2]))
        period = Period(last.code, "quarter",
                        tuple(Quarter(last.index - back) for back in reversed(range(SHOWN_FOR_A_QUARTER))))
    elif match := _YEAR.match(text):
        year = int(match[1])
        period = Period(str(year), "year", tuple(Quarter.of(year, number) for number in range(1, 5)))
    elif match := _ROLLING.match(text):
        last = Quarter.of(int(match[1]), int(match[2]))
        period = Period(f"12m-{last.code}", "rolling", tuple(Quarter(last.index - back) for back in (3, 2, 1, 0)))
    else:
        raise InvalidPeriod(FORMAT_MESSAGE, "format")
    if period.quarters[0].year < FIRST_YEAR:
        raise InvalidPeriod(FORMAT_MESSAGE, "format")
    if period.last > latest(today):
        raise InvalidPeriod(f"{period.last.label} has not ended yet: statistics are published for whole quarters "
                            f"once they have ended (the latest is {latest(today).code}).", "not-ended",
                            period.last.code)
    return period
