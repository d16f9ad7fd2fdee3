"""What every staff page shares (``base.html``): the service navigation of each role, the footer's
pages (accessibility statement, privacy notice, cookies) and the styled error pages (404, 500).

``init_layout(app)`` (called by ``backend.app.init_backend``) registers the blueprint, the
``service_navigation`` template global and the 404 page; JSON paths (``web_auth.wants_json``) keep
their own answers.
"""

from backend.layout.pages import init_layout

__all__ = ["init_layout"]
