"""The footer's pages and the 404 page, open to everyone (signed in or not): what the service
stores and why must be readable before signing in."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import NotFound

from backend.layout.navigation import items_for

bp = Blueprint("layout", __name__)


@bp.get("/accessibility")
def accessibility() -> Any:
    return render_template("layout/accessibility.html")


@bp.get("/privacy")
def privacy() -> Any:
    config = current_app.config
    return render_template("layout/privacy.html", retention_days=config["RETENTION_DAYS"],
                           draft_days=config["DRAFT_EXPIRY_DAYS"])


@bp.get("/cookies")
def cookies() -> Any:
    config = current_app.config
    return render_template("layout/cookies.html", idle_minutes=config["SESSION_IDLE_MINUTES"],
                           max_hours=config["SESSION_MAX_HOURS"])


def _not_found(error: NotFound) -> Any:
    from backend.web_auth import wants_json  # web_auth sets up the templates this page needs

    if wants_json():
        return error
    return render_template("layout/not_found.html"), 404


def _navigation() -> dict[str, Any]:
    """``service_navigation()`` for base.html: the signed-in role's items on this path."""
    def service_navigation() -> list[dict[str, Any]]:
        role = current_user.role if current_user.is_authenticated else None
        return items_for(role, request.path)

    return {"service_navigation": service_navigation}


def bdi(value: object) -> Markup:
    """A left-to-right value (a reference, phone number or email) isolated from the text around
    it, so that an Arabic sentence keeps its order and the value its own."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(value)


def init_layout(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_template_filter(bdi)
    app.register_error_handler(NotFound, _not_found)
    app.context_processor(_navigation)
