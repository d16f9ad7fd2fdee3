"""The orders a caseworker may read a queue in (``sort``), and the ``after`` cursor of each.

Every order is a keyset over columns of ``cases`` that ends in a unique one (``id`` or
``reference``), so a page continues exactly where the last one ended; and each is the order of a
partial index (migrations 0012 and 0018), so its first page is one index range, never a sort:

- ``priority`` (the default): priority cases first, then due date, then waiting longest
  (``ix_cases_queue_order``, whose condition a page says: :attr:`Sort.index_condition`);
- ``due``: due date soonest first, then reference (``ix_cases_queue_due``; a case with no due
  date sorts first, as it does in the priority order);
- ``oldest``: waiting longest first (``queue_since``; ``ix_cases_queue_since``);
- ``newest``: the same index read backwards.

The cursor names its queue and its order: a cursor of another order is refused (400) rather than
read as a place in this one.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from sqlalchemy import ColumnElement, bindparam, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from backend.i18n import N_, gettext
from backend.lifecycle import CaseworkError
from backend.models import Case


class InvalidQuery(CaseworkError):
    """A queue's query parameter is not one it takes (limit, cursor, filter values)."""

    status = 400
    code = "invalid_query"


class InvalidSort(InvalidQuery):
    """``sort`` is not one of :data:`SORTS` (its message is in the page language)."""

    code = "invalid_sort"


class CursorOfAnotherSort(InvalidQuery):
    """The ``after`` cursor was made for another order of the queue."""

    code = "cursor_of_another_sort"


@dataclass(frozen=True)
class Sort:
    """One order of a queue: its columns (all ascending, or all descending) and its label."""

    name: str
    columns: tuple[InstrumentedAttribute[Any], ...]
    label: str
    descending: bool = False
    index_condition: tuple[ColumnElement[bool], ...] = ()
    """What a page in this order says so that PostgreSQL may read its index: true of every queued
    case, part of the index's condition so that a statement not saying it (claim-next) cannot."""

    def order_by(self) -> list[Any]:
        return [column.desc() if self.descending else column for column in self.columns]

    def after(self, values: tuple[Any, ...]) -> ColumnElement[bool]:
        """Cases after the place ``values`` in this order (a row-value comparison the index serves)."""
        key = tuple_(*self.columns)
        place = tuple_(*(bindparam(None, value, type_=column.type) for value, column in zip(values, self.columns)))
        return key < place if self.descending else key > place


_SINCE = (Case.queue_since, Case.id)
SORTS = {sort.name: sort for sort in (
    Sort("priority", (Case.queue_rank, Case.queue_due_date, Case.queue_since, Case.id),
         N_("Priority, then due date"), index_condition=(Case.queue_rank.is_not(None),)),  # migration 0025
    Sort("due", (Case.queue_due_date, Case.reference), N_("Due date, soonest first")),
    Sort("oldest", _SINCE, N_("Waiting longest first")),
    Sort("newest", _SINCE, N_("Most recently added first"), descending=True),
)}
DEFAULT_SORT = "priority"
INVALID_SORT = N_("Sort by must be one of: {sorts}")
CURSOR_OF_ANOTHER_SORT = N_("This page link belongs to another sort order: go back to the first page of "
                            "the queue in this order")
MAX_CURSOR = 400
"""The longest cursor read (ours are under 150 characters)."""


def sort_from(value: str | None) -> Sort:
    """The order a request asks for: the default when ``sort`` is absent; InvalidSort when it is
    given but empty, or not one of :data:`SORTS`."""
    if value is None:
        return SORTS[DEFAULT_SORT]
    sort = SORTS.get(value.strip().lower()) if len(value) <= 20 else None
    if sort is None:
        raise InvalidSort(gettext(INVALID_SORT, sorts=", ".join(SORTS)))
    return sort


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not -2**31 <= value < 2**31:
        raise ValueError("not a 32-bit integer")
    return value


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment


def _reference(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z0-9-]{1,20}", value):
        raise ValueError("not a reference")
    return value


_READ: dict[str, Callable[[Any], Any]] = {"id": _int, "queue_rank": _int, "queue_due_date": date.fromisoformat,
                                          "queue_since": _aware, "reference": _reference}
"""How each key column is read back from a cursor (anything else is refused, never sent to SQL)."""


def encode_cursor(queue: str, sort: Sort, row: Any) -> str:
    """The opaque ``after`` cursor: the queue, the order and the last case's place in it."""
    key = [getattr(row, column.key) for column in sort.columns]
    key = [value.isoformat() if isinstance(value, (date, datetime)) else value for value in key]
    raw = json.dumps([queue, sort.name, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after(queue: str, sort: Sort, cursor: str) -> ColumnElement[bool]:
    """Cases after ``cursor`` in ``sort``; InvalidQuery if it is not one of ours, and
    CursorOfAnotherSort if it is one of another order."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        name, sort_name, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if name != queue or not isinstance(sort_name, str) or not isinstance(key, list):
            raise ValueError(name)
        if sort_name != sort.name:
            if sort_name in SORTS:
                raise CursorOfAnotherSort(gettext(CURSOR_OF_ANOTHER_SORT))
            raise ValueError(sort_name)
        if len(key) != len(sort.columns):
            raise ValueError("key length")
        values = tuple(_READ[column.key](value) for value, column in zip(key, sort.columns))
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidQuery('"after" is not a cursor of this queue: use the "next" of the previous page') from error
    return sort.after(values)
