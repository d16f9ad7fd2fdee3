"""Schemathesis against the published API document (``/api/v1/openapi.json``), with each role's token.

Every operation of the document (the casework API and the web chat API it also describes) is called
with generated requests, valid and invalid, as each role and as nobody. Every response must be no
5xx and match the document: a documented status code, the documented content type and a body that
validates against the documented schema. The figures of the run (operations, requests, failures)
are printed at the end of pytest's report.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from backend import db
from backend.cli import upgrade_database
from backend.models import ROLES
from backend.openapi import QUESTION_KINDS, document
from bot.app import create_app
from flows.question import Kind
from tests.backend.casework_helpers import ENV_KEYS, PANEL_ORG, ORG, case_in, make_case, make_user, token_for
from tests.conftest import backend_test_config

ANONYMOUS = "anonymous"
CALLERS = (*ROLES, ANONYMOUS)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES_PER_OPERATION = 10
TALLY: Counter[str] = Counter()
RUNS: set[tuple[str, str]] = set()
"""(operation, caller) pairs that were exercised."""


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The whole product (casework API and web chat API) on SQLite, one user and token per role,
    and cases in several states, so that generated references sometimes hit a real case."""
    with pytest.MonkeyPatch.context() as patch:
        for key in ENV_KEYS:
            patch.delenv(key, raising=False)
        app = create_app(backend_test_config(tmp_path_factory.mktemp("fuzz")))
        upgrade_database(app)
    with app.app_context():
        session = db.get_db(app).new_session()
        organisations = {"responder": ORG, "operator": ORG, "panel": PANEL_ORG}
        users = {role: make_user(session, role, organisations.get(role)) for role in ROLES}
        tokens = {role: token_for(session, user) for role, user in users.items()}
        decider, reviewer = make_user(session, "caseworker"), make_user(session, "panel", PANEL_ORG)
        make_case(session)
        for status in ("rg_review", "rg_negative", "awaiting_cg", "cg_review"):
            case_in(session, status, decider, reviewer)
        session.commit()
        session.close()
    yield {"app": app, "tokens": tokens}
    db.get_db(app).engine.dispose()


@pytest.fixture(scope="module")
def api_document(fuzzed: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed["app"])


def figures() -> dict[str, Any]:
    """What this process ran: the (operation, caller) pairs and the tallies (JSON-serialisable, so
    that pytest-xdist workers can hand them to the controller, which adds them up: ``merged``)."""
    return {"runs": sorted(RUNS), **TALLY}


def merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of several processes as one run's."""
    total: dict[str, Any] = {"runs": sorted({tuple(run) for part in parts for run in part["runs"]})}
    for key in ("examples", "requests", "failures"):
        total[key] = sum(part.get(key, 0) for part in parts)
    return total


def summary(run: dict[str, Any]) -> str | None:
    """The figures of this run, for the end of pytest's report (``tests/conftest.py``)."""
    if not run["runs"]:
        return None
    operations = {operation for operation, _ in run["runs"]}
    return (f"schemathesis: {len(operations)} operations x {len(CALLERS)} callers = {len(run['runs'])} runs, "
            f"{run['examples']} examples sent as each caller = {run['requests']} requests, "
            f"{run['failures']} failures")


def headers_of(caller: str, tokens: dict[str, str]) -> dict[str, str]:
    """The headers of one role's requests (none for the anonymous caller)."""
    return {} if caller == ANONYMOUS else {"Authorization": f"Bearer {tokens[caller]}"}


RUNS_TO_MAKE = [
    (path, method.upper(), mode)
    for path, item in document()["paths"].items()
    for method, operation in item.items()
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or operation.get("parameters") or operation.get("requestBody")
]
"""Every operation with data that fits the document, and (where it takes any) data that does not."""


@pytest.mark.parametrize(("path", "method", "mode"), RUNS_TO_MAKE,
                         ids=[f"{m} {p} {mode}" for p, m, mode in RUNS_TO_MAKE])
def test_every_operation_answers_as_documented_for_every_role(
    api_document: Any, fuzzed: dict[str, Any], path: str, method: str, mode: GenerationMode
) -> None:
    """Requests that fit the document (positive) and that do not (negative), each sent once as every
    role and once without a token."""
    operation = api_document[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), derandomize=True)
    def each(case: Any) -> None:
        TALLY["examples"] += 1
        for caller in CALLERS:
            RUNS.add((f"{method} {path}", caller))
            TALLY["requests"] += 1
            try:
                case.call_and_validate(headers=headers_of(caller, fuzzed["tokens"]), checks=CHECKS)
            except Exception:
                TALLY["failures"] += 1
                raise

    each()


def test_the_document_describes_every_route_of_the_web_chat_api(fuzzed: dict[str, Any]) -> None:
    spec = document()
    registered = {(method.lower(), rule.rule.replace("<conversation_id>", "{conversation_id}"))
                  for rule in fuzzed["app"].url_map.iter_rules() if rule.rule.startswith("/api/chat")
                  for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(method, path) for path, item in spec["paths"].items() if path.startswith("/api/chat")
                  for method in item}
    assert registered and documented == registered


def test_the_documented_question_kinds_are_the_dialogues() -> None:
    assert set(QUESTION_KINDS) == {kind.value for kind in Kind}
