"""Check a pooled PostgreSQL connection before use only when it may be dead, not on every checkout.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at every checkout: a round trip per request
(and per claim) spent on connections that were in use a moment ago. A pooled connection dies in
two ways, and both can be told without a round trip:

- the server ended it (a restart, ``pg_terminate_backend``, ``idle_session_timeout``): the server
  says so and closes the socket, so an idle connection's socket has something to read (nothing
  else arrives on an idle connection: the product does not ``LISTEN``);
- the network dropped it silently (a firewall's idle timeout): only after it sat unused a while.

So a connection is pinged at checkout only when its socket is readable or it has been idle longer
than :data:`PING_AFTER_IDLE_S`; a failed ping raises ``DisconnectionError``, on which the pool
replaces the connection with a new one, as ``pool_pre_ping`` does.
"""

from __future__ import annotations

import select
import time
from typing import Any

from sqlalchemy import Engine, event, exc

PING_AFTER_IDLE_S = 30.0
"""A connection unused for longer than this is pinged before use."""
_CHECKED_IN = "nrm_checked_in_at"


def ping_when_in_doubt(engine: Engine, after_idle_s: float = PING_AFTER_IDLE_S) -> None:
    """Install the checks on ``engine``'s pool (instead of ``pool_pre_ping``)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is None:  # just connected
            return
        if time.monotonic() - checked_in <= after_idle_s and not _readable(dbapi_connection):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"pooled connection is dead: {type(error).__name__}") from error
        if not alive:
            raise exc.DisconnectionError("pooled connection is dead")


def _readable(dbapi_connection: Any) -> bool:
    """Whether the idle connection's socket holds data (the server's goodbye, or end of file)."""
    if getattr(dbapi_connection, "closed", False):
        return True
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except Exception:  # noqa: BLE001 - no socket to look at: let the ping find out
        return True
    return bool(readable)
