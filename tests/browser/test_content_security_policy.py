"""The pages work in Chromium under their Content-Security-Policy (backend.headers): GOV.UK
Frontend's scripts run (the nonce'd inline line and the module file), the web chat answers, and
the browser reports no violation; a copied session cookie is refused after sign-out."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import OPERATORS, PASSWORD, LiveServer, csp_violations

pytestmark = pytest.mark.browser


def sign_in(page: Any, live_server: LiveServer, email: str) -> None:
    page.goto(f"{live_server.url}/casework/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{live_server.url}/chat")


def test_gov_uk_frontend_runs_under_the_policy_on_the_sign_in_page(page: Any, live_server: LiveServer) -> None:
    response = page.goto(f"{live_server.url}/casework/sign-in")
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    body_classes = page.get_attribute("body", "class")
    assert "js-enabled" in body_classes and "govuk-frontend-supported" in body_classes  # nonce'd line
    page.wait_for_selector(".govuk-password-input__toggle:not([hidden])")  # initAll() from the file
    page.fill("#password", "secret")
    page.click(".govuk-password-input__toggle")
    assert page.get_attribute("#password", "type") == "text"
    assert csp_violations(page) == []


def test_the_web_chat_works_under_the_policy(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, OPERATORS[4])
    page.wait_for_selector("#start:not([hidden]), #conversation-panel:not([hidden])")
    if page.is_visible("#start"):
        page.click("#start-button")
    page.wait_for_selector("#transcript li")
    page.fill("#answer", "HELP")
    page.press("#answer", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#transcript li').length >= 3")
    assert csp_violations(page) == []


def test_the_watch_catches_a_violation(page: Any, live_server: LiveServer) -> None:
    """The check above can fail: content from elsewhere is blocked and reported."""
    page.goto(f"{live_server.url}/casework/sign-in")
    page.evaluate("""() => { const img = document.createElement('img');
                             img.src = 'http://127.0.0.2:9/tracker.png'; document.body.append(img); }""")
    page.wait_for_function("() => true")
    page.wait_for_timeout(500)
    assert any("img-src" in violation for violation in csp_violations(page))
    page.csp_violations.clear()  # expected here: the fixture's own check must not fail this test


def test_a_copied_cookie_is_refused_after_sign_out(chromium: Any, page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, OPERATORS[4])
    cookies = page.context.cookies()
    other = chromium.new_context()
    try:
        other.add_cookies(cookies)
        copy = other.new_page()
        copy.goto(f"{live_server.url}/chat")
        assert copy.url == f"{live_server.url}/chat"  # the copy works while the session lives
        page.click("[data-testid=sign-out]")
        page.wait_for_url(f"{live_server.url}/casework/sign-in?signed-out=1")
        copy.goto(f"{live_server.url}/chat")
        assert copy.url.startswith(f"{live_server.url}/casework/sign-in")
    finally:
        other.close()


def predicates_that_are_not_functions() -> list[str]:
    """Every ``wait_for_function`` in the browser tests whose predicate is an expression, not a
    function: Playwright evals an expression again at each poll, outside its own evaluation, and
    the page's policy (no ``'unsafe-eval'``) refuses that, so the test fails only when the first
    try is false (a slow machine). A function is evaluated once, then called."""
    found = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "wait_for_function" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                    and not re.match(r"\s*(\([^)]*\)|\w+)\s*=>|\s*function\b", node.args[0].value)):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_every_wait_for_function_predicate_is_a_function() -> None:
    assert predicates_that_are_not_functions() == []


def test_an_expression_polled_under_the_policy_is_refused(page: Any, live_server: LiveServer) -> None:
    """Why the check above matters: the same wait, written as an expression that turns true only
    after a few polls, breaks the policy; written as a function, it does not."""
    page.goto(f"{live_server.url}/casework/sign-in")
    page.evaluate("() => { window.polls = 0; }")
    page.wait_for_function("() => ++window.polls > 3")
    assert csp_violations(page) == []
    expression = "++window.polls > 8"  # a name, not a literal: the check above looks for literals
    with pytest.raises(Exception, match="unsafe-eval|EvalError|Refused"):
        page.wait_for_function(expression, timeout=3_000)
    assert any("eval" in violation for violation in csp_violations(page))
    page.csp_violations.clear()  # expected here: the fixture's own check must not fail this test
