"""Start-up stays fast: `nrm serve` and `nrm chat` give their first answer without importing the
libraries only later requests need (they are imported where they are used, on first use).

Each check runs in a fresh interpreter, as the command does, and lists ``sys.modules`` at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.bot.test_terminal_chat import env  # noqa: F401 - the fixture: a migrated instance folder for `nrm`

SLOW_OR_TEST_ONLY = ("twilio", "jsonschema", "holidays", "rapidfuzz", "phonenumbers", "email_validator",
                     "babel.messages", "alembic", "statemachine.io", "odf", "schemathesis", "hypothesis", "pytest")
"""Not needed for a first answer (SMS, referral intake, working-day clocks, list and phone answers,
`nrm translate`, `nrm db upgrade`, the route chart as python-statemachine's class, the statistics
workbook download), or test tools that must never be imported by the product."""

NOT_FOR_CHAT = ("gunicorn", "rich", "flask_limiter.commands")
"""Only ``nrm serve`` runs gunicorn; rich comes with Flask-Limiter's ``nrm limiter`` command."""

WEB_ONLY = ("flask_limiter", "limits", "prometheus_client", "flask_wtf", "wtforms",
            "pythonjsonlogger", "argon2", "backend.app", "backend.casework_pages", "backend.api",
            "backend.accounts", "backend.outbound.pages", "bot.app", "bot.webchat", "bot.sms", "bot.chat_page")
"""What only the web app needs (rate limits, metrics, forms, headers, request logs, passwords, the
pages and APIs): ``nrm chat`` runs in ``bot.terminal.create_terminal_app`` without any of it."""

SUBMISSION_ONLY = ("backend.lifecycle", "backend.outbound.outbox", "backend.statistics")
"""What only a submitted referral needs (the case chart and its python-statemachine class, the
outbox, the derived statistics columns): ``backend.intake`` imports them in ``submit``."""

REPORT = """
import atexit, json, sys
def report():
    loaded = sorted(name for name in {names!r}
                    if any(m == name or m.startswith(name + ".") for m in sys.modules))
    sys.__stdout__.write("\\nLOADED " + json.dumps(loaded) + "\\n")
atexit.register(report)
"""


def loaded_after(code: str, env: dict[str, str], names: tuple[str, ...] = SLOW_OR_TEST_ONLY) -> list[str]:
    done = subprocess.run([sys.executable, "-c", REPORT.format(names=names) + code], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    lines = [line for line in done.stdout.splitlines() if line.startswith("LOADED ")]
    assert lines, done.stdout + done.stderr
    return json.loads(lines[-1].removeprefix("LOADED "))


def test_nrm_serve_answers_its_first_page_without_importing_slow_libraries(env: dict[str, str]) -> None:
    code = """
from bot.cli import _create_app
response = _create_app().test_client().get("/casework/sign-in")
assert response.status_code == 200, response.status_code
"""
    assert loaded_after(code, env) == []


def test_nrm_chat_asks_its_first_question_without_importing_slow_libraries(env: dict[str, str]) -> None:
    code = """
from bot.cli import main
main(["chat", "--new"])  # stdin is empty: the first question, then "Draft saved"
"""
    assert loaded_after(code, env, SLOW_OR_TEST_ONLY + NOT_FOR_CHAT) == []


def test_nrm_chat_asks_its_first_question_without_building_the_web_app(env: dict[str, str]) -> None:
    code = """
from bot.cli import main
main(["chat", "--new"], standalone_mode=False)
"""
    done = subprocess.run([sys.executable, "-c", REPORT.format(names=WEB_ONLY) + code], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)

    assert "Cymraeg" in done.stdout and "Draft saved" in done.stdout, done.stdout + done.stderr
    assert loaded_after(code, env, WEB_ONLY + SUBMISSION_ONLY) == []


@pytest.mark.parametrize("setting, value", [("CHAT_RATE_LIMIT", "lots"), ("SMS_QUIET_HOURS", "soon")])
def test_nrm_chat_still_refuses_to_start_on_a_bad_setting(env: dict[str, str], setting: str, value: str) -> None:
    """The terminal app checks every setting the whole app checks (config, outbound), web ones too."""
    done = subprocess.run([sys.executable, "-c", "from bot.cli import main; main(['chat', '--new'])"],
                          env={**env, setting: value}, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=180)

    assert done.returncode == 1 and f"cannot start: {setting} must read like" in done.stderr, done.stderr
    assert "Cymraeg" not in done.stdout


def test_other_packages_commands_are_still_listed_and_run(env: dict[str, str]) -> None:
    """Plugin commands are loaded late, not dropped: ``nrm limiter`` (Flask-Limiter's) works."""
    nrm = [sys.executable, "-c", "from bot.cli import main; main()"]
    listed = subprocess.run([*nrm, "--help"], env=env, capture_output=True, text=True, timeout=180)
    assert "limiter" in listed.stdout and "chat" in listed.stdout, listed.stdout + listed.stderr
    limits = subprocess.run([*nrm, "limiter", "limits"], env=env, capture_output=True, text=True, timeout=180)
    assert limits.returncode == 0 and "sign_in" in limits.stdout, limits.stdout + limits.stderr


def test_the_lazy_libraries_are_still_imported_where_they_are_used(env: dict[str, str]) -> None:
    """The check above cannot pass vacuously: a referral's own steps do load them."""
    code = """
from flows.validators import _email, _phone
_phone(None, "07700 900123", None); _email(None, "a@example.org", None)
from backend.calendar import bank_holidays
bank_holidays("wales", 2026)
from backend.statistics.downloads import to_ods
from tests.backend.statistics_reports import REPORT
assert to_ods(REPORT)[:2] == b"PK"  # an ODS file is a zip
"""
    assert loaded_after(code, env) == ["email_validator", "holidays", "odf", "phonenumbers"]


def test_a_restart_serves_its_first_page_without_compiling_templates_again(env: dict[str, str]) -> None:
    code = """
import jinja2
compiled = []
original = jinja2.Environment._compile
jinja2.Environment._compile = lambda self, source, filename: compiled.append(filename) or original(self, source, filename)
from bot.cli import _create_app
assert _create_app().test_client().get("/casework/sign-in").status_code == 200
print("COMPILED", len(compiled))
"""
    def compiled() -> int:
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180)
        return int(next(line for line in done.stdout.splitlines() if line.startswith("COMPILED")).split()[1])

    assert compiled() > 0
    assert compiled() == 0
