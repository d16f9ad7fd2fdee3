"""Browser tests: the whole product served on 127.0.0.1 by a real WSGI server, driven by Debian's
Chromium through Playwright (never a downloaded browser: ``executable_path`` is fixed).

Without /usr/bin/chromium the tests skip locally but FAIL in CI (``CI=true``), where
``scripts/system-deps.sh`` installs it. The server runs in a thread with a real SQLite file under
the module's temporary folder; each module gets its own server, browser and demo operators.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from backend import auth, db
from tests.conftest import backend_test_config, migrate

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PASSWORD = "browser test password 1"
OPERATORS = tuple(f"operator{n}@example.org" for n in range(1, 6))
ENV_KEYS = ("DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "NRM_ENV", "TWILIO_AUTH_TOKEN",
            "PUBLIC_BASE_URL", "NRM_INSTANCE_PATH", "QUICK_EXIT_WORD", "SMS_RESUME_AFTER_MINUTES",
            "RESUME_CODE_MINUTES", "RESUME_CODE_MAX_FAILURES", "RESUME_CODE_FAILURE_WINDOW_MINUTES")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def chromium_problem() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (Debian package chromium; scripts/system-deps.sh installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is missing (pip install -e '.[test]')"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.browser`` tests skip without Chromium locally, and fail in CI."""
    if item.get_closest_marker("browser") is None:
        return
    problem = chromium_problem()
    if problem is None:
        return
    if in_ci():
        pytest.fail(f"{problem}: CI must run the browser tests", pytrace=False)
    pytest.skip(problem)


@dataclass
class LiveServer:
    app: Flask
    url: str


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The whole product (``bot.app``) on 127.0.0.1 and a free port, with operators to sign in."""
    from bot.app import create_app

    saved = {key: os.environ.pop(key) for key in ENV_KEYS if key in os.environ}
    tmp_path: Path = tmp_path_factory.mktemp("live")
    app = create_app(backend_test_config(tmp_path))
    migrate(app)
    with app.app_context(), db.get_db(app).transaction() as session:
        for email in OPERATORS:
            auth.create_user(session, email, "operator", PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        db.get_db(app).engine.dispose()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    problem = chromium_problem()
    if problem is not None:  # the runtest hook above already skipped or failed the test
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI);
});"""
"""Runs before the page's own scripts (Playwright's init scripts are not subject to the CSP)."""


def csp_violations(page: Any) -> list[str]:
    """Every Content-Security-Policy violation the page reported so far (see :func:`watch_csp`)."""
    return page.csp_violations


def watch_csp(page: Any) -> None:
    """Collect CSP violations from the console (Chromium's own report and the DOM event)."""
    page.csp_violations = []
    page.add_init_script(CSP_LISTENER)

    def on_console(message: Any) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("CSP violation"):
            page.csp_violations.append(text)

    page.on("console", on_console)


def checked_page(chromium: Any, locale: str) -> Iterator[Any]:
    """A fresh browser context (no cookies, ``locale`` as its Accept-Language) and page, 1280x900,
    with short timeouts; afterwards, the pages must have broken no rule of the
    Content-Security-Policy. Yielded by the page fixtures."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch_csp(page)
    try:
        yield page
        assert csp_violations(page) == [], "the page broke its Content-Security-Policy"
    finally:
        context.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """An English page (see :func:`checked_page`)."""
    yield from checked_page(chromium, "en-GB")
