"""What claim-next makes psycopg and PostgreSQL do besides the claim itself (issue 14: the "claim
next" row, p50 <= 2 ms on a million cases). The statement that picks the case binds only the
claim's own values: the constants it used to bind (the legacy chain's name, the chain lock's
prefix and encodings, three LIMIT 1s, substring bounds) are written into its SQL, so no claim
adapts and sends them, and PostgreSQL's plan of it knows them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy.dialects import postgresql

from backend import queues

NOW = datetime(2026, 11, 30, 18, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("skip_returned", [True, False])
def test_claim_nexts_first_statement_binds_only_the_time_the_day_and_the_claimer(skip_returned):
    compiled = queues._claim_next_statement(True, skip_returned).compile(dialect=postgresql.psycopg.dialect())
    assert set(compiled.binds) == {"now", "today", "claimer"}


def test_the_api_claims_first_statement_binds_only_the_time_the_day_and_the_token():
    compiled = queues._claim_next_statement(True, True, by_token=True).compile(dialect=postgresql.psycopg.dialect())
    assert set(compiled.binds) == {"now", "today", "token_hash"}
