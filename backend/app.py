"""The casework service's Flask app factory, and ``init_backend`` for the whole-product app.

``bot.app`` builds its own Flask object and calls ``init_backend(app)``; ``create_app`` here serves
the backend alone (casework service, JSON API) with exactly the same wiring.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from flask import Blueprint, Flask, g, jsonify, request

from backend import db
from backend.auth import require_token
from backend.core import init_core
from backend.intake import IntakeError, submit, take_account_organisation

api_referrals = Blueprint("api_referrals", __name__, url_prefix="/api/v1")


@api_referrals.post("/referrals")
@require_token("responder", "operator")
def post_referral() -> Any:
    """Submit a complete referral payload directly (no conversation): 201 with its reference.

    The referring organisation is the caller's own (``User.organisation``): left out, it is filled
    in; a different ``user-organisation`` is refused with 403."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify({"error": "invalid referral", "errors": ["payload: must be a JSON object"]}), 400
    try:
        take_account_organisation(payload, g.user.organisation)
    except IntakeError as refused:
        return jsonify({"error": refused.errors[0], "code": refused.code, "errors": refused.errors}), 403
    db_session = db.session()
    try:
        case = submit(db_session, payload, None, actor=f"user:{g.user.id}")
        reference = case.reference
        db_session.commit()
    except IntakeError as exc:
        db_session.rollback()
        return jsonify({"error": "invalid referral", "errors": exc.errors}), 400
    return jsonify({"reference": reference}), 201


def init_backend(app: Flask, test_config: Mapping[str, Any] | None = None) -> None:
    """Configure ``app`` for the backend: ``backend.core.init_core`` (settings, instance folder,
    database, cipher, audit key; ``test_config`` as there), then the CLI and routes."""
    init_core(app, test_config)

    from backend.accounts import bp as admin_pages
    from backend.api import api_casework
    from backend.casework_pages import bp as casework_pages
    from backend.casework_cli import register as register_casework
    from backend.outbound.wiring import init_outbound
    from backend.cli import register
    from backend.headers import init_headers
    from backend.layout import init_layout
    from backend.limits import init_limits, limit_blueprint_by_hook
    from backend import health, metrics
    from backend.request_guards import init_request_guards
    from backend.request_log import init_request_log
    from backend.web_auth import init_web_auth

    metrics.init_metrics(app)  # request metrics and /metrics; gauges are added by the parts that own them
    init_request_log(app)  # first request hook: times, logs and counts every request
    init_request_guards(app)  # unclean input refused, failures logged without values
    init_web_auth(app)  # sessions, sign-in pages, CSRFProtect (app.extensions["csrf"]), templates
    init_headers(app)  # CSP, no-store, HSTS in production (after the cookie settings are final)
    init_layout(app)  # navigation per role, footer pages, the 404 page (base.html)
    register(app)
    register_casework(app)
    init_outbound(app)  # the outbox, `nrm worker`, requests for information, print queue (DESIGN §10)
    app.register_blueprint(health.bp)
    app.register_blueprint(api_referrals)
    app.register_blueprint(api_casework)
    app.register_blueprint(casework_pages)  # /casework/: queues, case pages, statistics (CSRF on)
    app.register_blueprint(admin_pages)  # /admin/: users, responder numbers, API tokens, audit (CSRF on)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # Flask-WTF CSRFProtect guards forms, not bearer-token JSON
        csrf.exempt(api_referrals)
        csrf.exempt(api_casework)
    limiter = init_limits(app)  # rate limits per client: sign-in here, the channels add theirs (bot.app)
    limiter.exempt(health.bp)
    limiter.exempt(metrics.bp)
    for blueprint in (api_referrals, api_casework):
        limit_blueprint_by_hook(app, blueprint, "API_RATE_LIMIT")
    cache_compiled_templates(app)


def cache_compiled_templates(app: Flask) -> None:
    """Keep compiled templates in the instance folder, so that a restart serves its first page
    without compiling the GOV.UK macros again (most of the time to a first answer after imports).

    Jinja keys its cache by template source only, so the folder is named after what else shapes
    the compiled code: Jinja's version and the environment's settings (a change starts afresh).
    """
    import hashlib

    import jinja2

    env = app.jinja_env
    shape = repr((jinja2.__version__, env.trim_blocks, env.lstrip_blocks, env.autoescape, sorted(env.extensions)))
    folder = os.path.join(app.instance_path, "template-cache", hashlib.sha256(shape.encode()).hexdigest()[:12])
    os.makedirs(folder, exist_ok=True)
    env.bytecode_cache = jinja2.FileSystemBytecodeCache(folder)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The casework service alone (see ``init_backend`` for ``test_config``)."""
    app = Flask("backend", instance_relative_config=True)
    init_backend(app, test_config)
    return app
