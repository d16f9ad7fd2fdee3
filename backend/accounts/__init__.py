"""The admin area (``/admin/``, role ``admin``): staff accounts, registered responder numbers, API
tokens and the audit trail's verification, which were command-line only (``backend.cli``).

Same rules as the commands, through the same functions (``backend.auth``): a password reset, a
deactivation and a token revocation end the user's sessions and tokens at once; every change is
audited as the admin who made it (``access_audit.administration``: ids and roles, never emails or
numbers); every form carries the CSRF token. An admin sees no case: the case pages and the case API
are for caseworkers and panel members only (tests/backend/test_need_to_know.py).
"""

from backend.accounts.views import bp

__all__ = ["bp"]
