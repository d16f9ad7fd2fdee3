"""Rate limits per client (Flask-Limiter): sign-in, the web chat API, resume codes, ``/api/v1``.

Each limit is a setting (``backend.config.RATE_LIMIT_DEFAULTS``), read when a request comes, and
counts per client address (``request.remote_addr``; behind reverse proxies set
``TRUSTED_PROXIES`` so that it is the real client's, see ``backend.headers``):

- sign-in: failed attempts only, per client (``SIGN_IN_RATE_LIMIT``: 30 accounts tried from one
  address are throttled) and per client and email (``SIGN_IN_ACCOUNT_RATE_LIMIT``). Nobody else
  is affected: the caseworker whose email an attacker tries still signs in from their own desk.
- the web chat API (``CHAT_RATE_LIMIT``), resume codes (``RESUME_RATE_LIMIT``, on top of the
  per-operator throttle of ``bot.resume_codes``) and the JSON API ``/api/v1`` (``API_RATE_LIMIT``).

Twilio's webhook is never limited: Twilio sends from shared addresses, and a dropped message
would be a lost answer. A refusal is 429 with ``Retry-After`` (seconds) and a translated message:
JSON ``{"error", "retry_after_minutes", "language"}`` under ``/api/``, a GOV.UK page elsewhere.
Counts live in ``RATELIMIT_STORAGE_URI`` (memory by default: one process only, kept by
``backend.limit_storage``, which starts no thread per request).
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from typing import Any, Callable

from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from backend.auth import normalise_email
from backend.i18n import ngettext, page_language
from backend.limit_storage import storage_uri
from backend.web_auth import wants_json

EXTENSION = "nrm_limiter"
SIGN_IN_ENDPOINT = "web_auth.sign_in"


def _setting(key: str) -> Callable[[], str]:
    return lambda: current_app.config[key]


def _client_and_email() -> str:
    """The client address with the email typed into the sign-in form."""
    return f"{get_remote_address()}|{normalise_email(request.form.get('email', ''))}"


def _sign_in_failed(response: Any) -> bool:
    """Only failed sign-ins count (a success redirects)."""
    return response.status_code != 302


def init_limits(app: Flask) -> Limiter:
    """Flask-Limiter for ``app``, with the sign-in and ``/api/v1`` limits and the 429 answers."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage_uri(app.config["RATELIMIT_STORAGE_URI"]),
                      headers_enabled=True, strategy="moving-window")
    app.extensions[EXTENSION] = limiter
    _skip_hooks_when_exempt(app, limiter)
    sign_in = app.view_functions[SIGN_IN_ENDPOINT]
    sign_in = limiter.limit(_setting("SIGN_IN_ACCOUNT_RATE_LIMIT"), key_func=_client_and_email,
                            methods=["POST"], deduct_when=_sign_in_failed)(sign_in)
    sign_in = limiter.limit(_setting("SIGN_IN_RATE_LIMIT"), methods=["POST"],
                            deduct_when=_sign_in_failed)(sign_in)
    app.view_functions[SIGN_IN_ENDPOINT] = sign_in
    app.register_error_handler(TooManyRequests, _too_many_requests)
    return limiter


def limit_blueprint_by_hook(app: Flask, blueprint: Blueprint, setting: str, besides: tuple[str, ...] = ()) -> None:
    """Limit the routes of ``blueprint`` (all but the endpoints ``besides``, limited on their own),
    per client, to the ``setting`` limit (blueprints given the same setting share one count:
    ``/api/v1`` is two blueprints), counted in the blueprint's own before-request hook by
    ``limits`` itself (the library Flask-Limiter runs on: the same storage and strategy, the same
    count key). Flask-Limiter resolves a request's limits afresh each time (route, blueprint,
    defaults, exemptions) and reads the window again for ``X-RateLimit-*`` headers: profiled,
    7-8% of a web chat turn's CPU (issue 14), where this is one hit. A refusal is the same 429
    (:func:`_too_many_requests`); the answers carry no ``X-RateLimit-*`` headers."""
    limiter: Limiter = app.extensions[EXTENSION]

    def count() -> None:
        if request.endpoint in besides:
            return
        strategy, client = limiter.limiter, get_remote_address()
        for item in _parsed(current_app.config[setting]):
            if not strategy.hit(item, client, setting):
                reset = strategy.get_window_stats(item, client, setting).reset_time
                raise TooManyRequests(retry_after=max(1, min(item.get_expiry(), math.ceil(reset - time.time()))))

    app.before_request_funcs.setdefault(blueprint.name, []).append(count)
    # Flask-Limiter itself neither resolves nor counts anything for these requests (its resolution
    # was two thirds of its before-request work on an API claim, profiled).
    exempt(app, lambda: request.blueprint == blueprint.name and request.endpoint not in besides)


def exempt(app: Flask, exempted: Callable[[], bool]) -> None:
    """Leave the requests for which ``exempted()`` is true out of Flask-Limiter altogether: it
    neither limits them nor runs its request hooks for them (:func:`_skip_hooks_when_exempt`).
    For Twilio's webhook (never limited) and the routes :func:`limit_blueprint_by_hook` counts."""
    app.extensions[_EXEMPTIONS].append(exempted)
    app.extensions[EXTENSION].request_filter(exempted)  # its decorated limits ask its filters too


_EXEMPTIONS = "nrm_limiter_exemptions"


def _skip_hooks_when_exempt(app: Flask, limiter: Limiter) -> None:
    """Flask-Limiter's request hooks (before, after, teardown), not run for a request
    :func:`exempt` leaves out. For such a request, its filters say "exempt from rate limiting",
    but its before hook still resolved the view, the blueprint's exemptions and the meta limits
    (none are set) before finding nothing to count, its after hook looked for deductions and
    limit headers that cannot be there, and its teardown made a context only to clear it: 30-40 us
    of every SMS and web chat turn (issue 14). The exemptions are asked once a request."""
    exemptions: list[Callable[[], bool]] = app.extensions.setdefault(_EXEMPTIONS, [])

    def exempt_now() -> bool:
        environ = request.environ  # the verdict kept for the request's later hooks
        verdict = environ.get(_VERDICT)
        if verdict is None:
            verdict = environ[_VERDICT] = any(exempted() for exempted in exemptions)
        return bool(verdict)

    def before(hook: Callable[[], Any]) -> Callable[[], Any]:
        return lambda: None if exempt_now() else hook()

    def after(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda response: response if exempt_now() else hook(response)

    def teardown(hook: Callable[[BaseException | None], None]) -> Callable[[BaseException | None], None]:
        return lambda error=None: None if exempt_now() else hook(error)

    for hooks, unless_exempt in ((app.before_request_funcs[None], before), (app.after_request_funcs[None], after),
                                 (app.teardown_request_funcs[None], teardown)):
        ours = [index for index, hook in enumerate(hooks) if _of(hook, limiter)]
        if len(ours) != 1:
            raise RuntimeError("Flask-Limiter's request hooks are not where backend.limits expects them")
        hooks[ours[0]] = unless_exempt(hooks[ours[0]])


_VERDICT = "nrm.limiter_exempt"


def _of(hook: Any, limiter: Limiter) -> bool:
    """Is ``hook`` one that ``limiter`` registered (a bound method, or a partial given it)?"""
    return getattr(hook, "__self__", None) is limiter or limiter in getattr(hook, "args", ())


@lru_cache(maxsize=16)
def _parsed(limit: str) -> list[RateLimitItem]:
    return parse_many(limit)


def limit_endpoint(app: Flask, endpoint: str, setting: str) -> None:
    """Limit one registered view, per client, to the ``setting`` limit (instead of its blueprint's)."""
    app.view_functions[endpoint] = app.extensions[EXTENSION].limit(_setting(setting))(
        app.view_functions[endpoint])


def _retry_after_seconds(error: TooManyRequests) -> int:
    if isinstance(error.retry_after, int):  # counted by limit_blueprint_by_hook
        return error.retry_after
    limiter: Limiter | None = current_app.extensions.get(EXTENSION)
    breached = limiter.current_limit if limiter is not None else None
    if breached is None:
        return 60
    # reset_at is rounded up to a whole second, so it can lie just past the window itself.
    window = breached.limit.get_expiry()
    return max(1, min(window, math.ceil(breached.reset_at - time.time())))


def _too_many_requests(error: TooManyRequests) -> Any:
    """429 with Retry-After and the message in the client's language (JSON under ``/api/``)."""
    seconds = _retry_after_seconds(error)
    minutes = max(1, math.ceil(seconds / 60))
    if wants_json():
        response = jsonify({
            "error": ngettext("Too many requests. Wait {n} minute, then try again.",
                              "Too many requests. Wait {n} minutes, then try again.", minutes),
            "retry_after_minutes": minutes, "language": page_language().code})
    else:
        response = current_app.make_response(render_template("too_many_requests.html", minutes=minutes))
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return response
