"""Dates and times on the staff pages in the page's language (Welsh "5 Mawrth 2026", Arabic
"5 مارس 2026"), from CLDR through Babel; English keeps the GOV.UK style ("5 March 2026 at 2:05pm")
that ``backend.casework_pages`` writes itself."""

from __future__ import annotations

from datetime import date, datetime

from backend.i18n import SOURCE_LANGUAGE, page_language


def page_locale() -> str | None:
    """The page language when it is not English (None: the GOV.UK English style applies)."""
    code = page_language().code
    return None if code == SOURCE_LANGUAGE else code


def long_date(value: date, locale: str) -> str:
    """``5 Mawrth 2026``: day, month name, year in ``locale``."""
    from babel.dates import format_date

    return format_date(value, "long", locale=locale)


def month_year(value: date, locale: str) -> str:
    """``Mawrth 2026``: the month named on its own (Polish "marzec", not "marca")."""
    from babel.dates import format_date

    return format_date(value, "LLLL y", locale=locale)


def time_of_day(value: datetime) -> str:
    """``14:05``: 24-hour time, as most of these languages write it."""
    return f"{value.hour:02d}:{value.minute:02d}"
