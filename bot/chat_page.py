"""``GET /chat``: the web chat page for signed-in helpline operators (DESIGN.md §3).

The page is a GOV.UK layout around a small script (``bot/static/chat.js``) that talks to the JSON
API of ``bot.webchat`` with the session cookie and the CSRF token. Anonymous visitors are sent to
the sign-in page; signed-in staff of other roles get the 403 page. The operator's latest draft is
named in the page, so a reload carries on where they were.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from backend.db import session
from backend.i18n import gettext as _
from backend.web_auth import require_role
from bot import engine
from flows.languages import BY_CODE, LANGUAGES

bp = Blueprint("chat_page", __name__, template_folder="templates", static_folder="static",
               static_url_path="/chat/static")


@bp.get("/chat")
@login_required
def chat() -> Any:
    require_role("operator")
    draft = engine.latest_draft(session(), "web", f"user:{current_user.id}")
    language = BY_CODE.get(draft.language if draft is not None else "en", BY_CODE["en"])
    return render_template(
        "chat.html",
        page_title=_("Web chat referral"),
        draft_id=draft.id if draft is not None else "",
        language=language,
        languages=LANGUAGES,
    )
