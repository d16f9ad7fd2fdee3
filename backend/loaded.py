"""ORM objects from rows read by plain Core statements, as if the ORM had loaded them.

The hot paths (an SMS or web chat turn's locked draft, a bearer token's user) read their rows
with a Core ``SELECT`` of the table's columns and turn each row into a persistent object of the
session here: profiled, the ORM's own loading (its compile and result set-up, and an identity-map
merge per attribute) cost several times the statement. The object is made as SQLAlchemy
documents for this case (``make_transient_to_detached``, then ``Session.add``: "as if it were
loaded that way, without emitting SQL"), so everything after it (the unit of work, the
row-version check of ``bot.engine.write``, ``Session.delete``, lazy loads) treats it as loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from backend.db import Base

M = TypeVar("M", bound=Base)


def persistent(session: Session, model: type[M], values: Mapping[str, Any], refresh: bool = True) -> M:
    """The ``model`` object of ``session`` holding ``values`` (every column of one row, by
    attribute name) as its loaded state.

    There is only ever one object per row in a session: a copy already there (a message run
    again after a rollback, or loaded earlier in the transaction) is returned, refreshed with
    these values like a query with ``populate_existing`` (``refresh``, for a row read under a
    lock), or else left as it is, like a plain query.
    """
    mapper = model.__mapper__
    if not mapper.configured:  # the process's first ORM use: what a query would do first
        configure_mappers()
    key = mapper.identity_key_from_primary_key(tuple(values[column.key] for column in mapper.primary_key))
    existing = session.identity_map.get(key)
    if existing is not None:
        if refresh:
            for name, value in values.items():
                set_committed_value(existing, name, value)
        return existing  # type: ignore[return-value]
    made = detached(model, values)
    session.add(made)
    return made


def detached(model: type[M], values: Mapping[str, Any]) -> M:
    """A ``model`` object holding ``values`` (every column of one row) as its loaded state, in no
    session: what a turn on a plain ``Connection`` steps (``bot.engine.on_plain_connection``). Its
    changes are tracked as on a loaded object (``inspect(obj).committed_state``), so the same code
    reads and changes it, and ``bot.engine.write_loaded`` writes them."""
    mapper = model.__mapper__
    if not mapper.configured:  # the process's first ORM use: what a query would do first
        configure_mappers()
    made = mapper.class_manager.new_instance()
    instance_dict(made).update(values)  # a fresh object: its loaded state, no history to merge
    make_transient_to_detached(made)
    return made  # type: ignore[no-any-return]
