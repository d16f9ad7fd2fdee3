"""ORM objects from rows read by plain Core statements, as if the ORM had loaded them.

A turn reads its locked draft with a Core ``SELECT`` of the table's columns and turns each row
into a persistent ``Conversation`` in the session here: profiled, the ORM's own loading (its
compile and result set-up, and an identity-map merge per attribute) cost several times the
statement. The object is made as SQLAlchemy documents for this case
(``make_transient_to_detached``, then ``Session.add``: "as if it were loaded that way, without
emitting SQL"), so everything after it (the unit of work, the row-version check of
``bot.engine.write``, ``Session.delete``) treats it as loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from backend.db import Base

M = TypeVar("M", bound=Base)


def persistent(session: Session, model: type[M], values: Mapping[str, Any]) -> M:
    """The ``model`` object of ``session`` holding ``values`` (every column of one row, by
    attribute name) as its loaded state.

    A copy already in the session (a message run again after a rollback, or loaded earlier in
    the transaction) is refreshed with these values and returned, like a query with
    ``populate_existing``: there is only ever one object per row in a session.
    """
    mapper = model.__mapper__
    key = mapper.identity_key_from_primary_key(tuple(values[column.key] for column in mapper.primary_key))
    existing = session.identity_map.get(key)
    if existing is not None:
        for name, value in values.items():
            set_committed_value(existing, name, value)
        return existing  # type: ignore[return-value]
    made = mapper.class_manager.new_instance()
    instance_dict(made).update(values)  # a fresh object: its loaded state, no history to merge
    make_transient_to_detached(made)
    session.add(made)
    return made  # type: ignore[return-value]
