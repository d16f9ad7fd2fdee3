"""Dates, times and numbers in the page language (``backend.i18n.page_language``).

English keeps the GOV.UK style (``5 March 2026``, ``2:05pm``); every other page language gets its
own month names, digits and separators from Babel's CLDR data (``5 Mawrth 2026`` in Welsh,
``٥ مارس ٢٠٢٦`` in Arabic). Times are UK time: the service's clocks run on it.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from backend.calendar import UK_TIME
from backend.i18n import SOURCE_LANGUAGE, gettext, page_language

NUMBERING = {"ar": "arab"}
"""Digits of each page language where CLDR's default is not what its readers expect: Arabic pages
use Arabic-Indic digits (the locale's native numbering)."""


def _locale() -> str | None:
    """The Babel locale of the page, None for English (the GOV.UK style is written out here)."""
    code = page_language().code
    return None if code == SOURCE_LANGUAGE else code


def _digits(text: str, locale: str) -> str:
    """``text`` with Western digits written in the locale's native digits (see :data:`NUMBERING`)."""
    if locale not in NUMBERING:
        return text
    return text.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


def day(value: date) -> str:
    """``5 March 2026``."""
    locale = _locale()
    if locale is None:
        return f"{value.day} {value:%B %Y}"
    return _digits(format_date(value, format="d MMMM y", locale=locale), locale)


def month(value: date) -> str:
    """``February 1990`` (a date the form knows only to the month)."""
    locale = _locale()
    if locale is None:
        return f"{value:%B %Y}"
    return _digits(format_date(value, format="LLLL y", locale=locale), locale)


def time(value: datetime) -> str:
    """``2:05pm``, UK time."""
    local = value.astimezone(UK_TIME)
    locale = _locale()
    if locale is None:
        return f"{local.hour % 12 or 12}:{local:%M}{'am' if local.hour < 12 else 'pm'}"
    return _digits(format_time(local.time(), format="HH:mm", locale=locale), locale)


def moment(value: datetime) -> str:
    """``5 March 2026 at 2:05pm``, UK time."""
    return gettext("{date} at {time}", date=day(value.astimezone(UK_TIME).date()), time=time(value))


def number(value: int) -> str:
    """``1,234`` with the page language's separators and digits."""
    locale = _locale()
    if locale is None:
        return f"{value:,}"
    return _digits(format_decimal(value, locale=locale), locale)
